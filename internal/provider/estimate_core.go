package provider

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/analysis"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// estimateInput is what both the estimate_memory function and the
// mcllm_memory_estimate data source ask for.
type estimateInput struct {
	Model       string
	Precision   string
	KVPrecision string
	Context     int64
	Concurrency int64
	// InstanceKey is "<cloud>/<instance_type>", or "" for a GPU-free estimate.
	InstanceKey string
	Utilization float64
	// TensorParallel 0 means every valid degree; PipelineParallel 0 means 1.
	TensorParallel   int64
	PipelineParallel int64
	// Engine settings: the vLLM release (nil for the default) and the
	// scheduler knobs, as memory.Request takes them.
	Engine              *memory.Engine
	MaxNumBatchedTokens int
	ChunkedPrefill      memory.Toggle
	EnforceEager        bool
	// MaxLoRAs and MaxLoRARank are vLLM --max-loras and --max-lora-rank.
	MaxLoRAs, MaxLoRARank int
}

// inputError is a bad input, named by its attribute so that each adapter
// can point at it (an attribute path, or a function argument).
type inputError struct {
	Field   string
	Summary string
	Detail  string
}

// estimateOutput is the object both adapters return.
type estimateOutput struct {
	Model        string `tfsdk:"model"`
	Precision    string `tfsdk:"precision"`
	KVCacheDtype string `tfsdk:"kv_cache_dtype"`
	memoryFigures
	ValidTensorParallel       []int64                         `tfsdk:"valid_tensor_parallel"`
	InstanceType              *string                         `tfsdk:"instance_type"`
	GPUMemoryUtilization      float64                         `tfsdk:"gpu_memory_utilization"`
	UsableGiBPerGPU           *float64                        `tfsdk:"usable_gib_per_gpu"`
	TensorParallelOptions     map[string]tensorParallelOption `tfsdk:"tensor_parallel_options"`
	RecommendedTensorParallel *int64                          `tfsdk:"recommended_tensor_parallel"`
}

type tensorParallelOption struct {
	GPUs                  int64   `tfsdk:"gpus"`
	PipelineParallel      int64   `tfsdk:"pipeline_parallel"`
	WeightsBytesPerGPU    int64   `tfsdk:"weights_bytes_per_gpu"`
	KVCacheBytesPerGPU    int64   `tfsdk:"kv_cache_bytes_per_gpu"`
	OverheadBytesPerGPU   int64   `tfsdk:"overhead_bytes_per_gpu"`
	LoRABytesPerGPU       int64   `tfsdk:"lora_bytes_per_gpu"`
	NeedBytesPerGPU       int64   `tfsdk:"need_bytes_per_gpu"`
	NeedGiBPerGPU         float64 `tfsdk:"need_gib_per_gpu"`
	UsableBytesPerGPU     int64   `tfsdk:"usable_bytes_per_gpu"`
	Fits                  bool    `tfsdk:"fits"`
	ShortfallGiBPerGPU    float64 `tfsdk:"shortfall_gib_per_gpu"`
	KVCacheCapacityTokens int64   `tfsdk:"kv_cache_capacity_tokens"`
	MaxConcurrency        float64 `tfsdk:"max_concurrency"`
	ActivationBytesPerGPU int64   `tfsdk:"activation_bytes_per_gpu"`
	NonTorchBytesPerGPU   int64   `tfsdk:"non_torch_bytes_per_gpu"`
	CUDAGraphBytesPerGPU  int64   `tfsdk:"cuda_graph_bytes_per_gpu"`
	MaxNumBatchedTokens   int64   `tfsdk:"max_num_batched_tokens"`
}

