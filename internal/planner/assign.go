package planner

import "sort"

// assign chooses a group for every pending replica: models by priority,
// each replica to the option bestOption ranks first. It returns the
// replica indices it could not place, per model, and records in s.blocked
// what refused their options, for the explanation.
func (s *assignment) assign(pending [][]int) [][]int {
	unplaced := make([][]int, len(s.models))
	for _, mi := range s.assignOrder() {
		for _, idx := range pending[mi] {
			best := s.bestOption(mi)
			if best < 0 {
				s.blocked[mi] = s.refusals(mi)
				unplaced[mi] = append(unplaced[mi], idx)
				continue
			}
			s.apply(change{mi, best, 1})
		}
		if len(unplaced[mi]) > 0 {
			s.log.Info("replicas left unplaced", "model", s.models[mi].Name, "count", len(unplaced[mi]))
		}
	}
	return unplaced
}

// assignOrder is the order models are assigned in: higher priority first;
// within a priority the most constrained (fewest feasible groups) first, so
// that a model with few choices is not crowded out by one with many; then
// the largest replicas; then by name.
func (s *assignment) assignOrder() []int {
	order := make([]int, len(s.models))
	for i := range order {
		order[i] = i
	}
	var regret []float64
	if s.byRegret {
		regret = make([]float64, len(s.models))
		for mi := range regret {
			regret[mi] = s.regret(mi)
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i], order[j]
		ma, mb := s.models[a], s.models[b]
		if ma.Priority != mb.Priority {
			return ma.Priority > mb.Priority
		}
		if regret != nil && regret[a] != regret[b] {
			return regret[a] > regret[b]
		}
		if len(s.opts[a]) != len(s.opts[b]) {
			return len(s.opts[a]) < len(s.opts[b])
		}
		if sa, sb := s.widestReplica(a), s.widestReplica(b); sa != sb {
			return sa > sb
		}
		return ma.Name < mb.Name
	})
	return order
}

// insertion is how the objective ranks one more replica at an option.
type insertion struct {
	oi     int
	change score // the objective's change
	// perReplica is the option's objective per replica once nodes are
	// full, surcharge included: the greedy's look-ahead.
	perReplica float64
}

// insertions visits the options where one more replica of model mi keeps
// every constraint.
func (s *assignment) insertions(mi int, visit func(in insertion)) {
	for oi, o := range s.opts[mi] {
		if o.group == s.shut {
			continue
		}
		if d, why := s.try(change{mi, oi, 1}); why == "" {
			visit(insertion{oi, d, s.obj.perReplica(&s.groups[o.group], o) + o.surcharge})
		}
	}
}

// refusals names, per option of model mi, the constraint that refuses one
// more replica there ("" for none), as Nomad's FilterNode records why.
func (s *assignment) refusals(mi int) []string {
	out := make([]string, len(s.opts[mi]))
	for oi := range s.opts[mi] {
		_, out[oi] = s.try(change{mi, oi, 1})
	}
	return out
}

// bestOption picks the option for one more replica of model mi, or -1: the
// objective's spread term first; then free capacity already paid for
// (opening no node); then the lowest objective per replica once nodes are
// full, a look-ahead that suits placing many replicas one by one.
func (s *assignment) bestOption(mi int) int {
	best := -1
	var bestKey [3]float64
	s.insertions(mi, func(in insertion) {
		opening := 0.0
		if in.change.cost-s.opts[mi][in.oi].surcharge > 1e-12 {
			opening = 1
		}
		key := [3]float64{float64(in.change.spread), opening, in.perReplica}
		if best < 0 || less3(key, bestKey) {
			best, bestKey = in.oi, key
		}
	})
	return best
}

// cheapestInsertion is the option, other than skip, where one more replica
// of model mi raises the objective least, within every constraint; the
// per-replica objective breaks near ties.
func (s *assignment) cheapestInsertion(mi, skip int) int {
	best := -1
	var bestCost score
	s.insertions(mi, func(in insertion) {
		if in.oi == skip {
			return
		}
		c := in.change
		c.cost += in.perReplica * 1e-6
		if best < 0 || c.less(bestCost) {
			best, bestCost = in.oi, c
		}
	})
	return best
}

// spreadSpot puts a model's spot replicas on at least two spot node groups
// when it has two or more of them and a second spot group can take one at
// no extra cost (capacity already paid for), so that one spot reclaim does
// not take them all. It never raises the objective: the on-demand floor is
// the guarantee a user sets, and a node opened for the spread alone cost
// 15 % on production-shaped fleets (issue 14). It moves only replicas placed
// by this plan.
func (s *assignment) spreadSpot() {
	for mi := range s.models {
		groups := map[int]bool{}
		total := 0
		for _, r := range s.kept[mi] {
			if gi := s.groupIndex(r.NodeGroup); gi >= 0 && isSpot(&s.groups[gi]) {
				groups[gi] = true
				total++
			}
		}
		from := -1
		for oi, o := range s.opts[mi] {
			if isSpot(&s.groups[o.group]) && s.count[mi][oi] > 0 {
				groups[o.group] = true
				total += s.count[mi][oi]
				from = oi
			}
		}
		if total < 2 || len(groups) != 1 || from < 0 {
			continue
		}
		best := -1
		var bestCost score
		for to, o := range s.opts[mi] {
			if !isSpot(&s.groups[o.group]) || groups[o.group] {
				continue
			}
			m := move(mi, from, to, 1)
			if c, why := s.try(m[:]...); why == "" && !c.exceeds(score{}) && (best < 0 || c.less(bestCost)) {
				best, bestCost = to, c
			}
		}
		if best >= 0 {
			m := move(mi, from, best, 1)
			s.apply(m[:]...)
		}
	}
}

func less3(a, b [3]float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}
