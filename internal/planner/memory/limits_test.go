package memory

import (
	"reflect"
	"strings"
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/limits"
)

// An architecture with every field at its limit, or one past it, is either
// refused with the limit named or estimated with figures in range: no
// input overflows the int64 byte counts.
func TestEstimateAtTheLimits(t *testing.T) {
	top := catalog.Architecture{
		Layers: int(limits.Layers.Max), Hidden: int(limits.HiddenSize.Max), Heads: int(limits.AttentionHeads.Max),
		KVHeads: int(limits.KVHeads.Max), HeadDim: int(limits.HeadDim.Max), Vocab: int(limits.VocabSize.Max),
		Intermediate: int(limits.IntermediateSize.Max), MaxContext: int(limits.ArchContext.Max),
		Experts: int(limits.Experts.Max), ActiveExperts: int(limits.ActiveExperts.Max), MoEIntermediate: int(limits.MoEIntermediate.Max),
		MLP: catalog.MLPGated, Norm: catalog.NormRMS, NormsPerLayer: 2,
	}
	small := catalog.Architecture{Layers: 2, Hidden: 64, Heads: 4, KVHeads: 4, HeadDim: 16, Vocab: 100, Intermediate: 128,
		MaxContext: int(limits.ArchContext.Max), MLP: catalog.MLPGated, Norm: catalog.NormRMS, NormsPerLayer: 2}
	for name, tc := range map[string]struct {
		arch        catalog.Architecture
		ctx, seqs   int
		errContains string
	}{
		"every field at its limit": {top, 1, 1, "parameters must be between 1 and 100,000,000,000,000"},
		"longest context, most sequences": {small, int(limits.ContextTokens.Max), int(limits.Concurrency.Max),
			"beyond the most memory one replica may need"},
		"most sequences":         {small, 4096, int(limits.Concurrency.Max), ""},
		"context past the limit": {small, int(limits.ContextTokens.Max) + 1, 1, "exceeds the model's maximum context"},
		"sequences past the limit": {small, 4096, int(limits.Concurrency.Max) + 1,
			"max_concurrent_sequences must be between 1 and 1,048,576"},
		"layers past the limit": {func() catalog.Architecture { a := small; a.Layers = 1 << 40; return a }(), 1, 1,
			"layers must be between 1 and 1,024"},
	} {
		t.Run(name, func(t *testing.T) {
			e, err := New(Request{Arch: tc.arch, Precision: FP32, ContextTokens: tc.ctx, Concurrency: tc.seqs})
			if tc.errContains != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errContains) {
					t.Fatalf("want an error with %q, got %v", tc.errContains, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.WeightBytes <= 0 || e.KVBytes <= 0 || e.KVBytes > limits.ReplicaBytes.Max {
				t.Fatalf("weights %d, KV %d bytes", e.WeightBytes, e.KVBytes)
			}
			gpu := GPU{VisibleBytes: int64(limits.GPUMemoryGiB.Max * GiB), Utilization: 1}
			for _, d := range [][2]int{{1, 1}, {int(limits.TensorParallel.Max), 1}, {1, tc.arch.Layers}} {
				r := e.PerGPU(gpu, d[0], d[1])
				v := reflect.ValueOf(r)
				for i := range v.NumField() {
					if f := v.Field(i); f.CanInt() && f.Int() < 0 {
						t.Errorf("tp %d pp %d: %s = %d", d[0], d[1], v.Type().Field(i).Name, f.Int())
					}
				}
			}
		})
	}
}