// computeEstimate is the one pure function behind estimate_memory and
// mcllm_memory_estimate.
func computeEstimate(in estimateInput) (estimateOutput, *inputError) {
	model, err := catalog.LookupModel(in.Model)
	if err != nil {
		return estimateOutput{}, &inputError{memory.FieldModel, "Unknown model", err.Error()}
	}
	precision, err := memory.ParsePrecision(in.Precision)
	if err != nil {
		return estimateOutput{}, fromMemoryError(err)
	}
	kv, err := memory.ParseKVPrecision(in.KVPrecision)
	if err != nil {
		return estimateOutput{}, fromMemoryError(err)
	}
	if err := memory.CheckUtilization(in.Utilization); err != nil {
		return estimateOutput{}, fromMemoryError(err)
	}
	est, err := memory.New(memory.Request{
		Arch: model.Architecture, Precision: precision, KVPrecision: kv,
		ContextTokens: clampInt(in.Context), Concurrency: clampInt(in.Concurrency), Engine: in.Engine,
		MaxNumBatchedTokens: in.MaxNumBatchedTokens, ChunkedPrefill: in.ChunkedPrefill, EnforceEager: in.EnforceEager,
		MaxLoRAs: in.MaxLoRAs, MaxLoRARank: in.MaxLoRARank,
	})
	if err != nil {
		return estimateOutput{}, fromMemoryError(err)
	}

	out := estimateOutput{
		Model: model.ID, Precision: string(precision), KVCacheDtype: string(est.KVPrecisionResolved),
		memoryFigures:        memoryFiguresOf(est),
		GPUMemoryUtilization: in.Utilization,
	}
	maxGPUs := 8
	var it catalog.InstanceType
	if in.InstanceKey != "" {
		if it, err = lookupInstanceKey(in.InstanceKey); err != nil {
			return estimateOutput{}, &inputError{"instance_type", "Unknown instance type", err.Error()}
		}
		maxGPUs = it.GPUs
	}
	out.ValidTensorParallel = ints64(est.ValidTensorParallel(maxGPUs))

	pp := max(in.PipelineParallel, 1)
	if err := est.CheckPipelineParallel(clampInt(pp)); err != nil {
		return estimateOutput{}, fromMemoryError(err)
	}
	degrees := est.ValidTensorParallel(maxGPUs)
	if in.TensorParallel != 0 {
		t := clampInt(in.TensorParallel)
		if err := est.CheckTensorParallel(t); err != nil {
			return estimateOutput{}, fromMemoryError(err)
		}
		if in.InstanceKey != "" && t > it.GPUs {
			return estimateOutput{}, &inputError{memory.FieldTensorParallel, "Tensor parallel degree too large",
				fmt.Sprintf("A tensor-parallel group stays inside one node: %s has %d GPUs, fewer than tensor_parallel = %d.", it.Key(), it.GPUs, t)}
		}
		degrees = []int{t}
	}
	if in.InstanceKey == "" {
		return out, nil
	}

	key := it.Key()
	gpu := instanceGPU(it, in.Utilization)
	usable := gib(gpu.UsableBytes())
	out.InstanceType, out.UsableGiBPerGPU = &key, &usable
	out.TensorParallelOptions = map[string]tensorParallelOption{}
	for _, t := range degrees {
		r := est.PerGPU(gpu, t, clampInt(pp))
		out.TensorParallelOptions[strconv.Itoa(t)] = tensorParallelOption{
			GPUs: int64(t) * pp, PipelineParallel: pp,
			WeightsBytesPerGPU: r.WeightBytes, KVCacheBytesPerGPU: r.KVBytes, OverheadBytesPerGPU: r.OverheadBytes,
			LoRABytesPerGPU: r.LoRABytes,
			NeedBytesPerGPU: r.NeedBytes, NeedGiBPerGPU: gib(r.NeedBytes), UsableBytesPerGPU: r.UsableBytes,
			Fits: r.Fits, ShortfallGiBPerGPU: gib(r.ShortfallBytes()),
			KVCacheCapacityTokens: r.KVCapacityTokens, MaxConcurrency: analysis.Round(r.MaxConcurrency, 2),
			ActivationBytesPerGPU: r.ActivationBytes, NonTorchBytesPerGPU: r.NonTorchBytes, CUDAGraphBytesPerGPU: r.CUDAGraphBytes,
			MaxNumBatchedTokens: int64(r.Engine.MaxNumBatchedTokens),
		}
		if r.Fits && out.RecommendedTensorParallel == nil {
			best := int64(t)
			out.RecommendedTensorParallel = &best
		}
	}
	return out, nil
}

// instanceGPU is the memory an engine sees on one GPU of a catalog
// instance type at a utilisation.
func instanceGPU(it catalog.InstanceType, utilization float64) memory.GPU {
	g := memory.GPUFromGiB(it.VisibleMemoryGiB, utilization)
	g.Model = it.GPUModel
	return g
}

func fromMemoryError(err error) *inputError {
	var ie *memory.InputError
	if errors.As(err, &ie) {
		return &inputError{ie.Field, "Invalid " + humanField(ie.Field), ie.Msg}
	}
	return &inputError{"", "Memory estimate failed", err.Error()}
}

