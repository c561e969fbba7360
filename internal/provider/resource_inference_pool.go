package provider

import (
	"context"
	"fmt"
	"maps"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/mcllm/terraform-provider-mcllm/internal/handoff"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/analysis"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/limits"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// The interfaces the pool implements, checked by the compiler.
var (
	_ resource.Resource                = (*inferencePoolResource)(nil)
	_ resource.ResourceWithConfigure   = (*inferencePoolResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*inferencePoolResource)(nil)
	_ resource.ResourceWithImportState = (*inferencePoolResource)(nil)
)

// inferencePoolResource is GPU supply plus the placement of demands on it.
// ModifyPlan runs the planner, so the placement is part of the plan; Create
// and Update store exactly what was planned.
type inferencePoolResource struct {
	storedPlan
	cfg *Config
}

func newInferencePoolResource() resource.Resource { return &inferencePoolResource{} }

type poolModel struct {
	ID                   types.String  `tfsdk:"id"`
	Name                 types.String  `tfsdk:"name"`
	NodeGroups           types.Map     `tfsdk:"node_groups"`
	ModelShards          types.List    `tfsdk:"model_shards"`
	Strategy             types.String  `tfsdk:"strategy"`
	Rebalance            types.String  `tfsdk:"rebalance"`
	MaxMoves             types.Int64   `tfsdk:"max_moves"`
	AllowPartial         types.Bool    `tfsdk:"allow_partial"`
	GPUMemoryUtilization types.Float64 `tfsdk:"gpu_memory_utilization"`
	Placement            types.Map     `tfsdk:"placement"`
	MemoryProfiles       types.Map     `tfsdk:"memory_profiles"`
	NodeGroupSizes       types.Map     `tfsdk:"node_group_sizes"`
	Cost                 types.Object  `tfsdk:"cost"`
	Utilization          types.Map     `tfsdk:"utilization"`
	Unplaced             types.Map     `tfsdk:"unplaced"`
	FailureDomains       types.Map     `tfsdk:"failure_domains"`
	TrafficWeights       types.Map     `tfsdk:"traffic_weights"`
	RegionWeights        types.Map     `tfsdk:"traffic_weights_by_region"`
	TransferHorizonHours types.Float64 `tfsdk:"transfer_horizon_hours"`
	DataTransfer         types.Map     `tfsdk:"data_transfer"`
	Kubernetes           types.Object  `tfsdk:"kubernetes"`
	NodeGroupSpecs       types.Map     `tfsdk:"node_group_specs"`
	Quotas               types.Map     `tfsdk:"quotas"`
	QuotaUsage           types.Map     `tfsdk:"quota_usage"`
}

type nodeGroupModel struct {
	Cloud        types.String  `tfsdk:"cloud"`
	Region       types.String  `tfsdk:"region"`
	InstanceType types.String  `tfsdk:"instance_type"`
	GPU          types.Object  `tfsdk:"gpu"`
	MinNodes     types.Int64   `tfsdk:"min_nodes"`
	MaxNodes     types.Int64   `tfsdk:"max_nodes"`
	CapacityType types.String  `tfsdk:"capacity_type"`
	Labels       types.Map     `tfsdk:"labels"`
	PricePerHour types.Float64 `tfsdk:"price_per_hour"`
	Confidential types.Bool    `tfsdk:"confidential"`
	FastNetwork  types.Bool    `tfsdk:"fast_network"`
	Taints       types.List    `tfsdk:"taints"`
	Reservation  types.Object  `tfsdk:"reservation"`
	GPUSharing   types.Object  `tfsdk:"gpu_sharing"`
}

type customGPUModel struct {
	Model     types.String  `tfsdk:"model"`
	Count     types.Int64   `tfsdk:"count"`
	MemoryGiB types.Float64 `tfsdk:"memory_gib"`
}

type stageValue struct {
	Node int64   `tfsdk:"node"`
	GPUs []int64 `tfsdk:"gpus"`
}

type placementValue struct {
	NodeGroup         string       `tfsdk:"node_group"`
	Cloud             string       `tfsdk:"cloud"`
	Region            string       `tfsdk:"region"`
	InstanceType      *string      `tfsdk:"instance_type"`
	GPUModel          string       `tfsdk:"gpu_model"`
	CapacityType      string       `tfsdk:"capacity_type"`
	Node              int64        `tfsdk:"node"`
	GPUs              []int64      `tfsdk:"gpus"`
	Stages            []stageValue `tfsdk:"stages"`
	TensorParallel    int64        `tfsdk:"tensor_parallel"`
	PipelineParallel  int64        `tfsdk:"pipeline_parallel"`
	MemoryPerGPUBytes int64        `tfsdk:"memory_per_gpu_bytes"`
	// UsableMemoryBytes is null in states planned before it was recorded.
	UsableMemoryBytes *int64 `tfsdk:"usable_memory_bytes"`
	// GPUMemoryBytes is null in states planned before it was recorded.
	GPUMemoryBytes *int64  `tfsdk:"gpu_memory_bytes"`
	MemoryProfile  *string `tfsdk:"memory_profile"`
}

// sizedGPU is the GPU the entry's replica was sized for, as the entry
// records it (gpu_memory_bytes, and the utilization its usable bytes give);
// false for an entry without them or with usable bytes beyond the GPU.
func (p placementValue) sizedGPU() (memory.GPU, bool) {
	if p.GPUMemoryBytes == nil || p.UsableMemoryBytes == nil || *p.UsableMemoryBytes <= 0 || *p.UsableMemoryBytes > *p.GPUMemoryBytes {
		return memory.GPU{}, false
	}
	return memory.GPU{VisibleBytes: *p.GPUMemoryBytes, Utilization: memory.UtilizationOf(*p.GPUMemoryBytes, *p.UsableMemoryBytes),
		Model: p.GPUModel}, true
}

// replicaStages are the entry's pipeline stages: its stages for a pipeline
// across nodes, else the one stage its node and gpus give.
func (p placementValue) replicaStages() []planner.Stage {
	if len(p.Stages) == 0 {
		return []planner.Stage{{Node: int(p.Node), GPUs: intsOf(p.GPUs)}}
	}
	out := make([]planner.Stage, len(p.Stages))
	for i, s := range p.Stages {
		out[i] = planner.Stage{Node: int(s.Node), GPUs: intsOf(s.GPUs)}
	}
	return out
}

func intsOf(xs []int64) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = int(x)
	}
	return out
}

