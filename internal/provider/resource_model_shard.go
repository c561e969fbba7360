package provider

import (
	"context"
	"math/big"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// modelShardResource is a model deployment: the demand side. It creates
// nothing remote; it computes, at plan time, the deployment's memory and the
// `demand` object an inference pool takes.
type modelShardResource struct{ storedPlan }

func newModelShardResource() resource.Resource { return &modelShardResource{} }

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
	attrs["replicas"] = schema.Int64Attribute{Optional: true, Computed: true,
		MarkdownDescription: "Replicas to run; with `autoscaling` it is computed at plan time. Exactly one of the two is set. " +
			"Scaling down removes the highest replica numbers."}
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
	resp.Diagnostics.Append(validateShard(ctx, req.Config.Raw)...)
}

// ModifyPlan computes the memory and the demand at plan time. The provider's
// protocol server (NewProtocol6) serves this resource's plans directly with
// planShard; this method is the same computation for a framework-only server.
func (r *modelShardResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	planned, diags := planShard(ctx, req.Plan.Raw, req.Config.Raw)
	resp.Diagnostics.Append(diags...)
	if planned.Type() != nil {
		resp.Plan.Raw = planned
	}
}

// planShard computes a shard's planned value from the proposed one: id, the
// computed replicas, memory and demand. It works on raw values: a fleet has
// hundreds of shards, and the framework's per-attribute schema walks would
// cost more than the estimate itself. On error the returned value has no
// type.
func planShard(ctx context.Context, proposed, config tftypes.Value) (tftypes.Value, diag.Diagnostics) {
	var diags diag.Diagnostics
	var vals, cfg map[string]tftypes.Value
	if err := proposed.As(&vals); err != nil {
		diags.AddError("Unreadable plan", err.Error())
		return tftypes.Value{}, diags
	}
	if err := config.As(&cfg); err != nil {
		diags.AddError("Unreadable configuration", err.Error())
		return tftypes.Value{}, diags
	}
	if checkEmptyStrings(shardAttributes, config, path.Empty(), &diags); diags.HasError() {
		return tftypes.Value{}, diags
	}
	vals["id"] = vals["name"]
	// replicas is computed when autoscaling sets it: what the plan carries
	// over from the prior state is not an input.
	computedReplicas := cfg["replicas"].IsNull()
	if computedReplicas {
		vals["replicas"] = tftypes.NewValue(tftypes.Number, nil)
	}
	// So is autoscaling's load_per_replica when estimate_on gives it.
	computedLoad := objectAttr(cfg["autoscaling"], "load_per_replica").IsNull() && !cfg["autoscaling"].IsNull()
	if computedLoad {
		vals["autoscaling"] = withObjectAttr(vals["autoscaling"], "load_per_replica", tftypes.NewValue(tftypes.Number, nil))
	}
	demand, known := demandOfRaw(ctx, tftypes.NewValue(proposed.Type(), vals), &diags)
	if diags.HasError() {
		return tftypes.Value{}, diags
	}
	if !known {
		if computedReplicas {
			vals["replicas"] = tftypes.NewValue(tftypes.Number, tftypes.UnknownValue)
		}
		if computedLoad {
			vals["autoscaling"] = withObjectAttr(vals["autoscaling"], "load_per_replica", tftypes.NewValue(tftypes.Number, tftypes.UnknownValue))
		}
		vals["memory"] = tftypes.NewValue(memoryTfType, tftypes.UnknownValue)
		vals["demand"] = tftypes.NewValue(demandTfType, tftypes.UnknownValue)
		return tftypes.NewValue(proposed.Type(), vals), diags
	}
	md, d := demand.toPlanner(ctx, path.Empty())
	diags.Append(d...)
	if diags.HasError() {
		return tftypes.Value{}, diags
	}
	vals["replicas"] = tfNumber(int64(md.Replicas))
	if computedLoad {
		load, _ := demand.loadPerReplica(md.Memory, path.Root("autoscaling"))
		vals["autoscaling"] = withObjectAttr(vals["autoscaling"], "load_per_replica", tfFloat(load))
	}
	e := md.Memory
	vals["memory"] = tftypes.NewValue(memoryTfType, map[string]tftypes.Value{
		"parameters": tfNumber(e.Params.Total()), "weights_bytes": tfNumber(e.WeightBytes),
		"weights_gib": tfFloat(gib(e.WeightBytes)), "kv_cache_bytes_per_token": tfNumber(e.KVBytesPerToken),
		"kv_cache_tokens": tfNumber(e.KVTokens), "kv_cache_bytes": tfNumber(e.KVBytes),
		"kv_cache_gib": tfFloat(gib(e.KVBytes)), "total_bytes": tfNumber(e.WeightBytes + e.KVBytes),
		"total_gib": tfFloat(gib(e.WeightBytes + e.KVBytes)),
	})
	// The pool takes the replica count, already computed.
	demandVals := pick(vals, demandTfType)
	demandVals["autoscaling"] = tftypes.NewValue(demandTfType.AttributeTypes["autoscaling"], nil)
	vals["demand"] = tftypes.NewValue(demandTfType, demandVals)
	return tftypes.NewValue(proposed.Type(), vals), diags
}

