package provider

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/mcllm/terraform-provider-mcllm/internal/handoff"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// The hand-off: what the pool's placement means for the cloud node groups,
// the serving engine and Kubernetes. The rendering lives in package handoff;
// this file is its schema and its conversion.

func taintAttributes(computed bool) map[string]schema.Attribute {
	if computed {
		return map[string]schema.Attribute{
			"key": computedStr("Taint key."), "value": computedStr("Taint value (empty for none)."),
			"effect": computedStr("Taint effect, spelled as the target resource expects."),
		}
	}
	return map[string]schema.Attribute{
		"key":   schema.StringAttribute{Required: true, MarkdownDescription: "Taint key, a Kubernetes label key."},
		"value": schema.StringAttribute{Optional: true, MarkdownDescription: "Taint value, a Kubernetes label value."},
		"effect": schema.StringAttribute{Required: true, MarkdownDescription: "`NoSchedule`, `PreferNoSchedule` or `NoExecute`.",
			Validators: []validator.String{stringvalidator.OneOf(handoff.TaintEffects()...)}},
	}
}

func computedTaints(desc string) schema.Attribute {
	return schema.ListNestedAttribute{Computed: true, MarkdownDescription: desc,
		NestedObject: schema.NestedAttributeObject{Attributes: taintAttributes(true)}}
}

func computedStrings(desc string) schema.Attribute {
	return schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: desc}
}

func kubernetesSettingsAttribute() schema.Attribute {
	return schema.SingleNestedAttribute{Optional: true,
		MarkdownDescription: "Render Kubernetes workloads for the placement into `workloads` and `services`. Omitted, none are rendered.",
		Attributes: map[string]schema.Attribute{
			"namespace": schema.StringAttribute{Optional: true, MarkdownDescription: "Namespace of the objects. Defaults to `" + handoff.DefaultNamespace + "`."},
			"image": schema.StringAttribute{Optional: true, MarkdownDescription: "vLLM OpenAI server image. Defaults to vLLM's image of " +
				"the release each model's `engine.version` names, pinned to it: `" + handoff.DefaultImage(memory.DefaultEngineVersion, false) +
				"` for the default release, built on CUDA 13.0 (NVIDIA driver 580 or newer; vLLM's `-cu129` tags serve older drivers). " +
				"An image set here runs every model, whatever its release."},
			"rocm_image": schema.StringAttribute{Optional: true, MarkdownDescription: "The image for AMD GPUs (MI300X), whose pods ask for " +
				"`amd.com/gpu`. Defaults to vLLM's ROCm image of each model's release, `" + handoff.DefaultImage(memory.DefaultEngineVersion, true) + "` by default."},
			"port": schema.Int64Attribute{Optional: true, MarkdownDescription: fmt.Sprintf("Port the engine serves on. Defaults to %d.", handoff.DefaultPort),
				Validators: []validator.Int64{int64validator.Between(1, 65535)}},
			"create_namespace": schema.BoolAttribute{Optional: true,
				MarkdownDescription: "Render the namespace too (`namespaces` of `provider::mcllm::manifests`, one per cluster). Defaults to false: the namespace exists."},
			"hf_token_secret": schema.StringAttribute{Optional: true,
				MarkdownDescription: "Name of a Secret whose key `HF_TOKEN` holds a Hugging Face token, for gated models."},
		}}
}

func nodeGroupSpecAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"cloud": computedStr("Cloud."), "region": computedStr("Region."),
		"instance_type": computedStr("Instance type (null for a custom GPU spec without one)."),
		"gpu_model":     computedStr("GPU model."), "gpus_per_node": computedInt("Physical GPUs per node (a shared group's placement counts its shares)."),
		"capacity_type": computedStr("`on-demand` or `spot`."),
		"desired_size":  computedInt("Nodes the placement needs: the group's size in `node_group_sizes`."),
		"min_size":      computedInt("Equal to `desired_size`, so that an autoscaler never removes a node the placement uses."),
		"max_size":      computedInt("The group's `max_nodes`: room to grow."),
		"labels": schema.MapAttribute{Computed: true, ElementType: types.StringType,
			MarkdownDescription: "Node labels: the group's `labels` plus `mcllm.io/pool` and `mcllm.io/node-group`, which the workloads select on; " +
				"with `gpu_sharing`, `nvidia.com/mig.config = all-<profile>` (the GPU Operator's MIG manager partitions the GPUs by it) or " +
				"`nvidia.com/device-plugin.config = time-slicing-<engines>` (a device-plugin config with that many time-slicing replicas, " +
				"which the cluster's device-plugin config map defines)."},
		"taints": computedTaints("The group's taints, with Kubernetes effect names."),
		"disk_size_gib": computedInt("Disk each node needs, GiB: the OS (20 GiB, EKS's default node disk), the vLLM image (40 GiB: " +
			"28.6 GB unpacked plus its compressed layers) and the model cache of every pod the placement puts on the group's fullest " +
			"node (each pod downloads its checkpoint, plus a tenth). The cloud blocks below carry it as each node-group resource spells it."),
		"mig_profile":     computedStr("The group's `gpu_sharing.mig_profile`: pods request `nvidia.com/mig-<profile>`; null for whole GPUs."),
		"engines_per_gpu": computedInt("The group's `gpu_sharing.engines_per_gpu`: engines time-slicing each GPU; null otherwise."),
		"max_engines_per_gpu": computedInt("The group's `gpu_sharing.max_engines_per_gpu`: engines at their own memory fractions " +
			"share each GPU through KAI Scheduler; null otherwise."),
		"eks": schema.SingleNestedAttribute{Computed: true,
			MarkdownDescription: "For `aws`: the values of an `aws_eks_node_group` (or an autoscaling group) as it spells them; null on other clouds.",
			Attributes: map[string]schema.Attribute{
				"instance_types": computedStrings("`instance_types`."),
				"capacity_type":  computedStr("`capacity_type`: `ON_DEMAND` or `SPOT`."),
				"taints":         computedTaints("`taint` blocks, effects spelled `NO_SCHEDULE`, `PREFER_NO_SCHEDULE`, `NO_EXECUTE`."),
				"disk_size":      computedInt("`disk_size`, GiB (or a launch template's root volume size)."),
			}},
		"gke": schema.SingleNestedAttribute{Computed: true,
			MarkdownDescription: "For `gcp`: the values of a `google_container_node_pool` (or a managed instance group); null on other clouds.",
			Attributes: map[string]schema.Attribute{
				"machine_type":      computedStr("`node_config.machine_type`."),
				"spot":              schema.BoolAttribute{Computed: true, MarkdownDescription: "`node_config.spot`."},
				"accelerator_type":  computedStr("`node_config.guest_accelerator.type`; null for a machine type the provider does not know."),
				"accelerator_count": computedInt("`node_config.guest_accelerator.count`."),
				"taints":            computedTaints("`node_config.taint` blocks, effects spelled `NO_SCHEDULE`, `PREFER_NO_SCHEDULE`, `NO_EXECUTE`."),
				"disk_size_gb":      computedInt("`node_config.disk_size_gb`."),
				"disk_type":         computedStr("`node_config.disk_type`: `hyperdisk-balanced` for machine families that boot from Hyperdisk only (A4, A3 Ultra), else `pd-balanced`."),
			}},
		"aks": schema.SingleNestedAttribute{Computed: true,
			MarkdownDescription: "For `azure`: the values of an `azurerm_kubernetes_cluster_node_pool` (or a VM scale set); null on other clouds.",
			Attributes: map[string]schema.Attribute{
				"vm_size":         computedStr("`vm_size`."),
				"priority":        computedStr("`priority`: `Regular` or `Spot`."),
				"eviction_policy": computedStr("`eviction_policy`: `Delete` for spot, null otherwise."),
				"node_taints":     computedStrings("`node_taints`: `key=value:Effect` strings."),
				"os_disk_size_gb": computedInt("`os_disk_size_gb`."),
			}},
	}
}

func workloadAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"cloud": computedStr("Cloud whose cluster runs it."), "region": computedStr("Region."),
		"node_group":   computedStr("Node group its pods are pinned to."),
		"kind":         computedStr("`Deployment` (the replica fits one node) or `LeaderWorkerSet` (its pipeline stages span nodes)."),
		"name":         computedStr("Object name."),
		"namespace":    computedStr("Object namespace."),
		"pods":         computedInt("Pods the replica runs as: 1, or one per pipeline stage."),
		"gpus_per_pod": computedInt("GPU limit of each pod: `nvidia.com/gpu`, or the MIG instance `nvidia.com/mig-<profile>` of a shared group."),
		"engine_args":  computedStrings("The vLLM arguments the pods run, as `provider::mcllm::engine_args` gives them."),
		"manifest":     computedStr("The object as YAML: `yamldecode` it into a `kubernetes_manifest`."),
	}
}

