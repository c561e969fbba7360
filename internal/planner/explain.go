package planner

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// filterOrder is the order explanations list filters in: the static
// filters, then the constraints.
var filterOrder = []string{filterCloud, filterRegion, filterGPUModel, filterLabels, filterConfidential,
	filterNoNodes, filterShared, filterDegree, filterFraction, filterMemory, filterReplicaNodes, filterSlowNetwork, filterMaxNodes, filterQuota, filterSpread, filterFailure, filterFloor}

const gib = float64(1 << 30)

// explain says why replicas of model mi could not be placed, in the manner
// of kube-scheduler ("0/12 node groups can hold …: 4 cloud, 8 memory per
// GPU") and Nomad ("Dimension memory exhausted"), and what would fix it. It
// reads what the filters excluded and which constraint refused each option
// the last time one more replica was tried (an option no constraint
// refused ran out of nodes while binding); each constraint adds its detail
// and its remedies.
func (s *assignment) explain(mi int, replicas []int) Unplaced {
	md := s.models[mi]
	rep := s.reports[mi]
	counts := map[string]*FilterCount{}
	for k, v := range rep.counts {
		c := *v
		counts[k] = &c
	}
	for oi, o := range s.opts[mi] {
		name := s.blockerOf(mi, oi)
		if name == "" {
			name = filterMaxNodes
		}
		c, ok := counts[name]
		if !ok {
			c = &FilterCount{Filter: name}
			counts[name] = c
		}
		c.Groups++
		c.Nodes += s.groups[o.group].MaxNodes
	}
	u := Unplaced{Model: md.Name, Replicas: replicas}
	var parts []string
	for _, f := range filterOrder {
		if c, ok := counts[f]; ok {
			u.Filters = append(u.Filters, *c)
			parts = append(parts, fmt.Sprintf("%d excluded by %s", c.Groups, f))
		}
	}
	u.Reason = fmt.Sprintf("%d of %d replicas of %q cannot be placed: 0/%d node groups can hold one",
		len(replicas), md.Replicas, md.Name, len(s.groups))
	if len(parts) > 0 {
		u.Reason += " (" + strings.Join(parts, ", ") + ")"
	}
	if rep.closest != nil && len(s.opts[mi]) == 0 {
		c := rep.closest
		u.ShortfallBytes = c.ShortfallBytes()
		u.Reason += fmt.Sprintf("; closest: node group %q at tensor_parallel %d × pipeline_parallel %d needs %.1f GiB per GPU of %.1f GiB usable, %.1f GiB short",
			rep.closestName, c.T, c.P, float64(c.NeedBytes)/gib, float64(c.UsableBytes)/gib, float64(c.ShortfallBytes())/gib)
	}
	// Capacity's remedy first: it is the one that changes least.
	var first, rest []string
	for _, c := range s.constraints {
		detail, remedies := c.explain(s, mi, len(replicas))
		u.Reason += detail
		if c == constraint(s.capacity) {
			first = append(first, remedies...)
		} else {
			rest = append(rest, remedies...)
		}
	}
	rest = append(rest, s.filterRemedies(mi, len(replicas), counts)...)
	sort.Strings(rest)
	u.Remedies = append(append([]string(nil), first...), rest...)
	u.Reason += "."
	return u
}

// filterRemedies proposes changes that would let the static filters pass
// the model on more groups, each checked against the filters themselves.
func (s *assignment) filterRemedies(mi, missing int, counts map[string]*FilterCount) []string {
	md := s.models[mi]
	var out []string
	if len(s.opts[mi]) == 0 && counts[filterReplicaNodes] != nil {
		out = append(out, s.replicaNodesRemedies(mi, missing)...)
	}
	// A group that a filter excluded but whose memory fits.
	relaxed := []struct {
		filter string
		drop   func(m *ModelDemand)
		what   func(g NodeGroup) string
	}{
		{filterCloud, func(m *ModelDemand) { m.Clouds = nil }, func(g NodeGroup) string { return fmt.Sprintf("allow cloud %q", g.Cloud) }},
		{filterRegion, func(m *ModelDemand) { m.Regions = nil }, func(g NodeGroup) string { return fmt.Sprintf("allow region %q", g.Region) }},
		{filterGPUModel, func(m *ModelDemand) { m.GPUModels = nil }, func(g NodeGroup) string { return fmt.Sprintf("allow GPU model %q", g.GPUModel) }},
		{filterLabels, func(m *ModelDemand) { m.Labels = nil }, func(NodeGroup) string { return "drop the required labels" }},
		{filterConfidential, func(m *ModelDemand) { m.Confidential = false }, func(NodeGroup) string { return "drop the confidential-computing requirement" }},
		{filterShared, func(m *ModelDemand) { m.ShareGPU = true; m.TensorParallel, m.PipelineParallel = 0, 0 },
			func(NodeGroup) string { return "set constraints.share_gpu to run on shared GPUs" }},
		{filterFraction, func(m *ModelDemand) { m.GPUMemoryFraction = 0 },
			func(g NodeGroup) string {
				return fmt.Sprintf("lower constraints.gpu_memory_fraction to at most %g, the share of node group %q", g.GPU().Utilization, g.Name)
			}},
	}
	if counts[filterSlowNetwork] != nil {
		out = append(out, s.slowNetworkRemedies(mi, missing)...)
	}
	for _, r := range relaxed {
		if counts[r.filter] == nil {
			continue
		}
		m := md
		r.drop(&m)
		if gi, o, ok := s.firstFit(m, s.opts[mi]); ok {
			g := s.groups[gi]
			out = append(out, fmt.Sprintf("%s (node group %q fits a replica at tensor_parallel %d)", r.what(g), g.Name, o.tensor))
		}
	}
	if len(s.opts[mi]) == 0 && counts[filterMemory] != nil {
		if md.TensorParallel > 0 {
			m := md
			m.TensorParallel = 0
			if gi, o, ok := s.firstFit(m, nil); ok {
				out = append(out, fmt.Sprintf("use tensor_parallel %d (fits node group %q)", o.tensor, s.groups[gi].Name))
			}
		}
		for _, prec := range []memory.Precision{memory.FP8, memory.Int4} {
			if prec == md.Memory.Precision || (prec == memory.FP8 && md.Memory.Precision.IsInt4()) {
				continue
			}
			req := md.Memory.Request
			req.Precision = prec
			est, err := memory.New(req)
			if err != nil {
				continue
			}
			m := md
			m.Memory = est
			if gi, o, ok := s.firstFit(m, nil); ok {
				out = append(out, fmt.Sprintf("use precision %q (fits node group %q at tensor_parallel %d)", prec, s.groups[gi].Name, o.tensor))
				break
			}
		}
		if c := s.reports[mi].closest; c != nil && c.KVCapacityTokens > 0 {
			seqs := c.KVCapacityTokens / int64(md.Memory.ContextTokens)
			if seqs >= 1 {
				out = append(out, fmt.Sprintf("lower max_concurrent_sequences to %d (fits node group %q)", seqs, s.reports[mi].closestName))
			}
		}
	}
	return out
}

