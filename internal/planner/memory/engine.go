package memory

import (
	"fmt"
	"sort"
)

// Engine is a vLLM release whose start-up memory profiler the estimator
// follows. vLLM sizes its KV cache as
//
//	total × gpu_memory_utilization − (weights + activation peak of a profile run + non-torch growth)
//
// and what goes into each term, and which scheduler defaults shape the
// profile run, changed between releases. Each Engine names the release whose
// code its rules were read from; the memory guide lists them with their
// source files and the logs they were checked against.
type Engine struct {
	// Version is the vLLM release, for example "0.31.0".
	Version string
	// V1 is the engine generation: the V1 engine (vllm/v1/worker) or V0
	// (vllm/worker/worker.py).
	V1 bool
	// SamplerInChunkedProfile: the profile run's dummy sampler shows in the
	// activation peak also when chunked prefill is on. V1 samples
	// min(max_num_batched_tokens, max_num_seqs) rows in profile_run
	// (gpu_model_runner.py _dummy_sampler_run); V0 logs with chunked prefill
	// on show no sampler peak (0.19 and 0.22 GiB at 256 sequences of
	// 152k / 128k vocabularies, corpus ids r1-distill-qwen14b-2x4090-tp2,
	// llama31-8b-22gb-131k-v0).
	SamplerInChunkedProfile bool
	// NonTorchBytes is the non-torch growth on one GPU (CUDA allocator
	// pools, cuBLAS workspaces) the profiler charges.
	NonTorchBytes int64
	// NonTorchPerRankBytes is what each further rank of the parallel group
	// adds: NCCL communicators and custom all-reduce buffers. vLLM charges
	// them while it takes its memory baseline before NCCL is initialised;
	// since PR #25359 (September 2025) the snapshot follows NCCL
	// initialisation and they are no longer charged.
	NonTorchPerRankBytes int64
	// ServeDefaults gives the OpenAI server's default max_num_batched_tokens
	// and max_num_seqs for a GPU.
	ServeDefaults func(gpu GPU) (batchedTokens, seqs int)
	// KVCacheMemoryFlag: the release takes the KV cache size directly
	// (--kv-cache-memory-bytes, CacheConfig.kv_cache_memory_bytes, PR
	// #21489), skipping the profiler's sizing.
	KVCacheMemoryFlag bool
	// NativeMultiNode: the release spans nodes with its own multiprocessing
	// executor (vllm serve --nnodes / --node-rank / --master-addr, workers
	// --headless; PR #23691) rather than Ray. Its image has no Ray (PR #36170
	// removed it from vLLM's dependencies in March 2026).
	NativeMultiNode bool
}

// DefaultEngineVersion is the vLLM release mcllm plans for unless told
// otherwise: the newest release seen (v0.31.0, 2026-10), the one the
// hand-off's default image runs.
const DefaultEngineVersion = "0.31.0"

// v1ServeDefaults is EngineArgs._set_default_args of the V1 engine for the
// OpenAI server (vllm/engine/arg_utils.py, PRs #17073 and #17885, unchanged
// through get_batch_defaults in 2026): GPUs of at least 70 GiB that are not
// an A100 batch 8192 tokens and 1024 sequences, the others 2048 and 256.
func v1ServeDefaults(gpu GPU) (int, int) {
	if gpu.VisibleBytes >= 70*GiB && !gpu.isA100() {
		return 8192, 1024
	}
	return 2048, 256
}

// v0ServeDefaults: V0 SchedulerConfig (vllm/config.py, v0.6.6): 256
// sequences; 2048 batched tokens with chunked prefill (PR #10544), and
// max(max_model_len, 2048) without it, which Resolve applies.
func v0ServeDefaults(GPU) (int, int) { return 2048, 256 }

var engines = map[string]*Engine{
	// V0 engine, v0.6.6: worker.py determine_num_available_blocks after PR
	// #10511 (baseline snapshot before distributed init: NCCL is charged);
	// model_runner.py profile_run samples max_num_seqs rows with top_k =
	// vocab − 1, forcing a full-vocabulary sort.
	"0.6.6": {Version: "0.6.6", V1: false, SamplerInChunkedProfile: false,
		NonTorchBytes: GiB / 8, NonTorchPerRankBytes: GiB / 8, ServeDefaults: v0ServeDefaults},
	// V1 engine, v0.11.0: gpu_worker.py determine_available_memory with
	// memory_profiling and init_snapshot (PR #19312); gpu_model_runner.py
	// profile_run → _dummy_run(max_num_batched_tokens) → _dummy_sampler_run.
	// Non-torch: 0.13 GiB at TP 1 and 0.55 GiB at TP 2 on H100 (llm-d
	// empirical-vllm-memory-results.md): NCCL still charged.
	"0.11.0": {Version: "0.11.0", V1: true, SamplerInChunkedProfile: true,
		NonTorchBytes: GiB * 13 / 100, NonTorchPerRankBytes: GiB * 42 / 100, ServeDefaults: v1ServeDefaults,
		KVCacheMemoryFlag: true},
	// V1 engine, v0.31.0: mem_utils.py memory_profiling charges
	// total_consumed (device free-memory drop since the snapshot, weights
	// included) plus the transient torch peak; the snapshot follows NCCL
	// initialisation (PR #25359). Non-torch 0.26 GiB and 0.30 GiB at TP 1
	// ("consumed memory (weights + non-torch)" in the v0.31.0 and v0.27.1
	// logs of the corpus). CUDA graphs are measured after the KV cache is
	// allocated: the v0.31.0 log's KV is requested − consumed − activation,
	// without the 0.23 GiB of graphs.
	"0.31.0": {Version: "0.31.0", V1: true, SamplerInChunkedProfile: true,
		NonTorchBytes: GiB * 26 / 100, NonTorchPerRankBytes: 0, ServeDefaults: v1ServeDefaults,
		KVCacheMemoryFlag: true, NativeMultiNode: true},
}