func humanField(f string) string {
	switch f {
	case memory.FieldKVPrecision:
		return "KV cache precision"
	case memory.FieldContext:
		return "context length"
	case memory.FieldConcurrency:
		return "concurrency"
	case memory.FieldUtilization:
		return "GPU memory utilization"
	case memory.FieldTensorParallel:
		return "tensor parallel degree"
	case memory.FieldPipeline:
		return "pipeline parallel degree"
	}
	return f
}

// clampInt narrows an int64 from configuration; out-of-range values become
// values the validators reject rather than wrapping around.
func clampInt(v int64) int {
	const limit = 1 << 40
	switch {
	case v > limit:
		return limit
	case v < -limit:
		return -limit
	}
	return int(v)
}

// estimateOutputAttributes is the schema of estimateOutput, shared by the
// data source (as a nested attribute) and the function (as its return type).
func estimateOutputAttributes() map[string]schema.Attribute {
	attrs := memoryFigureAttributes(dsInteger, dsNumber)
	for k, v := range map[string]schema.Attribute{
		"model":          dsString("Catalog id of the model."),
		"precision":      dsString("Weight precision."),
		"kv_cache_dtype": dsString("KV cache precision with `auto` resolved (bf16 for quantized weights)."),
		"valid_tensor_parallel": schema.ListAttribute{
			Computed: true, ElementType: types.Int64Type,
			MarkdownDescription: "Tensor-parallel degrees the model allows, up to the GPUs of `instance_type` (8 without one).",
		},
		"instance_type":          dsString("The `<cloud>/<instance_type>` the per-GPU figures are for; null without one."),
		"gpu_memory_utilization": dsNumber("Utilization the per-GPU budget uses."),
		"usable_gib_per_gpu":     dsNumber("Per-GPU budget: runtime-visible memory × utilization, GiB; null without an instance type."),
		"tensor_parallel_options": schema.MapNestedAttribute{
			Computed: true,
			MarkdownDescription: "Per-GPU memory at each valid tensor-parallel degree on `instance_type`, keyed by the degree " +
				"(`\"1\"`, `\"2\"`, …); null without an instance type.",
			NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
				"gpus":                     dsInteger("GPUs one replica uses: tensor × pipeline degree."),
				"pipeline_parallel":        dsInteger("Pipeline degree."),
				"weights_bytes_per_gpu":    dsInteger("Weights on the most loaded GPU."),
				"lora_bytes_per_gpu":       dsInteger("LoRA adapter buffers on that GPU (`engine.max_loras` at `max_lora_rank`), allocated with the weights; 0 without LoRA."),
				"kv_cache_bytes_per_gpu":   dsInteger("Requested KV cache on that GPU."),
				"overhead_bytes_per_gpu":   dsInteger("Activation peak, non-torch allocations (CUDA context, NCCL) and CUDA-graph memory that does not fit above the utilization line."),
				"need_bytes_per_gpu":       dsInteger("Weights + KV cache + overhead."),
				"need_gib_per_gpu":         dsNumber("`need_bytes_per_gpu` in GiB."),
				"usable_bytes_per_gpu":     dsInteger("The GPU's budget."),
				"fits":                     schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether the need fits the budget."},
				"shortfall_gib_per_gpu":    dsNumber("GiB missing per GPU; 0 when it fits."),
				"kv_cache_capacity_tokens": dsInteger("KV tokens that fit once weights and overhead are loaded, in whole blocks of 16 (vLLM's `# GPU blocks` × 16)."),
				"max_concurrency":          dsNumber("`kv_cache_capacity_tokens` / `max_context_tokens`: full-context sequences that fit at once."),
				"activation_bytes_per_gpu": dsInteger("Activation peak of the engine's profile run: the forward pass of `max_num_batched_tokens` tokens or the dummy sampler, the larger."),
				"non_torch_bytes_per_gpu":  dsInteger("Non-torch memory the release's profiler charges (allocator pools; NCCL where it is charged)."),
				"cuda_graph_bytes_per_gpu": dsInteger("CUDA-graph memory that does not fit above the utilisation line."),
				"max_num_batched_tokens":   dsInteger("The profile batch: the release's default for the GPU."),
			}},
		},
		"recommended_tensor_parallel": dsInteger("Smallest degree that fits; null when none does or without an instance type."),
	} {
		attrs[k] = v
	}
	return attrs
}

// attrTypes derives the object type of a set of attributes, of the resource
// or the data-source schema package.
func attrTypes[A interface{ GetType() attr.Type }](attrs map[string]A) map[string]attr.Type {
	out := make(map[string]attr.Type, len(attrs))
	for k, a := range attrs {
		out[k] = a.GetType()
	}
	return out
}
