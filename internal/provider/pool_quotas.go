package provider

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/limits"
)

// The pool's quotas: limits as clouds set them, keyed by a name of the
// user's choice. One quota counts every node group of its cloud and region
// (and, when set, of its quota family and capacity type); the planner keeps
// Σ nodes × what one node counts within the limit (planner.Quota).

type quotaModel struct {
	Cloud        types.String `tfsdk:"cloud"`
	Region       types.String `tfsdk:"region"`
	Family       types.String `tfsdk:"family"`
	CapacityType types.String `tfsdk:"capacity_type"`
	Unit         types.String `tfsdk:"unit"`
	Limit        types.Int64  `tfsdk:"limit"`
}

func quotaAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"cloud": schema.StringAttribute{Required: true, MarkdownDescription: "Cloud of the node groups the quota counts.",
			Validators: []validator.String{stringvalidator.OneOf(catalog.Clouds()...)}},
		"region": schema.StringAttribute{Required: true, MarkdownDescription: "Region of the node groups the quota counts."},
		"family": schema.StringAttribute{Optional: true,
			MarkdownDescription: "The quota family the cloud counts, as the catalog's `quota_family` of each instance type spells it " +
				"(see `mcllm_gpu_instance_types`): on AWS the instance-family class (`P` for \"Running On-Demand P instances\", " +
				"`G and VT`), on Azure the VM family quota (`standardNDSH100v5Family`), on GCP the GPU metric (`NVIDIA_H100_GPUS`). " +
				"Omitted: every node group of the cloud and region, as Azure's regional vCPU and low-priority quotas count."},
		"capacity_type": schema.StringAttribute{Optional: true,
			MarkdownDescription: "`on-demand` or `spot`: only node groups of that capacity type count (AWS and GCP keep separate " +
				"spot and preemptible quotas; Azure counts spot VMs in the regional low-priority quota). Omitted: both.",
			Validators: []validator.String{stringvalidator.OneOf(planner.CapacityOnDemand, planner.CapacitySpot)}},
		"unit": schema.StringAttribute{Optional: true,
			MarkdownDescription: "`vcpus` or `gpus`: what the quota counts per node, from the catalog's instance type (a custom " +
				"group counts its `gpu.count`). Omitted: what the cloud counts, `vcpus` on AWS and Azure, `gpus` on GCP and custom.",
			Validators: []validator.String{stringvalidator.OneOf(catalog.QuotaVCPUs, catalog.QuotaGPUs)}},
		"limit": schema.Int64Attribute{Required: true,
			MarkdownDescription: withLimit("The quota's value: the most vCPUs or GPUs the counted node groups may run at once.", limits.QuotaLimit),
			Validators:          []validator.Int64{intLimit{limits.QuotaLimit}}},
	}
}

func quotaUsageAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"unit":        computedStr("`vcpus` or `gpus`."),
		"limit":       computedInt("The quota's limit."),
		"used":        computedInt("What the planned node counts use of it."),
		"node_groups": schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "The node groups it counts."},
	}
}

type quotaUsageValue struct {
	Unit       string   `tfsdk:"unit"`
	Limit      int64    `tfsdk:"limit"`
	Used       int64    `tfsdk:"used"`
	NodeGroups []string `tfsdk:"node_groups"`
}

// quotaUnitLabel is how messages spell a unit.
func quotaUnitLabel(unit string) string {
	if unit == catalog.QuotaGPUs {
		return "GPUs"
	}
	return "vCPUs"
}