// EngineVersions lists the modelled vLLM releases, oldest first.
func EngineVersions() []string {
	out := make([]string, 0, len(engines))
	for v := range engines {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return versionLess(out[i], out[j]) })
	return out
}

// LookupEngine returns the modelled release v ("" for the default).
func LookupEngine(v string) (*Engine, error) {
	if v == "" {
		v = DefaultEngineVersion
	}
	if e, ok := engines[v]; ok {
		return e, nil
	}
	return nil, &InputError{Field: FieldEngineVersion, Msg: fmt.Sprintf(
		"vLLM %q is not a release mcllm models; modelled releases are %s (each follows that release's memory profiler)",
		v, quoteList(EngineVersions()))}
}

func versionLess(a, b string) bool {
	var a1, a2, a3, b1, b2, b3 int
	_, _ = fmt.Sscanf(a, "%d.%d.%d", &a1, &a2, &a3)
	_, _ = fmt.Sscanf(b, "%d.%d.%d", &b1, &b2, &b3)
	if a1 != b1 {
		return a1 < b1
	}
	if a2 != b2 {
		return a2 < b2
	}
	return a3 < b3
}

// Toggle is an engine switch the user may leave to the engine's default.
type Toggle int

// Toggle values.
const (
	ToggleDefault Toggle = iota
	ToggleOn
	ToggleOff
)

// EngineConfig is what the engine is told, and what its profiler then
// sees: every scheduler knob the estimate depends on, resolved for one GPU.
// The hand-off passes each of them on the command line, so the engine runs
// the configuration the plan was computed for.
type EngineConfig struct {
	Version string
	// MaxNumBatchedTokens is the profile batch (--max-num-batched-tokens).
	MaxNumBatchedTokens int
	// MaxNumSeqs is --max-num-seqs: the request's concurrency.
	MaxNumSeqs int
	// ChunkedPrefill is --enable-chunked-prefill / --no-enable-chunked-prefill.
	ChunkedPrefill bool
	// EnforceEager is --enforce-eager: no CUDA graphs.
	EnforceEager bool
	// BlockSize is the KV cache block in tokens (--block-size default).
	BlockSize int
	// KVCacheMemoryFlag: the engine can be given its KV cache size.
	KVCacheMemoryFlag bool
}

// longContext is the context above which V0 turns chunked prefill on by
// itself (EngineArgs.create_engine_config, v0.6.6: use_long_context =
// max_model_len > 32768).
const longContext = 32768

// EngineConfig resolves the knobs for gpu: the user's settings where given,
// the release's defaults otherwise, adjusted as the engine adjusts them so
// that the configuration is one it accepts (max_num_batched_tokens at least
// max_num_seqs, and at least max_model_len without chunked prefill).
func (e *Estimate) EngineConfig(gpu GPU) EngineConfig {
	eng := e.engine()
	c := EngineConfig{Version: eng.Version, MaxNumSeqs: e.Concurrency, EnforceEager: e.EnforceEager,
		BlockSize: BlockTokens, KVCacheMemoryFlag: eng.KVCacheMemoryFlag}
	switch e.ChunkedPrefill {
	case ToggleOn:
		c.ChunkedPrefill = true
	case ToggleOff:
		c.ChunkedPrefill = false
	default:
		// V1 always chunks ("V1 always uses chunked prefills"); V0 only
		// for long contexts.
		c.ChunkedPrefill = eng.V1 || e.ContextTokens > longContext
	}
	batched, _ := eng.ServeDefaults(gpu)
	switch {
	case e.MaxNumBatchedTokens > 0:
		batched = e.MaxNumBatchedTokens
	case !c.ChunkedPrefill && eng.V1:
		batched = e.ContextTokens // arg_utils: max_num_batched_tokens = max_model_len
	case !c.ChunkedPrefill:
		batched = max(e.ContextTokens, 2048) // V0 SchedulerConfig
	}
	c.MaxNumBatchedTokens = max(batched, c.MaxNumSeqs)
	return c
}

func (e *Estimate) engine() *Engine {
	if e.Engine != nil {
		return e.Engine
	}
	return engines[DefaultEngineVersion]
}
