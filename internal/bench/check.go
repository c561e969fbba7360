package bench

import (
	"fmt"
	"math"
	"slices"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
)

// CheckPlacement verifies a planner result against its request, independently
// of the planner's own bookkeeping: every replica placed exactly once or
// reported unplaced (never both), placed on a
// node group that passes the model's filters, at degrees whose memory fits
// the GPU, with PipelineParallel stages of TensorParallel GPUs on nodes
// within max_nodes, no GPU used twice, spread caps and min_domains kept, and
// the reported node counts and cost consistent with the placement.
func CheckPlacement(req planner.Request, res *planner.Result) error {
	unplaced := map[string]bool{}
	for _, u := range res.Unplaced {
		for _, i := range u.Replicas {
			unplaced[fmt.Sprintf("%s/%d", u.Model, i)] = true
		}
	}
	models, groups := req.ModelsByName(), req.GroupsByName()
	seen := map[string]bool{}
	used := map[string]map[int]uint64{} // group → node → GPU mask
	highest := map[string]int{}         // group → highest node used + 1
	inCloud := map[string]map[string]int{}
	inDomain := map[string]map[string]int{} // model → its caps' domain → replicas
	onSpot := map[string]int{}
	for _, r := range res.Replicas {
		m, ok := models[r.Model]
		if !ok {
			return fmt.Errorf("replica %s: unknown model", r.Key())
		}
		if r.Index < 0 || r.Index >= m.Replicas || seen[r.Key()] || unplaced[r.Key()] {
			return fmt.Errorf("replica %s: index out of range or duplicate", r.Key())
		}
		seen[r.Key()] = true
		g, ok := groups[r.NodeGroup]
		if !ok {
			return fmt.Errorf("replica %s: unknown node group %q", r.Key(), r.NodeGroup)
		}
		if err := constraintsAllow(m, g); err != nil {
			return fmt.Errorf("replica %s on %s: %w", r.Key(), g.Name, err)
		}
		if (m.TensorParallel > 0 && r.TensorParallel != m.TensorParallel) || (m.PipelineParallel > 0 && r.PipelineParallel != m.PipelineParallel) {
			return fmt.Errorf("replica %s: t%d p%d, the model fixes t%d p%d", r.Key(), r.TensorParallel, r.PipelineParallel, m.TensorParallel, m.PipelineParallel)
		}
		if r.TensorParallel < 1 || r.PipelineParallel < 1 || len(r.Stages) != r.PipelineParallel {
			return fmt.Errorf("replica %s: degrees t%d p%d with %d stages", r.Key(), r.TensorParallel, r.PipelineParallel, len(r.Stages))
		}
		if err := m.Memory.CheckTensorParallel(r.TensorParallel); err != nil {
			return fmt.Errorf("replica %s: %w", r.Key(), err)
		}
		need := m.Memory.PerGPU(g.ReplicaGPU(r), r.TensorParallel, r.PipelineParallel)
		if !need.Fits {
			return fmt.Errorf("replica %s: t%d p%d does not fit the GPUs of %s", r.Key(), r.TensorParallel, r.PipelineParallel, g.Name)
		}
		if used[g.Name] == nil {
			used[g.Name] = map[int]uint64{}
		}
		for _, s := range r.Stages {
			if s.Node < 0 || s.Node >= g.MaxNodes {
				return fmt.Errorf("replica %s: node %d outside max_nodes %d of %s", r.Key(), s.Node, g.MaxNodes, g.Name)
			}
			k := len(s.GPUs)
			switch {
			case g.Partitioned(): // one engine on one MIG instance of the layout, whole
				if !isInstance(g, s.GPUs) {
					return fmt.Errorf("replica %s: slots %v are no instance of layout %s", r.Key(), s.GPUs, g.Sharing.MIGLayout)
				}
			case g.Fractional(): // one engine on an aligned power-of-two block of one GPU's slots
				if k == 0 || k&(k-1) != 0 || k > g.Sharing.PerGPU || s.GPUs[0]%k != 0 || s.GPUs[k-1] != s.GPUs[0]+k-1 {
					return fmt.Errorf("replica %s: slots %v are no aligned block of one GPU", r.Key(), s.GPUs)
				}
			case k != r.TensorParallel:
				return fmt.Errorf("replica %s: a stage of %d GPUs at t%d", r.Key(), len(s.GPUs), r.TensorParallel)
			}
			for _, gpu := range s.GPUs {
				if gpu < 0 || gpu >= g.GPUsPerNode {
					return fmt.Errorf("replica %s: GPU %d on a node of %d", r.Key(), gpu, g.GPUsPerNode)
				}
				bit := uint64(1) << gpu
				if used[g.Name][s.Node]&bit != 0 {
					return fmt.Errorf("replica %s: GPU %d of node %d of %s used twice", r.Key(), gpu, s.Node, g.Name)
				}
				used[g.Name][s.Node] |= bit
			}
			highest[g.Name] = max(highest[g.Name], s.Node+1)
		}
		if inCloud[m.Name] == nil {
			inCloud[m.Name] = map[string]int{}
		}
		inCloud[m.Name][g.Cloud]++
		if inDomain[m.Name] == nil {
			inDomain[m.Name] = map[string]int{}
		}
		inDomain[m.Name][domainOf(g, capsOf(m).kind)]++
		if g.CapacityType == planner.CapacitySpot {
			onSpot[m.Name]++
		}
	}
	for _, m := range req.Models {
		missing := 0
		for i := 0; i < m.Replicas; i++ {
			key := fmt.Sprintf("%s/%d", m.Name, i)
			if unplaced[key] {
				missing++
			} else if !seen[key] {
				return fmt.Errorf("replica %s neither placed nor reported unplaced", key)
			}
		}
		caps := capsOf(m)
		if onSpot[m.Name] > caps.spot {
			return fmt.Errorf("model %s: %d replicas on spot, at most %d (on_demand_floor %d)", m.Name, onSpot[m.Name], caps.spot, m.OnDemandFloor)
		}
		for d, n := range inDomain[m.Name] {
			if caps.kind != "" && n > caps.perDomain {
				return fmt.Errorf("model %s: %d replicas in %s %s, cap %d", m.Name, n, caps.kind, d, caps.perDomain)
			}
		}
		if m.Spread.Across != planner.SpreadCloud || m.Replicas == 0 {
			continue
		}
		if missing == 0 && len(inCloud[m.Name]) < m.Spread.MinDomains {
			return fmt.Errorf("model %s: %d clouds used, min_domains %d", m.Name, len(inCloud[m.Name]), m.Spread.MinDomains)
		}
	}
	cost := 0.0
	reported := map[string]planner.GroupResult{}
	for _, gr := range res.Groups {
		reported[gr.Name] = gr
	}
	for _, g := range req.NodeGroups {
		gr := reported[g.Name]
		if gr.Nodes < max(highest[g.Name], g.MinNodes) || gr.Nodes > g.MaxNodes {
			return fmt.Errorf("group %s: %d nodes reported, placement needs %d, min %d, max %d",
				g.Name, gr.Nodes, highest[g.Name], g.MinNodes, g.MaxNodes)
		}
		// Reserved nodes at their committed price, used or not; the rest at
		// the group's (independent of planner.NodeGroup.CostAt).
		cost += float64(g.Reserved)*g.ReservedPrice + float64(max(0, gr.Nodes-g.Reserved))*g.PricePerHour
	}
	for _, q := range req.Quotas {
		used := 0
		for name, per := range q.PerNode {
			used += reported[name].Nodes * per
		}
		if used > q.Limit {
			return fmt.Errorf("quota %s: %d %s used, limit %d", q.Name, used, q.Unit, q.Limit)
		}
	}
	if math.Abs(cost-res.CostPerHour) > 1e-6*math.Max(1, cost) {
		return fmt.Errorf("reported cost %.6f, node counts cost %.6f", res.CostPerHour, cost)
	}
	return nil
}

