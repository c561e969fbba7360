package planner

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// Dynamic filters: capacity that ran out while placing.
const (
	filterMaxNodes = "free GPUs within max_nodes"
	filterSpread   = "spread"
	filterFailure  = "min_replicas_on_failure"
	filterFloor    = "on_demand_floor"
)

var filterOrder = []string{filterCloud, filterRegion, filterGPUModel, filterLabels, filterConfidential,
	filterNoNodes, filterDegree, filterMemory, filterReplicaNodes, filterMaxNodes, filterSpread, filterFailure, filterFloor}

const gib = float64(1 << 30)

// explain says why replicas of model mi could not be placed, in the manner
// of kube-scheduler ("0/12 node groups can hold …: 4 cloud, 8 memory per
// GPU") and Nomad ("Dimension memory exhausted"), and what would fix it.
func (p *plan) explain(mi int, replicas []int) Unplaced {
	md := p.models[mi]
	rep := p.reports[mi]
	counts := map[string]*FilterCount{}
	for k, v := range rep.counts {
		c := *v
		counts[k] = &c
	}
	needNew := p.domainKind(mi) != "" && p.distinctDomains(mi) < md.Spread.MinDomains
	for _, o := range p.opts[mi] {
		g := p.groups[o.group]
		name := filterMaxNodes
		if p.isSpot(o.group) && p.spotRoom(mi) <= 0 {
			name = filterFloor
		} else if c := p.domains[mi][p.domain(mi, o)]; p.domainKind(mi) != "" && (c >= p.cap(mi) || (needNew && c > 0)) {
			name = filterSpread
			if md.MinReplicasOnFailure.of(p.domainKind(mi)) > 0 && c >= p.cap(mi) {
				name = filterFailure
			}
		}
		c, ok := counts[name]
		if !ok {
			c = &FilterCount{Filter: name}
			counts[name] = c
		}
		c.Groups++
		c.Nodes += g.MaxNodes
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
		len(replicas), md.Replicas, md.Name, len(p.groups))
	if len(parts) > 0 {
		u.Reason += " (" + strings.Join(parts, ", ") + ")"
	}
	if rep.closest != nil && len(p.opts[mi]) == 0 {
		c := rep.closest
		u.ShortfallBytes = c.ShortfallBytes()
		u.Reason += fmt.Sprintf("; closest: node group %q at tensor_parallel %d × pipeline_parallel %d needs %.1f GiB per GPU of %.1f GiB usable, %.1f GiB short",
			rep.closestName, c.T, c.P, float64(c.NeedBytes)/gib, float64(c.UsableBytes)/gib, float64(c.ShortfallBytes())/gib)
	}
	if kind := p.domainKind(mi); counts[filterFailure] != nil {
		n := md.MinReplicasOnFailure.of(kind)
		var full []string
		for _, d := range slices.Sorted(maps.Keys(p.domains[mi])) {
			if p.domains[mi][d] >= p.cap(mi) {
				full = append(full, fmt.Sprintf("%q", d))
			}
		}
		u.Reason += fmt.Sprintf("; %s %s already hold %d replicas each, the most one %s may hold while %d must survive its loss",
			kind, strings.Join(full, ", "), p.cap(mi), kind, n)
	}
	u.Remedies = p.remedies(mi, len(replicas), counts)
	u.Reason += "."
	return u
}

