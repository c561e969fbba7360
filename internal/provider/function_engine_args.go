package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/mcllm/terraform-provider-mcllm/internal/handoff"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
)

// The interface the function implements, checked by the compiler.
var _ function.Function = (*engineArgsFunction)(nil)

// engineArgsFunction gives the vLLM arguments of one placed replica: the
// plan's degrees and memory settings as data, for whatever runs the engine.
type engineArgsFunction struct{}

func newEngineArgsFunction() function.Function { return &engineArgsFunction{} }

func (f *engineArgsFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "engine_args"
}

// Argument positions of engine_args.
const (
	argPlacement = iota
	argDemand
	argPort
)

func (f *engineArgsFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "The vLLM OpenAI server's arguments for one placed replica",
		MarkdownDescription: "Returns the argument list of vLLM's OpenAI-compatible server for one replica, as the plan sizes it: " +
			"`--model` (the shard's `serving_model`, or its catalog model's Hugging Face repository), `--served-model-name`, " +
			"`--tensor-parallel-size` and `--pipeline-parallel-size` (the degrees the planner chose), " +
			"`--gpu-memory-utilization` (as planned), `--max-model-len`, `--max-num-seqs`, `--dtype` for 16- and 32-bit " +
			"weights or `--quantization fp8` for `fp8` (int8 and int4 checkpoints declare their method, so no flag is passed), " +
			"`--kv-cache-dtype`, `--max-num-batched-tokens` and chunked prefill as the memory estimate assumed them (and " +
			"`--enforce-eager` when the shard's `engine` asks for it), `--kv-cache-memory-bytes` with the KV cache the plan " +
			"reserves per GPU on releases that take it, and `--port`. When its pipeline stages span nodes: " +
			"`--distributed-executor-backend mp --nnodes <stages> --master-port 29501` (vLLM's own multi-node mode; each node " +
			"adds `--node-rank`, `--master-addr` and, but for rank 0, `--headless`), or `--distributed-executor-backend ray` " +
			"on releases before it.",
		Parameters: []function.Parameter{
			function.ObjectParameter{Name: "placement", AttributeTypes: placementType.(types.ObjectType).AttrTypes,
				MarkdownDescription: "The replica's entry of an `mcllm_inference_pool`'s `placement`, for example `mcllm_inference_pool.fleet.placement[\"llama-70b/0\"]`."},
			function.ObjectParameter{Name: "demand", AttributeTypes: demandType.AttrTypes,
				MarkdownDescription: "The model's demand: `mcllm_model_shard.x.demand`, or its entry of the pool's `model_shards`."},
		},
		VariadicParameter: function.Int64Parameter{Name: "port",
			MarkdownDescription: fmt.Sprintf("Optional, at most one: the port to serve on. Defaults to %d.", handoff.DefaultPort)},
		Return: function.ListReturn{ElementType: types.StringType},
	}
}

func (f *engineArgsFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var (
		placement, demand types.Object
		ports             []int64
	)
	resp.Error = function.ConcatFuncErrors(req.Arguments.Get(ctx, &placement, &demand, &ports))
	if resp.Error != nil {
		return
	}
	port := int64(handoff.DefaultPort)
	switch {
	case len(ports) > 1:
		resp.Error = function.NewArgumentFuncError(argPort, fmt.Sprintf("at most one port may be given, got %d", len(ports)))
		return
	case len(ports) == 1:
		port = ports[0]
	}
	if port < 1 || port > 65535 {
		resp.Error = function.NewArgumentFuncError(argPort, fmt.Sprintf("port must be between 1 and 65535, got %d", port))
		return
	}
	var p placementValue
	if diags := placement.As(ctx, &p, basetypes.ObjectAsOptions{}); diags.HasError() {
		resp.Error = function.NewArgumentFuncError(argPlacement, "the placement entry is not fully known: "+diagSummary(diags))
		return
	}
	gpu, sized := p.sizedGPU()
	if !sized {
		resp.Error = function.NewArgumentFuncError(argPlacement, "the placement entry has no gpu_memory_bytes and usable_memory_bytes within them; plan the pool again")
		return
	}
	d := demandFromObject(demand)
	md, diags := d.toPlanner(ctx, path.Empty())
	if diags.HasError() {
		resp.Error = function.NewArgumentFuncError(argDemand, "invalid demand: "+diagSummary(diags))
		return
	}
	if e := placementOfAnother(p, md.Name); e != "" {
		resp.Error = function.NewArgumentFuncError(argDemand, e)
		return
	}
	source, bytes := checkpoint(d, md.Memory)
	if source == "" {
		resp.Error = function.NewArgumentFuncError(argDemand,
			fmt.Sprintf("model shard %q describes its architecture but not what the engine loads; set serving_model", md.Name))
		return
	}
	stages := p.replicaStages()
	if p.TensorParallel < 1 || p.PipelineParallel < 1 || int64(len(stages)) != p.PipelineParallel {
		resp.Error = function.NewArgumentFuncError(argPlacement, fmt.Sprintf("the placement entry is inconsistent: tensor_parallel %d, "+
			"pipeline_parallel %d, %d stages", p.TensorParallel, p.PipelineParallel, len(stages)))
		return
	}
	r := planner.Replica{TensorParallel: int(p.TensorParallel), PipelineParallel: int(p.PipelineParallel), Stages: stages}
	args := handoff.EngineArgs(handoffModel(md, source, bytes), r, gpu, int(port))
	vals := make([]attr.Value, len(args))
	for i, a := range args {
		vals[i] = types.StringValue(a)
	}
	resp.Error = function.ConcatFuncErrors(resp.Result.Set(ctx, types.ListValueMust(types.StringType, vals)))
}

// diagSummary joins the details of error diagnostics into one line, with the
// attribute each is about.
func diagSummary(diags diag.Diagnostics) string {
	var parts []string
	for _, d := range diags.Errors() {
		text := d.Detail()
		if wp, ok := d.(diag.DiagnosticWithPath); ok && !wp.Path().Equal(path.Empty()) {
			text = wp.Path().String() + ": " + text
		}
		parts = append(parts, text)
	}
	return strings.Join(parts, "; ")
}

// placementOfAnother says why a placement entry is not one of the model's
// ("" when it is): its memory_profile key starts with its model's name
// ("<model>/<node_group>/tp<t>-pp<p>"). Entries planned before the key was
// recorded cannot tell.
func placementOfAnother(p placementValue, model string) string {
	if p.MemoryProfile == nil {
		return ""
	}
	placed, _, _ := strings.Cut(*p.MemoryProfile, "/")
	if placed == model {
		return ""
	}
	return fmt.Sprintf("the placement entry is a replica of model shard %q (memory_profile %q), but the demand is model shard %q's; "+
		"pass the demand of the placed model", placed, *p.MemoryProfile, model)
}
