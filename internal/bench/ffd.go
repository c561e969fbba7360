package bench

import (
	"sort"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
)

// FFDResult is the outcome of the first-fit-decreasing baseline.
type FFDResult struct {
	Cost     float64
	Nodes    []int // per node group, request order
	Unplaced int
}

type ffdNode struct {
	seq  int // global opening order
	free int
	// taken marks the node's MIG instances in use, on a group under a
	// mixed layout (ffdGroup.instances).
	taken []bool
}

type ffdGroup struct {
	gpusPerNode int
	// instances are the sizes, in memory slices, of a node's MIG
	// instances under a mixed layout, smallest first: a replica takes the
	// smallest free one that holds it. nil elsewhere.
	instances []int
	nodes     []ffdNode
	// cursor[t] is the first node that may still have t free GPUs; free
	// only shrinks, so it only advances.
	cursor map[int]int
}

// firstFree is the first node with at least t free GPUs (a free instance
// of t slices or more), or -1.
func (g *ffdGroup) firstFree(t int) int {
	i := g.cursor[t]
	for i < len(g.nodes) && !g.hasRoom(i, t) {
		i++
	}
	g.cursor[t] = i
	if i == len(g.nodes) {
		return -1
	}
	return i
}

// hasRoom reports whether node i has t free GPUs (a free instance of t
// slices or more).
func (g *ffdGroup) hasRoom(i, t int) bool {
	if g.instances != nil {
		return g.freeInstance(i, t) >= 0
	}
	return g.nodes[i].free >= t
}

// freeInstance is the smallest free instance of node i of at least t
// slices, or -1.
func (g *ffdGroup) freeInstance(i, t int) int {
	for k, size := range g.instances {
		if size >= t && !g.nodes[i].taken[k] {
			return k
		}
	}
	return -1
}

// unit is what one stage of s takes on the group: its tensor degree in
// GPUs, or the slices of its instance under a mixed MIG layout.
func (g *ffdGroup) unit(s Shape) int {
	if g.instances != nil {
		return s.GPUs
	}
	return s.T
}

// openNode adds a node to the group, opened seq-th.
func (g *ffdGroup) openNode(seq int) {
	g.nodes = append(g.nodes, ffdNode{seq: seq, free: g.gpusPerNode, taken: make([]bool, len(g.instances))})
}

// take uses one stage of s on node i.
func (g *ffdGroup) take(i int, s Shape) {
	if g.instances != nil {
		g.nodes[i].taken[g.freeInstance(i, s.GPUs)] = true
		return
	}
	g.nodes[i].free -= s.T
}