type costValue struct {
	TotalPerHour  float64            `tfsdk:"total_per_hour"`
	TotalPerMonth float64            `tfsdk:"total_per_month"`
	PerCloud      map[string]float64 `tfsdk:"per_cloud"`
	OnDemand      float64            `tfsdk:"on_demand_per_hour"`
	Spot          float64            `tfsdk:"spot_per_hour"`
	Reserved      float64            `tfsdk:"reserved_per_hour"`
	ReservedIdle  float64            `tfsdk:"reserved_idle_per_hour"`
	PerModel      map[string]float64 `tfsdk:"per_model"`
	PerNodeGroup  map[string]float64 `tfsdk:"per_node_group"`
	Transfer      float64            `tfsdk:"transfer_one_time"`
	Monthly       monthlyCostValue   `tfsdk:"monthly"`
}

type monthlyCostValue struct {
	PerModel     map[string]float64 `tfsdk:"per_model"`
	PerNodeGroup map[string]float64 `tfsdk:"per_node_group"`
	PerCloud     map[string]float64 `tfsdk:"per_cloud"`
}

type transferValue struct {
	From    string   `tfsdk:"from"`
	Kind    string   `tfsdk:"kind"`
	Bytes   int64    `tfsdk:"bytes"`
	GB      float64  `tfsdk:"gb"`
	CostUSD *float64 `tfsdk:"cost_usd"`
}

type failureValue struct {
	Placed            int64            `tfsdk:"placed"`
	WorstKind         string           `tfsdk:"worst_kind"`
	WorstDomain       string           `tfsdk:"worst_domain"`
	WorstReplicas     int64            `tfsdk:"worst_replicas"`
	WorstFraction     float64          `tfsdk:"worst_fraction"`
	AfterLosingCloud  map[string]int64 `tfsdk:"after_losing_cloud"`
	AfterLosingRegion map[string]int64 `tfsdk:"after_losing_region"`
}

type utilizationValue struct {
	Nodes                int64   `tfsdk:"nodes"`
	UsedGPUs             int64   `tfsdk:"used_gpus"`
	TotalGPUs            int64   `tfsdk:"total_gpus"`
	GPUMemoryUtilization float64 `tfsdk:"gpu_memory_utilization"`
	ReservedUsed         int64   `tfsdk:"reserved_used"`
	ReservedIdle         int64   `tfsdk:"reserved_idle"`
}

type unplacedValue struct {
	Replicas []int64  `tfsdk:"replicas"`
	Reason   string   `tfsdk:"reason"`
	Remedies []string `tfsdk:"remedies"`
}

func (r *inferencePoolResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_inference_pool"
}

func (r *inferencePoolResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = poolSchema()
}

func (r *inferencePoolResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.cfg = configFrom(req.ProviderData, &resp.Diagnostics)
}

// The types of the computed attributes, read off the schema once.
var (
	poolAttrs         = poolSchema().Attributes
	placementType     = poolAttrs["placement"].GetType().(types.MapType).ElemType
	memoryProfileType = poolAttrs["memory_profiles"].GetType().(types.MapType).ElemType
	utilizationType   = poolAttrs["utilization"].GetType().(types.MapType).ElemType
	unplacedType      = poolAttrs["unplaced"].GetType().(types.MapType).ElemType
	failureType       = poolAttrs["failure_domains"].GetType().(types.MapType).ElemType
	weightsType       = poolAttrs["traffic_weights"].GetType().(types.MapType).ElemType
	costTypes         = poolAttrs["cost"].GetType().(types.ObjectType).AttrTypes
	nodeGroupSpecType = poolAttrs["node_group_specs"].GetType().(types.MapType).ElemType
	workloadType      = types.ObjectType{AttrTypes: attrTypes(workloadAttributes())}
	serviceType       = types.ObjectType{AttrTypes: attrTypes(modelObjectAttributes("Service"))}
	transferType      = poolAttrs["data_transfer"].GetType().(types.MapType).ElemType
	quotaUsageType    = poolAttrs["quota_usage"].GetType().(types.MapType).ElemType
)