// shardAttributes is the shard's schema.
var shardAttributes = ShardSchema().Attributes

// validateShard is ValidateConfig on a raw configuration.
func validateShard(ctx context.Context, config tftypes.Value) diag.Diagnostics {
	var diags diag.Diagnostics
	if checkEmptyStrings(shardAttributes, config, path.Empty(), &diags); diags.HasError() {
		return diags
	}
	demand, ok := demandOfRaw(ctx, config, &diags)
	if !ok {
		return diags
	}
	_, d := demand.toPlanner(ctx, path.Empty())
	diags.Append(d...)
	return diags
}

// The terraform types of the computed objects.
var (
	demandType   = demandObjectType()
	demandTfType = demandType.TerraformType(context.Background()).(tftypes.Object)
	memoryTfType = types.ObjectType{AttrTypes: shardMemoryTypes}.TerraformType(context.Background()).(tftypes.Object)
)

// demandOfRaw reads the demand attributes of a shard's raw value; known is
// false while any of them is unknown.
func demandOfRaw(ctx context.Context, raw tftypes.Value, diags *diag.Diagnostics) (demand demandModel, known bool) {
	var vals map[string]tftypes.Value
	if err := raw.As(&vals); err != nil {
		diags.AddError("Unreadable configuration", err.Error())
		return demandModel{}, false
	}
	demandRaw := tftypes.NewValue(demandTfType, pick(vals, demandTfType))
	if !demandRaw.IsFullyKnown() {
		return demandModel{}, false
	}
	v, err := demandType.ValueFromTerraform(ctx, demandRaw)
	if err != nil {
		diags.AddError("Unreadable configuration", err.Error())
		return demandModel{}, false
	}
	return demandFromObject(v.(types.Object)), true
}

// pick takes the attributes of an object type out of a value map.
func pick(vals map[string]tftypes.Value, t tftypes.Object) map[string]tftypes.Value {
	out := make(map[string]tftypes.Value, len(t.AttributeTypes))
	for k, at := range t.AttributeTypes {
		if v, ok := vals[k]; ok {
			out[k] = v
		} else {
			out[k] = tftypes.NewValue(at, nil)
		}
	}
	return out
}

// objectAttr is one attribute of an object value; null when the object is
// null or unknown.
func objectAttr(obj tftypes.Value, name string) tftypes.Value {
	var attrs map[string]tftypes.Value
	if !obj.IsKnown() || obj.IsNull() || obj.As(&attrs) != nil {
		return tftypes.NewValue(tftypes.DynamicPseudoType, nil)
	}
	return attrs[name]
}

// withObjectAttr returns a known object value with one attribute replaced.
func withObjectAttr(obj tftypes.Value, name string, v tftypes.Value) tftypes.Value {
	var attrs map[string]tftypes.Value
	if !obj.IsKnown() || obj.IsNull() || obj.As(&attrs) != nil {
		return obj
	}
	attrs[name] = v
	return tftypes.NewValue(obj.Type(), attrs)
}

func tfNumber(n int64) tftypes.Value {
	return tftypes.NewValue(tftypes.Number, new(big.Float).SetInt64(n))
}
func tfFloat(f float64) tftypes.Value { return tftypes.NewValue(tftypes.Number, big.NewFloat(f)) }
