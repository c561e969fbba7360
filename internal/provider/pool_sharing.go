package provider

import (
	"fmt"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/limits"
	"github.com/mcllm/terraform-provider-mcllm/internal/sharing"
)

// A node group's gpu_sharing: its GPUs split into MIG instances of one
// profile (the GPU Operator's uniform "all-<profile>" layout) or of the
// mixed all-balanced layout, time-sliced
// by several equal engines (the device plugin's time-slicing replicas), or
// shared by engines each at its own memory fraction (KAI Scheduler's GPU
// sharing). The planner then sees shares (planner.NodeGroup.Shared).

type gpuSharingModel struct {
	MIGProfile       types.String `tfsdk:"mig_profile"`
	MIGProfiles      types.List   `tfsdk:"mig_profiles"`
	EnginesPerGPU    types.Int64  `tfsdk:"engines_per_gpu"`
	MaxEnginesPerGPU types.Int64  `tfsdk:"max_engines_per_gpu"`
}

func gpuSharingAttribute() schema.Attribute {
	return schema.SingleNestedAttribute{Optional: true,
		MarkdownDescription: "Share every GPU of the group among several replicas of models that set `constraints.share_gpu` " +
			"(each at tensor and pipeline degree 1). Set exactly one of `mig_profile`, `mig_profiles`, `engines_per_gpu` and `max_engines_per_gpu`. " +
			"The hand-off labels the nodes (`nvidia.com/mig.config` or `nvidia.com/device-plugin.config`) and requests the share as " +
			"the device plugin advertises it, or as KAI Scheduler's `gpu-fraction`. A group has one layout (a managed node group " +
			"labels its nodes alike): list `mig_profiles` for the planner to choose it, or declare one node group per layout to " +
			"run several, and the plan sizes each, unused ones at 0 nodes. Time-slicing and memory blocks need NVIDIA GPUs: AMD's " +
			"device plugin advertises whole GPUs only.",
		Attributes: map[string]schema.Attribute{
			"mig_profile": schema.StringAttribute{Optional: true,
				MarkdownDescription: "MIG profile every GPU is partitioned into, as NVIDIA names it (`1g.10gb`, `2g.20gb`, `3g.40gb` on " +
					"an A100-80GB or H100-80GB): the GPU Operator's layout `all-<profile>`, with its instances per GPU and the memory a " +
					"process sees in one (the guide lists them per GPU model). Or `all-balanced`, the GPU Operator's mixed layout: " +
					"each GPU holds two 1g, one 2g and one 3g instance (A100, H100, H100 NVL and H200; on an A100-80GB 2 × " +
					"`1g.10gb`, `2g.20gb` and `3g.40gb`), and each replica takes the smallest free instance that holds it, whole. " +
					"Pods request `nvidia.com/mig-<profile>` of their instance: the device plugin's `mixed` MIG strategy."},
			"mig_profiles": schema.ListAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "MIG profiles the planner may choose from for the whole group, as `mig_profile` names them " +
					"(`all-balanced` among them): it plans the pool with each layout in turn and keeps the one that places most replicas, then costs least, " +
					"the earlier in the list on a tie; `node_group_specs.mig_profile` shows the choice. A later plan keeps the " +
					"layout the group has while it is in the list, so that nodes are not partitioned again; a `rebalance` chooses " +
					"again, and a change of layout moves the group's replicas."},
			"engines_per_gpu": schema.Int64Attribute{Optional: true,
				MarkdownDescription: withLimit("Engines sharing each GPU by time-slicing (or MPS): each gets `1/engines_per_gpu` of the "+
					"GPU memory utilization (vLLM `--gpu-memory-utilization` is a fraction of the whole device; the engines' fractions "+
					"sum within it), and pods request one `nvidia.com/gpu` of the device plugin's time-slicing replicas.", limits.EnginesPerGPU),
				Validators: []validator.Int64{intLimit{limits.EnginesPerGPU}}},
			"max_engines_per_gpu": schema.Int64Attribute{Optional: true,
				MarkdownDescription: withLimit("Engines of different sizes share each GPU, each at its own memory fraction: a replica "+
					"takes the smallest block of the GPU's `gpu_memory_utilization` that holds it (or holds the model's "+
					"`constraints.gpu_memory_fraction`), a power-of-two part from `1/max_engines_per_gpu` to the whole, and its engine "+
					"runs at that block's `--gpu-memory-utilization`; the blocks of a GPU sum within it. A power of two. Pods go to "+
					"NVIDIA's KAI Scheduler (`schedulerName: kai-scheduler`, installed with `global.gpuSharing=true`) with the "+
					"block's part of the GPU as their `gpu-fraction` annotation and no `nvidia.com/gpu` request; a whole-GPU block "+
					"requests one `nvidia.com/gpu`. KAI does not isolate memory: each engine keeps to its utilization.", limits.MaxEnginesPerGPU),
				Validators: []validator.Int64{intLimit{limits.MaxEnginesPerGPU}}},
		}}
}

