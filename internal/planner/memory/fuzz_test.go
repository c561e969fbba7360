package memory

import (
	"errors"
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
)

// FuzzEstimate feeds arbitrary architectures, precisions and sizes to the
// estimator: it must reject what is invalid with an InputError and, for
// what it accepts, give non-negative figures at every valid degree.
func FuzzEstimate(f *testing.F) {
	f.Add(32, 4096, 32, 8, 128, 128256, 14336, 131072, 0, 0, 0, "bf16", "auto", 8192, 16, 79.14, 0.9)
	f.Add(61, 7168, 128, 128, 0, 129280, 18432, 163840, 256, 8, 512, "fp8", "fp8", 4096, 1, 139.81, 0.95)
	f.Add(-1, 0, 3, 7, -5, 0, 0, 0, 2, 9, 0, "int3", "int2", -1, 0, -3.0, 1.5)
	f.Fuzz(func(t *testing.T, layers, hidden, heads, kvHeads, headDim, vocab, inter, maxCtx, experts, active, kvLoRA int,
		precision, kvPrecision string, ctx, conc int, visibleGiB, util float64) {
		arch := catalog.Architecture{
			Layers: layers % 200, Hidden: hidden % 20000, Heads: heads % 256, KVHeads: kvHeads % 256, HeadDim: headDim % 512,
			Vocab: vocab % 300000, Intermediate: inter % 60000, MaxContext: maxCtx % 1_000_000,
			MLP: catalog.MLPGated, Norm: catalog.NormRMS, NormsPerLayer: 2,
			Experts: experts % 300, ActiveExperts: active % 300, MoEIntermediate: inter % 60000,
		}
		if kvLoRA%1024 > 0 {
			arch.KVLoRARank, arch.QKRopeHeadDim, arch.QKNopeHeadDim, arch.VHeadDim = kvLoRA%1024, 64, 128, 128
		}
		e, err := New(Request{Arch: arch, Precision: Precision(precision), KVPrecision: KVPrecision(kvPrecision), ContextTokens: ctx, Concurrency: conc})
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if e.WeightBytes < 0 || e.KVBytes < 0 || e.KVBytesPerToken <= 0 {
			t.Fatalf("negative figures: %+v", e)
		}
		if CheckUtilization(util) != nil || !(visibleGiB > 0 && visibleGiB < 1e4) {
			return
		}
		gpu := GPUFromGiB(visibleGiB, util)
		for _, tp := range e.ValidTensorParallel(8) {
			for p := 1; p <= min(4, arch.Layers); p++ {
				r := e.PerGPU(gpu, tp, p)
				if r.NeedBytes < 0 || r.KVCapacityTokens < 0 || r.Fits != (r.NeedBytes <= r.UsableBytes) {
					t.Fatalf("t%d p%d: %+v", tp, p, r)
				}
			}
		}
	})
}
