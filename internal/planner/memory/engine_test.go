package memory

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// A quantized checkpoint carries its own shapes: Qwen2.5-72B-Instruct-AWQ
// pads its MLP width so that vLLM serves it at tensor parallel 2, 4 and 8.
func TestQwen72BAWQPlansAtTP2OnTwo48GBGPUs(t *testing.T) {
	e, err := New(Request{Arch: model(t, "qwen2.5-72b-awq"), Precision: Int4AWQ, ContextTokens: 8192, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range []int{2, 4, 8} {
		if err := e.CheckTensorParallel(tp); err != nil {
			t.Errorf("t=%d: %v", tp, err)
		}
	}
	l40s := GPUFromGiB(44.31, 0.90)
	got, ok := e.SmallestFit(l40s, 4)
	if !ok || got.T != 2 {
		t.Errorf("smallest fit on 48 GB GPUs = t%d (ok=%v), want t2", got.T, ok)
	}
	// The unpadded model's int4 width 29568 does not split by 128 at t=2.
	plain, err := New(Request{Arch: model(t, "qwen2.5-72b"), Precision: Int4AWQ, ContextTokens: 8192, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	if plain.CheckTensorParallel(2) == nil {
		t.Error("Qwen2.5-72B's own MLP width (29568) split 2 ways is not a multiple of 128; t=2 must be refused for int4")
	}
}

func TestEngineInputErrors(t *testing.T) {
	arch := model(t, "llama-3.1-8b")
	for _, tc := range []struct {
		name  string
		req   Request
		field string
		says  string
	}{
		{"batch below the context without chunked prefill", Request{Arch: arch, Precision: BF16, ContextTokens: 16384, Concurrency: 4,
			MaxNumBatchedTokens: 8192, ChunkedPrefill: ToggleOff}, FieldMaxBatchedTokens, "chunked prefill off"},
		{"batch below the sequences", Request{Arch: arch, Precision: BF16, ContextTokens: 4096, Concurrency: 512,
			MaxNumBatchedTokens: 256}, FieldMaxBatchedTokens, "max_num_seqs"},
		{"negative batch", Request{Arch: arch, Precision: BF16, ContextTokens: 4096, Concurrency: 1,
			MaxNumBatchedTokens: -1}, FieldMaxBatchedTokens, "must be between 1 and"},
	} {
		_, err := New(tc.req)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != tc.field || !strings.Contains(ie.Msg, tc.says) {
			t.Errorf("%s: got %v, want an error on %s saying %q", tc.name, err, tc.field, tc.says)
		}
	}
	_, err := LookupEngine("0.7.0")
	var ie *InputError
	if !errors.As(err, &ie) || ie.Field != FieldEngineVersion || !strings.Contains(ie.Msg, `"0.31.0"`) {
		t.Errorf("unmodelled release: got %v, want an engine_version error listing the modelled ones", err)
	}
}

// EngineConfig resolves what the engine is told the way vLLM resolves it.
func TestEngineConfigDefaults(t *testing.T) {
	v0, _ := LookupEngine("0.6.6")
	h100 := GPUFromGiB(79.14, 0.9)
	a100 := GPUFromGiB(79.14, 0.9)
	a100.Model = "A100-80GB"
	for _, tc := range []struct {
		name    string
		req     Request
		gpu     GPU
		batched int
		chunked bool
	}{
		{"V1 on H100", Request{ContextTokens: 8192, Concurrency: 16}, h100, 8192, true},
		{"V1 on A100 80GB", Request{ContextTokens: 8192, Concurrency: 16}, a100, 2048, true},
		{"V1, chunked prefill off: a whole sequence", Request{ContextTokens: 32768, Concurrency: 16, ChunkedPrefill: ToggleOff}, h100, 32768, false},
		{"V1, more sequences than the default batch", Request{ContextTokens: 4096, Concurrency: 16384}, h100, 16384, true},
		{"V0, short context: no chunked prefill", Request{ContextTokens: 8192, Concurrency: 16, Engine: v0}, h100, 8192, false},
		{"V0, long context: chunked prefill", Request{ContextTokens: 65536, Concurrency: 16, Engine: v0}, h100, 2048, true},
		{"user's batch", Request{ContextTokens: 8192, Concurrency: 16, MaxNumBatchedTokens: 16384}, a100, 16384, true},
	} {
		tc.req.Arch, tc.req.Precision = model(t, "llama-3.1-8b"), BF16
		e, err := New(tc.req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		c := e.EngineConfig(tc.gpu)
		if c.MaxNumBatchedTokens != tc.batched || c.ChunkedPrefill != tc.chunked || c.MaxNumSeqs != tc.req.Concurrency {
			t.Errorf("%s: batched %d chunked %v seqs %d, want %d %v %d", tc.name, c.MaxNumBatchedTokens, c.ChunkedPrefill, c.MaxNumSeqs,
				tc.batched, tc.chunked, tc.req.Concurrency)
		}
	}
}

// vLLM's pipeline split (get_pp_indices): the remainder goes to the stages
// before the last, from the second-to-last backwards.
func TestStageLayerCounts(t *testing.T) {
	for _, tc := range []struct {
		layers, p int
		want      []int
	}{
		{27, 2, []int{14, 13}}, {80, 3, []int{27, 27, 26}}, {126, 3, []int{42, 42, 42}}, {61, 4, []int{15, 15, 16, 15}}, {32, 1, []int{32}},
	} {
		if got := stageLayerCounts(tc.layers, tc.p); !slices.Equal(got, tc.want) {
			t.Errorf("%d layers over %d stages: %v, want %v", tc.layers, tc.p, got, tc.want)
		}
	}
}

// Over a pipeline, the engine's KV capacity is the most constrained
// stage's, and the need a bound over every stage.
func TestPipelineStages(t *testing.T) {
	e, err := New(Request{Arch: model(t, "llama-3.1-70b"), Precision: BF16, ContextTokens: 8192, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	gpu := GPUFromGiB(44.31, 0.9)
	r := e.PerGPU(gpu, 2, 2)
	first := e.stage(gpu, 2, 2, 40, true, false)
	last := e.stage(gpu, 2, 2, 40, false, true)
	if r.NeedBytes < first.NeedBytes || r.NeedBytes < last.NeedBytes {
		t.Errorf("need %d below a stage's (%d, %d)", r.NeedBytes, first.NeedBytes, last.NeedBytes)
	}
	if want := min(first.KVCapacityBytes, last.KVCapacityBytes); r.KVCapacityBytes != want {
		t.Errorf("KV capacity %d, want the smaller stage's %d", r.KVCapacityBytes, want)
	}
}

// MLA's down-projections sit whole on every tensor-parallel rank
// (ReplicatedLinear in vLLM's deepseek_v2.py).
func TestMLADownProjectionsReplicated(t *testing.T) {
	e, err := New(Request{Arch: model(t, "deepseek-v3"), Precision: FP8, ContextTokens: 4096, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	a := e.Arch
	perLayer := int64(a.Hidden) * int64(a.QLoRARank+a.KVLoRARank+a.QKRopeHeadDim)
	if got, want := e.Params.Replicated, int64(a.Layers)*perLayer; got != want {
		t.Fatalf("replicated params %d, want %d", got, want)
	}
	h200 := GPUFromGiB(139.81, 0.9)
	one, eight := e.PerGPU(h200, 1, 1), e.PerGPU(h200, 8, 1)
	extra := float64(eight.WeightBytes) - float64(one.WeightBytes)/8
	// Norms and routers (16-bit) are whole on every rank too.
	whole := float64(e.Params.Replicated)*1 + float64(e.Params.Other)*2
	within(t, "t=8 weights above an eighth (bytes)", extra, whole*7/8, 0.01)
}
