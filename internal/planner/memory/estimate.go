package memory

import (
	"fmt"
	"math"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/limits"
)

// GiB is 2^30 bytes.
const GiB = 1 << 30

// BlockTokens is vLLM's default KV cache block size in tokens
// (EngineArgs.block_size = 16). KV memory is allocated in whole blocks.
const BlockTokens = 16

// DefaultUtilization is vLLM's default gpu_memory_utilization: the share of
// a GPU's visible memory the engine may use for weights, activations and KV.
const DefaultUtilization = 0.90

// CUDAGraphBytes is the CUDA-graph memory assumed per GPU. vLLM warns "CUDA
// graphs can take additional 1~3 GiB memory per GPU" (V0 worker.py); the corpus logs 0.23–2.62 GiB ("Graph
// capturing finished in N secs, took X GiB"). Every modelled release captures
// graphs after it allocates the KV cache (V1 gpu_worker.py
// compile_or_warm_up_model), so they must fit in visible × (1 − utilization);
// only a shortfall there is charged against the usable memory, and nothing
// under --enforce-eager.
const CUDAGraphBytes = 2 * GiB

// Request is what the estimator needs to know about one deployment.
type Request struct {
	Arch        catalog.Architecture
	Precision   Precision
	KVPrecision KVPrecision
	// ContextTokens is the longest sequence served (vLLM --max-model-len).
	ContextTokens int
	// Concurrency is the number of sequences held at once at full context
	// (vLLM --max-num-seqs).
	Concurrency int
	// Engine is the vLLM release whose profiler the estimate follows; nil
	// is DefaultEngineVersion.
	Engine *Engine
	// MaxNumBatchedTokens is vLLM --max-num-batched-tokens, the profile
	// batch; 0 takes the release's default for the GPU.
	MaxNumBatchedTokens int
	// ChunkedPrefill is vLLM --enable-chunked-prefill; default: the
	// release's.
	ChunkedPrefill Toggle
	// EnforceEager is vLLM --enforce-eager: no CUDA graphs.
	EnforceEager bool
	// MaxLoRAs is vLLM --max-loras, the LoRA adapters resident on the GPU
	// at once; 0 serves without LoRA (lora.go).
	MaxLoRAs int
	// MaxLoRARank is vLLM --max-lora-rank; 0 takes its default, 16.
	MaxLoRARank int
}

// Estimate is the GPU-independent part of a model's memory.
type Estimate struct {
	Request
	Params catalog.ParamBreakdown
	// KVPrecisionResolved is the concrete KV dtype (auto resolved).
	KVPrecisionResolved KVPrecision
	// WeightBytes is the whole model's weight memory at Precision.
	WeightBytes int64
	// KVBytesPerToken is the KV cache of one token across all layers.
	KVBytesPerToken int64
	// KVTokens is the tokens of cache reserved: Concurrency sequences of
	// ContextTokens, each rounded up to whole blocks.
	KVTokens int64
	// KVBytes is KVTokens × KVBytesPerToken.
	KVBytes int64

	linearBytes float64 // quantizable linear weights, bytes
	kvProjBytes float64 // the K/V projection part of linearBytes
	replBytes   float64 // the part of linearBytes every tensor-parallel rank holds whole
	embedBytes  float64
	lmHeadBytes float64
	otherBytes  float64
}

// New validates a request and computes the model-level figures.
func New(req Request) (*Estimate, error) {
	if err := req.Arch.Validate(); err != nil {
		return nil, &InputError{Field: FieldArchitecture, Msg: err.Error()}
	}
	if !precisions[req.Precision] {
		return nil, &InputError{Field: FieldPrecision, Msg: fmt.Sprintf("unknown precision %q; valid values are %s", req.Precision, quoteList(Precisions()))}
	}
	if req.KVPrecision == "" {
		req.KVPrecision = KVAuto
	}
	if !kvPrecisions[req.KVPrecision] {
		return nil, &InputError{Field: FieldKVPrecision, Msg: fmt.Sprintf("unknown KV cache precision %q; valid values are %s", req.KVPrecision, quoteList(KVPrecisions()))}
	}
	if req.ContextTokens <= 0 {
		return nil, &InputError{Field: FieldContext, Msg: fmt.Sprintf("must be a positive number of tokens, got %d", req.ContextTokens)}
	}
	if req.ContextTokens > req.Arch.MaxContext {
		return nil, &InputError{Field: FieldContext, Msg: fmt.Sprintf("%d tokens exceeds the model's maximum context of %d tokens", req.ContextTokens, req.Arch.MaxContext)}
	}
	if p := limits.ContextTokens.Check(int64(req.ContextTokens)); p != "" {
		return nil, &InputError{Field: FieldContext, Msg: p}
	}
	if p := limits.Concurrency.Check(int64(req.Concurrency)); p != "" {
		return nil, &InputError{Field: FieldConcurrency, Msg: p}
	}
	if req.MaxNumBatchedTokens != 0 {
		if p := limits.BatchedTokens.Check(int64(req.MaxNumBatchedTokens)); p != "" {
			return nil, &InputError{Field: FieldMaxBatchedTokens, Msg: p}
		}
	}
	if n := req.MaxNumBatchedTokens; n > 0 {
		// vLLM SchedulerConfig._verify_args refuses both.
		if n < req.Concurrency {
			return nil, &InputError{Field: FieldMaxBatchedTokens, Msg: fmt.Sprintf(
				"%d tokens is fewer than max_concurrent_sequences (%d): vLLM requires max_num_batched_tokens ≥ max_num_seqs", n, req.Concurrency)}
		}
		if req.ChunkedPrefill == ToggleOff && n < req.ContextTokens {
			return nil, &InputError{Field: FieldMaxBatchedTokens, Msg: fmt.Sprintf(
				"%d tokens is fewer than max_context_tokens (%d) with chunked prefill off: vLLM must prefill a whole sequence in one batch; raise it or turn chunked prefill on", n, req.ContextTokens)}
		}
	}

	if err := checkLoRA(req); err != nil {
		return nil, err
	}

	e := &Estimate{Request: req, Params: req.Arch.Params()}
	e.KVPrecisionResolved = req.KVPrecision.Resolve(req.Precision)
	dense := req.Precision.denseBytesPerParam()
	linear := req.Precision.linearBytesPerParam(req.Arch.Hidden)
	e.linearBytes = float64(e.Params.Linear) * linear
	e.kvProjBytes = float64(e.Params.KVProjection) * linear
	e.replBytes = float64(e.Params.Replicated) * linear
	e.embedBytes = float64(e.Params.Embedding) * dense
	e.lmHeadBytes = float64(e.Params.LMHead) * dense
	e.otherBytes = float64(e.Params.Other) * dense
	e.WeightBytes = e.WeightBytesAt(req.Precision)

	e.KVBytesPerToken = e.kvBytesPerTokenPerLayer(1) * int64(req.Arch.Layers)
	blocksPerSeq := (int64(req.ContextTokens) + BlockTokens - 1) / BlockTokens
	e.KVTokens = int64(req.Concurrency) * blocksPerSeq * BlockTokens
	// Each factor is bounded; their product need not fit int64.
	if total := float64(e.WeightBytes) + float64(e.KVTokens)*float64(e.KVBytesPerToken); total > float64(limits.ReplicaBytes.Max) {
		return nil, &InputError{Field: FieldConcurrency, Msg: fmt.Sprintf(
			"a replica would need %.4g GiB of weights and KV cache, beyond %s; lower max_concurrent_sequences or max_context_tokens",
			total/GiB, limits.ReplicaBytes.What)}
	}
	e.KVBytes = e.KVTokens * e.KVBytesPerToken
	return e, nil
}

