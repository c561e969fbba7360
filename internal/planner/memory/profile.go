package memory

// The profile run: before sizing its KV cache, vLLM runs one dummy forward
// pass of max_num_batched_tokens tokens and one dummy sampling step, and
// charges the peak of torch allocations above the weights (the "activation
// peak"). The peak is that of the larger phase, since the forward pass's
// temporaries are freed before the sampler runs.

// forwardBytesPerElement: live activation elements per token in the MLP of
// one layer, in units of (2 × hidden + 3 × MLP width / t): the residual
// stream and the normalised input (2 × hidden), the gate-and-up projection's
// output (2 × width / t) and the activation's output (width / t), at the
// activation dtype. The 1.09 factor is measured: Llama-3.1-8B's logged peaks
// at 20,000 and 29,000 profile tokens (V0, chunked prefill off: 2.07 and
// 2.99 GiB after 0.35 GiB non-torch, corpus ids llama31-8b-rtx3090-*) are
// 111 KB per token against 102 KB per token of those tensors.
const forwardOverhead = 1.09

// samplerCopies is how many fp32 copies of the [rows × vocabulary] logits
// the dummy sampling step holds at its peak: the fp32 logits, the
// full-vocabulary sort (values and int64 indices) that top_k = vocab − 1 and
// top_p < 1 force, the softmax, its cumulative sum, the scatter back and the
// final probabilities (vllm/v1/sample/ops/topk_topp_sampler.py,
// apply_top_k_top_p; V0 sampler.py _apply_top_k_top_p). Measured 9.6: the
// activation peaks of Llama-3.1-8B (4.76 GiB), Qwen3-0.6B (5.56 GiB) and
// Qwen3-32B (5.64 GiB) at 1024 rows on H100, and Qwen2.5-Math-1.5B
// (1.40 GiB) at 256 rows, divided by rows × vocab × 4 bytes, give 9.6–9.7.
const samplerCopies = 9.6

// activationBytes is the profiled activation peak on one GPU of a stage;
// the last stage samples (every tensor-parallel rank of it gathers the full
// vocabulary's logits).
func (e *Estimate) activationBytes(c EngineConfig, t int, samples bool) int64 {
	a := e.Arch
	tokens := float64(c.MaxNumBatchedTokens)
	act := float64(e.Precision.activationBytes())
	hidden := float64(a.Hidden)

	width := float64(a.Intermediate) / float64(t)
	if a.IsMoE() {
		// Fused MoE: each token's k expert rows of gate-up and activation
		// outputs, plus the shared experts' (vLLM fused_moe intermediate
		// caches, chunked at 64k tokens — far above a profile batch).
		moe := float64((a.ActiveExperts+a.SharedExperts)*a.MoEIntermediate) / float64(t)
		if a.DenseLayers == 0 || moe > width {
			width = moe
		}
	}
	forward := tokens * (2*hidden + 3*width) * act * forwardOverhead

	if !samples || (c.ChunkedPrefill && !e.engine().SamplerInChunkedProfile) {
		return ceil64(forward)
	}
	rows := float64(min(c.MaxNumSeqs, c.MaxNumBatchedTokens))
	// The forward pass's hidden states stay alive while the sampler runs.
	sampler := rows*float64(a.Vocab)*4*samplerCopies + tokens*hidden*act
	return ceil64(max(forward, sampler))
}

// nonTorchBytes is what the profiler charges outside torch on one GPU of a
// replica at degrees t and p: a communicator buffer per further rank of the
// tensor-parallel group (all-reduce), and one for the pipeline's
// neighbouring stage (send / receive).
func (e *Estimate) nonTorchBytes(t, p int) int64 {
	eng := e.engine()
	peers := t - 1
	if p > 1 {
		peers++
	}
	return eng.NonTorchBytes + int64(peers)*eng.NonTorchPerRankBytes
}