// constraintsAllow checks a model's placement constraints against a node
// group, written out here rather than asked of the planner's filters, so
// that the checker stays independent of them.
func constraintsAllow(m planner.ModelDemand, g planner.NodeGroup) error {
	allowed := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	switch {
	case !allowed(m.Clouds, g.Cloud):
		return fmt.Errorf("cloud %s not in %v", g.Cloud, m.Clouds)
	case !allowed(m.Regions, g.Region):
		return fmt.Errorf("region %s not in %v", g.Region, m.Regions)
	case !allowed(m.GPUModels, g.GPUModel):
		return fmt.Errorf("GPU %s not in %v", g.GPUModel, m.GPUModels)
	case m.Confidential && !g.Confidential:
		return fmt.Errorf("not confidential")
	}
	for k, v := range m.Labels {
		if got, ok := g.Labels[k]; !ok || got != v {
			return fmt.Errorf("label %s=%s missing", k, v)
		}
	}
	return nil
}

// isInstance reports whether slots are exactly one instance of g's mixed
// MIG layout, on one of its GPUs.
func isInstance(g planner.NodeGroup, slots []int) bool {
	if len(slots) == 0 {
		return false
	}
	for k, s := range slots {
		if s != slots[0]+k {
			return false
		}
	}
	per := g.Sharing.PerGPU
	for _, in := range g.Sharing.Instances {
		if len(slots) == in.Slots && slots[0]%per == in.Offset {
			return true
		}
	}
	return false
}