// sharedGroup applies a node group's gpu_sharing to the resolved group,
// every problem on its attribute.
func sharedGroup(at path.Path, g planner.NodeGroup, o types.Object, diags *diag.Diagnostics) planner.NodeGroup {
	if o.IsNull() || o.IsUnknown() {
		return g
	}
	var s gpuSharingModel
	if err := objectInto(o, &s); err != nil {
		diags.AddAttributeError(at, "Unreadable GPU sharing", err.Error())
		return g
	}
	set := 0
	for _, v := range []bool{!s.MIGProfile.IsNull(), !s.MIGProfiles.IsNull(), !s.EnginesPerGPU.IsNull(), !s.MaxEnginesPerGPU.IsNull()} {
		if v {
			set++
		}
	}
	switch {
	case set != 1:
		diags.AddAttributeError(at, "Invalid GPU sharing",
			"gpu_sharing sets exactly one of mig_profile (MIG instances), mig_profiles (MIG layouts to choose from), "+
				"engines_per_gpu (equal time-sliced engines) and max_engines_per_gpu (engines at their own memory fractions).")
	case !s.MIGProfile.IsNull():
		l, err := sharing.MIG(g.GPUModel, s.MIGProfile.ValueString())
		if err != nil {
			diags.AddAttributeError(at.AtName("mig_profile"), "Unknown MIG profile", fmt.Sprintf("gpu_sharing.mig_profile: %s.", err))
			return g
		}
		if !migFits(at.AtName("mig_profile"), g, l, diags) {
			return g
		}
		return g.Shared(l.Sharing, l.MIGBytes)
	case !s.MIGProfiles.IsNull():
		g.Layouts = migLayouts(at.AtName("mig_profiles"), g, s.MIGProfiles, diags)
	case !catalog.SharesGPUs(g.GPUModel):
		diags.AddAttributeError(at, "GPU sharing not available",
			fmt.Sprintf("gpu_sharing: %s is an AMD GPU, and time-slicing or memory blocks need NVIDIA's device plugin or KAI "+
				"Scheduler; AMD's device plugin advertises whole amd.com/gpu devices. Run the group on whole GPUs.", g.GPUModel))
	case !s.EnginesPerGPU.IsNull():
		if n, ok := sharesPerGPU(at.AtName("engines_per_gpu"), limits.EnginesPerGPU, s.EnginesPerGPU, g, diags); ok {
			return g.Shared(planner.GPUSharing{PerGPU: n}, 0)
		}
	default:
		n, ok := sharesPerGPU(at.AtName("max_engines_per_gpu"), limits.MaxEnginesPerGPU, s.MaxEnginesPerGPU, g, diags)
		if ok && n&(n-1) != 0 {
			diags.AddAttributeError(at.AtName("max_engines_per_gpu"), "Invalid GPU sharing",
				fmt.Sprintf("gpu_sharing.max_engines_per_gpu must be a power of two (2, 4, 8 or 16): an engine's block is a "+
					"power-of-two part of a GPU, so that blocks never straddle two GPUs; got %d.", n))
			return g
		}
		if ok {
			return g.Shared(planner.GPUSharing{PerGPU: n, Fractional: true}, 0)
		}
	}
	return g
}