// modelObjectAttributes describe a per-model, per-cluster object of kind
// (a Service, a PodDisruptionBudget).
func modelObjectAttributes(kind string) map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"cloud": computedStr("Cloud whose cluster it belongs to."), "region": computedStr("Region of that cluster."),
		"model": computedStr("Model whose pods it covers."),
		"name":  computedStr("Object name."), "namespace": computedStr("Object namespace."),
		"manifest": computedStr("The " + kind + " as YAML."),
	}
}

type kubernetesModel struct {
	Namespace       types.String `tfsdk:"namespace"`
	Image           types.String `tfsdk:"image"`
	ROCmImage       types.String `tfsdk:"rocm_image"`
	Port            types.Int64  `tfsdk:"port"`
	HFTokenSecret   types.String `tfsdk:"hf_token_secret"`
	CreateNamespace types.Bool   `tfsdk:"create_namespace"`
}

type taintModel struct {
	Key    types.String `tfsdk:"key"`
	Value  types.String `tfsdk:"value"`
	Effect types.String `tfsdk:"effect"`
}

type taintValue struct {
	Key    string `tfsdk:"key"`
	Value  string `tfsdk:"value"`
	Effect string `tfsdk:"effect"`
}

type nodeGroupSpecValue struct {
	Cloud        string            `tfsdk:"cloud"`
	Region       string            `tfsdk:"region"`
	InstanceType *string           `tfsdk:"instance_type"`
	GPUModel     string            `tfsdk:"gpu_model"`
	GPUsPerNode  int64             `tfsdk:"gpus_per_node"`
	CapacityType string            `tfsdk:"capacity_type"`
	DesiredSize  int64             `tfsdk:"desired_size"`
	MinSize      int64             `tfsdk:"min_size"`
	MaxSize      int64             `tfsdk:"max_size"`
	Labels       map[string]string `tfsdk:"labels"`
	Taints       []taintValue      `tfsdk:"taints"`
	DiskSizeGiB  int64             `tfsdk:"disk_size_gib"`
	MIGProfile   *string           `tfsdk:"mig_profile"`
	Engines      *int64            `tfsdk:"engines_per_gpu"`
	MaxEngines   *int64            `tfsdk:"max_engines_per_gpu"`
	EKS          *eksValue         `tfsdk:"eks"`
	GKE          *gkeValue         `tfsdk:"gke"`
	AKS          *aksValue         `tfsdk:"aks"`
}

type eksValue struct {
	InstanceTypes []string     `tfsdk:"instance_types"`
	CapacityType  string       `tfsdk:"capacity_type"`
	Taints        []taintValue `tfsdk:"taints"`
	DiskSize      int64        `tfsdk:"disk_size"`
}

type gkeValue struct {
	MachineType      string       `tfsdk:"machine_type"`
	Spot             bool         `tfsdk:"spot"`
	AcceleratorType  *string      `tfsdk:"accelerator_type"`
	AcceleratorCount int64        `tfsdk:"accelerator_count"`
	Taints           []taintValue `tfsdk:"taints"`
	DiskSizeGB       int64        `tfsdk:"disk_size_gb"`
	DiskType         string       `tfsdk:"disk_type"`
}

type aksValue struct {
	VMSize         string   `tfsdk:"vm_size"`
	Priority       string   `tfsdk:"priority"`
	EvictionPolicy *string  `tfsdk:"eviction_policy"`
	NodeTaints     []string `tfsdk:"node_taints"`
	OSDiskSizeGB   int64    `tfsdk:"os_disk_size_gb"`
}

type workloadValue struct {
	Cloud      string   `tfsdk:"cloud"`
	Region     string   `tfsdk:"region"`
	NodeGroup  string   `tfsdk:"node_group"`
	Kind       string   `tfsdk:"kind"`
	Name       string   `tfsdk:"name"`
	Namespace  string   `tfsdk:"namespace"`
	Pods       int64    `tfsdk:"pods"`
	GPUsPerPod int64    `tfsdk:"gpus_per_pod"`
	EngineArgs []string `tfsdk:"engine_args"`
	Manifest   string   `tfsdk:"manifest"`
}

type serviceValue struct {
	Cloud     string `tfsdk:"cloud"`
	Region    string `tfsdk:"region"`
	Model     string `tfsdk:"model"`
	Name      string `tfsdk:"name"`
	Namespace string `tfsdk:"namespace"`
	Manifest  string `tfsdk:"manifest"`
}

