package provider

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcllm/terraform-provider-mcllm/internal/handoff"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
	"github.com/mcllm/terraform-provider-mcllm/internal/sharing"
)

// The interface the function implements, checked by the compiler.
var _ function.Function = (*manifestsFunction)(nil)

// manifestsFunction renders a pool's Kubernetes objects from the pool's own
// values: the placement, the node-group specs, the model shards and the
// kubernetes settings. The manifests stay known at plan time, but outside the
// pool's diff, which then shows the decisions only.
type manifestsFunction struct{}

func newManifestsFunction() function.Function { return &manifestsFunction{} }

func (f *manifestsFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "manifests"
}

// manifestsTypes is the function's return type.
var manifestsTypes = map[string]attr.Type{
	"workloads": types.MapType{ElemType: workloadType}, "services": types.MapType{ElemType: serviceType},
	"disruption_budgets": types.MapType{ElemType: serviceType}, "namespaces": types.MapType{ElemType: serviceType},
}

func (f *manifestsFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "The Kubernetes objects that run a pool's placement",
		MarkdownDescription: "Renders, from an `mcllm_inference_pool` (pass the resource itself, `mcllm_inference_pool.fleet`), the " +
			"objects that run its placement: `workloads` keyed like `placement` (a Deployment per replica that fits a node, a " +
			"LeaderWorkerSet per replica whose pipeline stages span nodes; `cloud`, `region`, `node_group`, `kind`, `name`, " +
			"`namespace`, `pods`, `gpus_per_pod`, `engine_args` and the YAML `manifest`), `services` and `disruption_budgets` " +
			"keyed `<cloud>/<region>/<model>`, and, with `kubernetes.create_namespace`, `namespaces` keyed `<cloud>/<region>`. Known at plan time whenever the pool is; empty when the pool sets no " +
			"`kubernetes`. A replica that keeps its place keeps a byte-identical manifest.",
		Parameters: []function.Parameter{function.DynamicParameter{Name: "pool",
			MarkdownDescription: "The pool: `mcllm_inference_pool.fleet`."}},
		Return: function.ObjectReturn{AttributeTypes: manifestsTypes},
	}
}

func (f *manifestsFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var pool types.Dynamic
	if resp.Error = req.Arguments.Get(ctx, &pool); resp.Error != nil {
		return
	}
	fleet, err := fleetOfPool(ctx, pool)
	if err != nil {
		resp.Error = function.NewArgumentFuncError(0, err.Error())
		return
	}
	workloads, services, budgets, namespaces := map[string]workloadValue{}, map[string]serviceValue{}, map[string]serviceValue{}, map[string]serviceValue{}
	if fleet.Kubernetes != nil {
		out, err := handoff.Render(fleet)
		if err != nil {
			resp.Error = function.NewFuncError("cannot render the hand-off: " + err.Error())
			return
		}
		workloads, services, budgets = manifestValues(out)
		namespaces = objectValues(out.Namespaces)
	}
	var diags diag.Diagnostics
	vals := map[string]attr.Value{}
	for name, v := range map[string]any{"workloads": workloads, "services": services, "disruption_budgets": budgets, "namespaces": namespaces} {
		var d diag.Diagnostics
		vals[name], d = types.MapValueFrom(ctx, manifestsTypes[name].(types.MapType).ElemType, v)
		diags.Append(d...)
	}
	result, d := types.ObjectValue(manifestsTypes, vals)
	diags.Append(d...)
	if diags.HasError() {
		resp.Error = function.NewFuncError(diagSummary(diags))
		return
	}
	resp.Error = resp.Result.Set(ctx, result)
}