// plannerQuotas converts the pool's quotas: which node groups each counts
// and what one node of each counts, every problem on its attribute path.
// Groups whose hardware did not resolve are left out (their own error
// stands).
func (m *poolModel) plannerQuotas(groups map[string]nodeGroupModel, resolved []planner.NodeGroup, diags *diag.Diagnostics) []planner.Quota {
	if m.Quotas.IsNull() || m.Quotas.IsUnknown() {
		return nil
	}
	var out []planner.Quota
	elems := m.Quotas.Elements()
	for _, name := range slices.Sorted(maps.Keys(elems)) {
		at := path.Root("quotas").AtMapKey(name)
		var q quotaModel
		if err := objectInto(elems[name], &q); err != nil {
			diags.AddAttributeError(at, "Unreadable quota", err.Error())
			continue
		}
		cloud := q.Cloud.ValueString()
		unit := catalog.QuotaUnit(cloud)
		if cloud == catalog.CloudCustom {
			unit = catalog.QuotaGPUs
		}
		if !q.Unit.IsNull() {
			unit = q.Unit.ValueString()
		}
		family := q.Family.ValueString()
		if !q.Family.IsNull() && !slices.Contains(catalog.QuotaFamilies(cloud), family) {
			known := catalog.QuotaFamilies(cloud)
			detail := fmt.Sprintf("quotas[%q].family: %q is not a quota family of %s's catalog instance types", name, family, cloud)
			if len(known) > 0 {
				detail += "; they count against " + quoted(known)
				if near := catalog.Nearest(family, known, 1); len(near) > 0 {
					detail += fmt.Sprintf(" (did you mean %q?)", near[0])
				}
			}
			diags.AddAttributeError(at.AtName("family"), "Unknown quota family", detail+".")
			continue
		}
		pq := planner.Quota{Name: name, Unit: quotaUnitLabel(unit), Limit: clampInt(q.Limit.ValueInt64()), PerNode: map[string]int{}}
		for _, g := range resolved {
			if g.Cloud != cloud || g.Region != q.Region.ValueString() || g.GPUsPerNode == 0 ||
				(!q.CapacityType.IsNull() && g.CapacityType != q.CapacityType.ValueString()) {
				continue
			}
			it, catalogued := catalogType(groups[g.Name])
			switch {
			case !q.Family.IsNull() && (!catalogued || it.QuotaFamily != family):
			case catalogued:
				pq.PerNode[g.Name] = it.QuotaCount(unit)
			case unit == catalog.QuotaGPUs:
				pq.PerNode[g.Name] = g.GPUsPerNode
			default:
				diags.AddAttributeError(at.AtName("unit"), "Quota unit unknown for a node group",
					fmt.Sprintf("quotas[%q] counts vCPUs, and node group %q is custom hardware whose vCPUs the catalog does not know; "+
						"set unit = \"gpus\", or a family that leaves the group out.", name, g.Name))
			}
		}
		if len(pq.PerNode) == 0 && !diags.HasError() {
			diags.AddAttributeWarning(at, "Quota counts no node group",
				fmt.Sprintf("quotas[%q] counts no node group of the pool: none is on %s in %q with that family and capacity type. "+
					"Check its cloud, region, family and capacity_type.", name, cloud, q.Region.ValueString()))
		}
		out = append(out, pq)
	}
	return out
}

// catalogType is a node group's catalog instance type, when it has one.
func catalogType(g nodeGroupModel) (catalog.InstanceType, bool) {
	if g.InstanceType.IsNull() || !g.GPU.IsNull() {
		return catalog.InstanceType{}, false
	}
	it, err := catalog.LookupInstanceType(g.Cloud.ValueString(), g.InstanceType.ValueString())
	return it, err == nil
}

func quoted(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}

// quotaUsage is what the plan uses of every quota, keyed by its name.
func quotaUsage(quotas []planner.Quota, res *planner.Result) map[string]quotaUsageValue {
	nodes := map[string]int{}
	for _, g := range res.Groups {
		nodes[g.Name] = g.Nodes
	}
	out := make(map[string]quotaUsageValue, len(quotas))
	for _, q := range quotas {
		v := quotaUsageValue{Unit: strings.ToLower(q.Unit), Limit: int64(q.Limit), NodeGroups: slices.Sorted(maps.Keys(q.PerNode))}
		for name, per := range q.PerNode {
			v.Used += int64(nodes[name] * per)
		}
		if v.NodeGroups == nil {
			v.NodeGroups = []string{}
		}
		out[q.Name] = v
	}
	return out
}
