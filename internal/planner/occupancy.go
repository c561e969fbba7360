package planner

// occupancy is the fast node-count model of the assignment: per group and
// isolation class, the pipeline stages of new replicas by size, packed onto
// the nodes kept replicas left (pack.go), and the nodes each class needs. A
// group needs max(Σ class nodes, the nodes that exist already). It is the one
// place node counts are derived; try and apply both go through it.
type occupancy struct {
	bases      [][]groupBase  // per group, per class: state after kept replicas
	stages     [][]sizeCounts // per group, per class: new stages
	classNodes [][]int        // per group, per class: nodes
	classSum   []int          // per group: Σ class nodes
	existing   []int          // per group: nodes before new stages
	count      []int          // per group: node count now
}

func newOccupancy(s *assignment) *occupancy {
	n, classes := len(s.groups), s.isolation.classes
	occ := &occupancy{
		bases: make([][]groupBase, n), stages: make([][]sizeCounts, n), classNodes: make([][]int, n),
		classSum: make([]int, n), existing: make([]int, n), count: make([]int, n),
	}
	for gi, g := range s.groups {
		occ.bases[gi], occ.existing[gi] = s.allocs[gi].basesAfterPins(g, classes)
		occ.stages[gi] = make([]sizeCounts, classes)
		occ.classNodes[gi] = make([]int, classes)
		for c := range classes {
			occ.classNodes[gi][c] = occ.classNeed(s, gi, c, &occ.stages[gi][c], nil)
			occ.classSum[gi] += occ.classNodes[gi][c]
		}
		occ.count[gi] = max(occ.classSum[gi], occ.existing[gi])
	}
	return occ
}

// classNeed is the nodes class c of group gi needs for stages st, with the
// node floors the exclusivity constraint sets after steps.
func (occ *occupancy) classNeed(s *assignment, gi, c int, st *sizeCounts, steps []step) int {
	base := &occ.bases[gi][c]
	return max(base.nodesFor(st), s.exclusive.nodeFloor(s, gi, c, st, base, steps))
}

// nodesAfter is group gi's node count after the steps that concern it.
func (s *assignment) nodesAfter(gi int, steps []step) int {
	occ := s.nodes
	total := occ.classSum[gi]
	for i, ch := range steps {
		if ch.group != gi || ch.delta == 0 || sameClassEarlier(gi, ch.class, steps[:i]) {
			continue // not this group, or its class is counted already
		}
		st := occ.stages[gi][ch.class]
		for _, e := range steps[i:] {
			if e.group == gi && e.class == ch.class {
				st[e.level] += e.delta * e.stages
			}
		}
		total += occ.classNeed(s, gi, ch.class, &st, steps) - occ.classNodes[gi][ch.class]
	}
	return max(total, occ.existing[gi])
}

// nodesWith is group gi's node count after changes, outside a trial.
func (s *assignment) nodesWith(gi int, changes ...change) int {
	s.scratch = s.steps(s.scratch, changes)
	return s.nodesAfter(gi, s.scratch)
}

func sameClassEarlier(gi, c int, earlier []step) bool {
	for _, e := range earlier {
		if e.delta != 0 && e.group == gi && e.class == c {
			return true
		}
	}
	return false
}

// record updates the stages and node counts by one applied step; the
// constraints have recorded it already.
func (occ *occupancy) record(s *assignment, st step) {
	gi, c := st.group, st.class
	occ.stages[gi][c][st.level] += st.delta * st.stages
	n := occ.classNeed(s, gi, c, &occ.stages[gi][c], nil)
	occ.classSum[gi] += n - occ.classNodes[gi][c]
	occ.classNodes[gi][c] = n
	occ.count[gi] = max(occ.classSum[gi], occ.existing[gi])
}

// groupNodes is one group's node count after a trial.
type groupNodes struct{ group, after int }

// trialNodesOf is group gi's node count after the trial, worked out once
// per trial: capacity asks for the groups that grow first, and a refusal
// spares the rest.
func (s *assignment) trialNodesOf(gi int) int {
	for _, gn := range s.after {
		if gn.group == gi {
			return gn.after
		}
	}
	n := s.nodesAfter(gi, s.trial)
	s.after = append(s.after, groupNodes{gi, n})
	return n
}
