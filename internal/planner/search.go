package planner

import "sort"

// The local search: it starts from the greedy assignment and keeps any
// change that lowers the objective — batch moves of one model's replicas,
// exchanges between two models, re-packing a whole group, and an iterated
// local search with a seeded generator. Every loop is bounded by a count of
// evaluations, never by the clock, so plans stay deterministic.

// moveBudget bounds the moves the local search evaluates, so that its run
// time is bounded and the result never depends on the clock.
const moveBudget = 2_000_000

// swapBudget bounds the exchanges evaluated beyond the single moves.
const swapBudget = 250_000

// evacuationBudget bounds the replicas re-inserted by group evacuations.
const evacuationBudget = 20_000

// improve runs the local search, then the iterated local search.
func (s *assignment) improve() {
	s.localSearch()
	s.perturb()
}

// localSearch runs single moves, then exchanges and re-packs, until none
// improves; it returns the moves it evaluated.
func (s *assignment) localSearch() int {
	evaluated := 0
	for evaluated < moveBudget {
		improved := false
		for mi := range s.models {
			for oa := range s.opts[mi] {
				if s.count[mi][oa] == 0 {
					continue
				}
				var useful []int
				for _, d := range deltas(s.count[mi][oa]) {
					if s.gainsByLeaving(change{mi, oa, -d}) {
						useful = append(useful, d)
					}
				}
				best, bestB, bestD := improvement, -1, 0
				for ob := range s.opts[mi] {
					if ob == oa {
						continue
					}
					for _, d := range useful {
						evaluated++
						m := move(mi, oa, ob, d)
						c, why := s.try(m[:]...)
						if why != "" {
							// Every constraint that refuses d replicas at
							// ob refuses more: skip the larger batches.
							break
						}
						if c.less(best) {
							best, bestB, bestD = c, ob, d
						}
					}
				}
				if bestB >= 0 {
					m := move(mi, oa, bestB, bestD)
					s.apply(m[:]...)
					improved = true
				}
			}
		}
		if !improved && !s.swapPass() && !s.evacuatePass() {
			return evaluated
		}
	}
	s.log.Debug("local search stopped at its budget", "moves_evaluated", evaluated)
	return evaluated
}

// gainsByLeaving reports whether taking replicas out (out.delta < 0) lowers
// the objective — a group shrinks, a surcharge or a spread penalty goes.
// Adding replicas never lowers it, so only a batch whose leaving does can
// gain by moving, alone or in an exchange.
func (s *assignment) gainsByLeaving(out change) bool {
	c := s.costOf(out)
	return c.spread < 0 || c.cost < -1e-12
}

// swapPass tries exchanges that no single move finds: d1 replicas of one
// model go from group a to group b while d2 replicas of another go from b to
// a — one model makes room for the other. It applies the best exchange and
// reports whether it found one.
func (s *assignment) swapPass() bool {
	var best [4]change
	bestCost, found := improvement, false
	// Only exchanges whose incoming half lowers the objective by leaving
	// are worth trying — it shrinks its source group, or sheds a surcharge
	// or a spread penalty there: that is where the gain comes from.
	for m2 := range s.models {
		for oa2, from := range s.opts[m2] {
			if s.count[m2][oa2] == 0 {
				continue
			}
			var useful []int // batches whose leaving lowers the objective
			for _, d2 := range deltas(s.count[m2][oa2]) {
				if s.gainsByLeaving(change{m2, oa2, -d2}) {
					useful = append(useful, d2)
				}
			}
			for ob2, to := range s.opts[m2] {
				if ob2 == oa2 {
					continue
				}
				for _, d2 := range useful {
					for m1 := range s.models {
						oa1, ob1 := s.optionOn(m1, to.group), s.optionOn(m1, from.group)
						if m1 == m2 || oa1 < 0 || ob1 < 0 || s.count[m1][oa1] == 0 {
							continue
						}
						for c1, d1 := s.count[m1][oa1], 1; d1 <= c1; d1 = nextDelta(d1, c1) {
							s.swapsEvaluated++
							if s.swapsEvaluated > swapBudget {
								return false
							}
							swap := [4]change{{m1, oa1, -d1}, {m1, ob1, d1}, {m2, oa2, -d2}, {m2, ob2, d2}}
							if c, why := s.try(swap[:]...); why == "" && c.less(bestCost) {
								best, bestCost, found = swap, c, true
							}
						}
					}
				}
			}
		}
	}
	if found {
		s.apply(best[:]...)
	}
	return found
}

// evacuatePass tries, group by group, to empty a group of its new replicas
// and re-insert each elsewhere at the least extra cost: the move that closes
// a half-used large node in favour of small ones, which no batch move of a
// single model finds. It applies the first trial that lowers the objective.
func (s *assignment) evacuatePass() bool {
	for gi := range s.groups {
		if s.evacuations >= evacuationBudget {
			return false
		}
		moved := s.newReplicasOn(gi)
		if len(moved) == 0 {
			continue
		}
		s.evacuations += len(moved)
		before := s.obj.of(s)
		// Two insertion orders: largest replicas first, and most
		// constrained models first. The better one is kept when it beats
		// the current assignment.
		orders := [][]int{append([]int(nil), moved...), append([]int(nil), moved...)}
		sort.SliceStable(orders[0], func(i, j int) bool { return s.widestReplica(orders[0][i]) > s.widestReplica(orders[0][j]) })
		sort.SliceStable(orders[1], func(i, j int) bool { return len(s.opts[orders[1][i]]) < len(s.opts[orders[1][j]]) })
		best, bestScore := -1, before.plus(improvement)
		for i, order := range orders {
			mark := s.mark()
			if s.reinsert(gi, order) {
				if sc := s.obj.of(s); sc.less(bestScore) {
					best, bestScore = i, sc
				}
			}
			s.undo(mark)
		}
		if best >= 0 {
			s.reinsert(gi, orders[best])
			s.log.Debug("re-packed node group", "group", s.groups[gi].Name, "replicas", len(moved))
			return true
		}
	}
	return false
}

// reinsert takes the new replicas of group gi out and puts each back, in
// order, wherever it raises the objective least (gi included). False when
// one finds no place.
func (s *assignment) reinsert(gi int, order []int) bool {
	for _, mi := range order {
		s.apply(change{mi, s.optionOn(mi, gi), -1})
	}
	for _, mi := range order {
		best := s.cheapestInsertion(mi, -1)
		if best < 0 {
			return false
		}
		s.apply(change{mi, best, 1})
	}
	return true
}

// nextDelta steps through deltas(n) without a slice: from d to the next
// batch size, or past n at the end.
func nextDelta(d, n int) int {
	switch {
	case d >= n:
		return n + 1
	case d*2 < n:
		return d * 2
	}
	return n
}

// deltas are the batch sizes tried when moving replicas: powers of two and
// the whole count.
func deltas(n int) []int {
	var out []int
	for d := 1; d < n; d *= 2 {
		out = append(out, d)
	}
	return append(out, n)
}
