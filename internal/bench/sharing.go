package bench

import (
	"fmt"
	"strings"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
	"github.com/mcllm/terraform-provider-mcllm/internal/sharing"
)

// The sharing comparison (issue 15): 40 small models, one replica each, on
// single-GPU and 8-GPU nodes of three clouds, planned on whole GPUs and
// again with MIG and time-slicing twins of the same node groups; the rows
// report the physical GPUs holding a replica and the cost, by the planner
// and by the exact optimum.

// sharingModels are the 0.6-8B catalog models the comparison draws from,
// at the precisions small deployments serve them.
var sharingModels = []struct {
	id   string
	prec memory.Precision
}{
	{"qwen3-0.6b", memory.BF16}, {"phi-3-mini-4k", memory.BF16}, {"qwen2.5-7b", memory.Int4},
	{"llama-3.1-8b", memory.FP8}, {"qwen3-8b", memory.Int4}, {"mistral-7b-v0.3", memory.Int4},
	{"gemma-2-9b", memory.Int4}, {"llama-3.1-8b", memory.Int4},
}

// sharingGroups are the whole-GPU groups: catalog types with list prices.
var sharingGroups = []string{"azure/Standard_NC24ads_A100_v4", "aws/p5.48xlarge", "aws/g6.xlarge", "gcp/a2-ultragpu-1g", "aws/g6e.xlarge"}

// SharingCase builds the comparison's request, with or without the
// sharing twins: every MIG layout of the A100-80GB and H100 groups (each
// uniform one and the mixed all-balanced), and
// 2-engine time-slicing and eighths that engines take blocks of
// (GPUSharing.Fractional) of the L4 and L40S ones.
func SharingCase(shared bool) (planner.Request, error) {
	req := planner.Request{Strategy: planner.StrategyCost}
	for _, key := range sharingGroups {
		cloud, name, _ := strings.Cut(key, "/")
		it, err := catalog.LookupInstanceType(cloud, name)
		if err != nil {
			return req, err
		}
		g := planner.NodeGroup{Name: it.Cloud + "-" + it.Name, Cloud: it.Cloud, Region: it.Regions[0], GPUModel: it.GPUModel, GPUsPerNode: it.GPUs,
			GPUMemoryBytes: memory.GPUFromGiB(it.VisibleMemoryGiB, utilization).VisibleBytes, Utilization: utilization,
			PricePerHour: *it.PriceUSDPerHour, MaxNodes: 40, CapacityType: planner.CapacityOnDemand, FastNetwork: it.FastNetwork()}
		req.NodeGroups = append(req.NodeGroups, g)
		if !shared {
			continue
		}
		for _, p := range catalog.MIGProfiles(g.GPUModel) {
			l := sharing.Uniform(p)
			twin := g.Shared(l.Sharing, l.MIGBytes)
			twin.Name += "-mig-" + p.Profile
			req.NodeGroups = append(req.NodeGroups, twin)
		}
		for _, m := range catalog.MIGLayouts(g.GPUModel) {
			twin := g.Shared(sharing.Mixed(m).Sharing, 0)
			twin.Name += "-mig-" + m.Name
			req.NodeGroups = append(req.NodeGroups, twin)
		}
		if len(catalog.MIGProfiles(g.GPUModel)) == 0 {
			twin := g.Shared(planner.GPUSharing{PerGPU: 2}, 0)
			twin.Name += "-ts2"
			frac := g.Shared(planner.GPUSharing{PerGPU: 8, Fractional: true}, 0)
			frac.Name += "-frac8"
			req.NodeGroups = append(req.NodeGroups, twin, frac)
		}
	}
	for i := range 40 {
		sm := sharingModels[i%len(sharingModels)]
		cm, err := catalog.LookupModel(sm.id)
		if err != nil {
			return req, err
		}
		est, err := memory.New(memory.Request{Arch: cm.Architecture, Precision: sm.prec, ContextTokens: 4096, Concurrency: 1 + i%4})
		if err != nil {
			return req, err
		}
		req.Models = append(req.Models, planner.ModelDemand{Name: fmt.Sprintf("small-%02d-%s", i, sm.id), Memory: est, Replicas: 1, ShareGPU: true})
	}
	return req, nil
}

// physicalGPUsUsed counts the physical GPUs holding at least one replica.
func physicalGPUsUsed(req planner.Request, res *planner.Result) int {
	groups := req.GroupsByName()
	used := map[string]bool{}
	for _, r := range res.Replicas {
		g := groups[r.NodeGroup]
		per := 1
		if g.Sharing != nil {
			per = g.Sharing.PerGPU
		}
		for _, st := range r.Stages {
			for _, gpu := range st.GPUs {
				used[fmt.Sprintf("%s/%d/%d", g.Name, st.Node, gpu/per)] = true
			}
		}
	}
	return len(used)
}

// RunSharing runs the comparison: a row on whole GPUs and a row with
// sharing, each with the planner's and the exact optimum's cost.
func RunSharing(cfg *Config) []Row {
	var rows []Row
	for _, shared := range []bool{false, true} {
		name := "share40-whole"
		if shared {
			name = "share40-shared"
		}
		req, err := SharingCase(shared)
		if err != nil {
			rows = append(rows, Row{Suite: "sharing", Case: name, Error: err.Error()})
			continue
		}
		c := &Case{Suite: "sharing", Name: name, Req: req}
		row := EvalCase(c, cfg, true, 3)
		if res, err := planner.Plan(req); err == nil {
			row.GPUsUsed = ptr(physicalGPUsUsed(req, res))
		}
		cfg.progress("sharing %-14s planner %s (%d GPUs) optimum %s (%s)", name, fmtCost(row.PlannerCost), deref(row.GPUsUsed),
			fmtCost(row.OptimalCost), row.MILPStatus)
		rows = append(rows, row)
	}
	return rows
}