// fleetOfPool rebuilds the hand-off's fleet from a pool's values.
func fleetOfPool(ctx context.Context, pool types.Dynamic) (handoff.Fleet, error) {
	notPool := fmt.Errorf("pass an mcllm_inference_pool, for example mcllm_inference_pool.fleet")
	under := pool.UnderlyingValue()
	if under == nil || pool.IsUnknown() {
		return handoff.Fleet{}, notPool
	}
	// Through a dynamic argument numbers arrive untyped: retype the value as
	// the pool's schema types it.
	raw, err := under.ToTerraformValue(ctx)
	if err != nil {
		return handoff.Fleet{}, notPool
	}
	retyped, err := poolObjectType.ValueFromTerraform(ctx, raw)
	if err != nil {
		return handoff.Fleet{}, fmt.Errorf("%w: %w", notPool, err)
	}
	obj, ok := retyped.(types.Object)
	if !ok {
		return handoff.Fleet{}, notPool
	}
	a := obj.Attributes()
	for _, k := range []string{"name", "placement", "node_group_specs", "model_shards", "kubernetes"} {
		if _, ok := a[k]; !ok {
			return handoff.Fleet{}, fmt.Errorf("pass an mcllm_inference_pool: the value has no %s", k)
		}
	}
	var diags diag.Diagnostics
	name, _ := a["name"].(types.String)
	var placement map[string]placementValue
	var specs map[string]nodeGroupSpecValue
	if m, ok := a["placement"].(types.Map); ok {
		diags.Append(m.ElementsAs(ctx, &placement, false)...)
	}
	if m, ok := a["node_group_specs"].(types.Map); ok {
		diags.Append(m.ElementsAs(ctx, &specs, false)...)
	}
	if diags.HasError() {
		return handoff.Fleet{}, fmt.Errorf("the pool's placement is not fully known: %s", diagSummary(diags))
	}
	f := handoff.Fleet{Pool: name.ValueString(), Groups: map[string]handoff.Group{}, Models: map[string]handoff.Model{}, Sizes: map[string]int{}}
	kube, _ := a["kubernetes"].(types.Object)
	pm := poolModel{Kubernetes: kube}
	if k, rendered := pm.kubernetesSettings(ctx, &diags); rendered {
		f.Kubernetes = &k
	}
	for g, s := range specs {
		taints := make([]handoff.Taint, len(s.Taints))
		for i, t := range s.Taints {
			taints[i] = handoff.Taint{Key: t.Key, Value: t.Value, Effect: t.Effect}
		}
		ng := planner.NodeGroup{Name: g, Cloud: s.Cloud, Region: s.Region, GPUModel: s.GPUModel, GPUsPerNode: int(s.GPUsPerNode),
			CapacityType: s.CapacityType, Labels: s.Labels}
		switch {
		case s.MIGProfile != nil:
			l, err := sharing.MIG(s.GPUModel, *s.MIGProfile)
			if err != nil {
				return handoff.Fleet{}, fmt.Errorf("node group %q: %w; plan the pool again", g, err)
			}
			ng.Sharing, ng.GPUsPerNode = &l.Sharing, ng.GPUsPerNode*l.Sharing.PerGPU
		case s.Engines != nil:
			ng.Sharing, ng.GPUsPerNode = &planner.GPUSharing{PerGPU: int(*s.Engines)}, ng.GPUsPerNode*int(*s.Engines)
		case s.MaxEngines != nil:
			ng.Sharing, ng.GPUsPerNode = &planner.GPUSharing{PerGPU: int(*s.MaxEngines), Fractional: true}, ng.GPUsPerNode*int(*s.MaxEngines)
		}
		instance := ""
		if s.InstanceType != nil {
			instance = *s.InstanceType
		}
		f.Groups[g] = handoff.Group{NodeGroup: ng, InstanceType: instance, Taints: taints}
		f.Sizes[g] = int(s.DesiredSize)
	}
	keys := make([]string, 0, len(placement))
	for k := range placement {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		p := placement[key]
		model, index, ok := strings.Cut(key, "/")
		idx, err := strconv.Atoi(index)
		g, known := f.Groups[p.NodeGroup]
		gpu, sized := p.sizedGPU()
		if !ok || err != nil || !known || !sized {
			return handoff.Fleet{}, fmt.Errorf("placement %q is not one this provider version wrote; plan the pool again", key)
		}
		r := planner.Replica{Model: model, Index: idx, NodeGroup: p.NodeGroup, TensorParallel: int(p.TensorParallel),
			PipelineParallel: int(p.PipelineParallel), MemoryPerGPU: p.MemoryPerGPUBytes, Stages: p.replicaStages()}
		g.GPUMemoryBytes, g.Utilization = gpu.VisibleBytes, gpu.Utilization
		if g.Fractional() { // the entry records its engine's block; the group has one share's
			g.Utilization = planner.SlotUtilization(gpu.Utilization, len(r.Stages[0].GPUs))
		}
		f.Groups[p.NodeGroup] = g
		f.Replicas = append(f.Replicas, r)
	}
	shards, _ := a["model_shards"].(types.List)
	for i, e := range shards.Elements() {
		o, ok := e.(types.Object)
		if !ok {
			continue
		}
		d := demandFromObject(o)
		md, dd := d.toPlanner(ctx, path.Root("model_shards").AtListIndex(i))
		if dd.HasError() {
			return handoff.Fleet{}, fmt.Errorf("model shard %d: %s", i, diagSummary(dd))
		}
		source, bytes := checkpoint(d, md.Memory)
		f.Models[md.Name] = handoffModel(md, source, bytes)
	}
	if diags.HasError() {
		return handoff.Fleet{}, fmt.Errorf("%s", diagSummary(diags))
	}
	return f, nil
}

// poolObjectType is the type of an mcllm_inference_pool's value.
var poolObjectType = types.ObjectType{AttrTypes: attrTypes(poolSchema().Attributes)}

// manifestValues are a render's objects as the function returns them.
func manifestValues(out handoff.Rendered) (map[string]workloadValue, map[string]serviceValue, map[string]serviceValue) {
	workloads := map[string]workloadValue{}
	for key, w := range out.Workloads {
		workloads[key] = workloadValue{Cloud: w.Cloud, Region: w.Region, NodeGroup: w.NodeGroup, Kind: w.Kind, Name: w.Name,
			Namespace: w.Namespace, Pods: int64(w.Pods), GPUsPerPod: int64(w.GPUsPerPod), EngineArgs: w.EngineArgs, Manifest: w.YAML}
	}
	return workloads, objectValues(out.Services), objectValues(out.DisruptionBudgets)
}

// objectValues are per-cluster objects (services, budgets, namespaces) as
// the function returns them.
func objectValues(ms map[string]handoff.Manifest) map[string]serviceValue {
	out := make(map[string]serviceValue, len(ms))
	for key, s := range ms {
		out[key] = serviceValue{Cloud: s.Cloud, Region: s.Region, Model: s.Model, Name: s.Name, Namespace: s.Namespace, Manifest: s.YAML}
	}
	return out
}