func (r *inferencePoolResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var m poolModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	phaseDone(ctx, "read plan")
	if resp.Diagnostics.HasError() {
		return
	}
	if r.modifyPlan(ctx, req, &m, &resp.Diagnostics) {
		raw, err := m.terraformValue(ctx, req.Plan.Raw.Type())
		if err != nil {
			resp.Diagnostics.AddError("Provider bug: plan not encodable", err.Error())
			return
		}
		resp.Plan.Raw = raw
		phaseDone(ctx, "write plan")
	}
}

// terraformValue is m as a value of the schema's object type t, from each
// field's own ToTerraformValue: the framework's resp.Plan.Set reflects over
// every nested value again (a second of a 5,000-replica plan).
func (m *poolModel) terraformValue(ctx context.Context, t tftypes.Type) (tftypes.Value, error) {
	obj, ok := t.(tftypes.Object)
	if !ok {
		return tftypes.Value{}, fmt.Errorf("pool schema type is %s, not an object", t)
	}
	rv := reflect.ValueOf(m).Elem()
	vals := make(map[string]tftypes.Value, rv.NumField())
	for i := 0; i < rv.NumField(); i++ {
		name := rv.Type().Field(i).Tag.Get("tfsdk")
		v, err := rv.Field(i).Interface().(attr.Value).ToTerraformValue(ctx)
		if err != nil {
			return tftypes.Value{}, fmt.Errorf("%s: %w", name, err)
		}
		if want, ok := obj.AttributeTypes[name]; !ok || !v.Type().Equal(want) {
			return tftypes.Value{}, fmt.Errorf("%s: type %s, schema has %v", name, v.Type(), want)
		}
		vals[name] = v
	}
	if len(vals) != len(obj.AttributeTypes) {
		return tftypes.Value{}, fmt.Errorf("model has %d attributes, schema %d", len(vals), len(obj.AttributeTypes))
	}
	return tftypes.NewValue(obj, vals), nil
}

// modifyPlan runs the planner on m, the plan, and says whether m is the
// plan to write.
func (r *inferencePoolResource) modifyPlan(ctx context.Context, req resource.ModifyPlanRequest, m *poolModel, diags *diag.Diagnostics) bool {
	m.ID = m.Name
	// Every input counts (the name labels workloads).
	if !req.Config.Raw.IsFullyKnown() {
		tflog.Debug(ctx, "inference pool inputs not known yet; placement is known after apply")
		m.setUnknownOutputs()
		return true
	}
	if checkEmptyStrings(poolAttrs, req.Config.Raw, path.Empty(), diags); diags.HasError() {
		return false
	}
	cfg := r.cfg
	if cfg == nil {
		cfg = DefaultConfig()
	}
	preq, in, d := m.plannerRequest(ctx, cfg)
	diags.Append(d...)
	phaseDone(ctx, "request")
	if diags.HasError() {
		return false
	}
	if !req.State.Raw.IsNull() {
		prior := req.State.Raw
		preq.Previous = previousPlacement(objectAttr(prior, "placement"))
		// A rebalance happens once, on the plan that changes the trigger.
		var before *string
		if v := objectAttr(prior, "rebalance"); v.IsKnown() && !v.IsNull() {
			before = new(string)
			_ = v.As(before)
		}
		preq.Rebalance = !m.Rebalance.IsNull() && (before == nil || *before != m.Rebalance.ValueString())
		keepLayouts(&preq, objectAttr(prior, "node_group_specs"))
	}
	preq.Logger = hclog.New(&hclog.LoggerOptions{Name: "planner", Level: hclog.Debug, Output: tflogWriter{ctx}})
	phaseDone(ctx, "prior state")

	res, err := planner.Plan(preq)
	phaseDone(ctx, "planner")
	if err != nil {
		addPlannerErrors(err, diags)
		return false
	}
	preq.NodeGroups = res.NodeGroups // with the layouts chosen
	m.report(res, diags)
	if diags.HasError() {
		return false
	}
	diags.Append(m.setOutputs(ctx, preq, res, cfg, in)...)
	phaseDone(ctx, "outputs")
	return true
}

func (m *poolModel) setUnknownOutputs() {
	m.Placement = types.MapUnknown(placementType)
	m.MemoryProfiles = types.MapUnknown(memoryProfileType)
	m.NodeGroupSizes = types.MapUnknown(types.Int64Type)
	m.Cost = types.ObjectUnknown(costTypes)
	m.Utilization = types.MapUnknown(utilizationType)
	m.Unplaced = types.MapUnknown(unplacedType)
	m.FailureDomains = types.MapUnknown(failureType)
	m.TrafficWeights = types.MapUnknown(weightsType)
	m.RegionWeights = types.MapUnknown(weightsType)
	m.DataTransfer = types.MapUnknown(transferType)
	m.NodeGroupSpecs = types.MapUnknown(nodeGroupSpecType)
	m.QuotaUsage = types.MapUnknown(quotaUsageType)
}

