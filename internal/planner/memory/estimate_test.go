package memory

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
)

func model(t *testing.T, id string) catalog.Architecture {
	t.Helper()
	m, err := catalog.LookupModel(id)
	if err != nil {
		t.Fatal(err)
	}
	return m.Architecture
}

func estimate(t *testing.T, id string, p Precision, ctx, conc int) *Estimate {
	t.Helper()
	e, err := New(Request{Arch: model(t, id), Precision: p, ContextTokens: ctx, Concurrency: conc})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func within(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if rel := math.Abs(got-want) / math.Abs(want); rel > tol {
		t.Errorf("%s = %.4g, want %.4g within %.1f%% (off by %.2f%%)", what, got, want, tol*100, rel*100)
	}
}

// The figures of the facts sheet (§4) that the estimator must reproduce.
func TestEstimatorMatchesPublishedFigures(t *testing.T) {
	e70 := estimate(t, "llama-3.1-70b", BF16, 8192, 1)
	within(t, "Llama-3.1-70B bf16 weights (GB)", float64(e70.WeightBytes)/1e9, 141.1, 0.01)
	e8 := estimate(t, "llama-3.1-8b", BF16, 131072, 1)
	within(t, "Llama-3.1-8B bf16 weights (GiB)", float64(e8.WeightBytes)/GiB, 14.99, 0.01)

	within(t, "70B KV/token (KiB)", float64(e70.KVBytesPerToken)/1024, 320, 0.01)
	within(t, "8B KV/token (KiB)", float64(e8.KVBytesPerToken)/1024, 128, 0.01)
	ds := estimate(t, "deepseek-v3", BF16, 4096, 1)
	within(t, "DeepSeek-V3 MLA KV/token (KiB)", float64(ds.KVBytesPerToken)/1024, 68.6, 0.01)
	if ds.KVBytesPerToken != 70272 {
		t.Errorf("DeepSeek-V3 KV/token = %d bytes, want 61 × 576 × 2 = 70272", ds.KVBytesPerToken)
	}

	// vLLM log (V0 engine): Llama-3.1-8B, 22.07 GiB GPU, utilization 0.90
	// → 2356 blocks, "Maximum concurrency for 131072 tokens per request:
	// 0.29x". Estimated with the V0 release's rules, as the log was made.
	v0, err := LookupEngine("0.6.6")
	if err != nil {
		t.Fatal(err)
	}
	e8v0, err := New(Request{Arch: model(t, "llama-3.1-8b"), Precision: BF16, ContextTokens: 131072, Concurrency: 1, Engine: v0})
	if err != nil {
		t.Fatal(err)
	}
	small := GPUFromGiB(22.07, 0.90)
	r := e8v0.PerGPU(small, 1, 1)
	within(t, "8B on 22.07 GiB: KV blocks", float64(r.KVCapacityBlocks), 2356, 0.01)
	within(t, "8B on 22.07 GiB: max concurrency at 131072", r.MaxConcurrency, 0.29, 0.02)
	if r.Fits {
		t.Error("8B at 131072 × 1 must not fit a 24 GB GPU (vLLM refuses to start)")
	}
}

func TestLlama70BOn80GB(t *testing.T) {
	e := estimate(t, "llama-3.1-70b", BF16, 8192, 1)
	h100 := GPUFromGiB(79.14, 0.90)

	if r := e.PerGPU(h100, 1, 1); r.Fits || r.KVCapacityTokens != 0 {
		t.Errorf("t=1: fits=%v with %d KV tokens; 131 GiB of weights cannot fit 71 GiB", r.Fits, r.KVCapacityTokens)
	}
	r2 := e.PerGPU(h100, 2, 1)
	if !r2.Fits {
		t.Errorf("t=2 should fit one 8k sequence: need %d, usable %d", r2.NeedBytes, r2.UsableBytes)
	}
	// "little KV room": the facts sheet derives ≈ 26 k tokens.
	if r2.KVCapacityTokens < 15_000 || r2.KVCapacityTokens > 40_000 {
		t.Errorf("t=2 KV capacity %d tokens, want tens of thousands (≈26 k)", r2.KVCapacityTokens)
	}
	// The facts sheet derives ≈ 0.48 M with about 5 GiB of overhead; the
	// default release (v0.31.0) keeps NCCL outside the budget and charges
	// 1.2 GiB of profile peak at one sequence, so 0.49 M (memory guide).
	r4 := e.PerGPU(h100, 4, 1)
	within(t, "t=4 KV tokens (M)", float64(r4.KVCapacityTokens)/1e6, 0.49, 0.02)

	got, ok := e.SmallestFit(h100, 8)
	if !ok || got.T != 2 {
		t.Errorf("smallest fit = t%d (ok=%v), want t2", got.T, ok)
	}
}

func TestWeightsByPrecision(t *testing.T) {
	base := estimate(t, "llama-3.1-70b", BF16, 4096, 1)
	for _, tc := range []struct {
		p      Precision
		lo, hi float64 // GB
	}{
		{FP32, 282.0, 282.4},
		{FP16, 141.0, 141.2},
		{FP8, 72.0, 73.5},  // linears 1 B, embeddings stay bf16
		{Int8, 72.0, 73.5}, //
		{Int4, 38.5, 41.0}, // "~40GB for the weights" (vllm#5711)
		{Int4GPTQ, 38.5, 41.1},
	} {
		e := estimate(t, "llama-3.1-70b", tc.p, 4096, 1)
		gb := float64(e.WeightBytes) / 1e9
		if gb < tc.lo || gb > tc.hi {
			t.Errorf("%s: %.2f GB, want %.1f–%.1f", tc.p, gb, tc.lo, tc.hi)
		}
		if tc.p != FP32 && e.WeightBytes > base.WeightBytes {
			t.Errorf("%s weights exceed bf16", tc.p)
		}
	}
	gptq := estimate(t, "llama-3.1-70b", Int4GPTQ, 4096, 1)
	awq := estimate(t, "llama-3.1-70b", Int4AWQ, 4096, 1)
	if gptq.WeightBytes <= awq.WeightBytes {
		t.Error("GPTQ's g_idx must add to AWQ's size")
	}
}

func TestKVPrecision(t *testing.T) {
	arch := model(t, "llama-3.1-8b")
	for _, tc := range []struct {
		w    Precision
		kv   KVPrecision
		want int64
	}{
		{BF16, KVAuto, 131072},
		{FP32, KVAuto, 262144},
		{Int4, KVAuto, 131072}, // quantized weights, bf16 activations
		{BF16, KVFP8, 65536},
		{FP8, KVFP8, 65536},
	} {
		e, err := New(Request{Arch: arch, Precision: tc.w, KVPrecision: tc.kv, ContextTokens: 1024, Concurrency: 1})
		if err != nil {
			t.Fatal(err)
		}
		if e.KVBytesPerToken != tc.want {
			t.Errorf("%s/%s: %d bytes per token, want %d", tc.w, tc.kv, e.KVBytesPerToken, tc.want)
		}
	}
}

func TestKVTokensRoundUpToBlocks(t *testing.T) {
	e := estimate(t, "llama-3.1-8b", BF16, 1000, 3)
	if e.KVTokens != 3*63*16 {
		t.Errorf("KV tokens %d, want 3 × ceil(1000/16) × 16 = %d", e.KVTokens, 3*63*16)
	}
	if e.KVBytes != e.KVTokens*e.KVBytesPerToken {
		t.Error("KV bytes must be tokens × bytes per token")
	}
}

func TestValidTensorParallel(t *testing.T) {
	for _, tc := range []struct {
		id   string
		p    Precision
		max  int
		want []int
	}{
		{"llama-3.1-70b", BF16, 8, []int{1, 2, 4, 8}},
		{"llama-3.1-70b", BF16, 4, []int{1, 2, 4}},
		{"qwen2.5-7b", BF16, 8, []int{1, 2, 4}},     // 28 heads: 8 does not divide
		{"qwen2.5-72b", Int4, 8, []int{1}},          // 29568 = 231 × 128: any split breaks a group (Qwen pads its AWQ release to 29696)
		{"qwen2.5-72b", BF16, 8, []int{1, 2, 4, 8}}, //
		{"gemma-2-9b", BF16, 8, []int{1, 2, 4, 8}},  // 8 KV heads
		{"deepseek-v3", FP8, 8, []int{1, 2, 4, 8}},
		{"falcon-40b", BF16, 16, []int{1, 2, 4, 8, 16}}, // t=16 replicates the 8 KV heads
	} {
		e := estimate(t, tc.id, tc.p, 1024, 1)
		got := e.ValidTensorParallel(tc.max)
		if !equalInts(got, tc.want) {
			t.Errorf("%s %s up to %d: %v, want %v", tc.id, tc.p, tc.max, got, tc.want)
		}
	}
	e := estimate(t, "qwen2.5-7b", BF16, 1024, 1)
	err := e.CheckTensorParallel(8)
	if err == nil || !strings.Contains(err.Error(), "28 attention heads are not divisible by tensor parallel degree 8") {
		t.Errorf("qwen t=8: %v", err)
	}
	if err := e.CheckTensorParallel(3); err == nil || !strings.Contains(err.Error(), "power of two") {
		t.Errorf("t=3: %v", err)
	}
}

func TestKVHeadsReplicatedBeyondKVHeads(t *testing.T) {
	e := estimate(t, "falcon-40b", BF16, 2048, 1) // 8 KV heads
	gpu := GPUFromGiB(79.14, 0.9)
	r8, r16 := e.PerGPU(gpu, 8, 1), e.PerGPU(gpu, 16, 1)
	if r8.KVBytesPerToken != r16.KVBytesPerToken {
		t.Errorf("KV per GPU must stop shrinking at t = KV heads: t8 %d, t16 %d", r8.KVBytesPerToken, r16.KVBytesPerToken)
	}
	mla := estimate(t, "deepseek-v3", FP8, 4096, 1)
	if a, b := mla.PerGPU(gpu, 1, 1).KVBytesPerToken, mla.PerGPU(gpu, 8, 1).KVBytesPerToken; a != b {
		t.Errorf("MLA latent is replicated across TP ranks: t1 %d, t8 %d", a, b)
	}
}

func TestPipelineSplitsLayers(t *testing.T) {
	e := estimate(t, "llama-3.1-405b", FP8, 8192, 4)
	gpu := GPUFromGiB(79.14, 0.9)
	p1, p2 := e.PerGPU(gpu, 8, 1), e.PerGPU(gpu, 8, 2)
	if p2.WeightBytes >= p1.WeightBytes || p2.KVBytes >= p1.KVBytes {
		t.Errorf("p=2 must hold fewer weights and KV per GPU: %+v vs %+v", p2, p1)
	}
	// 126 layers over 2 stages: 63 each.
	if p2.KVBytesPerToken*2 != p1.KVBytesPerToken {
		t.Errorf("KV per token per GPU: p1 %d, p2 %d", p1.KVBytesPerToken, p2.KVBytesPerToken)
	}
	if err := e.CheckPipelineParallel(127); err == nil {
		t.Error("more stages than layers must be rejected")
	}
}

func TestCUDAGraphHeadroomCharged(t *testing.T) {
	e := estimate(t, "llama-3.1-8b", BF16, 4096, 1)
	at90 := e.PerGPU(GPUFromGiB(22.07, 0.90), 1, 1)
	at99 := e.PerGPU(GPUFromGiB(22.07, 0.99), 1, 1)
	if at90.CUDAGraphBytes != 0 {
		t.Errorf("0.90 leaves 2.2 GiB for CUDA graphs; charged %d", at90.CUDAGraphBytes)
	}
	if at99.CUDAGraphBytes <= 0 {
		t.Error("0.99 leaves 0.22 GiB; the rest of the graph memory must be charged")
	}
}

func TestBadInput(t *testing.T) {
	arch := model(t, "llama-3.1-8b")
	ok := Request{Arch: arch, Precision: BF16, ContextTokens: 4096, Concurrency: 1}
	for name, tc := range map[string]struct {
		mutate func(*Request)
		field  string
		text   string
	}{
		"unknown precision": {func(r *Request) { r.Precision = "int3" }, FieldPrecision, `unknown precision "int3"`},
		"unknown kv":        {func(r *Request) { r.KVPrecision = "int8" }, FieldKVPrecision, "unknown KV cache precision"},
		"zero context":      {func(r *Request) { r.ContextTokens = 0 }, FieldContext, "positive"},
		"negative context":  {func(r *Request) { r.ContextTokens = -5 }, FieldContext, "positive"},
		"context over max":  {func(r *Request) { r.ContextTokens = 200000 }, FieldContext, "maximum context of 131072"},
		"zero concurrency":  {func(r *Request) { r.Concurrency = 0 }, FieldConcurrency, "between 1 and"},
		"broken arch":       {func(r *Request) { r.Arch.Layers = 0 }, FieldArchitecture, "layers must be positive"},
		"negative hidden":   {func(r *Request) { r.Arch.Hidden = -1 }, FieldArchitecture, "hidden_size"},
	} {
		t.Run(name, func(t *testing.T) {
			req := ok
			tc.mutate(&req)
			_, err := New(req)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v is not an InputError", err)
			}
			if ie.Field != tc.field || !strings.Contains(ie.Msg, tc.text) {
				t.Errorf("got %s: %q, want field %s with %q", ie.Field, ie.Msg, tc.field, tc.text)
			}
		})
	}
	for _, u := range []float64{0, -0.1, 1.01, math.NaN()} {
		if err := CheckUtilization(u); err == nil {
			t.Errorf("utilization %g accepted", u)
		}
	}
	if err := CheckUtilization(1); err != nil {
		t.Errorf("utilization 1 rejected: %v", err)
	}
	if _, err := ParsePrecision("bf8"); err == nil || !strings.Contains(err.Error(), `"bf16"`) {
		t.Errorf("ParsePrecision error should list the valid values: %v", err)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
