package handoff

import (
	"fmt"
	"strconv"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// Model is a deployment as the serving engine runs it: its name, what the
// engine loads, and the memory estimate the plan sized it by, whose request
// (precision, context as --max-model-len, concurrency as --max-num-seqs,
// engine settings) the engine is given.
type Model struct {
	Name string
	// Source is what the engine loads (vLLM --model): a Hugging Face
	// repository or a path.
	Source string
	// CheckpointBytes is what the engine downloads of Source.
	CheckpointBytes int64
	*memory.Estimate
}

// MultiNode reports whether a replica's pipeline stages span nodes: such a
// replica runs as a LeaderWorkerSet (one pod per stage), the others as one
// pod.
func MultiNode(r planner.Replica) bool {
	for _, s := range r.Stages[min(1, len(r.Stages)):] {
		if s.Node != r.Stages[0].Node {
			return true
		}
	}
	return false
}

// dtype is vLLM's --dtype for unquantized weights; quantized checkpoints
// keep the engine's default ("auto": the checkpoint's own).
func dtype(p memory.Precision) string {
	switch p {
	case memory.FP32:
		return "float32"
	case memory.BF16:
		return "bfloat16"
	case memory.FP16:
		return "float16"
	}
	return ""
}

// quantization is vLLM's --quantization for a weight precision. fp8 is
// quantized as the weights load, from a 16-bit checkpoint. int8 and int4
// need a checkpoint quantized that way (W8A8, AWQ or GPTQ), which declares
// its method: vLLM then picks the fastest kernel for it (Marlin on NVIDIA),
// which naming the method would override, so the flag is left out.
func quantization(p memory.Precision) string {
	if p == memory.FP8 {
		return "fp8"
	}
	return ""
}

// MasterPort is the port of the leader's torch.distributed rendezvous that
// the other nodes join (vLLM ParallelConfig.master_port default, 29501).
const MasterPort = 29501

// nativeMultiNode reports whether m's release spans nodes without Ray.
func nativeMultiNode(m Model) bool { return m.Engine == nil || m.Engine.NativeMultiNode }

// chunkedPrefillFlag spells chunked prefill as the release parses it: V1's
// argparse takes --enable-chunked-prefill / --no-enable-chunked-prefill
// (BooleanOptionalAction); V0's takes --enable-chunked-prefill=<bool>
// (StoreBoolean, vllm/engine/arg_utils.py v0.6.6).
func chunkedPrefillFlag(e *memory.Engine, on bool) string {
	if e != nil && !e.V1 {
		return "--enable-chunked-prefill=" + strconv.FormatBool(on)
	}
	if on {
		return "--enable-chunked-prefill"
	}
	return "--no-enable-chunked-prefill"
}

// PreQuantized reports whether a precision needs a checkpoint quantized
// ahead (int8, int4), rather than the model's own 16-bit weights.
func PreQuantized(p memory.Precision) bool { return p == memory.Int8 || p.IsInt4() }

// KVCacheDtype is vLLM's --kv-cache-dtype for a model, and a note when vLLM
// cannot store the cache at the planned precision. vLLM stores the cache in
// the compute dtype ("auto") or in fp8; a wider planned precision (fp32 for a
// bf16 model) runs as "auto", which takes less memory than the plan reserves.
func KVCacheDtype(m Model) (string, string) {
	auto := memory.KVAuto.Resolve(m.Precision)
	switch {
	case m.KVPrecision == memory.KVFP8:
		return "fp8", ""
	case m.KVPrecision.Bytes(m.Precision) == auto.Bytes(m.Precision): // auto, or as wide as auto
		return "auto", ""
	}
	return "auto", fmt.Sprintf("vLLM has no %s KV cache for %s weights; the engine stores it as %s (\"auto\"), within the memory the plan reserves",
		m.KVPrecision, m.Precision, auto)
}

// EngineArgs is the vLLM OpenAI server's argument list for one replica on
// gpu, as the plan sizes it: the parallel degrees the planner chose, the
// memory fraction the estimate used, the context and sequences the KV cache
// holds, and every scheduler setting the estimate assumed (the profile
// batch, chunked prefill, eager mode), so that the engine profiles what the
// plan computed. On releases that take it, --kv-cache-memory-bytes gives the
// engine the KV cache the plan reserves on the replica's most loaded GPU
// (vLLM CacheConfig.kv_cache_memory_bytes, PR #21489: per GPU, in place of
// the profiler's sizing).
func EngineArgs(m Model, r planner.Replica, gpu memory.GPU, port int) []string {
	pg := m.PerGPU(gpu, r.TensorParallel, r.PipelineParallel)
	c := pg.Engine
	args := []string{
		"--model", m.Source,
		"--served-model-name", m.Name,
		"--tensor-parallel-size", strconv.Itoa(r.TensorParallel),
		"--pipeline-parallel-size", strconv.Itoa(r.PipelineParallel),
		"--gpu-memory-utilization", strconv.FormatFloat(gpu.Utilization, 'f', -1, 64),
		"--max-model-len", strconv.Itoa(m.ContextTokens),
		"--max-num-seqs", strconv.Itoa(m.Concurrency),
		"--max-num-batched-tokens", strconv.Itoa(c.MaxNumBatchedTokens),
		chunkedPrefillFlag(m.Engine, c.ChunkedPrefill),
	}
	if c.EnforceEager {
		args = append(args, "--enforce-eager")
	}
	if m.MaxLoRAs > 0 {
		// The buffers the estimate counted (memory/lora.go).
		args = append(args, "--enable-lora", "--max-loras", strconv.Itoa(m.MaxLoRAs), "--max-lora-rank", strconv.Itoa(m.LoRARank()))
	}
	if c.KVCacheMemoryFlag {
		args = append(args, "--kv-cache-memory-bytes", strconv.FormatInt(pg.KVBytes, 10))
	}
	if d := dtype(m.Precision); d != "" {
		args = append(args, "--dtype", d)
	}
	if q := quantization(m.Precision); q != "" {
		args = append(args, "--quantization", q)
	}
	kv, _ := KVCacheDtype(m)
	args = append(args, "--kv-cache-dtype", kv)
	if MultiNode(r) {
		if nativeMultiNode(m) {
			// One node per pipeline stage; each node adds its rank and the
			// leader's address (NodeArgs).
			args = append(args, "--distributed-executor-backend", "mp", "--nnodes", strconv.Itoa(r.PipelineParallel),
				"--master-port", strconv.Itoa(MasterPort))
		} else {
			args = append(args, "--distributed-executor-backend", "ray")
		}
	}
	return append(args, "--port", strconv.Itoa(port))
}