// sharesPerGPU reads a shares-per-GPU count within its limit and within the
// shares a node may hold; false, with the problem on at, otherwise.
func sharesPerGPU(at path.Path, l limits.Int, v types.Int64, g planner.NodeGroup, diags *diag.Diagnostics) (int, bool) {
	if !checkInt(at, l, v, diags) {
		return 0, false
	}
	n := clampInt(v.ValueInt64())
	if g.GPUsPerNode*n > limits.MaxGPUsPerNode {
		diags.AddAttributeError(at, "Too many GPU shares",
			fmt.Sprintf("gpu_sharing.%s: %d GPUs × %d engines is %d shares per node, above the %d a node may hold.",
				l.Name, g.GPUsPerNode, n, g.GPUsPerNode*n, limits.MaxGPUsPerNode))
		return 0, false
	}
	return n, true
}

// migLayouts are the MIG layouts a mig_profiles list allows, in its order,
// each known for the GPU and listed once.
func migLayouts(at path.Path, g planner.NodeGroup, list types.List, diags *diag.Diagnostics) []planner.Layout {
	gpuModel := g.GPUModel
	var out []planner.Layout
	seen := map[string]bool{}
	for i, e := range list.Elements() {
		name, _ := e.(types.String)
		l, err := sharing.MIG(gpuModel, name.ValueString())
		switch {
		case err != nil:
			diags.AddAttributeError(at.AtListIndex(i), "Unknown MIG profile", fmt.Sprintf("gpu_sharing.mig_profiles[%d]: %s.", i, err))
			continue
		case !migFits(at.AtListIndex(i), g, l, diags):
			continue
		case seen[l.Sharing.MIGName()]:
			diags.AddAttributeError(at.AtListIndex(i), "Duplicate MIG profile", fmt.Sprintf("gpu_sharing.mig_profiles lists %q twice.", l.Sharing.MIGName()))
			continue
		}
		seen[l.Sharing.MIGName()] = true
		out = append(out, l)
	}
	if len(list.Elements()) == 0 {
		diags.AddAttributeError(at, "No MIG profile", "gpu_sharing.mig_profiles must list at least one MIG profile to choose from.")
	}
	return out
}

// migFits reports whether layout l's shares of a node (instances, or a
// mixed layout's memory slices) stay within what a node may hold; the
// problem on at otherwise.
func migFits(at path.Path, g planner.NodeGroup, l planner.Layout, diags *diag.Diagnostics) bool {
	if n := g.GPUsPerNode * l.Sharing.PerGPU; n > limits.MaxGPUsPerNode {
		diags.AddAttributeError(at, "Too many GPU shares",
			fmt.Sprintf("gpu_sharing: %d GPUs × %d shares of layout %s is %d shares per node, above the %d a node may hold.",
				g.GPUsPerNode, l.Sharing.PerGPU, l.Sharing.MIGName(), n, limits.MaxGPUsPerNode))
		return false
	}
	return true
}

// keepLayouts settles the layout of every group that chooses one to the
// layout it had in the last plan (node_group_specs of the prior state)
// while the list still offers it, unless a rebalance asks to choose again;
// then it only marks that layout, so that a change moves the replicas.
func keepLayouts(req *planner.Request, priorSpecs tftypes.Value) {
	var specs map[string]tftypes.Value
	if !priorSpecs.IsKnown() || priorSpecs.IsNull() || priorSpecs.As(&specs) != nil {
		return
	}
	for i, g := range req.NodeGroups {
		if len(g.Layouts) == 0 {
			continue
		}
		var spec map[string]tftypes.Value
		if v, ok := specs[g.Name]; !ok || v.As(&spec) != nil {
			continue
		}
		prior := rawString(spec["mig_profile"])
		for li, l := range g.Layouts {
			if l.Sharing.MIGName() != prior || prior == "" {
				continue
			}
			if !req.Rebalance {
				g.Layouts = []planner.Layout{l}
			} else {
				g.Layouts = slices.Clone(g.Layouts)
				g.Layouts[li].Previous = true
			}
			req.NodeGroups[i] = g
		}
	}
}