// kubernetesSettings resolves the pool's kubernetes attribute; rendered is
// false when it is not set.
func (m *poolModel) kubernetesSettings(ctx context.Context, diags *diag.Diagnostics) (k handoff.Kubernetes, rendered bool) {
	k = handoff.Kubernetes{Namespace: handoff.DefaultNamespace, Port: handoff.DefaultPort}
	if m.Kubernetes.IsNull() {
		return k, false
	}
	var km kubernetesModel
	diags.Append(m.Kubernetes.As(ctx, &km, basetypes.ObjectAsOptions{})...)
	at := path.Root("kubernetes")
	if !km.Namespace.IsNull() {
		k.Namespace = km.Namespace.ValueString()
		if errs := validation.IsDNS1123Label(k.Namespace); len(errs) > 0 {
			diags.AddAttributeError(at.AtName("namespace"), "Invalid namespace", strings.Join(errs, "; "))
		}
	}
	for name, v := range map[string]struct {
		in  types.String
		out *string
	}{"image": {km.Image, &k.Image}, "rocm_image": {km.ROCmImage, &k.ROCmImage}} {
		if v.in.IsNull() {
			continue
		}
		*v.out = v.in.ValueString()
		if strings.TrimSpace(*v.out) == "" || strings.ContainsAny(*v.out, " \t\n") {
			diags.AddAttributeError(at.AtName(name), "Invalid image", fmt.Sprintf("%q is not a container image reference.", *v.out))
		}
	}
	if !km.Port.IsNull() {
		k.Port = clampInt(km.Port.ValueInt64())
	}
	k.CreateNamespace = km.CreateNamespace.ValueBool()
	if !km.HFTokenSecret.IsNull() {
		k.HFTokenSecret = km.HFTokenSecret.ValueString()
		if errs := validation.IsDNS1123Subdomain(k.HFTokenSecret); len(errs) > 0 {
			diags.AddAttributeError(at.AtName("hf_token_secret"), "Invalid secret name", strings.Join(errs, "; "))
		}
	}
	return k, true
}

// handoffProblems checks what the hand-off turns into Kubernetes names and
// labels: the pool, node-group and model names become label values, node
// group labels and taints land on nodes. They are errors when the pool
// renders Kubernetes workloads, warnings otherwise (node_group_specs still
// carry them).
func handoffProblems(ctx context.Context, pool string, groups map[string]nodeGroupModel, shards []demandModel, rendering bool) diag.Diagnostics {
	var diags diag.Diagnostics
	report := diags.AddAttributeWarning
	if rendering {
		report = diags.AddAttributeError
	}
	labelValue := func(at path.Path, what, s string) {
		if e := handoff.LabelValueError(s); e != "" {
			report(at, "Invalid "+what, fmt.Sprintf("%q labels Kubernetes nodes and pods, so it must be a valid label value: %s.", s, e))
		}
	}
	labelValue(path.Root("name"), "pool name", pool)
	for _, name := range slices.Sorted(maps.Keys(groups)) {
		at := path.Root("node_groups").AtMapKey(name)
		labelValue(at, "node group name", name)
		g := groups[name]
		if !g.Labels.IsNull() {
			labels := map[string]string{}
			diags.Append(g.Labels.ElementsAs(ctx, &labels, false)...)
			for _, k := range slices.Sorted(maps.Keys(labels)) {
				if e := handoff.LabelError(k, labels[k]); e != "" {
					report(at.AtName("labels").AtMapKey(k), "Invalid node label", "Node group labels are set on its nodes: "+e+".")
				}
			}
		}
		seen := map[[2]string]bool{}
		for i, t := range taintsOf(ctx, g, &diags) {
			if e := handoff.TaintError(t); e != "" {
				diags.AddAttributeError(at.AtName("taints").AtListIndex(i), "Invalid taint", e+".")
			}
			if seen[[2]string{t.Key, t.Effect}] {
				diags.AddAttributeError(at.AtName("taints").AtListIndex(i), "Duplicate taint",
					fmt.Sprintf("Taint %s:%s is listed twice; a node carries one taint per key and effect.", t.Key, t.Effect))
			}
			seen[[2]string{t.Key, t.Effect}] = true
		}
	}
	for i, d := range shards {
		if !d.Name.IsNull() {
			labelValue(path.Root("model_shards").AtListIndex(i).AtName("name"), "model shard name", d.Name.ValueString())
		}
	}
	return diags
}

