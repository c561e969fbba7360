package planner

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// quotaLimits keeps every quota: over the node groups a quota counts,
// Σ nodes × what one node counts stays within its limit. Node counts come
// from the occupancy model (trials) and from binding (bindCap), so the
// groups of one quota share its headroom as a linear bound, the way the
// exact MILP models it.
type quotaLimits struct {
	quotas  []Quota
	members [][]quotaMember // per quota: the groups it counts
	ofGroup [][]int         // per group: the quotas counting it
	// lastOn[gi] is the quota that last refused growing group gi, -1 for
	// none: what an explanation names.
	lastOn []int
}

// quotaMember is one group a quota counts, and what one node of it counts.
type quotaMember struct{ group, perNode int }

// filterQuota names quotas in explanations.
const filterQuota = "quota"

func newQuotaLimits(s *assignment) *quotaLimits {
	// By name, so that the order of the request's quotas changes nothing.
	quotas := slices.Clone(s.req.Quotas)
	slices.SortFunc(quotas, func(a, b Quota) int { return strings.Compare(a.Name, b.Name) })
	q := &quotaLimits{quotas: quotas, members: make([][]quotaMember, len(quotas)),
		ofGroup: make([][]int, len(s.groups)), lastOn: make([]int, len(s.groups))}
	for gi := range q.lastOn {
		q.lastOn[gi] = -1
	}
	for qi, quota := range quotas {
		for _, name := range slices.Sorted(maps.Keys(quota.PerNode)) {
			if gi := s.groupIndex(name); gi >= 0 {
				q.members[qi] = append(q.members[qi], quotaMember{gi, quota.PerNode[name]})
				q.ofGroup[gi] = append(q.ofGroup[gi], qi)
			}
		}
	}
	return q
}

// groupsOf lists the groups quota qi counts (none for -1).
func (q *quotaLimits) groupsOf(qi int) []int {
	if qi < 0 {
		return nil
	}
	out := make([]int, len(q.members[qi]))
	for i, m := range q.members[qi] {
		out[i] = m.group
	}
	return out
}

// partnersOf lists the other groups the quotas of group gi count.
func (q *quotaLimits) partnersOf(gi int) []int {
	var out []int
	for _, qi := range q.ofGroup[gi] {
		for _, m := range q.members[qi] {
			if m.group != gi && !slices.Contains(out, m.group) {
				out = append(out, m.group)
			}
		}
	}
	return out
}

// usedNow is what quota qi counts at the assignment's node counts.
func (q *quotaLimits) usedNow(s *assignment, qi int) int {
	return q.usage(qi, func(gi int) int { return s.nodes.count[gi] })
}

// usage is what quota qi counts with each group at nodes(gi) nodes.
func (q *quotaLimits) usage(qi int, nodes func(gi int) int) int {
	used := 0
	for _, m := range q.members[qi] {
		used += m.perNode * nodes(m.group)
	}
	return used
}

func (q *quotaLimits) refuses(s *assignment) string {
	after := func(gi int) int {
		for _, ch := range s.trial {
			if ch.group == gi {
				return s.trialNodesOf(gi)
			}
		}
		return s.nodes.count[gi]
	}
	for _, ch := range s.trial {
		if ch.delta <= 0 || len(q.ofGroup[ch.group]) == 0 || s.trialNodesOf(ch.group) <= s.nodes.count[ch.group] {
			continue // only a group that grows can break a quota
		}
		for _, qi := range q.ofGroup[ch.group] {
			if used := q.usage(qi, after); used > q.quotas[qi].Limit && used > q.usedNow(s, qi) {
				q.lastOn[ch.group] = qi
				return filterQuota
			}
		}
	}
	return ""
}

func (*quotaLimits) record(*assignment, change) {}

// keeps refuses a previous replica whose node would take a quota past its
// limit, given the nodes the replicas kept so far hold.
func (q *quotaLimits) keeps(s *assignment, mi, oi int, r Replica) string {
	gi := s.opts[mi][oi].group
	extent := 0
	for _, st := range r.Stages {
		extent = max(extent, st.Node+1)
	}
	nodes := func(g int) int {
		n := s.allocs[g].usedNodes(s.groups[g].MinNodes)
		if g == gi {
			n = max(n, extent)
		}
		return n
	}
	for _, qi := range q.ofGroup[gi] {
		if used, quota := q.usage(qi, nodes), q.quotas[qi]; used > quota.Limit {
			return fmt.Sprintf("its node %d of node group %q would take quota %q to %d %s, over its limit of %d",
				extent-1, s.groups[gi].Name, quota.Name, used, quota.Unit, quota.Limit)
		}
	}
	return ""
}

// explain names the quota that refused the cheapest option only a quota
// refused, how much the missing replicas ask of it, and the raise that
// lets them fit (with max_nodes when the group is too small as well).
func (q *quotaLimits) explain(s *assignment, mi, missing int) (string, []string) {
	best := s.cheapestOption(mi, func(oi int) bool {
		return s.blockerOf(mi, oi) == filterQuota && q.lastOn[s.opts[mi][oi].group] >= 0
	})
	if best < 0 {
		return "", nil
	}
	gi := s.opts[mi][best].group
	g := s.groups[gi]
	need := s.nodesWith(gi, change{mi, best, missing})
	nodes := func(g int) int {
		if g == gi {
			return max(need, s.nodes.count[g])
		}
		return s.nodes.count[g]
	}
	var details, remedies []string
	for _, qi := range q.ofGroup[gi] {
		quota := q.quotas[qi]
		asked := q.usage(qi, nodes)
		if asked <= quota.Limit {
			continue
		}
		used := q.usedNow(s, qi)
		details = append(details, fmt.Sprintf("quota %q counts %d of its %d %s, and %d more nodes of node group %q ask %d more",
			quota.Name, used, quota.Limit, quota.Unit, need-s.nodes.count[gi], g.Name, asked-used))
		remedy := fmt.Sprintf("raise quota %q to %d %s (node group %q then holds the %d missing replicas)", quota.Name, asked, quota.Unit, g.Name, missing)
		if need > g.MaxNodes {
			remedy += " and " + raiseMaxNodes(g, need, "")
		}
		remedies = append(remedies, remedy)
	}
	if len(details) == 0 {
		return "", nil
	}
	return "; " + strings.Join(details, "; "), remedies
}

// bindCap is the most nodes group gi may bind to within every quota that
// counts it, the groups bound before it holding bound[g] nodes and the
// others the nodes the assignment gave them; max_nodes without a quota.
// Binding group by group under these caps keeps every quota: each cap
// leaves the nodes of the groups still to bind their share.
func (q *quotaLimits) bindCap(s *assignment, gi int, bound []int) int {
	limit := s.groups[gi].MaxNodes
	for _, qi := range q.ofGroup[gi] {
		others, perNode := 0, 0
		for _, m := range q.members[qi] {
			switch {
			case m.group == gi:
				perNode = m.perNode
			case bound[m.group] >= 0:
				others += m.perNode * bound[m.group]
			default:
				others += m.perNode * s.nodes.count[m.group]
			}
		}
		if perNode > 0 {
			limit = min(limit, max(0, (q.quotas[qi].Limit-others)/perNode))
		}
	}
	return limit
}