// WeightBytesAt is the whole model's weights stored at precision p: what a
// checkpoint at that precision holds, and what the engine downloads of it.
func (e *Estimate) WeightBytesAt(p Precision) int64 {
	pb := e.Params
	return ceil64(float64(pb.Linear)*p.linearBytesPerParam(e.Arch.Hidden) +
		float64(pb.Embedding+pb.LMHead+pb.Other)*p.denseBytesPerParam())
}

// kvBytesPerTokenPerLayer is one token's KV in one layer on one GPU of a
// tensor-parallel group of t: 2 × KV heads on the GPU × head dim × dtype for
// MHA / GQA, with KV heads replicated when t exceeds them (vLLM
// get_num_kv_heads: max(1, kv_heads / t)); for MLA one latent of
// kv_lora_rank + qk_rope_head_dim, not split by t (vLLM: coef 1, one head).
func (e *Estimate) kvBytesPerTokenPerLayer(t int) int64 {
	a := e.Arch
	b := e.KVPrecision.Bytes(e.Precision)
	if a.IsMLA() {
		return int64(a.KVLoRARank+a.QKRopeHeadDim) * b
	}
	return 2 * int64(kvHeadsPerGPU(a.KVHeads, t)) * int64(a.HeadDim) * b
}

func kvHeadsPerGPU(kvHeads, t int) int { return max(1, kvHeads/t) }

// ValidTensorParallel lists the tensor-parallel degrees the model can run at
// on nodes of maxGPUs GPUs, ascending.
func (e *Estimate) ValidTensorParallel(maxGPUs int) []int {
	var out []int
	for t := 1; t <= maxGPUs; t *= 2 {
		if e.CheckTensorParallel(t) == nil {
			out = append(out, t)
		}
	}
	return out
}

// CheckTensorParallel explains why degree t is not valid for the model, or
// returns nil. The rules are vLLM's: attention heads divisible by t; KV heads
// divisible by t or t divisible by KV heads; for int4 checkpoints every
// split input dimension a multiple of the group size. Degrees are powers of
// two, as every GPU node shape is.
func (e *Estimate) CheckTensorParallel(t int) error {
	a := e.Arch
	if t < 1 || t&(t-1) != 0 {
		return &InputError{Field: FieldTensorParallel, Msg: fmt.Sprintf("tensor parallel degree %d is not a power of two", t)}
	}
	if a.Heads%t != 0 {
		return &InputError{Field: FieldTensorParallel, Msg: fmt.Sprintf("the model's %d attention heads are not divisible by tensor parallel degree %d", a.Heads, t)}
	}
	if !a.IsMLA() && a.KVHeads%t != 0 && t%a.KVHeads != 0 {
		return &InputError{Field: FieldTensorParallel, Msg: fmt.Sprintf("the model's %d KV heads neither divide nor are divisible by tensor parallel degree %d", a.KVHeads, t)}
	}
	if e.Precision.IsInt4() {
		width := a.Intermediate
		if a.IsMoE() {
			width = a.MoEIntermediate
		}
		if width%(t*QuantGroupSize) != 0 {
			return &InputError{Field: FieldTensorParallel, Msg: fmt.Sprintf("int4 weights: the MLP width %d split %d ways is not a multiple of the quantization group size %d", width, t, QuantGroupSize)}
		}
	}
	return nil
}

// CheckPipelineParallel explains why pipeline degree p is not valid.
func (e *Estimate) CheckPipelineParallel(p int) error {
	if p < 1 || p > e.Arch.Layers {
		return &InputError{Field: FieldPipeline, Msg: fmt.Sprintf("pipeline parallel degree %d must be between 1 and the model's %d layers", p, e.Arch.Layers)}
	}
	return nil
}

func ceil64(x float64) int64 { return int64(math.Ceil(x)) }
