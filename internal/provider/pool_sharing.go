package provider

import (
	"fmt"
	"math"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/limits"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// A node group's gpu_sharing: its GPUs split into MIG instances of one
// profile (the GPU Operator's uniform "all-<profile>" layout), or
// time-sliced by several engines (the device plugin's time-slicing
// replicas). The planner then sees shares (planner.NodeGroup.Shared).

type gpuSharingModel struct {
	MIGProfile    types.String `tfsdk:"mig_profile"`
	EnginesPerGPU types.Int64  `tfsdk:"engines_per_gpu"`
}

func gpuSharingAttribute() schema.Attribute {
	return schema.SingleNestedAttribute{Optional: true,
		MarkdownDescription: "Share every GPU of the group among several replicas of models that set `constraints.share_gpu` " +
			"(each at tensor and pipeline degree 1). Set exactly one of `mig_profile` and `engines_per_gpu`. The hand-off labels the " +
			"nodes (`nvidia.com/mig.config` or `nvidia.com/device-plugin.config`) and requests the share as the device plugin " +
			"advertises it. Declare one node group per layout you allow: the plan sizes each, unused ones at 0 nodes.",
		Attributes: map[string]schema.Attribute{
			"mig_profile": schema.StringAttribute{Optional: true,
				MarkdownDescription: "MIG profile every GPU is partitioned into, as NVIDIA names it (`1g.10gb`, `2g.20gb`, `3g.40gb` on " +
					"an A100-80GB or H100-80GB): the GPU Operator's layout `all-<profile>`, with its instances per GPU and the memory a " +
					"process sees in one (the guide lists them per GPU model). Pods request `nvidia.com/mig-<profile>`: the device " +
					"plugin's `mixed` MIG strategy."},
			"engines_per_gpu": schema.Int64Attribute{Optional: true,
				MarkdownDescription: withLimit("Engines sharing each GPU by time-slicing (or MPS): each gets `1/engines_per_gpu` of the "+
					"GPU memory utilization (vLLM `--gpu-memory-utilization` is a fraction of the whole device; the engines' fractions "+
					"sum within it), and pods request one `nvidia.com/gpu` of the device plugin's time-slicing replicas.", limits.EnginesPerGPU),
				Validators: []validator.Int64{intLimit{limits.EnginesPerGPU}}},
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
	switch {
	case s.MIGProfile.IsNull() == s.EnginesPerGPU.IsNull():
		diags.AddAttributeError(at, "Invalid GPU sharing",
			"gpu_sharing sets exactly one of mig_profile (MIG instances) and engines_per_gpu (time-slicing).")
	case !s.MIGProfile.IsNull():
		p, err := catalog.LookupMIGProfile(g.GPUModel, s.MIGProfile.ValueString())
		if err != nil {
			diags.AddAttributeError(at.AtName("mig_profile"), "Unknown MIG profile", fmt.Sprintf("gpu_sharing.mig_profile: %s.", err))
			return g
		}
		return g.Shared(planner.GPUSharing{MIGProfile: p.Profile, PerGPU: p.PerGPU}, int64(math.Round(p.MemoryGiB*memory.GiB)))
	default:
		if !checkInt(at.AtName("engines_per_gpu"), limits.EnginesPerGPU, s.EnginesPerGPU, diags) {
			return g
		}
		n := clampInt(s.EnginesPerGPU.ValueInt64())
		if g.GPUsPerNode*n > limits.MaxGPUsPerNode {
			diags.AddAttributeError(at.AtName("engines_per_gpu"), "Too many GPU shares",
				fmt.Sprintf("gpu_sharing.engines_per_gpu: %d GPUs × %d engines is %d shares per node, above the %d a node may hold.",
					g.GPUsPerNode, n, g.GPUsPerNode*n, limits.MaxGPUsPerNode))
			return g
		}
		return g.Shared(planner.GPUSharing{PerGPU: n}, 0)
	}
	return g
}