func taintsOf(ctx context.Context, g nodeGroupModel, diags *diag.Diagnostics) []handoff.Taint {
	if g.Taints.IsNull() {
		return nil
	}
	var tms []taintModel
	diags.Append(g.Taints.ElementsAs(ctx, &tms, false)...)
	out := make([]handoff.Taint, len(tms))
	for i, t := range tms {
		out[i] = handoff.Taint{Key: t.Key.ValueString(), Value: t.Value.ValueString(), Effect: t.Effect.ValueString()}
	}
	return out
}

// checkpoint is what the engine loads for a demand and the bytes it
// downloads: serving_model (a checkpoint stored at the planned precision),
// or the catalog model's Hugging Face repository at the precision it stores
// (16-bit unless the catalog says otherwise), which serves every precision
// the engine can quantize to as it loads (fp8 from 16-bit weights pulls the
// 16-bit checkpoint) but not int8 / int4, which need a checkpoint quantized
// ahead. source is "" when neither is known; bytes then assumes a 16-bit
// checkpoint (or the planned precision for pre-quantized ones).
func checkpoint(d demandModel, e *memory.Estimate) (source string, bytes int64) {
	if !d.ServingModel.IsNull() {
		return d.ServingModel.ValueString(), e.WeightBytes
	}
	stored := memory.BF16
	if !d.Model.IsNull() {
		if m, err := catalog.LookupModel(d.Model.ValueString()); err == nil {
			if m.CheckpointPrecision != "" {
				stored = memory.Precision(m.CheckpointPrecision)
			}
			if !handoff.PreQuantized(e.Precision) || stored == e.Precision {
				return m.HFRepo, e.WeightBytesAt(stored)
			}
		}
	}
	if handoff.PreQuantized(e.Precision) {
		return "", e.WeightBytes
	}
	return "", e.WeightBytesAt(stored)
}

// fleet gathers what the hand-off renders the pool's node groups from (the
// checkpoints decide the disks); in.kube is nil when the pool asks for no
// Kubernetes objects, which also silences the serving warnings.
func (m *poolModel) fleet(ctx context.Context, req planner.Request, res *planner.Result, in poolInputs, diags *diag.Diagnostics) handoff.Fleet {
	f := handoff.Fleet{Pool: m.Name.ValueString(), Groups: map[string]handoff.Group{}, Models: map[string]handoff.Model{},
		Replicas: res.Replicas, Sizes: map[string]int{}}
	for _, g := range req.NodeGroups {
		cg := in.groups[g.Name]
		f.Groups[g.Name] = handoff.Group{NodeGroup: g, InstanceType: cg.InstanceType.ValueString(), Taints: taintsOf(ctx, cg, diags)}
	}
	for _, g := range res.Groups {
		f.Sizes[g.Name] = g.Nodes
	}
	estimates := map[string]*memory.Estimate{}
	for _, md := range req.Models {
		estimates[md.Name] = md.Memory
	}
	sources, checkpoints := map[string]string{}, map[string]int64{}
	for i, d := range in.shards {
		name := d.Name.ValueString()
		sources[name], checkpoints[name] = checkpoint(d, estimates[name])
		if sources[name] == "" && in.kube != nil {
			diags.AddAttributeWarning(path.Root("model_shards").AtListIndex(i).AtName("serving_model"), "No serving model",
				fmt.Sprintf("Model shard %q has no checkpoint the engine can load as planned (an explicit architecture, or %s weights, "+
					"which need a checkpoint quantized ahead), so its replicas get no workloads. Set serving_model to a Hugging Face "+
					"repository or a path.", d.Name.ValueString(), d.Precision.ValueString()))
		}
	}
	for _, md := range req.Models {
		hm := handoffModel(md, sources[md.Name], checkpoints[md.Name])
		if _, note := handoff.KVCacheDtype(hm); note != "" && in.kube != nil {
			diags.AddAttributeWarning(path.Root("model_shards").AtListIndex(m.shardIndex(md.Name)).AtName("kv_cache_precision"),
				"KV cache precision the engine cannot use", note+".")
		}
		f.Models[md.Name] = hm
	}
	return f
}

