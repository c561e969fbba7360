package memory

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// GPU is the memory a serving engine can use on one GPU.
type GPU struct {
	// VisibleBytes is what the runtime sees (torch.cuda.mem_get_info total).
	VisibleBytes int64
	// Utilization is vLLM's gpu_memory_utilization, in (0, 1].
	Utilization float64
	// Model is the GPU model (catalog name, such as "A100-80GB"): vLLM's
	// scheduler defaults single out the A100.
	Model string
	// Shares is how many engines share the GPU by time-slicing or MPS,
	// each within its own Utilization of VisibleBytes; 0 or 1 for one
	// engine. The memory above all their budgets is shared too, so each
	// engine's CUDA graphs may take only its part of it.
	Shares int
}

func (g GPU) isA100() bool { return strings.Contains(strings.ToLower(g.Model), "a100") }

// GPUFromGiB builds a GPU from a visible-memory figure in GiB.
func GPUFromGiB(visibleGiB, utilization float64) GPU {
	return GPU{VisibleBytes: int64(math.Round(visibleGiB * GiB)), Utilization: utilization}
}

// UsableBytes is visible memory × utilization, the engine's budget.
func (g GPU) UsableBytes() int64 { return int64(float64(g.VisibleBytes) * g.Utilization) }

// CheckUtilization rejects a utilization outside (0, 1] or with more than
// four decimals: placement entries carry the engine's budget in whole bytes
// (UsableBytes), and UtilizationOf recovers a four-decimal utilization
// from it exactly.
func CheckUtilization(u float64) error {
	if !(u > 0 && u <= 1) {
		return &InputError{Field: FieldUtilization, Msg: fmt.Sprintf("must be greater than 0 and at most 1, got %g", u)}
	}
	if math.Round(u*1e4)/1e4 != u {
		return &InputError{Field: FieldUtilization, Msg: fmt.Sprintf("must have at most four decimals (as 0.9 or 0.8575), got %g", u)}
	}
	return nil
}

// UtilizationOf is the utilization of a GPU of visible bytes whose usable
// budget is usable bytes (UsableBytes), to four decimals: for a utilization
// CheckUtilization accepts, exactly the one the budget was made from.
func UtilizationOf(visible, usable int64) float64 {
	if visible <= 0 {
		return 0
	}
	return math.Round(float64(usable)/float64(visible)*1e4) / 1e4
}

// PerGPU is the memory of one replica's shard on its most loaded GPU at
// tensor-parallel degree T and pipeline degree P.
type PerGPU struct {
	T, P int
	// WeightBytes: the largest pipeline stage's layers split T ways, plus
	// the embedding or lm_head it holds (vocab-parallel, split T ways).
	WeightBytes int64
	// KVBytes: the requested KV cache (Request.KVTokens) on this GPU.
	KVBytes int64
	// LoRABytes: the LoRA adapter buffers of the stage's layers (lora.go),
	// allocated with the weights, before the profiler runs.
	LoRABytes int64
	// ActivationBytes: the profiled activation peak.
	ActivationBytes int64
	// NonTorchBytes: CUDA context, NCCL and all-reduce buffers.
	NonTorchBytes int64
	// CUDAGraphBytes: the part of CUDA-graph memory that does not fit above
	// the utilisation line and so comes out of the usable budget.
	CUDAGraphBytes int64
	// OverheadBytes = ActivationBytes + NonTorchBytes + CUDAGraphBytes.
	OverheadBytes int64
	// NeedBytes = WeightBytes + LoRABytes + KVBytes + OverheadBytes.
	NeedBytes int64
	// UsableBytes is the GPU's budget (visible × utilization).
	UsableBytes int64
	// Fits reports NeedBytes ≤ UsableBytes.
	Fits bool
	// KVBytesPerToken is one token's KV cache on this GPU.
	KVBytesPerToken int64
	// KVCapacityTokens is how many tokens of KV fit once weights and
	// overhead are loaded, in whole blocks of BlockTokens; 0 when none do.
	KVCapacityTokens int64
	// KVCapacityBlocks is KVCapacityTokens / BlockTokens.
	KVCapacityBlocks int64
	// MaxConcurrency is KVCapacityTokens / ContextTokens: how many
	// full-context sequences fit at once (vLLM's "Maximum concurrency").
	MaxConcurrency float64
	// KVCapacityBytes is the KV cache the engine's profiler would allocate
	// on this GPU: usable − weights − activation − non-torch (vLLM's
	// "Available KV cache memory"), 0 when negative.
	KVCapacityBytes int64
	// Engine is the engine configuration the figures assume.
	Engine EngineConfig
}

// ShortfallBytes is how much memory is missing per GPU, 0 when it fits.
func (p PerGPU) ShortfallBytes() int64 { return max(0, p.NeedBytes-p.UsableBytes) }

