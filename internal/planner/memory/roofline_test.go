package memory

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
)

func roofline(t *testing.T, model string, p Precision, ctx, conc int, gpu string, gpus int) float64 {
	t.Helper()
	m, err := catalog.LookupModel(model)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Request{Arch: m.Architecture, Precision: p, ContextTokens: ctx, Concurrency: conc})
	if err != nil {
		t.Fatal(err)
	}
	g, err := catalog.LookupGPUModel(gpu)
	if err != nil {
		t.Fatal(err)
	}
	return e.DecodeTokensPerSecond(g.MemoryBandwidthGBps*1e9, gpus)
}

func TestDecodeRoofline(t *testing.T) {
	// One sequence of Llama-3.1-8B bf16 on one H100 SXM: the 16.06 GB of
	// weights (plus 16 tokens of KV) per token at 3.35 TB/s: ≈ 208 tokens/s.
	got := roofline(t, "llama-3.1-8b", BF16, 16, 1, "H100-80GB", 1)
	if math.Abs(got-208.6) > 1 {
		t.Errorf("8B bf16 on H100, batch 1: %.1f tokens/s, want ≈ 208.6", got)
	}
	// Batching amortises the weights; the KV cache bounds the gain.
	// 32 sequences of 8,192 tokens: 32 × 3.35 TB/s / (16.06 GB + 32 × 1.07 GB of
	// KV) ≈ 2,126 tokens/s, against ≈ 195.6 for one sequence.
	b1 := roofline(t, "llama-3.1-8b", BF16, 8192, 1, "H100-80GB", 1)
	b32 := roofline(t, "llama-3.1-8b", BF16, 8192, 32, "H100-80GB", 1)
	if math.Abs(b1-195.6) > 1 || math.Abs(b32-2126) > 5 {
		t.Errorf("batch 32 gives %.1f tokens/s against %.1f for one sequence", b32, b1)
	}
	// Throughput scales with the GPUs' bandwidth and with fewer bytes.
	if t2, t1 := roofline(t, "llama-3.1-70b", BF16, 4096, 8, "H100-80GB", 4), roofline(t, "llama-3.1-70b", BF16, 4096, 8, "H100-80GB", 2); math.Abs(t2/t1-2) > 1e-9 {
		t.Errorf("4 GPUs against 2: ratio %.3f", t2/t1)
	}
	if fp8, bf16 := roofline(t, "llama-3.1-70b", FP8, 4096, 1, "H100-80GB", 4), roofline(t, "llama-3.1-70b", BF16, 4096, 1, "H100-80GB", 4); !(fp8 > 1.9*bf16) {
		t.Errorf("fp8 %.0f against bf16 %.0f tokens/s", fp8, bf16)
	}
	if l4, h100 := roofline(t, "llama-3.1-8b", BF16, 4096, 4, "L4", 1), roofline(t, "llama-3.1-8b", BF16, 4096, 4, "H100-80GB", 1); math.Abs(l4/h100-300.0/3350) > 1e-9 {
		t.Errorf("L4 against H100: ratio %.4f, want the bandwidth ratio", l4/h100)
	}
	// A mixture of experts reads only the experts its batch reaches: one
	// sequence of Mixtral-8x7B reads its 12.9B active parameters, a large
	// batch nearly all 46.7B.
	one := roofline(t, "mixtral-8x7b", BF16, 16, 1, "H100-80GB", 2)
	dense := roofline(t, "llama-3.1-8b", BF16, 16, 1, "H100-80GB", 2) * 8.03 / 12.9
	if math.Abs(one/dense-1) > 0.01 {
		t.Errorf("Mixtral batch 1: %.0f tokens/s, a 12.9B dense model would give %.0f", one, dense)
	}
	m, _ := catalog.LookupModel("mixtral-8x7b")
	e, _ := New(Request{Arch: m.Architecture, Precision: BF16, ContextTokens: 16, Concurrency: 1})
	if s1, s64 := e.touchedWeightShare(1), e.touchedWeightShare(64); !(s1 < 0.3 && s64 > 0.99) {
		t.Errorf("touched weight share: batch 1 %.3f, batch 64 %.3f", s1, s64)
	}
}

func TestEveryGPUModelHasABandwidth(t *testing.T) {
	for _, g := range catalog.GPUModels() {
		if g.MemoryBandwidthGBps <= 0 || g.BandwidthSource == "" {
			t.Errorf("%s: bandwidth %.0f GB/s, source %q", g.Name, g.MemoryBandwidthGBps, g.BandwidthSource)
		}
	}
}

// The memory-model guide lists every GPU's bandwidth; it must agree with the
// catalog.
func TestGuideBandwidthTableMatchesCatalog(t *testing.T) {
	guide, err := os.ReadFile("../../../templates/guides/memory-model.md.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range catalog.GPUModels() {
		row := fmt.Sprintf("| %s | %s |", g.Name, commas(int(g.MemoryBandwidthGBps)))
		if !strings.Contains(string(guide), row) {
			t.Errorf("the guide has no row %q", row)
		}
	}
}

func commas(n int) string {
	s := strconv.Itoa(n)
	if len(s) <= 3 {
		return s
	}
	return s[:len(s)-3] + "," + s[len(s)-3:]
}
