package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// modelShardResource is a model deployment: the demand side. It creates
// nothing remote; it computes, at plan time, the deployment's memory and the
// `demand` object an inference pool takes.
type modelShardResource struct{}

func newModelShardResource() resource.Resource { return &modelShardResource{} }

type modelShardModel struct {
	demandModel
	ID     types.String `tfsdk:"id"`
	Memory types.Object `tfsdk:"memory"`
	Demand types.Object `tfsdk:"demand"`
}

type shardMemory struct {
	Parameters           int64   `tfsdk:"parameters"`
	WeightsBytes         int64   `tfsdk:"weights_bytes"`
	WeightsGiB           float64 `tfsdk:"weights_gib"`
	KVCacheBytesPerToken int64   `tfsdk:"kv_cache_bytes_per_token"`
	KVCacheTokens        int64   `tfsdk:"kv_cache_tokens"`
	KVCacheBytes         int64   `tfsdk:"kv_cache_bytes"`
	KVCacheGiB           float64 `tfsdk:"kv_cache_gib"`
	TotalBytes           int64   `tfsdk:"total_bytes"`
	TotalGiB             float64 `tfsdk:"total_gib"`
}

var shardMemoryTypes = map[string]attr.Type{
	"parameters": types.Int64Type, "weights_bytes": types.Int64Type, "weights_gib": types.Float64Type,
	"kv_cache_bytes_per_token": types.Int64Type, "kv_cache_tokens": types.Int64Type, "kv_cache_bytes": types.Int64Type,
	"kv_cache_gib": types.Float64Type, "total_bytes": types.Int64Type, "total_gib": types.Float64Type,
}

func (r *modelShardResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_model_shard"
}

func (r *modelShardResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	attrs := demandAttributes(modeInput)
	attrs["id"] = schema.StringAttribute{Computed: true, MarkdownDescription: "The deployment's name.",
		PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}}
	attrs["memory"] = schema.SingleNestedAttribute{Computed: true,
		MarkdownDescription: "Memory of one replica, known at plan time: weights, KV cache for `max_concurrent_sequences` " +
			"× `max_context_tokens`, and their total before per-GPU runtime overhead (which depends on the GPU and is " +
			"added by the pool).",
		Attributes: map[string]schema.Attribute{
			"parameters":               schema.Int64Attribute{Computed: true, MarkdownDescription: "Total parameters."},
			"weights_bytes":            schema.Int64Attribute{Computed: true, MarkdownDescription: "Weights at `precision`, bytes."},
			"weights_gib":              schema.Float64Attribute{Computed: true, MarkdownDescription: "`weights_bytes` in GiB."},
			"kv_cache_bytes_per_token": schema.Int64Attribute{Computed: true, MarkdownDescription: "KV cache of one token across all layers, bytes."},
			"kv_cache_tokens":          schema.Int64Attribute{Computed: true, MarkdownDescription: "Tokens of KV cache reserved per replica, in whole blocks of 16."},
			"kv_cache_bytes":           schema.Int64Attribute{Computed: true, MarkdownDescription: "KV cache per replica, bytes."},
			"kv_cache_gib":             schema.Float64Attribute{Computed: true, MarkdownDescription: "`kv_cache_bytes` in GiB."},
			"total_bytes":              schema.Int64Attribute{Computed: true, MarkdownDescription: "Weights + KV cache, bytes."},
			"total_gib":                schema.Float64Attribute{Computed: true, MarkdownDescription: "`total_bytes` in GiB."},
		},
	}
	attrs["demand"] = schema.SingleNestedAttribute{Computed: true, Attributes: demandAttributes(modeComputed),
		MarkdownDescription: "This deployment as an inference pool takes it: pass it in the pool's `model_shards`. " +
			"Known at plan time whenever the configuration is."}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A model deployment to place: which model, at which precision, context length, concurrency " +
			"and number of replicas, and where it may run. It creates nothing in a cloud; at plan time it computes the " +
			"deployment's memory and the `demand` an `mcllm_inference_pool` places.",
		Attributes: attrs,
	}
}

func (r *modelShardResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m modelShardModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.unknownIn() {
		return
	}
	_, diags := m.toPlanner(ctx, path.Empty())
	resp.Diagnostics.Append(diags...)
}

func (r *modelShardResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var m modelShardModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if m.Name.IsUnknown() {
		m.ID = types.StringUnknown()
	} else {
		m.ID = m.Name
	}
	if m.unknownIn() {
		m.Memory = types.ObjectUnknown(shardMemoryTypes)
		m.Demand = types.ObjectUnknown(demandObjectType().AttrTypes)
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &m)...)
		return
	}
	md, diags := m.toPlanner(ctx, path.Empty())
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	e := md.Memory
	mem := shardMemory{
		Parameters: e.Params.Total(), WeightsBytes: e.WeightBytes, WeightsGiB: gib(e.WeightBytes),
		KVCacheBytesPerToken: e.KVBytesPerToken, KVCacheTokens: e.KVTokens, KVCacheBytes: e.KVBytes, KVCacheGiB: gib(e.KVBytes),
		TotalBytes: e.WeightBytes + e.KVBytes, TotalGiB: gib(e.WeightBytes + e.KVBytes),
	}
	m.Memory, diags = types.ObjectValueFrom(ctx, shardMemoryTypes, mem)
	resp.Diagnostics.Append(diags...)
	m.Demand, diags = types.ObjectValueFrom(ctx, demandObjectType().AttrTypes, m.demandModel)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &m)...)
}

func (r *modelShardResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	resp.Diagnostics.Append(resp.State.Set(ctx, planOf[modelShardModel](ctx, req.Plan.Get, &resp.Diagnostics))...)
}

func (r *modelShardResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (r *modelShardResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.Diagnostics.Append(resp.State.Set(ctx, planOf[modelShardModel](ctx, req.Plan.Get, &resp.Diagnostics))...)
}

func (r *modelShardResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {
}