// remedies proposes concrete changes, each checked against the planner's
// own filters, cheapest first.
func (p *plan) remedies(mi, missing int, counts map[string]*FilterCount) []string {
	md := p.models[mi]
	var out []string
	// Capacity: raise max_nodes of the group that would hold them cheapest.
	if len(p.opts[mi]) > 0 && (counts[filterMaxNodes] != nil || counts[filterFailure] != nil || counts[filterFloor] != nil) {
		best := -1
		for oi, o := range p.opts[mi] {
			if p.domainKind(mi) != "" && p.domains[mi][p.domain(mi, o)] >= p.cap(mi) {
				continue // a full domain: more nodes there would not help
			}
			if p.isSpot(o.group) && p.spotRoom(mi) <= 0 {
				continue // the on-demand floor keeps it off spot
			}
			if best < 0 || p.amortized(o) < p.amortized(p.opts[mi][best]) {
				best = oi
			}
		}
		if best < 0 && counts[filterFloor] != nil {
			out = append(out, fmt.Sprintf("add on-demand capacity: %d replicas of %q must run on on-demand node groups", md.OnDemandFloor, md.Name))
			return out
		}
		if best < 0 {
			out = append(out, fmt.Sprintf("add a node group in another %s: at most %d replicas of %q may run in one", p.domainKind(mi), p.cap(mi), md.Name))
			return out
		}
		o := p.opts[mi][best]
		out = append(out, raiseMaxNodes(p.groups[o.group], p.nodesWith(mi, o, missing), ""))
	}
	if len(p.opts[mi]) == 0 && counts[filterReplicaNodes] != nil {
		out = append(out, p.replicaNodesRemedies(mi, missing)...)
	}
	if counts[filterSpread] != nil {
		out = append(out, p.spreadRemedy(mi))
	}
	// Constraints: a group that a constraint excluded but whose memory fits.
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
	}
	for _, r := range relaxed {
		if counts[r.filter] == nil {
			continue
		}
		m := md
		r.drop(&m)
		if gi, o, ok := p.firstFit(m, p.opts[mi]); ok {
			g := p.groups[gi]
			out = append(out, fmt.Sprintf("%s (node group %q fits a replica at tensor_parallel %d)", r.what(g), g.Name, o.t))
		}
	}
	if len(p.opts[mi]) == 0 && counts[filterMemory] != nil {
		if md.TensorParallel > 0 {
			m := md
			m.TensorParallel = 0
			if gi, o, ok := p.firstFit(m, nil); ok {
				out = append(out, fmt.Sprintf("use tensor_parallel %d (fits node group %q)", o.t, p.groups[gi].Name))
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
			if gi, o, ok := p.firstFit(m, nil); ok {
				out = append(out, fmt.Sprintf("use precision %q (fits node group %q at tensor_parallel %d)", prec, p.groups[gi].Name, o.t))
				break
			}
		}
		if c := p.reports[mi].closest; c != nil && c.KVCapacityTokens > 0 {
			seqs := c.KVCapacityTokens / int64(md.Memory.ContextTokens)
			if seqs >= 1 {
				out = append(out, fmt.Sprintf("lower max_concurrent_sequences to %d (fits node group %q)", seqs, p.reports[mi].closestName))
			}
		}
	}
	sort.Strings(out[min(len(out), 1):]) // keep the capacity remedy first
	return out
}

// firstFit finds the cheapest group (per replica) where a variant of a model
// passes every filter, leaving out the groups of already.
func (p *plan) firstFit(m ModelDemand, already []option) (int, option, bool) {
	opts, _ := feasibleOptions(m, p.groups)
	skip := map[int]bool{}
	for _, o := range already {
		skip[o.group] = true
	}
	found := false
	var best option
	for _, o := range opts {
		if !skip[o.group] && (!found || p.amortized(o) < p.amortized(best)) {
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
func (p *plan) replicaNodesRemedies(mi, missing int) []string {
	md := p.models[mi]
	few := p.reports[mi].fewNodes
	if len(few) == 0 {
		return nil
	}
	best := few[0]
	for _, f := range few[1:] {
		if f.nodes < best.nodes {
			best = f
		}
	}
	g := p.groups[best.group]
	out := []string{raiseMaxNodes(g, replicaNodes(best.t, best.p*missing, g.GPUsPerNode), fmt.Sprintf(
		" (a replica at tensor_parallel %d × pipeline_parallel %d spans %d nodes)", best.t, best.p, best.nodes))}
	if md.PipelineParallel > 1 {
		for _, f := range few {
			g := p.groups[f.group]
			for pp := f.p - 1; pp >= 1; pp-- {
				if md.Memory.CheckPipelineParallel(pp) == nil && md.Memory.PerGPU(g.GPU(), f.t, pp).Fits &&
					replicaNodes(f.t, pp*missing, g.GPUsPerNode) <= g.MaxNodes {
					out = append(out, fmt.Sprintf("use pipeline_parallel %d (fits node group %q)", pp, g.Name))
					return out
				}
			}
		}
	}
	return out
}

// spreadRemedy is the fix for replicas a spread cap keeps out: raise the
// caps the model sets (max_share, or lower min_domains), or add node groups
// in more domains.
func (p *plan) spreadRemedy(mi int) string {
	md := p.models[mi]
	kind := p.domainKind(mi)
	var fixes []string
	if md.Spread.MaxShare > 0 {
		fixes = append(fixes, fmt.Sprintf("raise spread.max_share of %q", md.Name))
	}
	if md.Spread.MinDomains > 1 && p.distinctDomains(mi) < md.Spread.MinDomains {
		fixes = append(fixes, fmt.Sprintf("lower spread.min_domains of %q", md.Name))
	}
	if kind == SpreadNode {
		return strings.Join(append(fixes, fmt.Sprintf("raise max_nodes or add node groups: spread across node puts every replica of %q on a node of its own", md.Name)), " or ")
	}
	return strings.Join(append(fixes, fmt.Sprintf("add node groups in more %s domains", kind)), " or ")
}
