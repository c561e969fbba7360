package planner

import (
	"math/rand/v2"
	"slices"
)

// The shortage search: when not every replica fits, which replicas run is a
// choice the greedy makes once, by priority and size, and the trades of
// exchange.go judge one step at a time. The best choice can need a trade
// followed by moves that only then pay: a large replica gives way to a small
// one of its priority, and only once the small ones gather does a node
// close. So a trial takes out a random batch of one model's new replicas,
// lets the unplaced replicas of other models into the room, runs the local
// search, places whatever then fits, and is kept when the plan places more
// at the highest priority where the count differs, or as many of each at a
// lower objective. It is an iterated local search over the set of placed
// replicas, as perturb.go is over their places; its generator is seeded
// with a constant and its loops are bounded by counts, never by the clock.

// shortageTrials bounds the trials; shortageStall bounds the trials in a
// row that find nothing better; shortageWork bounds the replicas all trials
// take out, and shortageMoves the local-search moves they evaluate (the
// bounds that hold at scale).
const (
	shortageTrials = 300
	shortageStall  = 60
	shortageWork   = 20_000
	shortageMoves  = 400_000
)

// reshuffle runs the shortage search over unplaced (indices per model,
// ascending), which it updates.
// The trials take turns: one unplaces a batch so that others take its room;
// the next moves a batch of any priority out of the way so that the
// replicas left unplaced take the room first, and the batch then goes
// wherever it still fits (repair.go's makeRoom, a batch at a time and
// followed by the local search).
func (s *assignment) reshuffle(unplaced [][]int) {
	rng := rand.New(rand.NewPCG(0x73686f72, 0x74616765))
	changed, moves, work := false, 0, 0
	left := make([][]int, len(unplaced))
	waiting := make([]bool, len(s.models)) // placed later: the batch taken out
	first := make([]bool, len(s.models))   // placed first: the replicas left unplaced
	current, currentObj := s.unplacedPerPriority(unplaced), s.obj.of(s)
	for trial, stall := 0, 0; trial < shortageTrials && stall < shortageStall && work < shortageWork && moves < shortageMoves; trial++ {
		stall++
		relocate := trial%2 == 1
		out, ok := s.shortageVictim(rng, unplaced, relocate)
		if !ok {
			break
		}
		if _, why := s.try(out); why != "" {
			continue // taking them out breaks a rule of the model's own (spread.min_domains)
		}
		work -= out.delta
		mark := s.mark()
		for mi := range unplaced {
			left[mi] = slices.Clone(unplaced[mi])
			first[mi], waiting[mi] = relocate && len(unplaced[mi]) > 0, !relocate && mi == out.mi
		}
		s.apply(out)
		left[out.mi] = s.unplaceLast(out.mi, -out.delta, left[out.mi])
		s.placeWhatFits(rng, left, first, waiting)
		moves += s.localSearch()
		s.placeWhatFits(rng, left, nil, nil)
		// Only a better plan is kept: at a tie the greedy's choice of which
		// replicas wait stands, so that the shortage stays where its
		// explanation says (the lowest priority, the last models).
		after, afterObj := s.unplacedPerPriority(left), s.obj.of(s)
		if c := comparePerPriority(current, after); c < 0 || c == 0 && !afterObj.less(currentObj.plus(improvement)) {
			s.undo(mark)
			continue
		}
		s.commit()
		stall, changed, current, currentObj = 0, true, after, afterObj
		copy(unplaced, left)
	}
	if changed {
		s.explainUnplaced(unplaced)
	}
}

// explainUnplaced records what now refuses each model with a replica in
// unplaced, after a search changed which replicas wait.
func (s *assignment) explainUnplaced(unplaced [][]int) {
	for mi := range unplaced {
		if len(unplaced[mi]) > 0 {
			s.blocked[mi] = s.refusals(mi)
		}
	}
}

// shortageVictim draws the batch a trial takes out: some new replicas of a
// model on one group — to unplace, of a priority no higher than the highest
// with a replica unplaced; to relocate, of any. False when nothing is
// unplaced or nothing may give way.
func (s *assignment) shortageVictim(rng *rand.Rand, unplaced [][]int, relocate bool) (change, bool) {
	top, short := s.topUnplaced(unplaced)
	if !short {
		return change{}, false
	}
	var batches []change
	for mi, md := range s.models {
		if md.Priority > top && !relocate {
			continue
		}
		for oi, c := range s.count[mi] {
			if c > 0 {
				batches = append(batches, change{mi, oi, -c})
			}
		}
	}
	if len(batches) == 0 {
		return change{}, false
	}
	b := batches[rng.IntN(len(batches))]
	b.delta = -(1 + rng.IntN(-b.delta))
	return b, true
}

// placeWhatFits places unplaced replicas (left, updated) where the greedy's
// bestOption puts them: the models marked first before the others, those
// marked waiting not at all, and otherwise the highest priority first and,
// within a priority, in a random order.
func (s *assignment) placeWhatFits(rng *rand.Rand, left [][]int, first, waiting []bool) {
	order := s.assignOrder()
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	rank := func(mi int) int {
		if first != nil && first[mi] {
			return 1
		}
		return 0
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return rb - ra
		}
		return s.models[b].Priority - s.models[a].Priority
	})
	for _, mi := range order {
		for (waiting == nil || !waiting[mi]) && len(left[mi]) > 0 {
			best := s.bestOption(mi)
			if best < 0 {
				break
			}
			s.apply(change{mi, best, 1})
			left[mi] = left[mi][1:]
		}
	}
}
