package planner

import "slices"

// The exchange: once repair has placed what room it could make, a replica
// still unplaced may take the place of a new replica of another model.
// Placing more of a higher priority outranks cost, as everywhere in the
// planner, and at one priority more replicas outrank fewer and then a lower
// objective: so the shortage falls on the lowest priority first, then on
// the replicas that cost the most to run or take the room of several. Kept
// replicas never trade (preempt.go decides that, within max_moves). Every
// trade improves the plan in that order, so the passes end; exchangeBudget
// and tradeBudget bound the trials, never the clock.

// exchangeBudget bounds the one-for-one trades exchange evaluates over one
// plan, tradeBudget the placements its one-for-several trades try.
const (
	exchangeBudget = 4_000
	tradeBudget    = 20_000
)

// exchange trades new replicas for unplaced ones (see above): first one
// for one, then one for several. Greedy order and the local search's
// single-model moves can leave the dearer model placed (three 2-node
// pipelines where two and a 1-node replica fill the same group's floor), a
// lower priority on the room a higher one needs after the search moved it,
// or a large replica on a node where several of its priority would run. It
// updates unplaced (indices per model, ascending) and reports whether it
// traded.
func (s *assignment) exchange(unplaced [][]int) bool {
	budget, forMany, traded := exchangeBudget, tradeBudget, false
	for {
		// A trade leaves the other model a replica short, and that model
		// may come earlier in the order: passes repeat while one trades.
		for again := true; again && budget > 0; {
			again = false
			for _, mi := range s.assignOrder() {
				if s.exchangeFor(mi, unplaced, &budget) {
					again, traded = true, true
				}
			}
		}
		if !s.tradeForMany(unplaced, &forMany) {
			break
		}
		traded = true
	}
	return traded
}

// exchangeFor makes the one-for-one trades that place unplaced replicas of
// model mi, the best first, while budget lasts: a lower priority gives way
// whatever the cost, the same priority only where the objective falls. It
// reports whether it traded.
func (s *assignment) exchangeFor(mi int, unplaced [][]int, budget *int) bool {
	traded, priority := false, s.models[mi].Priority
	for len(unplaced[mi]) > 0 && *budget > 0 {
		in, out := -1, change{}
		var best score
		for oi := range s.opts[mi] {
			for mj, md := range s.models {
				if mj == mi || md.Priority > priority {
					continue
				}
				for oj, c := range s.count[mj] {
					if c == 0 || *budget <= 0 {
						continue
					}
					*budget--
					leave := change{mj, oj, -1}
					d, why := s.try(leave, change{mi, oi, 1})
					switch {
					case why != "":
					case md.Priority == priority && !d.less(improvement):
					case in < 0, md.Priority < s.models[out.mi].Priority,
						md.Priority == s.models[out.mi].Priority && d.less(best):
						best, in, out = d, oi, leave
					}
				}
			}
		}
		if in < 0 {
			break
		}
		s.apply(out, change{mi, in, 1})
		s.unplace(out.mi, unplaced)
		unplaced[mi] = unplaced[mi][1:]
		traded = true
	}
	return traded
}

// refill is one trial of tradeForMany: the replica taken out, the
// replicas the greedy then placed in its room, and the gain per priority
// (the replica taken out counted).
type refill struct {
	out    change
	placed []change
	gain   map[int]int
	obj    score
}

