package provider

import (
	"context"
	"fmt"
	"math"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/analysis"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/limits"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// A demand is what a pool needs to know of one model deployment. The
// mcllm_model_shard resource computes it (attribute `demand`); the pool takes
// a list of them (attribute `model_shards`). One definition serves both.

type demandModel struct {
	Name                   types.String `tfsdk:"name"`
	Model                  types.String `tfsdk:"model"`
	Architecture           types.Object `tfsdk:"architecture"`
	Precision              types.String `tfsdk:"precision"`
	KVCachePrecision       types.String `tfsdk:"kv_cache_precision"`
	MaxContextTokens       types.Int64  `tfsdk:"max_context_tokens"`
	MaxConcurrentSequences types.Int64  `tfsdk:"max_concurrent_sequences"`
	Replicas               types.Int64  `tfsdk:"replicas"`
	TensorParallel         types.Int64  `tfsdk:"tensor_parallel"`
	PipelineParallel       types.Int64  `tfsdk:"pipeline_parallel"`
	Priority               types.Int64  `tfsdk:"priority"`
	Constraints            types.Object `tfsdk:"constraints"`
	Spread                 types.Object `tfsdk:"spread"`
	MinReplicasOnFailure   types.Object `tfsdk:"min_replicas_on_failure"`
	OnDemandFloor          types.Int64  `tfsdk:"on_demand_floor"`
	Autoscaling            types.Object `tfsdk:"autoscaling"`
	Isolation              types.Object `tfsdk:"isolation"`
	ServingModel           types.String `tfsdk:"serving_model"`
	WeightsSource          types.Object `tfsdk:"weights_source"`
	Engine                 types.Object `tfsdk:"engine"`
}

type architectureModel struct {
	Layers           types.Int64 `tfsdk:"layers"`
	HiddenSize       types.Int64 `tfsdk:"hidden_size"`
	AttentionHeads   types.Int64 `tfsdk:"attention_heads"`
	KVHeads          types.Int64 `tfsdk:"kv_heads"`
	HeadDim          types.Int64 `tfsdk:"head_dim"`
	VocabSize        types.Int64 `tfsdk:"vocab_size"`
	IntermediateSize types.Int64 `tfsdk:"intermediate_size"`
	MaxContextTokens types.Int64 `tfsdk:"max_context_tokens"`
	TiedEmbeddings   types.Bool  `tfsdk:"tied_embeddings"`
	Experts          types.Int64 `tfsdk:"experts"`
	ActiveExperts    types.Int64 `tfsdk:"active_experts"`
	MoEIntermediate  types.Int64 `tfsdk:"moe_intermediate_size"`
}

type constraintsModel struct {
	Clouds       types.List `tfsdk:"clouds"`
	Regions      types.List `tfsdk:"regions"`
	GPUModels    types.List `tfsdk:"gpu_models"`
	Labels       types.Map  `tfsdk:"labels"`
	Confidential types.Bool `tfsdk:"confidential"`
	// PipelineOverAnyNetwork lets pipeline stages span nodes without a fast
	// network.
	PipelineOverAnyNetwork types.Bool `tfsdk:"pipeline_over_any_network"`
	// ShareGPU lets a replica run on a share of a GPU.
	ShareGPU types.Bool `tfsdk:"share_gpu"`
	// GPUMemoryFraction is the least part of a shared GPU's memory an
	// engine gets.
	GPUMemoryFraction types.Float64 `tfsdk:"gpu_memory_fraction"`
}

type spreadModel struct {
	Across     types.String  `tfsdk:"across"`
	MinDomains types.Int64   `tfsdk:"min_domains"`
	MaxShare   types.Float64 `tfsdk:"max_share"`
}

// attrMode says how a demand attribute appears in a schema.
type attrMode int

const (
	modeInput    attrMode = iota // in the shard's configuration
	modeComputed                 // in the shard's computed `demand`
	// modeElement: an element of the pool's model_shards. Everything is
	// optional to the CLI, because a shard's demand is unknown while the
	// configuration is validated; the provider checks required fields itself
	// once the values are known.
	modeElement
)

type attrSpec struct {
	required bool
	desc     string
}

func (s attrSpec) flags(mode attrMode) (required, optional, computed bool) {
	switch mode {
	case modeComputed:
		return false, false, true
	case modeElement:
		return false, true, false
	}
	return s.required, !s.required, false
}

func strAttr(mode attrMode, s attrSpec) schema.StringAttribute {
	r, o, c := s.flags(mode)
	return schema.StringAttribute{Required: r, Optional: o, Computed: c, MarkdownDescription: s.desc}
}

func intAttr(mode attrMode, s attrSpec) schema.Int64Attribute {
	r, o, c := s.flags(mode)
	return schema.Int64Attribute{Required: r, Optional: o, Computed: c, MarkdownDescription: s.desc}
}

// demandAttributes is the schema of a demand. In the shard resource the
// inputs sit at the top level and the same shape is repeated, computed, as
// `demand`; in the pool it is the element of `model_shards`.
func demandAttributes(mode attrMode) map[string]schema.Attribute {
	_, o, c := attrSpec{}.flags(mode)
	archAttrs := map[string]schema.Attribute{}
	for name, desc := range map[string]string{
		"layers": "Transformer layers.", "hidden_size": "Hidden size.", "attention_heads": "Attention (query) heads.",
		"kv_heads": "Key/value heads.", "head_dim": "Dimension of one attention head.", "vocab_size": "Vocabulary size.",
		"intermediate_size": "Width of the dense MLP.", "max_context_tokens": "Longest context the model supports.",
	} {
		archAttrs[name] = intAttr(mode, attrSpec{required: true, desc: withLimit(desc, archLimits[name])})
	}
	for name, desc := range map[string]string{
		"experts":               "Routed experts per layer for a mixture-of-experts model; omit or 0 for a dense model.",
		"active_experts":        "Experts each token runs through.",
		"moe_intermediate_size": "Width of one expert's MLP.",
	} {
		archAttrs[name] = intAttr(mode, attrSpec{desc: withLimit(desc, archLimits[name])})
	}
	archAttrs["tied_embeddings"] = schema.BoolAttribute{Optional: o, Computed: c,
		MarkdownDescription: "Whether the output projection shares the embedding's weights. Defaults to false."}

	list := func(desc string) schema.Attribute {
		return schema.ListAttribute{Optional: o, Computed: c, ElementType: types.StringType, MarkdownDescription: desc}
	}
	return map[string]schema.Attribute{
		"name": strAttr(mode, attrSpec{true, "Name of the deployment, unique within a pool; placement keys are `<name>/<replica>`."}),
		"model": strAttr(mode, attrSpec{false, "Catalog model id, for example `llama-3.1-70b` (see `mcllm_model`). " +
			"Exactly one of `model` and `architecture` is set."}),
		"serving_model": strAttr(mode, attrSpec{false, "What the serving engine loads (vLLM `--model`): a Hugging Face repository " +
			"or a path. Omitted, a catalog `model` serves its Hugging Face repository; an `architecture` without it gets no engine " +
			"arguments or workloads."}),
		"engine": schema.SingleNestedAttribute{Optional: o, Computed: c,
			MarkdownDescription: "The vLLM release and the scheduler settings the replicas run with. The memory estimate follows " +
				"that release's start-up profiler (see the memory guide), and the engine arguments mcllm renders pass every " +
				"setting the estimate assumed, so the engine allocates what the plan promised.",
			Attributes: map[string]schema.Attribute{
				"version": strAttr(mode, attrSpec{false, "vLLM release: " + backtickList(memory.EngineVersions()) + ". Omitted means `" +
					memory.DefaultEngineVersion + "`."}),
				"max_num_batched_tokens": intAttr(mode, attrSpec{false, "Tokens per scheduler step (vLLM `--max-num-batched-tokens`): the " +
					"batch the engine profiles its activation peak with. Omitted, the release's default for the GPU (V1: 8192 on GPUs of " +
					"70 GiB or more other than the A100, else 2048; without chunked prefill, `max_context_tokens`)."}),
				"enable_chunked_prefill": schema.BoolAttribute{Optional: o, Computed: c,
					MarkdownDescription: "Chunked prefill (vLLM `--enable-chunked-prefill`). Omitted, the release's default: always on " +
						"for V1, on above 32,768 tokens of context for V0. Off, `max_num_batched_tokens` must be at least `max_context_tokens`."},
				"enforce_eager": schema.BoolAttribute{Optional: o, Computed: c,
					MarkdownDescription: "Run without CUDA graphs (vLLM `--enforce-eager`): slower decoding, no graph memory."},
				"max_loras": intAttr(mode, attrSpec{false, withLimit("LoRA adapters resident on the GPUs at once (vLLM `--max-loras`, "+
					"with `--enable-lora`). vLLM pre-allocates their buffers at `max_lora_rank` on every attention and MLP projection of "+
					"every layer before it profiles, so the estimate adds them to the weights and the KV cache gets less (see the memory "+
					"guide). Omitted or 0: no LoRA. Dense models only: the expert and latent-attention buffers of MoE and MLA models are "+
					"not modelled.", limits.LoRAs)}),
				"max_lora_rank": intAttr(mode, attrSpec{false, "The largest adapter rank served (vLLM `--max-lora-rank`): one of " +
					"1, 8, 16, 32, 64, 128, 256, 320, 512. Omitted: vLLM's default, 16."}),
			}},
		"weights_source": schema.SingleNestedAttribute{Optional: o, Computed: c,
			MarkdownDescription: "Where the weights are stored: the bucket's cloud and region. The pool then reports the bytes " +
				"each replica pulls and their one-time transfer cost (`data_transfer`), and the `cost` strategy weighs that " +
				"cost, spread over the pool's `transfer_horizon_hours`, when it places new replicas.",
			Attributes: map[string]schema.Attribute{
				"cloud":  strAttr(mode, attrSpec{true, "`aws`, `azure`, `gcp` or `custom`."}),
				"region": strAttr(mode, attrSpec{true, "Region of the bucket, spelled as the node groups spell regions."}),
			}},
		"architecture": schema.SingleNestedAttribute{Optional: o, Computed: c, Attributes: archAttrs,
			MarkdownDescription: "An explicit architecture, from the model's `config.json`, for a model the catalog does not have."},
		"precision": strAttr(mode, attrSpec{true, "Weight precision: " + backtickList(memory.Precisions()) +
			". `int4` is AWQ with group size 128."}),
		"kv_cache_precision": strAttr(mode, attrSpec{false, "KV cache precision: " + backtickList(memory.KVPrecisions()) +
			". Omitted means `auto` (the activation dtype)."}),
		"max_context_tokens": intAttr(mode, attrSpec{true, withLimit("Longest sequence served, prompt plus output (vLLM `--max-model-len`). "+
			"At most the model's context.", limits.ContextTokens)}),
		"max_concurrent_sequences": intAttr(mode, attrSpec{true, withLimit("Sequences each replica holds in its KV cache at once at full "+
			"context (vLLM `--max-num-seqs`).", limits.Concurrency)}),
		"replicas": intAttr(mode, attrSpec{false, withLimit("Replicas to run; with `autoscaling` it is computed. Exactly one of the two is set. "+
			"Scaling down removes the highest replica numbers. A pool holds at most 100,000 replicas of all its models.", limits.Replicas)}),
		"autoscaling": schema.SingleNestedAttribute{Optional: o, Computed: c,
			MarkdownDescription: "Demand-driven replicas, as the Horizontal Pod Autoscaler computes them: " +
				"`replicas = ceil(target_load / load_per_replica)`, within `min_replicas` and `max_replicas`. The load is in " +
				"any unit you measure (requests/s, tokens/s) as long as both figures use it.",
			Attributes: map[string]schema.Attribute{
				"target_load": schema.Float64Attribute{Optional: o, Computed: c, MarkdownDescription: withLimit("Load to serve.", limits.Load)},
				"load_per_replica": schema.Float64Attribute{Optional: o, Computed: c || mode == modeInput,
					MarkdownDescription: withLimit("Load one replica serves at the configured context and concurrency, as measured. Omitted "+
						"with `estimate_on`, it is computed: the roofline estimate in output tokens per second.", limits.LoadPerReplica)},
				"estimate_on": strAttr(mode, attrSpec{false, "Instance type `<cloud>/<type>` (for example `aws/p5.48xlarge`) to estimate " +
					"`load_per_replica` on, in output tokens per second, by the memory-bandwidth roofline of decoding: " +
					"`max_concurrent_sequences × GPUs × bandwidth / (weights read + KV cache)` at the smallest tensor-parallel degree " +
					"that fits one node (or at a fixed `tensor_parallel` × `pipeline_parallel`), at vLLM's default memory utilisation " +
					"of 0.9. An upper bound that ignores compute and communication; keep the model on that GPU with " +
					"`constraints.gpu_models`, since slower GPUs serve less."}),
				"min_replicas": intAttr(mode, attrSpec{false, withLimit("Fewest replicas. Omitted means 1.", limits.ReplicaBound)}),
				"max_replicas": intAttr(mode, attrSpec{false, withLimit("Most replicas. Omitted means the limit.", limits.ReplicaBound)}),
			}},
		"tensor_parallel": intAttr(mode, attrSpec{false, withLimit("Fixed tensor-parallel degree; omitted, the planner picks the smallest "+
			"that fits per node group.", limits.TensorParallel)}),
		"pipeline_parallel": intAttr(mode, attrSpec{false, withLimit("Fixed pipeline-parallel degree, at most the model's layers; omitted, "+
			"the planner adds pipeline stages only when no node can hold a replica.", limits.PipelineParallel)}),
		"priority": intAttr(mode, attrSpec{false, withLimit("Higher priorities are placed first when capacity is short. Omitted means 0.", limits.Priority)}),
		"constraints": schema.SingleNestedAttribute{Optional: o, Computed: c,
			MarkdownDescription: "Where replicas may run. Every list left out allows anything.",
			Attributes: map[string]schema.Attribute{
				"clouds":     list("Allowed clouds, for example `[\"aws\", \"gcp\"]`."),
				"regions":    list("Allowed regions."),
				"gpu_models": list("Allowed GPU models: " + backtickList(catalog.GPUModelNames()) + ", or a custom group's GPU model."),
				"labels": schema.MapAttribute{Optional: o, Computed: c, ElementType: types.StringType,
					MarkdownDescription: "Labels a node group must carry, all of them with these values."},
				"confidential": schema.BoolAttribute{Optional: o, Computed: c,
					MarkdownDescription: "Require node groups with confidential computing."},
				"pipeline_over_any_network": schema.BoolAttribute{Optional: o, Computed: c,
					MarkdownDescription: "Let a replica's pipeline stages span nodes whose network is plain Ethernet. By default " +
						"stages span nodes only on node groups with a fast fabric (`fast_network`: EFA, InfiniBand, GPUDirect-TCPX, " +
						"RoCE), since every token crosses each stage boundary; stages inside one node are always allowed."},
				"share_gpu": schema.BoolAttribute{Optional: o, Computed: c,
					MarkdownDescription: "Let a replica run on a share of a GPU: a MIG instance, or a time-sliced share beside other " +
						"engines (a node group's `gpu_sharing`), at tensor and pipeline degree 1. Off (the default), the model runs on " +
						"whole GPUs only. Time-sliced engines share the GPU's compute, so opt in only where that latency is acceptable."},
				"gpu_memory_fraction": schema.Float64Attribute{Optional: o, Computed: c,
					MarkdownDescription: "With `share_gpu`, the least part of a time-sliced GPU's memory the model's engine gets " +
						"(its `--gpu-memory-utilization`, a fraction of the whole device), in (0, 1] with at most four decimals: " +
						"room for more KV cache than the context and concurrency need. On a `max_engines_per_gpu` group the " +
						"replica's block grows to reach it; an `engines_per_gpu` group whose share is smaller is excluded. MIG " +
						"instances are sized by their profile. Omitted, an engine gets the smallest block that holds it."},
			}},
		"isolation": schema.SingleNestedAttribute{Optional: o, Computed: c,
			MarkdownDescription: "Which other models may share a node with this one. Without it, any model without isolation may.",
			Attributes: map[string]schema.Attribute{
				"dedicated": schema.BoolAttribute{Optional: o, Computed: c,
					MarkdownDescription: "Run on nodes of its own: no other model shares them."},
				"tenant": strAttr(mode, attrSpec{false, "Share nodes only with models of the same tenant."}),
			}},
		"on_demand_floor": intAttr(mode, attrSpec{false, "Replicas that must run on on-demand node groups; the rest may " +
			"use cheaper `spot` groups. Omitted means 0. At most `replicas`. Spot replicas of a model go to a second spot " +
			"group when capacity already paid for there can take one, so that one reclaim does not take them all; the " +
			"planner opens no node for that alone: this floor is the guarantee."}),
		"min_replicas_on_failure": schema.SingleNestedAttribute{Optional: o, Computed: c,
			MarkdownDescription: "Replicas that must keep running after the loss of any one cloud (or region). The planner " +
				"places at most `replicas − N` replicas in any one of them, and fails the plan, naming the full clouds and a " +
				"remedy, when the fleet cannot. Set `cloud` or `region`, not both.",
			Attributes: map[string]schema.Attribute{
				"cloud":  intAttr(mode, attrSpec{false, "Replicas left after losing any one cloud."}),
				"region": intAttr(mode, attrSpec{false, "Replicas left after losing any one region."}),
			}},
		"spread": schema.SingleNestedAttribute{Optional: o, Computed: c,
			MarkdownDescription: "How replicas spread over failure domains.",
			Attributes: map[string]schema.Attribute{
				"across":      strAttr(mode, attrSpec{true, "`cloud`, `region`, or `node` (every replica on a node of its own)."}),
				"min_domains": intAttr(mode, attrSpec{false, "Least number of distinct clouds or regions the replicas use; at most `replicas`."}),
				"max_share": schema.Float64Attribute{Optional: o, Computed: c,
					MarkdownDescription: "Largest share of the replicas in any one cloud or region, in (0, 1]; " +
						"the cap is `floor(max_share × replicas)`, at least 1."},
			}},
	}
}

// archLimitList are the ranges of a custom architecture's fields, in the
// order they are checked.
var archLimitList = []limits.Int{limits.Layers, limits.HiddenSize, limits.AttentionHeads, limits.KVHeads, limits.HeadDim,
	limits.VocabSize, limits.IntermediateSize, limits.ArchContext, limits.Experts, limits.ActiveExperts, limits.MoEIntermediate}

// archLimits are the same by attribute name.
var archLimits = func() map[string]limits.Int {
	out := map[string]limits.Int{}
	for _, l := range archLimitList {
		out[l.Name] = l
	}
	return out
}()

// demandObjectType is the object type of one demand.
func demandObjectType() types.ObjectType {
	out := map[string]attr.Type{}
	for k, a := range demandAttributes(modeComputed) {
		out[k] = a.GetType()
	}
	return types.ObjectType{AttrTypes: out}
}

// demandFromObject reads a demand object without reflection.
func demandFromObject(o types.Object) demandModel {
	a := o.Attributes()
	str := func(k string) types.String { v, _ := a[k].(types.String); return v }
	num := func(k string) types.Int64 { v, _ := a[k].(types.Int64); return v }
	obj := func(k string) types.Object {
		if v, ok := a[k].(types.Object); ok {
			return v
		}
		return types.ObjectNull(nil)
	}
	return demandModel{
		Name: str("name"), Model: str("model"), Architecture: obj("architecture"), Precision: str("precision"),
		KVCachePrecision: str("kv_cache_precision"), MaxContextTokens: num("max_context_tokens"),
		MaxConcurrentSequences: num("max_concurrent_sequences"), Replicas: num("replicas"),
		TensorParallel: num("tensor_parallel"), PipelineParallel: num("pipeline_parallel"), Priority: num("priority"),
		Constraints: obj("constraints"), Spread: obj("spread"), MinReplicasOnFailure: obj("min_replicas_on_failure"),
		OnDemandFloor: num("on_demand_floor"), Autoscaling: obj("autoscaling"), Isolation: obj("isolation"),
		ServingModel: str("serving_model"), WeightsSource: obj("weights_source"), Engine: obj("engine"),
	}
}

// toPlanner validates a fully known demand and converts it, with its memory
// estimate. Every problem is reported on its attribute under at.
func (d demandModel) toPlanner(ctx context.Context, at path.Path) (planner.ModelDemand, diag.Diagnostics) {
	var diags diag.Diagnostics
	bad := func(field, summary, detail string) {
		diags.AddAttributeError(at.AtName(field), summary, detail)
	}
	for field, v := range map[string]attr.Value{"name": d.Name, "precision": d.Precision, "max_context_tokens": d.MaxContextTokens,
		"max_concurrent_sequences": d.MaxConcurrentSequences} {
		if v.IsNull() {
			bad(field, "Missing "+field, fmt.Sprintf("Each model shard needs %s.", field))
		}
	}
	if diags.HasError() {
		return planner.ModelDemand{}, diags
	}
	md := planner.ModelDemand{
		Name:           d.Name.ValueString(),
		TensorParallel: clampInt(d.TensorParallel.ValueInt64()), PipelineParallel: clampInt(d.PipelineParallel.ValueInt64()),
		Priority: clampInt(d.Priority.ValueInt64()),
	}
	d.checkLimits(at, &diags)
	if diags.HasError() {
		return md, diags
	}

	arch, archDiags := d.architecture(ctx, at)
	diags.Append(archDiags...)
	if diags.HasError() {
		return md, diags
	}
	precision, err := memory.ParsePrecision(d.Precision.ValueString())
	if err != nil {
		bad("precision", "Invalid precision", fromMemoryError(err).Detail)
		return md, diags
	}
	kv, err := memory.ParseKVPrecision(d.KVCachePrecision.ValueString())
	if err != nil {
		bad("kv_cache_precision", "Invalid KV cache precision", fromMemoryError(err).Detail)
		return md, diags
	}
	req := memory.Request{Arch: arch, Precision: precision, KVPrecision: kv,
		ContextTokens: clampInt(d.MaxContextTokens.ValueInt64()), Concurrency: clampInt(d.MaxConcurrentSequences.ValueInt64())}
	if !readEngineSettings(d.Engine, &req, at.AtName("engine"), &diags) {
		return md, diags
	}
	est, err := memory.New(req)
	if err != nil {
		ie := fromMemoryError(err)
		field := ie.Field
		if field == memory.FieldMaxBatchedTokens || field == memory.FieldMaxLoRAs || field == memory.FieldMaxLoRARank {
			diags.AddAttributeError(at.AtName("engine").AtName(field), ie.Summary, ie.Detail)
			return md, diags
		}
		if field == memory.FieldArchitecture || field == "" {
			field = "architecture"
			if d.Architecture.IsNull() {
				field = "model"
			}
		}
		bad(field, ie.Summary, ie.Detail)
		return md, diags
	}
	md.Memory = est
	replicas, rd := d.replicaCount(at, est)
	diags.Append(rd...)
	if rd.HasError() {
		return md, diags
	}
	md.Replicas = clampInt(replicas)
	if !d.Constraints.IsNull() {
		var c constraintsModel
		diags.Append(d.Constraints.As(ctx, &c, basetypes.ObjectAsOptions{})...)
		md.Clouds = stringList(ctx, c.Clouds, &diags)
		md.Regions = stringList(ctx, c.Regions, &diags)
		md.GPUModels = stringList(ctx, c.GPUModels, &diags)
		if !c.Labels.IsNull() {
			md.Labels = map[string]string{}
			diags.Append(c.Labels.ElementsAs(ctx, &md.Labels, false)...)
		}
		md.Confidential = c.Confidential.ValueBool()
		md.PipelineOverAnyNetwork = c.PipelineOverAnyNetwork.ValueBool()
		md.ShareGPU = c.ShareGPU.ValueBool()
		md.GPUMemoryFraction = c.GPUMemoryFraction.ValueFloat64()
		if !c.GPUMemoryFraction.IsNull() && md.GPUMemoryFraction == 0 {
			// The planner reads 0 as no fraction; a configured 0 is a mistake.
			diags.AddAttributeError(at.AtName("constraints").AtName("gpu_memory_fraction"), "Invalid GPU memory fraction",
				"constraints.gpu_memory_fraction must be greater than 0 and at most 1, got 0; leave it out for the smallest block.")
		}
		for _, cloud := range md.Clouds {
			if e := catalog.UnknownCloudError(cloud); e != "" {
				diags.AddAttributeError(at.AtName("constraints").AtName("clouds"), "Unknown cloud", e)
			}
		}
	}
	if !d.Spread.IsNull() {
		var s spreadModel
		diags.Append(d.Spread.As(ctx, &s, basetypes.ObjectAsOptions{})...)
		md.Spread = planner.Spread{Across: s.Across.ValueString(), MinDomains: clampInt(s.MinDomains.ValueInt64()), MaxShare: s.MaxShare.ValueFloat64()}
		if !s.MaxShare.IsNull() && md.Spread.MaxShare == 0 {
			// The planner reads 0 as no cap; a configured 0 is a mistake.
			diags.AddAttributeError(at.AtName("spread").AtName("max_share"), "Invalid spread max share",
				"Spread.max_share must be in (0, 1], got 0; leave it out for no cap.")
		}
	}
	if !d.Isolation.IsNull() {
		a := d.Isolation.Attributes()
		dedicated, _ := a["dedicated"].(types.Bool)
		tenant, _ := a["tenant"].(types.String)
		md.Isolation = planner.Isolation{Dedicated: dedicated.ValueBool(), Tenant: tenant.ValueString()}
	}
	if src, ok := d.weightsSource(); ok {
		if e := catalog.UnknownCloudError(src.Cloud); e != "" {
			diags.AddAttributeError(at.AtName("weights_source").AtName("cloud"), "Unknown cloud", e)
		}
		if src.Region == "" {
			diags.AddAttributeError(at.AtName("weights_source").AtName("region"), "Missing region", "weights_source needs the bucket's region.")
		}
	}
	md.OnDemandFloor = clampInt(d.OnDemandFloor.ValueInt64())
	if !d.MinReplicasOnFailure.IsNull() {
		a := d.MinReplicasOnFailure.Attributes()
		cloud, _ := a["cloud"].(types.Int64)
		region, _ := a["region"].(types.Int64)
		md.MinReplicasOnFailure = planner.FailureTolerance{Cloud: clampInt(cloud.ValueInt64()), Region: clampInt(region.ValueInt64())}
	}
	// The model's own rules are the planner's, checked once there.
	for _, p := range planner.ValidateModel(md) {
		addInputError(at, p, &diags)
	}
	return md, diags
}

// checkLimits reports every number of the demand outside its range in the
// limits table, on its path under at. Context and concurrency are the
// memory estimator's to check, against the same table.
func (d demandModel) checkLimits(at path.Path, diags *diag.Diagnostics) {
	// Replicas, degrees, priority, the floor, the spread and the failure
	// tolerance are the planner's to check (planner.ValidateModel), except
	// a degree set to 0, which the planner reads as "choose": the
	// configuration means a degree, and 0 is none.
	for _, f := range []struct {
		l limits.Int
		v types.Int64
	}{{limits.TensorParallel, d.TensorParallel}, {limits.PipelineParallel, d.PipelineParallel}} {
		if !f.v.IsNull() && !f.v.IsUnknown() && f.v.ValueInt64() == 0 {
			checkInt(at.AtName(f.l.Name), f.l, f.v, diags)
		}
	}
	// These are read before the planner sees the model.
	objInts := func(o types.Object, name string, fields ...limits.Int) {
		if o.IsNull() || o.IsUnknown() {
			return
		}
		for _, l := range fields {
			v, _ := o.Attributes()[l.Name].(types.Int64)
			checkInt(at.AtName(name).AtName(l.Name), l, v, diags)
		}
	}
	objInts(d.Autoscaling, "autoscaling", limits.ReplicaBound.Named("min_replicas"), limits.ReplicaBound)
	objInts(d.Architecture, "architecture", archLimitList...)
	if !d.Autoscaling.IsNull() && !d.Autoscaling.IsUnknown() {
		a := d.Autoscaling.Attributes()
		for _, l := range []limits.Float{limits.Load, limits.LoadPerReplica} {
			v, _ := a[l.Name].(types.Float64)
			checkFloat(at.AtName("autoscaling").AtName(l.Name), l, v, diags)
		}
	}
}

// readEngineSettings puts an `engine` object's settings (a model shard's, or
// the memory estimate's) into req; false when one is invalid (reported on
// its attribute under at).
func readEngineSettings(o types.Object, req *memory.Request, at path.Path, diags *diag.Diagnostics) bool {
	if o.IsNull() {
		return true
	}
	a := o.Attributes()
	version, _ := a["version"].(types.String)
	batched, _ := a["max_num_batched_tokens"].(types.Int64)
	chunked, _ := a["enable_chunked_prefill"].(types.Bool)
	eager, _ := a["enforce_eager"].(types.Bool)
	eng, err := memory.LookupEngine(version.ValueString())
	if err != nil {
		diags.AddAttributeError(at.AtName("version"), "Unknown engine version", fromMemoryError(err).Detail)
		return false
	}
	req.Engine = eng
	if !checkInt(at.AtName("max_num_batched_tokens"), limits.BatchedTokens, batched, diags) {
		return false
	}
	if !batched.IsNull() {
		req.MaxNumBatchedTokens = int(batched.ValueInt64())
	}
	if !chunked.IsNull() {
		req.ChunkedPrefill = memory.ToggleOff
		if chunked.ValueBool() {
			req.ChunkedPrefill = memory.ToggleOn
		}
	}
	req.EnforceEager = eager.ValueBool()
	loras, _ := a["max_loras"].(types.Int64)
	rank, _ := a["max_lora_rank"].(types.Int64)
	if !checkInt(at.AtName("max_loras"), limits.LoRAs, loras, diags) {
		return false
	}
	req.MaxLoRAs, req.MaxLoRARank = int(loras.ValueInt64()), clampInt(rank.ValueInt64())
	return true
}

// replicaCount is the replicas given, or computed from autoscaling with the
// Horizontal Pod Autoscaler's formula.
func (d demandModel) replicaCount(at path.Path, est *memory.Estimate) (int64, diag.Diagnostics) {
	var diags diag.Diagnostics
	switch {
	case !d.Replicas.IsNull() && !d.Autoscaling.IsNull():
		diags.AddAttributeError(at.AtName("autoscaling"), "Conflicting replica count", "Set replicas or autoscaling, not both.")
		return 0, diags
	case d.Autoscaling.IsNull():
		if d.Replicas.IsNull() {
			diags.AddAttributeError(at.AtName("replicas"), "Missing replicas", "Each model shard needs replicas, or autoscaling to compute them.")
		}
		return d.Replicas.ValueInt64(), diags
	}
	a := d.Autoscaling.Attributes()
	target, _ := a["target_load"].(types.Float64)
	lo, _ := a["min_replicas"].(types.Int64)
	hi, _ := a["max_replicas"].(types.Int64)
	at = at.AtName("autoscaling")
	if target.IsNull() {
		diags.AddAttributeError(at.AtName("target_load"), "Missing target_load", "autoscaling needs the target_load to serve.")
	}
	per, pd := d.loadPerReplica(est, at)
	diags.Append(pd...)
	minR, maxR := int64(1), limits.Replicas.Max
	if !lo.IsNull() {
		minR = lo.ValueInt64()
	}
	if !hi.IsNull() {
		maxR = hi.ValueInt64()
	}
	if minR < 0 || maxR < minR {
		diags.AddAttributeError(at.AtName("max_replicas"), "Invalid replica bounds",
			fmt.Sprintf("Need 0 ≤ min_replicas ≤ max_replicas, got %d and %d.", minR, maxR))
	}
	if diags.HasError() {
		return 0, diags
	}
	return autoscaledReplicas(target.ValueFloat64(), per, minR, maxR), diags
}

// autoscaledReplicas is ceil(target / per) within [minR, maxR], computed in
// floating point so that it is monotone in the target up to any quotient.
func autoscaledReplicas(target, per float64, minR, maxR int64) int64 {
	n := maxR
	if q := math.Ceil(target/per - 1e-9); q < float64(maxR) {
		n = int64(q)
	}
	return min(max(n, minR), maxR)
}

// loadPerReplica is autoscaling's load_per_replica or, without it, the
// roofline estimate of decode tokens per second on the estimate_on instance
// type, at the smallest tensor-parallel degree that fits one of its nodes at
// the default memory utilisation. at is the autoscaling attribute.
func (d demandModel) loadPerReplica(est *memory.Estimate, at path.Path) (float64, diag.Diagnostics) {
	var diags diag.Diagnostics
	a := d.Autoscaling.Attributes()
	per, _ := a["load_per_replica"].(types.Float64)
	on, _ := a["estimate_on"].(types.String)
	switch {
	case !per.IsNull() && !on.IsNull():
		diags.AddAttributeError(at.AtName("estimate_on"), "Conflicting load per replica", "Set load_per_replica or estimate_on, not both.")
	case !per.IsNull():
		if !(per.ValueFloat64() > 0) {
			diags.AddAttributeError(at.AtName("load_per_replica"), "Invalid load_per_replica", "load_per_replica must be a positive number.")
		}
		return per.ValueFloat64(), diags
	case on.IsNull():
		diags.AddAttributeError(at.AtName("load_per_replica"), "Invalid load_per_replica",
			"load_per_replica must be a positive number, or set estimate_on to an instance type to estimate it.")
	default:
		it, err := lookupInstanceKey(on.ValueString())
		if err != nil {
			diags.AddAttributeError(at.AtName("estimate_on"), "Unknown instance type", err.Error())
			return 0, diags
		}
		gpu := instanceGPU(it, memory.DefaultUtilization)
		fit, ok := est.SmallestFit(gpu, it.GPUs)
		if t := clampInt(d.TensorParallel.ValueInt64()); t > 0 {
			// Fixed degrees: the replica's GPUs at those degrees.
			fit = est.PerGPU(gpu, t, max(1, clampInt(d.PipelineParallel.ValueInt64())))
			ok = fit.Fits && t <= it.GPUs
		}
		if !ok {
			diags.AddAttributeError(at.AtName("estimate_on"), "Model does not fit the instance type",
				fmt.Sprintf("A replica does not fit %s GPUs (%s): it needs %.1f GiB per GPU at tensor parallel %d, %.1f GiB are usable.",
					it.Key(), it.GPUModel, gib(fit.NeedBytes), fit.T, gib(fit.UsableBytes)))
			return 0, diags
		}
		bandwidth, _ := catalog.LookupGPUModel(it.GPUModel)
		return analysis.Round(est.DecodeTokensPerSecond(bandwidth.MemoryBandwidthGBps*1e9, fit.T*fit.P), 1), diags
	}
	return 0, diags
}

// weightsSource is where the weights are stored, if the demand says.
func (d demandModel) weightsSource() (analysis.Location, bool) {
	if d.WeightsSource.IsNull() || d.WeightsSource.IsUnknown() {
		return analysis.Location{}, false
	}
	a := d.WeightsSource.Attributes()
	cloud, _ := a["cloud"].(types.String)
	region, _ := a["region"].(types.String)
	return analysis.Location{Cloud: cloud.ValueString(), Region: region.ValueString()}, true
}

// architecture resolves the catalog model or the explicit architecture.
func (d demandModel) architecture(ctx context.Context, at path.Path) (catalog.Architecture, diag.Diagnostics) {
	var diags diag.Diagnostics
	switch {
	case !d.Model.IsNull() && !d.Architecture.IsNull():
		diags.AddAttributeError(at.AtName("architecture"), "Conflicting model definition",
			"Set either model (a catalog id) or architecture, not both.")
	case d.Model.IsNull() && d.Architecture.IsNull():
		diags.AddAttributeError(at.AtName("model"), "Missing model",
			"Set model to a catalog id such as \"llama-3.1-8b\", or describe the model in architecture.")
	case !d.Model.IsNull():
		m, err := catalog.LookupModel(d.Model.ValueString())
		if err != nil {
			diags.AddAttributeError(at.AtName("model"), "Unknown model", err.Error())
		}
		return m.Architecture, diags
	default:
		var a architectureModel
		diags.Append(d.Architecture.As(ctx, &a, basetypes.ObjectAsOptions{})...)
		arch := catalog.Architecture{
			Layers: clampInt(a.Layers.ValueInt64()), Hidden: clampInt(a.HiddenSize.ValueInt64()),
			Heads: clampInt(a.AttentionHeads.ValueInt64()), KVHeads: clampInt(a.KVHeads.ValueInt64()),
			HeadDim: clampInt(a.HeadDim.ValueInt64()), Vocab: clampInt(a.VocabSize.ValueInt64()),
			Intermediate: clampInt(a.IntermediateSize.ValueInt64()), MaxContext: clampInt(a.MaxContextTokens.ValueInt64()),
			TiedEmbeddings: a.TiedEmbeddings.ValueBool(), MLP: catalog.MLPGated, Norm: catalog.NormRMS, NormsPerLayer: 2,
			Experts: clampInt(a.Experts.ValueInt64()), ActiveExperts: clampInt(a.ActiveExperts.ValueInt64()),
			MoEIntermediate: clampInt(a.MoEIntermediate.ValueInt64()),
		}
		if err := arch.Validate(); err != nil {
			diags.AddAttributeError(at.AtName("architecture"), "Invalid architecture", err.Error())
		}
		return arch, diags
	}
	return catalog.Architecture{}, diags
}

func stringList(ctx context.Context, l types.List, diags *diag.Diagnostics) []string {
	if l.IsNull() {
		return nil
	}
	var out []string
	diags.Append(l.ElementsAs(ctx, &out, false)...)
	return out
}
