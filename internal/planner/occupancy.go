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
// node floor the exclusivity constraint sets after changes.
func (occ *occupancy) classNeed(s *assignment, gi, c int, st *sizeCounts, changes []change) int {
	return max(occ.bases[gi][c].nodesFor(st), s.exclusive.nodeFloor(s, gi, c, changes))
}

// nodesAfter is group gi's node count after the changes that concern it.
func (s *assignment) nodesAfter(gi int, changes []change) int {
	occ := s.nodes
	total := occ.classSum[gi]
	for i, ch := range changes {
		if s.opts[ch.mi][ch.oi].group != gi || ch.delta == 0 {
			continue
		}
		c := s.isolation.classOf[ch.mi]
		if s.sameClassEarlier(gi, c, changes[:i]) {
			continue // that class is counted already
		}
		st := occ.stages[gi][c]
		for _, e := range changes[i:] {
			if o := s.opts[e.mi][e.oi]; o.group == gi && s.isolation.classOf[e.mi] == c {
				st[levelOf(o.t)] += e.delta * o.p
			}
		}
		total += occ.classNeed(s, gi, c, &st, changes) - occ.classNodes[gi][c]
	}
	return max(total, occ.existing[gi])
}

func (s *assignment) sameClassEarlier(gi, c int, earlier []change) bool {
	for _, e := range earlier {
		if e.delta != 0 && s.opts[e.mi][e.oi].group == gi && s.isolation.classOf[e.mi] == c {
			return true
		}
	}
	return false
}

// record updates the stages and node counts by one applied change; the
// constraints have recorded it already.
func (occ *occupancy) record(s *assignment, ch change) {
	o := s.opts[ch.mi][ch.oi]
	gi, c := o.group, s.isolation.classOf[ch.mi]
	occ.stages[gi][c][levelOf(o.t)] += ch.delta * o.p
	n := occ.classNeed(s, gi, c, &occ.stages[gi][c], nil)
	occ.classSum[gi] += n - occ.classNodes[gi][c]
	occ.classNodes[gi][c] = n
	occ.count[gi] = max(occ.classSum[gi], occ.existing[gi])
}

// groupNodes is one group's node count before and after a trial.
type groupNodes struct{ group, before, after int }

// trialNodes is, for every group the trial touches, its node count before
// and after it, in the order the trial first names them, worked out once
// per trial.
func (s *assignment) trialNodes() []groupNodes {
	if s.afterReady {
		return s.after
	}
	s.after = s.after[:0]
	for i, ch := range s.trial {
		gi := s.opts[ch.mi][ch.oi].group
		seen := false
		for _, e := range s.trial[:i] {
			seen = seen || s.opts[e.mi][e.oi].group == gi
		}
		if !seen {
			s.after = append(s.after, groupNodes{gi, s.nodes.count[gi], s.nodesAfter(gi, s.trial)})
		}
	}
	s.afterReady = true
	return s.after
}