// tradeForMany takes out, in turn, each batch of new replicas of one model
// on one group (deltas' sizes) of a priority no higher than the highest
// left unplaced, lets the greedy place unplaced replicas of other models in
// the room they leave, highest priority first, and keeps the best
// trial that places more: more of a higher priority, or more of its own
// than it took out, then the lowest objective; or, placing as many of each
// priority as it took out, lowers the objective (two 2-node pipelines out,
// two 1-GPU replicas of their priority in). A replica that fills a whole
// node gives way to the several of its priority the node would hold, two
// pipelines across nodes to the three replicas their GPUs would hold.
// budget counts the placements tried. It reports whether it traded.
func (s *assignment) tradeForMany(unplaced [][]int, budget *int) bool {
	top, short := s.topUnplaced(unplaced)
	var best *refill
	now := s.obj.of(s)
	for mj, md := range s.models {
		if !short || md.Priority > top {
			continue
		}
		for oj, c := range s.count[mj] {
			for _, d := range deltas(c) {
				if *budget <= 0 {
					break
				}
				out := change{mj, oj, -d}
				if _, why := s.try(out); why != "" {
					continue // taking them out breaks a rule of the model's own (spread.min_domains)
				}
				mark := s.mark()
				r := s.refillAfter(out, unplaced, budget)
				gain := comparePerPriority(r.gain, nil)
				if gain > 0 || gain == 0 && r.obj.less(now.plus(improvement)) {
					if best == nil {
						best = &r
					} else if than := comparePerPriority(r.gain, best.gain); than > 0 || than == 0 && r.obj.less(best.obj) {
						best = &r
					}
				}
				s.undo(mark)
			}
		}
	}
	if best == nil {
		return false
	}
	s.apply(best.out)
	for _, ch := range best.placed {
		s.apply(ch)
		unplaced[ch.mi] = unplaced[ch.mi][1:]
	}
	for range -best.out.delta {
		s.unplace(best.out.mi, unplaced)
	}
	return true
}

// refillAfter applies out, then places, in assignment order (highest
// priority first), every unplaced replica of other models that finds a
// place while budget lasts, and reports what it placed; the caller undoes
// it. Lower priorities count too: two dedicated replicas out, two of their
// priority and six of a lower one in, is a better plan by every priority.
func (s *assignment) refillAfter(out change, unplaced [][]int, budget *int) refill {
	r := refill{out: out, gain: map[int]int{s.models[out.mi].Priority: out.delta}}
	s.apply(out)
	for _, mi := range s.assignOrder() {
		if mi == out.mi {
			continue
		}
		for range unplaced[mi] {
			if *budget <= 0 {
				break
			}
			*budget -= len(s.opts[mi])
			best := s.bestOption(mi)
			if best < 0 {
				break
			}
			ch := change{mi, best, 1}
			s.apply(ch)
			r.placed = append(r.placed, ch)
			r.gain[s.models[mi].Priority]++
		}
	}
	r.obj = s.obj.of(s)
	return r
}

// topUnplaced is the highest priority with a replica in unplaced; false
// when none is.
func (s *assignment) topUnplaced(unplaced [][]int) (int, bool) {
	top, short := 0, false
	for mi, u := range unplaced {
		if len(u) > 0 && (!short || s.models[mi].Priority > top) {
			top, short = s.models[mi].Priority, true
		}
	}
	return top, short
}

// unplacedPerPriority counts the replicas in unplaced per priority: plans
// are ranked by it, highest priority first (comparePerPriority), before
// their objective.
func (s *assignment) unplacedPerPriority(unplaced [][]int) map[int]int {
	out := map[int]int{}
	for mi, u := range unplaced {
		out[s.models[mi].Priority] += len(u)
	}
	return out
}

// unplace records that model mj gave up its last placed new replica in a
// trade, and what now refuses it.
func (s *assignment) unplace(mj int, unplaced [][]int) {
	unplaced[mj] = s.unplaceLast(mj, 1, unplaced[mj])
	s.blocked[mj] = s.refusals(mj)
}

// unplaceLast adds to unplaced (model mi's, ascending) its d highest new
// replica indices not in it, and returns the list, ascending: binding gives
// the placed replicas the lowest indices, so the ones a trade unplaces are
// the last. One walk down both ascending lists, so that a fleet of
// thousands of replicas of one model stays linear.
func (s *assignment) unplaceLast(mi, d int, unplaced []int) []int {
	j := len(unplaced) - 1
	for k := len(s.pending[mi]) - 1; k >= 0 && d > 0; k-- {
		idx := s.pending[mi][k]
		for j >= 0 && unplaced[j] > idx {
			j--
		}
		if j >= 0 && unplaced[j] == idx {
			continue
		}
		unplaced = append(unplaced, idx)
		d--
	}
	slices.Sort(unplaced)
	return unplaced
}
