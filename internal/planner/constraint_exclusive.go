package planner

import "fmt"

// nodeExclusivity keeps every replica of a model spread across "node" on a
// node of its own: a group then needs at least as many nodes (of the
// model's isolation class) as it holds replicas of such a model. The
// occupancy model takes that floor into its node counts, binding skips
// nodes that hold the model, and capacity refuses what passes max_nodes.
type nodeExclusivity struct {
	on       []bool        // per model: spread across node
	anyOn    bool          // some model is
	classOf  []int         // per model: its isolation class
	perGroup []map[int]int // per group: model → replicas, kept and new
}

func newNodeExclusivity(models []ModelDemand, classOf []int, groups int) *nodeExclusivity {
	x := &nodeExclusivity{on: make([]bool, len(models)), classOf: classOf, perGroup: make([]map[int]int, groups)}
	for mi, m := range models {
		x.on[mi] = m.Spread.Across == SpreadNode
		x.anyOn = x.anyOn || x.on[mi]
	}
	for gi := range x.perGroup {
		x.perGroup[gi] = map[int]int{}
	}
	return x
}

// nodeFloor is the nodes class c of group gi needs for the exclusive
// models' replicas there, after steps.
func (x *nodeExclusivity) nodeFloor(_ *assignment, gi, c int, steps []step) int {
	if !x.anyOn {
		return 0
	}
	floor := 0
	for mi, n := range x.perGroup[gi] {
		if x.classOf[mi] == c {
			floor = max(floor, n+deltaOn(gi, mi, steps))
		}
	}
	for _, ch := range steps {
		if x.on[ch.mi] && ch.class == c && ch.group == gi {
			if _, counted := x.perGroup[gi][ch.mi]; !counted {
				floor = max(floor, deltaOn(gi, ch.mi, steps))
			}
		}
	}
	return floor
}

// deltaOn is the replicas steps add to model mi on group gi.
func deltaOn(gi, mi int, steps []step) int {
	d := 0
	for _, ch := range steps {
		if ch.mi == mi && ch.group == gi {
			d += ch.delta
		}
	}
	return d
}

func (*nodeExclusivity) refuses(*assignment) string { return "" }

func (x *nodeExclusivity) record(s *assignment, ch change) {
	if x.on[ch.mi] {
		x.perGroup[s.opts[ch.mi][ch.oi].group][ch.mi] += ch.delta
	}
}

func (x *nodeExclusivity) keeps(s *assignment, mi, oi int, r Replica) string {
	if !x.on[mi] {
		return ""
	}
	a := s.allocs[s.opts[mi][oi].group]
	for _, st := range r.Stages {
		if st.Node >= 0 && st.Node < len(a.nodes) && a.nodes[st.Node].models[mi] {
			return "another replica of the model holds its node"
		}
	}
	return ""
}

func (x *nodeExclusivity) explain(s *assignment, mi, _ int) (string, []string) {
	if !x.on[mi] || !s.refusedBy(mi, filterMaxNodes) {
		return "", nil
	}
	return "", []string{fmt.Sprintf("raise max_nodes or add node groups: spread across node puts every replica of %q on a node of its own", s.models[mi].Name)}
}