// handoffModel is a planned model as the engine runs it, loading source, a
// checkpoint of checkpointBytes.
func handoffModel(md planner.ModelDemand, source string, checkpointBytes int64) handoff.Model {
	return handoff.Model{Name: md.Name, Source: source, CheckpointBytes: checkpointBytes, Estimate: md.Memory}
}

// diskTooSmall reports, on each model placed on group, that the group's
// fullest node needs more disk than its cloud's node disk takes.
func (m *poolModel) diskTooSmall(f handoff.Fleet, group string, need, limit int, diags *diag.Diagnostics) {
	models := map[string]bool{}
	for _, r := range f.Replicas {
		if r.NodeGroup == group {
			models[r.Model] = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(models)) {
		diags.AddAttributeError(path.Root("model_shards").AtListIndex(m.shardIndex(name)), "Checkpoints do not fit the node disk",
			fmt.Sprintf("Node group %q holds replicas of %q whose checkpoints, with the OS and the vLLM image, need %d GiB of disk on its "+
				"fullest node, more than the %d GiB of the largest %s node disk. Spread the model across nodes (spread.across = \"node\"), "+
				"use a smaller checkpoint (a lower precision with serving_model), or a node group of another cloud.",
				group, name, need, limit, f.Groups[group].Cloud))
	}
}

// setHandoff writes node_group_specs; the manifests are the manifests
// function's, outside the pool's diff.
func (m *poolModel) setHandoff(ctx context.Context, f handoff.Fleet) diag.Diagnostics {
	var diags diag.Diagnostics
	out, err := handoff.Render(f)
	if err != nil {
		diags.AddError("Cannot render the hand-off", err.Error())
		return diags
	}
	specs := map[string]nodeGroupSpecValue{}
	for name, s := range out.NodeGroups {
		specs[name] = specValue(s)
		if limit := handoff.MaxNodeDiskGiB(s.Cloud); limit > 0 && s.DiskGiB > limit {
			m.diskTooSmall(f, name, s.DiskGiB, limit, &diags)
		}
	}
	var d diag.Diagnostics
	m.NodeGroupSpecs, d = mapValueFrom(ctx, nodeGroupSpecType, specs)
	diags.Append(d...)
	return diags
}

func specValue(s handoff.NodeGroupSpec) nodeGroupSpecValue {
	v := nodeGroupSpecValue{Cloud: s.Cloud, Region: s.Region, InstanceType: nonEmpty(s.InstanceType), GPUModel: s.GPUModel,
		GPUsPerNode: int64(s.GPUsPerNode), CapacityType: s.CapacityType, DesiredSize: int64(s.DesiredSize),
		MinSize: int64(s.MinSize), MaxSize: int64(s.MaxSize), Labels: s.Labels, Taints: taintValues(s.Taints), DiskSizeGiB: int64(s.DiskGiB),
		MIGProfile: nonEmpty(s.MIGProfile)}
	if s.EnginesPerGPU > 0 {
		n := int64(s.EnginesPerGPU)
		v.Engines = &n
	}
	if s.MaxEnginesPerGPU > 0 {
		n := int64(s.MaxEnginesPerGPU)
		v.MaxEngines = &n
	}
	if s.EKS != nil {
		v.EKS = &eksValue{InstanceTypes: s.EKS.InstanceTypes, CapacityType: s.EKS.CapacityType, Taints: taintValues(s.EKS.Taints),
			DiskSize: int64(s.EKS.DiskSize)}
	}
	if s.GKE != nil {
		v.GKE = &gkeValue{MachineType: s.GKE.MachineType, Spot: s.GKE.Spot, AcceleratorType: nonEmpty(s.GKE.AcceleratorType),
			AcceleratorCount: int64(s.GKE.AcceleratorCount), Taints: taintValues(s.GKE.Taints), DiskSizeGB: int64(s.GKE.DiskSizeGB),
			DiskType: s.GKE.DiskType}
	}
	if s.AKS != nil {
		v.AKS = &aksValue{VMSize: s.AKS.VMSize, Priority: s.AKS.Priority, EvictionPolicy: nonEmpty(s.AKS.EvictionPolicy),
			NodeTaints: append([]string{}, s.AKS.NodeTaints...), OSDiskSizeGB: int64(s.AKS.OSDiskSizeGB)}
	}
	return v
}

func taintValues(ts []handoff.Taint) []taintValue {
	out := make([]taintValue, len(ts))
	for i, t := range ts {
		out[i] = taintValue{Key: t.Key, Value: t.Value, Effect: t.Effect}
	}
	return out
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
