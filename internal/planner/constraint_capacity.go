package planner

import "fmt"

// capacityLimit keeps every group within max_nodes: the node count the
// occupancy model works out for a trial may not pass it.
type capacityLimit struct{}

// filterMaxNodes names capacity in explanations.
const filterMaxNodes = "free GPUs within max_nodes"

func (capacityLimit) refuses(s *assignment) string {
	for _, ch := range s.trial {
		if ch.delta <= 0 {
			continue // a group that only loses replicas never grows
		}
		if n := s.trialNodesOf(ch.group); n > s.nodes.count[ch.group] && n > s.groups[ch.group].MaxNodes {
			return filterMaxNodes
		}
	}
	return ""
}

func (capacityLimit) record(*assignment, change) {}

func (capacityLimit) keeps(s *assignment, mi, oi int, r Replica) string {
	g := s.groups[s.opts[mi][oi].group]
	for _, st := range r.Stages {
		if st.Node < 0 || st.Node >= g.MaxNodes {
			return fmt.Sprintf("its node %d is beyond max_nodes (%d) of node group %q", st.Node, g.MaxNodes, g.Name)
		}
	}
	return ""
}

// explain proposes raising max_nodes of the group that would hold the
// missing replicas cheapest, among those only capacity (or binding, which
// also ran out of nodes) refused.
func (capacityLimit) explain(s *assignment, mi, missing int) (string, []string) {
	best := s.cheapestOption(mi, func(oi int) bool {
		b := s.blockerOf(mi, oi)
		return b == "" || b == filterMaxNodes
	})
	if best < 0 {
		return "", nil
	}
	gi := s.opts[mi][best].group
	return "", []string{raiseMaxNodes(s.groups[gi], s.nodesWith(gi, change{mi, best, missing}), "")}
}

// cheapestOption is the option of model mi that holds a replica cheapest
// once its group's nodes are full, among those where pick holds; -1 for
// none. Remedies propose changes there: they change least for the most.
func (s *assignment) cheapestOption(mi int, pick func(oi int) bool) int {
	best := -1
	for oi, o := range s.opts[mi] {
		if !pick(oi) {
			continue
		}
		if best < 0 || s.obj.perReplica(&s.groups[o.group], o) < s.obj.perReplica(&s.groups[s.opts[mi][best].group], s.opts[mi][best]) {
			best = oi
		}
	}
	return best
}