// FFD is a Karpenter-like baseline: replicas sorted by GPU need descending
// (their smallest shape over the groups they can use), each placed on the
// earliest-opened existing node of a feasible group with enough free GPUs
// (first fit, counting GPUs), else on new nodes of the feasible group with
// the lowest price per node ("cheapest instance first") that has max_nodes
// room. Spread caps are respected by skipping groups of clouds at the
// model's cap, and min_domains by keeping the last replicas for clouds not
// yet used. Nodes min_nodes requires, and reserved nodes, exist from the
// start and are paid for.
func FFD(req planner.Request, shapes [][]Shape) FFDResult {
	groups := make([]*ffdGroup, len(req.NodeGroups))
	seq := 0
	for gi, g := range req.NodeGroups {
		groups[gi] = &ffdGroup{gpusPerNode: g.GPUsPerNode, cursor: map[int]int{}}
		if g.Partitioned() {
			for range g.PhysicalGPUs() {
				for _, in := range g.Sharing.Instances {
					groups[gi].instances = append(groups[gi].instances, in.Slots)
				}
			}
			sort.Ints(groups[gi].instances)
		}
		for i := 0; i < max(g.MinNodes, g.Reserved); i++ { // paid for from the start
			groups[gi].openNode(seq)
			seq++
		}
	}
	type item struct{ model, index, need int }
	var items []item
	for mi, m := range req.Models {
		need := 0
		for i, s := range shapes[mi] {
			if i == 0 || s.GPUs < need {
				need = s.GPUs
			}
		}
		for r := 0; r < m.Replicas; r++ {
			items = append(items, item{mi, r, need})
		}
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if a.need != b.need {
			return a.need > b.need
		}
		if a.model != b.model {
			return req.Models[a.model].Name < req.Models[b.model].Name
		}
		return a.index < b.index
	})

	inCloud := make([]map[string]int, len(req.Models))
	inDomain := make([]map[string]int, len(req.Models))
	onSpot := make([]int, len(req.Models))
	placed := make([]int, len(req.Models))
	for mi := range inCloud {
		inCloud[mi], inDomain[mi] = map[string]int{}, map[string]int{}
	}
	res := FFDResult{Nodes: make([]int, len(req.NodeGroups))}
	quotas := newFFDQuotas(req)
	for _, it := range items {
		m := req.Models[it.model]
		spread := m.Spread.Across == planner.SpreadCloud
		caps := capsOf(m)
		// With as many replicas left as clouds still missing, only a new
		// cloud will do.
		newOnly := spread && m.Replicas-placed[it.model] <= m.Spread.MinDomains-len(inCloud[it.model])
		var cands []Shape
		for _, s := range shapes[it.model] {
			g := req.NodeGroups[s.Group]
			if (caps.kind != "" && inDomain[it.model][domainOf(g, caps.kind)] >= caps.perDomain) ||
				(newOnly && inCloud[it.model][g.Cloud] > 0) ||
				(g.CapacityType == planner.CapacitySpot && onSpot[it.model] >= caps.spot) {
				continue
			}
			cands = append(cands, s)
		}
		// First fit on existing nodes: the group whose first fitting node
		// opened earliest, when it holds every stage.
		best, bestSeq := -1, 0
		for ci, s := range cands {
			g := groups[s.Group]
			first := g.firstFree(g.unit(s))
			if first < 0 || !fitsExisting(g, first, s) {
				continue
			}
			if best < 0 || g.nodes[first].seq < bestSeq {
				best, bestSeq = ci, g.nodes[first].seq
			}
		}
		if best < 0 {
			// Cheapest instance with room for the stages that do not fit
			// its existing nodes.
			for ci, s := range cands {
				ng := req.NodeGroups[s.Group]
				if opens := newNodesFor(groups[s.Group], s); len(groups[s.Group].nodes)+opens > ng.MaxNodes || !quotas.room(s.Group, opens) {
					continue
				}
				if best < 0 || ng.PricePerHour < req.NodeGroups[cands[best].Group].PricePerHour {
					best = ci
				}
			}
		}
		if best < 0 {
			res.Unplaced++
			continue
		}
		s := cands[best]
		g := groups[s.Group]
		quotas.open(s.Group, newNodesFor(g, s))
		for st := 0; st < s.P; st++ {
			i := g.firstFree(g.unit(s))
			if i < 0 {
				g.openNode(seq)
				seq++
				i = len(g.nodes) - 1
			}
			g.take(i, s)
		}
		placed[it.model]++
		ng := req.NodeGroups[s.Group]
		inCloud[it.model][ng.Cloud]++
		inDomain[it.model][domainOf(ng, caps.kind)]++
		if ng.CapacityType == planner.CapacitySpot {
			onSpot[it.model]++
		}
	}
	for gi, g := range groups {
		res.Nodes[gi] = len(g.nodes)
		res.Cost += req.NodeGroups[gi].CostAt(len(g.nodes))
	}
	return res
}

// existingSlots counts the stages of s the group's existing nodes can take,
// from node first on, up to the P it needs.
func existingSlots(g *ffdGroup, first int, s Shape) int {
	slots := 0
	for i := first; first >= 0 && i < len(g.nodes) && slots < s.P; i++ {
		slots += g.nodes[i].free / s.T
	}
	return slots
}

// fitsExisting tells whether all P stages of s fit the group's existing
// nodes, from node first on.
func fitsExisting(g *ffdGroup, first int, s Shape) bool {
	return s.P == 1 || existingSlots(g, first, s) >= s.P
}

// newNodesFor is how many nodes placing s would open in the group.
func newNodesFor(g *ffdGroup, s Shape) int {
	if g.instances != nil { // one stage: on a free instance, or a new node
		if g.firstFree(s.GPUs) >= 0 {
			return 0
		}
		return 1
	}
	slots := existingSlots(g, g.firstFree(s.T), s)
	missing := s.P - slots
	if missing <= 0 {
		return 0
	}
	per := g.gpusPerNode / s.T
	return (missing + per - 1) / per
}

// ffdQuotas tracks what each quota counts as the baseline opens nodes (the
// min_nodes and reserved ones from the start), so that it never opens one
// past a quota.
type ffdQuotas struct {
	limit, used []int
	of          [][]struct{ quota, perNode int } // per group
}

func newFFDQuotas(req planner.Request) *ffdQuotas {
	q := &ffdQuotas{limit: make([]int, len(req.Quotas)), used: make([]int, len(req.Quotas)),
		of: make([][]struct{ quota, perNode int }, len(req.NodeGroups))}
	for gi, g := range req.NodeGroups {
		for qi, quota := range req.Quotas {
			if per, ok := quota.PerNode[g.Name]; ok {
				q.of[gi] = append(q.of[gi], struct{ quota, perNode int }{qi, per})
				q.used[qi] += per * max(g.MinNodes, g.Reserved)
			}
		}
	}
	for qi, quota := range req.Quotas {
		q.limit[qi] = quota.Limit
	}
	return q
}

// room tells whether group gi may open n more nodes within its quotas.
func (q *ffdQuotas) room(gi, n int) bool {
	for _, m := range q.of[gi] {
		if q.used[m.quota]+n*m.perNode > q.limit[m.quota] {
			return false
		}
	}
	return true
}

// open counts n new nodes of group gi.
func (q *ffdQuotas) open(gi, n int) {
	for _, m := range q.of[gi] {
		q.used[m.quota] += n * m.perNode
	}
}
