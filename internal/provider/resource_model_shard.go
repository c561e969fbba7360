package provider

import (
	"context"
	"math/big"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// The interfaces the model shard implements, checked by the compiler.
var (
	_ resource.Resource                   = (*modelShardResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*modelShardResource)(nil)
	_ resource.ResourceWithValidateConfig = (*modelShardResource)(nil)
	_ resource.ResourceWithImportState    = (*modelShardResource)(nil)
)

// modelShardResource is a model deployment: the demand side. It creates
// nothing remote; it computes, at plan time, the deployment's memory and the
// `demand` object an inference pool takes.
type modelShardResource struct{ storedPlan }

func newModelShardResource() resource.Resource { return &modelShardResource{} }

// shardMemoryAttributes is the shard's `memory`: the memory figures.
func shardMemoryAttributes() map[string]schema.Attribute {
	return memoryFigureAttributes(
		func(desc string) schema.Attribute {
			return schema.Int64Attribute{Computed: true, MarkdownDescription: desc}
		},
		func(desc string) schema.Attribute {
			return schema.Float64Attribute{Computed: true, MarkdownDescription: desc}
		})
}

var shardMemoryTypes = attrTypes(shardMemoryAttributes())

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
		Attributes: shardMemoryAttributes(),
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
	figures, err := memoryFiguresOf(md.Memory).terraformValue(ctx, shardMemoryTypes)
	if err != nil {
		diags.AddError("Provider bug: memory figures not convertible", err.Error())
		return tftypes.Value{}, diags
	}
	vals["memory"] = figures
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