// PerGPU computes the per-GPU need of one replica at degrees t and p on gpu.
// The degrees must have passed CheckTensorParallel / CheckPipelineParallel.
//
// With pipeline stages, each stage holds its own layers, the first the
// embedding, the last the output projection and the sampler. The need is a
// bound every stage fits under — the largest stage's layers with the larger
// of the two vocabulary matrices and the sampler's peak — so that a plan
// that fits starts on every rank; KVCapacityTokens is what fits under that
// bound. KVCapacityBytes is the engine's own figure: vLLM sizes each rank's
// KV cache and then keeps the fewest blocks of all ranks (V1
// kv_cache_utils.py, V0 executor), so it is that of the most constrained
// stage.
func (e *Estimate) PerGPU(gpu GPU, t, p int) PerGPU {
	counts := stageLayerCounts(e.Arch.Layers, p)
	if p == 1 {
		return e.stage(gpu, t, p, counts[0], true, true)
	}
	res := e.stage(gpu, t, p, slices.Max(counts), false, false)
	fewest := int64(math.MaxInt64)
	for i, layers := range counts {
		if 0 < i && i < p-1 && layers <= counts[0] {
			continue // a middle stage no larger than the first has more room
		}
		s := e.stage(gpu, t, p, layers, i == 0, i == p-1)
		if s.KVBytesPerToken == 0 {
			continue
		}
		if blocks := s.KVCapacityBytes / (BlockTokens * s.KVBytesPerToken); blocks < fewest {
			fewest, res.KVCapacityBytes = blocks, s.KVCapacityBytes
		}
	}
	return res
}

// stageLayerCounts is vLLM's pipeline split (vllm/distributed/utils.py
// get_pp_indices): layers / p per stage, the remainder added one layer each
// to the stages before the last, from the second-to-last backwards.
func stageLayerCounts(layers, p int) []int {
	counts := make([]int, p)
	for i := range counts {
		counts[i] = layers / p
	}
	for i := 2; i < layers%p+2; i++ {
		counts[p-i]++
	}
	return counts
}

// stage is the per-GPU figures of a pipeline stage of the given layers that
// holds the embedding (first), the output projection and the sampler (last).
// With neither, on a pipeline, it is the bound of PerGPU: the larger of the
// two vocabulary matrices and the sampler's peak.
func (e *Estimate) stage(gpu GPU, t, p, layers int, first, last bool) PerGPU {
	a := e.Arch
	bound := p > 1 && !first && !last
	share := float64(layers) / float64(a.Layers)

	// K/V projections are replicated once t exceeds the KV heads; MLA's
	// down-projections on every rank (Replicated, a part of the K/V ones).
	kv, kvSplit := e.kvProjBytes, float64(min(t, a.KVHeads))
	if a.IsMLA() {
		kv = 0 // split with the other linears but for the replicated part
	}
	layerBytes := share * ((e.linearBytes-kv-e.replBytes)/float64(t) + kv/kvSplit + e.replBytes + e.otherBytes)
	var vocabBytes float64
	switch {
	case bound:
		vocabBytes = max(e.embedBytes, e.lmHeadBytes)
	case first && last:
		vocabBytes = e.embedBytes + e.lmHeadBytes
	case first:
		vocabBytes = e.embedBytes
	case e.lmHeadBytes > 0:
		vocabBytes = e.lmHeadBytes
	default: // tied: the last stage keeps its own copy for the output
		vocabBytes = e.embedBytes
	}
	res := PerGPU{T: t, P: p, UsableBytes: gpu.UsableBytes()}
	res.WeightBytes = ceil64(layerBytes + vocabBytes/float64(t))
	res.LoRABytes = e.loraBytesPerLayer(t) * int64(layers)

	res.KVBytesPerToken = e.kvBytesPerTokenPerLayer(t) * int64(layers)
	res.KVBytes = e.KVTokens * res.KVBytesPerToken

	res.Engine = e.EngineConfig(gpu)
	res.ActivationBytes = e.activationBytes(res.Engine, t, last || bound)
	res.NonTorchBytes = e.nonTorchBytes(t, p)
	if !res.Engine.EnforceEager {
		engines := int64(max(1, gpu.Shares))
		headroom := (gpu.VisibleBytes - engines*res.UsableBytes) / engines
		res.CUDAGraphBytes = max(0, CUDAGraphBytes-headroom)
	}
	res.OverheadBytes = res.ActivationBytes + res.NonTorchBytes + res.CUDAGraphBytes
	loaded := res.WeightBytes + res.LoRABytes // what "Model loading took" counts
	res.NeedBytes = loaded + res.KVBytes + res.OverheadBytes
	res.Fits = res.NeedBytes <= res.UsableBytes

	res.KVCapacityBytes = max(0, res.UsableBytes-loaded-res.ActivationBytes-res.NonTorchBytes)
	if free := res.UsableBytes - loaded - res.OverheadBytes; free > 0 && res.KVBytesPerToken > 0 {
		res.KVCapacityBlocks = free / (BlockTokens * res.KVBytesPerToken)
		res.KVCapacityTokens = res.KVCapacityBlocks * BlockTokens
	}
	res.MaxConcurrency = float64(res.KVCapacityTokens) / float64(e.ContextTokens)
	return res
}

// SmallestFit returns the per-GPU figures at the smallest valid
// tensor-parallel degree up to maxGPUs (pipeline degree 1) that fits, and
// whether one does. With none, the last degree tried is returned, so the
// caller can report its shortfall.
func (e *Estimate) SmallestFit(gpu GPU, maxGPUs int) (PerGPU, bool) {
	var last PerGPU
	for _, t := range e.ValidTensorParallel(maxGPUs) {
		last = e.PerGPU(gpu, t, 1)
		if last.Fits {
			return last, true
		}
	}
	return last, false
}
