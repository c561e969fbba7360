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

// nodeFloor is the least node count class c of group gi needs for new
// stages st after steps, given the exclusive models there: each needs as
// many distinct nodes as it has new replicas, and those nodes keep only
// what is left beside one of its stages (exclusiveNodes). The maximum over
// the models does not depend on the order they are visited in.
func (x *nodeExclusivity) nodeFloor(s *assignment, gi, c int, st *sizeCounts, node *groupBase, steps []step) int {
	if !x.anyOn {
		return 0
	}
	floor := 0
	bound := func(mi, replicas int) {
		if replicas > 0 {
			o := &s.opts[mi][s.optionOn(mi, gi)]
			floor = max(floor, exclusiveNodes(replicas, o, st, node))
		}
	}
	for mi, n := range x.perGroup[gi] {
		if x.classOf[mi] == c {
			bound(mi, n+deltaOn(gi, mi, steps))
		}
	}
	for _, ch := range steps {
		if x.on[ch.mi] && ch.class == c && ch.group == gi {
			if _, counted := x.perGroup[gi][ch.mi]; !counted {
				bound(ch.mi, deltaOn(gi, ch.mi, steps))
			}
		}
	}
	return floor
}

// exclusiveNodes is a lower bound on the nodes stages st need when
// replicas of option o must each be on nodes of their own: a replica spans
// the nodes binding gives it (each as full of its stages as it holds, the
// rest on the last one, as placeStage packs them), and those nodes keep only
// what is left beside its stages. So a stage wider than that opens another
// node (three 1-GPU replicas spread across 4-GPU nodes beside one 4-GPU
// replica need four nodes, not three), and two replicas of nine 2-GPU
// stages on 8-GPU nodes need six nodes, not the five their GPUs fill. node
// gives the blocks of an empty node (groupBase.fresh) and whether they are
// instances taken whole; a replica then takes the smallest that holds it.
func exclusiveNodes(replicas int, o *option, st *sizeCounts, node *groupBase) int {
	fresh := node.fresh
	if node.whole {
		rest, beside := *st, fresh
		rest[levelOf(o.unit)] = max(0, rest[levelOf(o.unit)]-replicas)
		for l := levelOf(o.unit); l < levels; l++ {
			if beside[l] > 0 {
				beside[l]--
				break
			}
		}
		var free sizeCounts
		for l := range free {
			free[l] = replicas * beside[l]
		}
		base := groupBase{baseNodes: replicas, free: free, fresh: fresh, whole: true}
		return base.nodesFor(&rest)
	}
	gpus := 0
	for i, n := range fresh {
		gpus += n << i
	}
	perNode := max(1, gpus/o.unit)            // stages of the replica on one node
	span := (o.units + perNode - 1) / perNode // nodes one replica spans
	last := o.units - (span-1)*perNode        // its stages on the last of them
	rest := *st
	level := levelOf(o.unit)
	rest[level] = max(0, rest[level]-replicas*o.units)
	var free, full, tail sizeCounts
	addFreeBlocks(&full, fullMask(gpus)&^fullMask(perNode*o.unit), gpus)
	addFreeBlocks(&tail, fullMask(gpus)&^fullMask(last*o.unit), gpus)
	for i := range free {
		free[i] = replicas * ((span-1)*full[i] + tail[i])
	}
	base := groupBase{baseNodes: replicas * span, free: free, fresh: fresh}
	return base.nodesFor(&rest)
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
		if st.Node >= 0 && st.Node < len(a.nodes) && a.nodes[st.Node].holds(mi) {
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

// anyIn reports whether some of items belong to a model spread across
// node.
func (x *nodeExclusivity) anyIn(items []stageItem) bool {
	if !x.anyOn {
		return false
	}
	for _, it := range items {
		if x.on[it.model] {
			return true
		}
	}
	return false
}