// slowNetworkRemedies: letting the stages span an Ethernet group's nodes,
// checked against the filters, and with the max_nodes that then takes when
// the group is also too small.
func (s *assignment) slowNetworkRemedies(mi, missing int) []string {
	m := s.models[mi]
	m.PipelineOverAnyNetwork = true
	const allow = "set constraints.pipeline_over_any_network to let pipeline stages span node group %q over Ethernet"
	if gi, o, ok := s.firstFit(m, s.opts[mi]); ok {
		return []string{fmt.Sprintf(allow+" (it fits a replica at tensor_parallel %d × pipeline_parallel %d)",
			s.groups[gi].Name, o.tensor, o.pipeline)}
	}
	_, rep := feasibleOptions(m, s.groups, gpuKinds(s.groups), newEstimateMemo())
	if len(rep.fewNodes) == 0 {
		return nil
	}
	g, raise := s.raiseForFewestNodes(rep.fewNodes, missing)
	return []string{fmt.Sprintf(allow+" and %s", g.Name, raise)}
}

// raiseForFewestNodes is, of the groups too small for a replica (few, not
// empty), the one whose replica spans the fewest nodes, and the remedy
// raising its max_nodes to hold missing replicas.
func (s *assignment) raiseForFewestNodes(few []nodeShortfall, missing int) (NodeGroup, string) {
	best := few[0]
	for _, f := range few[1:] {
		if f.nodes < best.nodes {
			best = f
		}
	}
	g := s.groups[best.group]
	return g, raiseMaxNodes(g, replicaNodes(best.tensor, best.pipeline*missing, g.GPUsPerNode), fmt.Sprintf(
		" (a replica at tensor_parallel %d × pipeline_parallel %d spans %d nodes)", best.tensor, best.pipeline, best.nodes))
}

// firstFit finds the cheapest group (per replica) where a variant of a model
// passes every filter, leaving out the groups of already.
func (s *assignment) firstFit(m ModelDemand, already []option) (int, option, bool) {
	opts, _ := feasibleOptions(m, s.groups, gpuKinds(s.groups), newEstimateMemo())
	skip := map[int]bool{}
	for _, o := range already {
		skip[o.group] = true
	}
	found := false
	var best option
	for _, o := range opts {
		if !skip[o.group] && (!found || s.obj.perReplica(&s.groups[o.group], o) < s.obj.perReplica(&s.groups[best.group], best)) {
			best, found = o, true
		}
	}
	return best.group, best, found
}

// raiseMaxNodes proposes max_nodes = need for group g, or, beyond the limit
// a group may have, another node group; why says what needs the nodes.
func raiseMaxNodes(g NodeGroup, need int, why string) string {
	if need <= maxNodesPerGroup {
		return fmt.Sprintf("raise max_nodes of node group %q to %d%s", g.Name, need, why)
	}
	return fmt.Sprintf("add node groups: node group %q would need %d nodes%s, beyond the limit of %d nodes per group",
		g.Name, need, why, maxNodesPerGroup)
}

// replicaNodesRemedies are the fixes for a model whose replica fits the
// memory of some groups but spans more nodes than their max_nodes: raise
// max_nodes of the group needing the fewest to hold the missing replicas,
// or, with a fixed pipeline degree, a smaller degree with which a group as
// it is holds them.
func (s *assignment) replicaNodesRemedies(mi, missing int) []string {
	md := s.models[mi]
	few := s.reports[mi].fewNodes
	if len(few) == 0 {
		return nil
	}
	_, raise := s.raiseForFewestNodes(few, missing)
	out := []string{raise}
	if md.PipelineParallel > 1 {
		for _, f := range few {
			g := s.groups[f.group]
			for pp := f.pipeline - 1; pp >= 1; pp-- {
				if md.Memory.CheckPipelineParallel(pp) == nil && md.Memory.PerGPU(g.GPU(), f.tensor, pp).Fits &&
					replicaNodes(f.tensor, pp*missing, g.GPUsPerNode) <= g.MaxNodes {
					out = append(out, fmt.Sprintf("use pipeline_parallel %d (fits node group %q)", pp, g.Name))
					return out
				}
			}
		}
	}
	return out
}
