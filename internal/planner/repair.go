package planner

import "sort"

// The repair: a replica the greedy and the local search leave unplaced may
// fit once replicas of other models make room for it. For each option of
// the replica refused only for want of free GPUs within max_nodes, repair
// moves replicas this plan placed on that group to their best other place,
// one at a time, until the replica fits there; failing that, it moves one
// of the model's own replicas to let the constraints the model sets itself
// admit one more. The moves are kept only when the replica fits. Placing a
// replica outranks cost, as everywhere in the planner, and no replica is
// left unplaced for it. Kept replicas never move here (preempt.go decides
// that, within max_moves).

// repairBudget bounds the relocations repair evaluates over one pass, so
// that a plan's work stays bounded by counts, never by the clock.
const repairBudget = 4_000

// repair places what it can of unplaced (replica indices per model,
// highest priority first) and returns what is left.
func (s *assignment) repair(unplaced [][]int) [][]int {
	budget := repairBudget
	left := make([][]int, len(unplaced))
	for _, mi := range s.assignOrder() {
		for _, idx := range unplaced[mi] {
			if budget <= 0 || !s.makeRoom(mi, &budget) {
				left[mi] = append(left[mi], idx)
			}
		}
		if len(left[mi]) > 0 {
			s.blocked[mi] = s.refusals(mi)
		}
	}
	return left
}

// makeRoom places one more replica of model mi by relocating replicas of
// other models off one of its capacity-bound groups, or off any group of
// the quota that bounds it (victimsOn gives the order). It reports whether it placed the replica.
func (s *assignment) makeRoom(mi int, budget *int) bool {
	if best := s.bestOption(mi); best >= 0 {
		s.apply(change{mi, best, 1}) // the search freed room already
		return true
	}
	for oi, o := range s.opts[mi] {
		_, why := s.try(change{mi, oi, 1})
		roomOn := []int{o.group}
		switch why {
		case filterMaxNodes:
		case filterQuota: // any group the quota counts frees its share
			roomOn = s.quota.groupsOf(s.quota.lastOn[o.group])
		default:
			continue
		}
		mark := s.mark()
		for _, v := range s.victimsAcross(roomOn) {
			mj := v.mi
			from := s.optionOn(mj, v.group)
			if mj == mi || s.count[mj][from] == 0 || *budget <= 0 {
				continue
			}
			*budget--
			to := s.bestRelocation(mj, from)
			if to < 0 {
				continue
			}
			m := move(mj, from, to, 1)
			s.apply(m[:]...)
			if _, why := s.try(change{mi, oi, 1}); why == "" {
				s.apply(change{mi, oi, 1})
				s.commit()
				return true
			}
		}
		s.undo(mark)
	}
	return s.moveOwnReplica(mi, budget)
}

// moveOwnReplica places one more replica of model mi by moving one of its
// own first: its spot cap, on-demand floor or failure tolerance may admit
// the new replica only where another one stands (an on-demand place taken
// by a replica that could run on spot in another cloud).
func (s *assignment) moveOwnReplica(mi int, budget *int) bool {
	for oa, c := range s.count[mi] {
		if c == 0 {
			continue
		}
		for ob := range s.opts[mi] {
			if ob == oa || *budget <= 0 {
				continue
			}
			*budget--
			m := move(mi, oa, ob, 1)
			if _, why := s.try(m[:]...); why != "" {
				continue
			}
			mark := s.mark()
			s.apply(m[:]...)
			if best := s.bestOption(mi); best >= 0 {
				s.apply(change{mi, best, 1})
				s.commit()
				return true
			}
			s.undo(mark)
		}
	}
	return false
}

// victim is one new replica of model mi on a group.
type victim struct{ mi, group int }

// victimsAcross lists the new replicas of groups, each group's in
// victimsOn's order.
func (s *assignment) victimsAcross(groups []int) []victim {
	var out []victim
	for _, gi := range groups {
		for _, mj := range s.victimsOn(gi) {
			out = append(out, victim{mj, gi})
		}
	}
	return out
}

// victimsOn lists the new replicas on group gi (their models, one entry per
// replica) in the order repair moves them: first those whose leaving
// shrinks the group by a node (a spread-across-node replica that holds a
// node on its own), then the largest, which free the most GPUs per move.
func (s *assignment) victimsOn(gi int) []int {
	victims := s.newReplicasOn(gi)
	shrinks := map[int]bool{}
	for _, mj := range victims {
		if _, seen := shrinks[mj]; !seen {
			shrinks[mj] = s.nodesWith(gi, change{mj, s.optionOn(mj, gi), -1}) < s.nodes.count[gi]
		}
	}
	gpus := func(mj int) int { return s.opts[mj][s.optionOn(mj, gi)].gpus() }
	sort.SliceStable(victims, func(a, b int) bool {
		va, vb := victims[a], victims[b]
		if shrinks[va] != shrinks[vb] {
			return shrinks[va]
		}
		return gpus(va) > gpus(vb)
	})
	return victims
}

// bestRelocation is the option other than from where one replica of model
// mj moved from from raises the objective least within every constraint,
// or -1.
func (s *assignment) bestRelocation(mj, from int) int {
	best := -1
	var bestCost score
	for to := range s.opts[mj] {
		if to == from {
			continue
		}
		m := move(mj, from, to, 1)
		d, why := s.try(m[:]...)
		if why != "" {
			continue
		}
		if best < 0 || d.less(bestCost) {
			best, bestCost = to, d
		}
	}
	return best
}