// tflogWriter routes the planner's hclog lines into the provider's log, so
// that TF_LOG_PROVIDER=DEBUG shows the planner's reasoning.
type tflogWriter struct{ ctx context.Context }

func (w tflogWriter) Write(p []byte) (int, error) {
	tflog.Debug(w.ctx, strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// poolInputs is the pool's configuration as read once per plan, for what
// follows the planner.
type poolInputs struct {
	groups  map[string]nodeGroupModel
	shards  []demandModel
	weights map[string]analysis.Weights
	// kube is nil when the pool renders no Kubernetes workloads.
	kube *handoff.Kubernetes
}

// plannerRequest converts the configuration; every problem is reported on
// its attribute path.
func (m *poolModel) plannerRequest(ctx context.Context, cfg *Config) (planner.Request, poolInputs, diag.Diagnostics) {
	var diags diag.Diagnostics
	util := cfg.Utilization
	if !m.GPUMemoryUtilization.IsNull() {
		util = m.GPUMemoryUtilization.ValueFloat64()
		if err := memory.CheckUtilization(util); err != nil {
			diags.AddAttributeError(path.Root("gpu_memory_utilization"), "Invalid GPU memory utilization", fromMemoryError(err).Detail)
		}
	}
	checkFloat(path.Root("transfer_horizon_hours"), limits.TransferHorizon, m.TransferHorizonHours, &diags)
	req := planner.Request{
		Strategy: planner.Strategy(m.Strategy.ValueString()), MaxMoves: clampInt(m.MaxMoves.ValueInt64()),
	}
	if !m.Rebalance.IsNull() && req.MaxMoves == 0 {
		diags.AddAttributeError(path.Root("max_moves"), "Rebalance without a move budget",
			"A rebalance moves nothing while max_moves is 0; set max_moves to the most replicas a rebalance may move.")
	}
	groups := make(map[string]nodeGroupModel, len(m.NodeGroups.Elements()))
	for name, e := range m.NodeGroups.Elements() {
		var g nodeGroupModel
		if err := objectInto(e, &g); err != nil {
			diags.AddAttributeError(path.Root("node_groups").AtMapKey(name), "Unreadable node group", err.Error())
			continue
		}
		groups[name] = g
	}
	unresolved := map[string]bool{} // groups whose conversion failed
	for _, name := range slices.Sorted(maps.Keys(groups)) {
		g, gd := nodeGroupFor(ctx, name, groups[name], cfg, util)
		diags.Append(gd...)
		unresolved[name] = gd.HasError()
		req.NodeGroups = append(req.NodeGroups, g)
	}
	var resolved []planner.NodeGroup
	for _, g := range req.NodeGroups {
		if !unresolved[g.Name] {
			resolved = append(resolved, g)
		}
	}
	req.Quotas = m.plannerQuotas(groups, resolved, &diags)
	shards := make([]demandModel, 0, len(m.ModelShards.Elements()))
	for _, e := range m.ModelShards.Elements() {
		shards = append(shards, demandFromObject(e.(types.Object)))
	}
	for i, d := range shards {
		md, dd := d.toPlanner(ctx, path.Root("model_shards").AtListIndex(i))
		diags.Append(dd...)
		req.Models = append(req.Models, md)
	}
	// Each shard was validated as it was converted; the rest of the
	// request is checked here, in the same plan, except what concerns a
	// node group whose hardware could not be resolved.
	// A group's utilization is the pool's (or the provider's), checked
	// there with the same rule (memory.CheckUtilization).
	for _, p := range planner.ValidateRequest(req) {
		if p.Kind != "node_group" || (!unresolved[p.Name] && p.Field != "gpu_memory_utilization") {
			addInputError(poolProblemPath(p), p, &diags)
		}
	}
	in := poolInputs{groups: groups, shards: shards, weights: modelWeights(shards, req.Models)}
	if k, rendering := m.kubernetesSettings(ctx, &diags); rendering {
		in.kube = &k
	}
	diags.Append(handoffProblems(ctx, m.Name.ValueString(), groups, shards, in.kube != nil)...)
	m.addTransferSurcharges(&req, in.weights, cfg, &diags)
	return req, in, diags
}

// transferHorizon is transfer_horizon_hours, 730 when omitted.
func (m *poolModel) transferHorizon() float64 {
	if m.TransferHorizonHours.IsNull() {
		return analysis.HoursPerMonth
	}
	return m.TransferHorizonHours.ValueFloat64()
}

// modelWeights are, for the shards with a weights_source, where the
// checkpoint is and how large: the weights at their precision, except for
// fp8 from the catalog model's repository, which vLLM quantizes as it loads
// the 16-bit checkpoint.
func modelWeights(shards []demandModel, models []planner.ModelDemand) map[string]analysis.Weights {
	est := map[string]*memory.Estimate{}
	for _, md := range models {
		est[md.Name] = md.Memory
	}
	out := map[string]analysis.Weights{}
	for _, d := range shards {
		src, ok := d.weightsSource()
		e := est[d.Name.ValueString()]
		if !ok || e == nil {
			continue
		}
		_, bytes := checkpoint(d, e)
		out[d.Name.ValueString()] = analysis.Weights{Source: src, CheckpointBytes: bytes}
	}
	return out
}

// addTransferSurcharges gives the planner, per model with a weights_source,
// the transfer cost of a replica on each group spread over the horizon, and
// warns where no price is known.
func (m *poolModel) addTransferSurcharges(req *planner.Request, weights map[string]analysis.Weights, cfg *Config, diags *diag.Diagnostics) {
	sur, missing := analysis.TransferSurcharges(req.NodeGroups, weights, m.transferHorizon(), cfg.EgressPrice)
	for i := range req.Models {
		req.Models[i].Surcharge = sur[req.Models[i].Name]
	}
	for _, name := range slices.Sorted(maps.Keys(missing)) {
		seen := map[string]bool{}
		for _, t := range missing[name] {
			key := t.From.Cloud + "/" + t.Kind
			if seen[key] {
				continue
			}
			seen[key] = true
			diags.AddAttributeWarning(path.Root("model_shards").AtListIndex(m.shardIndex(name)).AtName("weights_source"),
				"No price for a weight transfer",
				fmt.Sprintf("Model shard %q pulls its weights from %s, and there is no %s price for leaving %s. The placement "+
					"ignores that transfer's cost and data_transfer shows no cost for it; set the provider's egress_prices[%q].",
					name, t.From, t.Kind, t.From.Cloud, key))
		}
	}
}

// nodeGroupFor resolves one node group: the catalog instance type or the
// custom GPU, and its price.
func nodeGroupFor(ctx context.Context, name string, g nodeGroupModel, cfg *Config, util float64) (planner.NodeGroup, diag.Diagnostics) {
	var diags diag.Diagnostics
	at := path.Root("node_groups").AtMapKey(name)
	ng := planner.NodeGroup{
		Name: name, Cloud: g.Cloud.ValueString(), Region: g.Region.ValueString(), Utilization: util,
		MinNodes: clampInt(g.MinNodes.ValueInt64()), MaxNodes: clampInt(g.MaxNodes.ValueInt64()),
		CapacityType: g.CapacityType.ValueString(), Confidential: g.Confidential.ValueBool(),
	}
	if !g.Labels.IsNull() {
		ng.Labels = map[string]string{}
		diags.Append(g.Labels.ElementsAs(ctx, &ng.Labels, false)...)
	}
	// Names, node counts and prices are the planner's to check
	// (planner.ValidateRequest); this only resolves the hardware and price.
	price, priced := 0.0, false
	switch {
	case !g.GPU.IsNull() && !g.InstanceType.IsNull() && ng.Cloud != catalog.CloudCustom:
		diags.AddAttributeError(at.AtName("gpu"), "Conflicting node definition",
			"Set instance_type (a catalog type) or gpu (custom hardware), not both; only cloud = \"custom\" may name its instance type alongside gpu.")
	case !g.GPU.IsNull():
		var gpu customGPUModel
		diags.Append(g.GPU.As(ctx, &gpu, basetypes.ObjectAsOptions{})...)
		if !checkInt(at.AtName("gpu").AtName("count"), limits.GPUsPerNode, gpu.Count, &diags) ||
			!checkFloat(at.AtName("gpu").AtName("memory_gib"), limits.GPUMemoryGiB, gpu.MemoryGiB, &diags) {
			return ng, diags
		}
		ng.GPUModel, ng.GPUsPerNode = gpu.Model.ValueString(), clampInt(gpu.Count.ValueInt64())
		ng.FastNetwork = g.FastNetwork.ValueBool()
		ng.GPUMemoryBytes = memory.GPUFromGiB(gpu.MemoryGiB.ValueFloat64(), util).VisibleBytes
	case ng.Cloud == catalog.CloudCustom:
		diags.AddAttributeError(at.AtName("gpu"), "Missing GPU description", "A custom node group describes its hardware in gpu.")
	case g.InstanceType.IsNull():
		diags.AddAttributeError(at.AtName("instance_type"), "Missing node definition",
			"Set instance_type to a catalog type of the cloud (see the mcllm_gpu_instance_types data source), or describe custom hardware in gpu.")
	default:
		it, err := catalog.LookupInstanceType(ng.Cloud, g.InstanceType.ValueString())
		if err != nil {
			diags.AddAttributeError(at.AtName("instance_type"), "Unknown instance type", err.Error())
			break
		}
		ng.GPUModel, ng.GPUsPerNode = it.GPUModel, it.GPUs
		ng.FastNetwork = it.FastNetwork()
		if !g.FastNetwork.IsNull() {
			ng.FastNetwork = g.FastNetwork.ValueBool()
		}
		ng.GPUMemoryBytes = memory.GPUFromGiB(it.VisibleMemoryGiB, util).VisibleBytes
		if len(it.Regions) > 0 && !it.InRegion(ng.Region) {
			diags.AddAttributeWarning(at.AtName("region"), "Region not recorded for this instance type",
				fmt.Sprintf("The catalog records %s in %s, not in %q. Check that the region offers it.", it.Key(), strings.Join(it.Regions, ", "), ng.Region))
		}
		price, _, priced = cfg.Price(it)
	}
	if !g.PricePerHour.IsNull() {
		price, priced = g.PricePerHour.ValueFloat64(), true
	}
	if !priced && !diags.HasError() {
		diags.AddAttributeError(at.AtName("price_per_hour"), "No price for node group",
			fmt.Sprintf("The catalog has no price for node group %q; set price_per_hour (USD per node-hour) or a provider price_overrides entry.", name))
	}
	ng.PricePerHour = price
	ng.Reserved, ng.ReservedPrice = reservationOf(at.AtName("reservation"), g.Reservation, price, time.Now(), &diags)
	if !diags.HasError() {
		ng = sharedGroup(at.AtName("gpu_sharing"), ng, g.GPUSharing, &diags)
	}
	return ng, diags
}

// previousPlacement reads the placement of the prior state. It reads the
// raw value: a pool may hold thousands of replicas, and the framework's
// reflection costs more than the plan. Entries it cannot read (a key without
// a replica number) are left out, so those replicas are placed afresh.
func previousPlacement(raw tftypes.Value) []planner.Replica {
	var entries map[string]tftypes.Value
	if !raw.IsKnown() || raw.IsNull() || raw.As(&entries) != nil {
		return nil
	}
	out := make([]planner.Replica, 0, len(entries))
	for _, key := range slices.Sorted(maps.Keys(entries)) {
		cut := strings.LastIndex(key, "/")
		if cut < 0 {
			continue
		}
		idx, err := strconv.Atoi(key[cut+1:])
		if err != nil {
			continue
		}
		var e map[string]tftypes.Value
		if entries[key].As(&e) != nil {
			continue
		}
		r := planner.Replica{Model: key[:cut], Index: idx, NodeGroup: rawString(e["node_group"]),
			TensorParallel: int(rawInt(e["tensor_parallel"])), PipelineParallel: int(rawInt(e["pipeline_parallel"])),
			MemoryPerGPU: rawInt(e["memory_per_gpu_bytes"])}
		var stages []tftypes.Value
		_ = e["stages"].As(&stages)
		if len(stages) == 0 { // a single stage: the entry's node and gpus
			stages = []tftypes.Value{entries[key]}
		}
		for _, sv := range stages {
			var st map[string]tftypes.Value
			if sv.As(&st) != nil {
				continue
			}
			var gpus []tftypes.Value
			_ = st["gpus"].As(&gpus)
			stage := planner.Stage{Node: int(rawInt(st["node"])), GPUs: make([]int, len(gpus))}
			for i, g := range gpus {
				stage.GPUs[i] = int(rawInt(g))
			}
			r.Stages = append(r.Stages, stage)
		}
		out = append(out, r)
	}
	return out
}

// rawString is a known string value, or "".
func rawString(v tftypes.Value) string {
	var s string
	if v.IsKnown() && !v.IsNull() {
		_ = v.As(&s)
	}
	return s
}

// rawInt is a known whole number, or 0.
func rawInt(v tftypes.Value) int64 {
	var f *big.Float
	if !v.IsKnown() || v.IsNull() || v.As(&f) != nil || f == nil {
		return 0
	}
	i, _ := f.Int64()
	return i
}

func (m *poolModel) shardIndex(name string) int {
	for i, e := range m.ModelShards.Elements() {
		if o, ok := e.(types.Object); ok {
			if n, ok := o.Attributes()["name"].(types.String); ok && n.ValueString() == name {
				return i
			}
		}
	}
	return 0
}

// report turns unplaced replicas into diagnostics: errors on the model's
// path, or warnings under allow_partial. Moves are reported as warnings, so
// that a reviewer sees why a placement changed.
func (m *poolModel) report(res *planner.Result, diags *diag.Diagnostics) {
	for _, u := range res.Unplaced {
		at := path.Root("model_shards").AtListIndex(m.shardIndex(u.Model))
		detail := u.Reason
		if len(u.Remedies) > 0 {
			detail += "\n\nTo fix it: " + strings.Join(u.Remedies, "; or ") + "."
		}
		if m.AllowPartial.ValueBool() {
			diags.AddAttributeWarning(at, fmt.Sprintf("Model %q only partly placed", u.Model), detail)
		} else {
			diags.AddAttributeError(at, fmt.Sprintf("Model %q cannot be placed", u.Model),
				detail+"\n\nSet allow_partial = true to place what fits and plan anyway.")
		}
	}
	if len(res.Moves) > 0 {
		var lines []string
		for _, mv := range res.Moves {
			lines = append(lines, fmt.Sprintf("%s: %s node %d → %s node %d (%s)", mv.Key, mv.From.NodeGroup, firstNode(mv.From), mv.To.NodeGroup, firstNode(mv.To), mv.Reason))
		}
		diags.AddWarning(fmt.Sprintf("%d replica(s) move", len(res.Moves)), strings.Join(lines, "\n"))
	}
}

func int64List(xs []int) types.List {
	vals := make([]attr.Value, len(xs))
	for i, x := range xs {
		vals[i] = types.Int64Value(int64(x))
	}
	return types.ListValueMust(types.Int64Type, vals)
}

func firstNode(r planner.Replica) int {
	if len(r.Stages) == 0 {
		return -1
	}
	return r.Stages[0].Node
}

// setOutputs writes the planner's result into the computed attributes.
func (m *poolModel) setOutputs(ctx context.Context, req planner.Request, res *planner.Result, cfg *Config, in poolInputs) diag.Diagnostics {
	var diags diag.Diagnostics
	groups := req.GroupsByName()
	estimates := make(map[string]*memory.Estimate, len(req.Models))
	for _, md := range req.Models {
		estimates[md.Name] = md.Memory
	}

	// Built without reflection: a pool may hold thousands of replicas.
	placementObjType := placementType.(types.ObjectType)
	stageObjType := placementObjType.AttrTypes["stages"].(types.ListType).ElemType.(types.ObjectType)
	placement := make(map[string]attr.Value, len(res.Replicas))
	profiles, profileReplicas := map[string]map[string]attr.Value{}, map[string]int64{}
	for _, r := range res.Replicas {
		g := groups[r.NodeGroup]
		instance := types.StringNull()
		if it := in.groups[r.NodeGroup].InstanceType; !it.IsNull() {
			instance = it
		}
		// A single stage is node and gpus already: stages lists a pipeline's.
		stages := types.ListNull(stageObjType)
		if len(r.Stages) > 1 {
			vals := make([]attr.Value, len(r.Stages))
			for i, st := range r.Stages {
				vals[i] = types.ObjectValueMust(stageObjType.AttrTypes, map[string]attr.Value{
					"node": types.Int64Value(int64(st.Node)), "gpus": int64List(st.GPUs)})
			}
			stages = types.ListValueMust(stageObjType, vals)
		}
		first := planner.Stage{}
		if len(r.Stages) > 0 {
			first = r.Stages[0]
		}
		profile := memoryProfileKey(g, r)
		if _, seen := profiles[profile]; !seen {
			profiles[profile] = memoryProfile(estimates[r.Model], g, r)
		}
		profileReplicas[profile]++
		placement[r.Key()] = types.ObjectValueMust(placementObjType.AttrTypes, map[string]attr.Value{
			"node_group": types.StringValue(r.NodeGroup), "cloud": types.StringValue(g.Cloud),
			"region": types.StringValue(g.Region), "instance_type": instance,
			"gpu_model": types.StringValue(g.GPUModel), "capacity_type": types.StringValue(g.CapacityType),
			"node": types.Int64Value(int64(first.Node)), "gpus": int64List(first.GPUs),
			"stages":          stages,
			"tensor_parallel": types.Int64Value(int64(r.TensorParallel)), "pipeline_parallel": types.Int64Value(int64(r.PipelineParallel)),
			"memory_per_gpu_bytes": types.Int64Value(r.MemoryPerGPU),
			"usable_memory_bytes":  types.Int64Value(g.ReplicaGPU(r).UsableBytes()),
			"gpu_memory_bytes":     types.Int64Value(g.ReplicaGPU(r).VisibleBytes),
			"memory_profile":       types.StringValue(profile),
		})
	}
	profileValues := make(map[string]attr.Value, len(profiles))
	for key, attrs := range profiles {
		attrs["replicas"] = types.Int64Value(profileReplicas[key])
		profileValues[key] = types.ObjectValueMust(memoryProfileObjType.AttrTypes, attrs)
	}
	// Every summary is the analysis package's; this only converts it.
	rep := analysis.ReportOf(req.NodeGroups, req.Models, res, in.weights, cfg.EgressPrice)
	c := rep.Cost
	cost := costValue{
		TotalPerHour: c.TotalPerHour, TotalPerMonth: c.TotalPerMonth, PerCloud: c.PerCloud,
		OnDemand: c.OnDemandPerHour, Spot: c.SpotPerHour, Reserved: c.ReservedPerHour, ReservedIdle: c.ReservedIdlePerHour,
		PerModel: c.PerModel, PerNodeGroup: c.PerNodeGroup,
		Transfer: c.TransferOneTime,
		Monthly:  monthlyCostValue{PerModel: c.MonthlyPerModel, PerNodeGroup: c.MonthlyPerNodeGroup, PerCloud: c.MonthlyPerCloud},
	}
	transfers := make(map[string]transferValue, len(rep.Transfers))
	for key, t := range rep.Transfers {
		transfers[key] = transferValue{From: t.From, Kind: t.Kind, Bytes: t.Bytes, GB: t.GB, CostUSD: t.CostUSD}
	}
	sizes := make(map[string]int64, len(rep.Groups))
	util := make(map[string]utilizationValue, len(rep.Groups))
	for name, g := range rep.Groups {
		sizes[name] = int64(g.Nodes)
		util[name] = utilizationValue{Nodes: int64(g.Nodes), UsedGPUs: int64(g.UsedGPUs), TotalGPUs: int64(g.TotalGPUs),
			GPUMemoryUtilization: g.MemoryUtilization, ReservedUsed: int64(g.ReservedUsed), ReservedIdle: int64(g.ReservedIdle)}
	}
	unplaced := map[string]unplacedValue{}
	for _, u := range res.Unplaced {
		unplaced[u.Model] = unplacedValue{Replicas: ints64(u.Replicas), Reason: u.Reason, Remedies: append([]string{}, u.Remedies...)}
	}
	failures := make(map[string]failureValue, len(rep.Failures))
	for model, f := range rep.Failures {
		fv := failureValue{Placed: int64(f.Placed), WorstKind: f.Worst.Kind, WorstDomain: f.Worst.Domain,
			WorstReplicas: int64(f.Worst.Replicas), WorstFraction: f.Worst.Fraction,
			AfterLosingCloud: map[string]int64{}, AfterLosingRegion: map[string]int64{}}
		for _, sv := range f.ByCloud {
			fv.AfterLosingCloud[sv.Domain] = int64(sv.Replicas)
		}
		for _, sv := range f.ByRegion {
			fv.AfterLosingRegion[sv.Domain] = int64(sv.Replicas)
		}
		failures[model] = fv
	}

	diags.Append(m.setHandoff(ctx, m.fleet(ctx, req, res, in, &diags))...)

	var d diag.Diagnostics
	m.FailureDomains, d = mapValueFrom(ctx, failureType, failures)
	diags.Append(d...)
	m.TrafficWeights, d = mapValueFrom(ctx, weightsType, rep.TrafficWeights)
	diags.Append(d...)
	m.RegionWeights, d = mapValueFrom(ctx, weightsType, rep.RegionWeights)
	diags.Append(d...)
	m.DataTransfer, d = mapValueFrom(ctx, transferType, transfers)
	diags.Append(d...)
	m.Placement, d = types.MapValue(placementType, placement)
	diags.Append(d...)
	m.MemoryProfiles, d = types.MapValue(memoryProfileType, profileValues)
	diags.Append(d...)
	m.NodeGroupSizes, d = mapValueFrom(ctx, types.Int64Type, sizes)
	diags.Append(d...)
	m.Utilization, d = mapValueFrom(ctx, utilizationType, util)
	diags.Append(d...)
	m.Cost, d = types.ObjectValueFrom(ctx, costTypes, cost)
	diags.Append(d...)
	m.Unplaced, d = mapValueFrom(ctx, unplacedType, unplaced)
	diags.Append(d...)
	m.QuotaUsage, d = mapValueFrom(ctx, quotaUsageType, quotaUsage(req.Quotas, res))
	diags.Append(d...)
	return diags
}

var memoryProfileObjType = memoryProfileType.(types.ObjectType)

// memoryProfileKey names the memory profile of a replica: its model, node
// group and parallel layout, and under a mixed MIG layout the instance it
// runs in (replicas of one model may take instances of several sizes).
func memoryProfileKey(g planner.NodeGroup, r planner.Replica) string {
	key := fmt.Sprintf("%s/%s/tp%d-pp%d", r.Model, r.NodeGroup, r.TensorParallel, r.PipelineParallel)
	if in := g.MIGInstanceOf(r); in != "" {
		key += "-" + in
	}
	return key
}

// memoryProfile is a replica's memory on its most loaded GPU, as the
// engine's profiler counts it; "replicas" is left to the caller.
func memoryProfile(e *memory.Estimate, g planner.NodeGroup, r planner.Replica) map[string]attr.Value {
	gpu := g.ReplicaGPU(r)
	pg := e.PerGPU(gpu, r.TensorParallel, r.PipelineParallel)
	v := func(b int64) attr.Value { return types.Float64Value(analysis.Round(gib(b), 3)) }
	return map[string]attr.Value{
		"model": types.StringValue(r.Model), "node_group": types.StringValue(r.NodeGroup),
		"tensor_parallel": types.Int64Value(int64(r.TensorParallel)), "pipeline_parallel": types.Int64Value(int64(r.PipelineParallel)),
		"gpu_memory_gib":         types.Float64Value(analysis.Round(gib(gpu.VisibleBytes), 2)),
		"gpu_memory_utilization": types.Float64Value(gpu.Utilization),
		"memory_per_gpu_gib":     v(r.MemoryPerGPU),
		"weights_gib":            v(pg.WeightBytes), "lora_gib": v(pg.LoRABytes), "kv_cache_gib": v(pg.KVBytes), "activation_gib": v(pg.ActivationBytes),
		"non_torch_gib": v(pg.NonTorchBytes), "cuda_graph_gib": v(pg.CUDAGraphBytes), "kv_capacity_gib": v(pg.KVCapacityBytes),
		"max_num_batched_tokens": types.Int64Value(int64(pg.Engine.MaxNumBatchedTokens)),
		"engine_version":         types.StringValue(pg.Engine.Version),
	}
}
