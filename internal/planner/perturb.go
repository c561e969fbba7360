package planner

import (
	"math"
	"math/rand/v2"
	"sort"
)

// The iterated local search: a kick changes the assignment at random, the
// local search follows, and the result is kept only when it is no worse
// than before the kick. The kicks take turns (kickCycle); the generator is
// seeded with a constant and every loop is bounded by counts, so the plan
// stays deterministic.

// perturbTrials bounds the kicks; perturbStall, times the models × groups
// the kicks choose among (at least 1), bounds the kicks in a row that find
// no lower objective, so that a small fleet stops early; perturbBudget bounds their total work in
// replicas re-inserted; perturbMoves bounds the local-search moves all
// trials evaluate (the bound that holds at scale).
const (
	perturbTrials   = 1000
	perturbStall    = 6
	perturbStallMin = 100
	perturbBudget   = 20_000
	perturbMoves    = 1_000_000
)

type kick int

const (
	kickEmptyGroup     kick = iota // one group's new replicas, re-inserted at random between the two cheapest places
	kickPushBatch                  // a batch of one model into another group, often one not in use yet
	kickRecreateRegret             // two groups' new replicas, re-inserted by regret
	kickCloseGroup                 // every replica of the models on one group, re-inserted by regret with that group shut
	kickRecreateWidest             // two groups' new replicas, re-inserted widest first
	kickCloseTwo                   // every replica of the models on two groups, re-inserted by regret with the first shut
)

// kickCycle is the order the kicks take turns in.
var kickCycle = []kick{kickEmptyGroup, kickPushBatch, kickRecreateRegret, kickPushBatch, kickCloseGroup, kickRecreateWidest}

// wideKickCycle is the cycle of the extra starts (startOpts.wide): the
// same kicks, and closing two groups at once, which moves the chains of
// floors, spot caps and quotas one group's kick cannot.
var wideKickCycle = append(append([]kick(nil), kickCycle...), kickCloseTwo)

// perturb runs the iterated local search.
func (s *assignment) perturb() {
	seed, cycle := uint64(0x6d636c6c), kickCycle
	if s.wide {
		seed, cycle = seed+1, wideKickCycle
	}
	rng := rand.New(rand.NewPCG(seed, 0x6d))
	work, moves, stall := 0, 0, 0
	stallLimit := max(perturbStallMin, perturbStall*len(s.models)*len(s.groups))
	current := s.obj.of(s)
	best := current
	for trial := 0; trial < perturbTrials && stall < stallLimit && work < perturbBudget && moves < perturbMoves; trial++ {
		stall++
		var groups []int
		for gi := range s.groups {
			if len(s.newReplicasOn(gi)) > 0 {
				groups = append(groups, gi)
			}
		}
		if len(groups) == 0 {
			return
		}
		mark := s.mark()
		moved, ok := s.kick(cycle[trial%len(cycle)], rng, groups)
		work += moved
		if !ok {
			s.undo(mark)
			continue
		}
		moves += s.localSearch()
		current = s.keepUnlessWorse(mark, current)
		if current.less(best.plus(improvement)) {
			best, stall = current, 0
		}
	}
}

// keepUnlessWorse ends a trial: it keeps the changes since the mark unless
// the objective rose above before, and returns the objective it leaves.
// Equal cost is kept too: it lets the search cross plateaus.
func (s *assignment) keepUnlessWorse(mark int, before score) score {
	if after := s.obj.of(s); !after.exceeds(before) {
		s.commit()
		return after
	}
	s.undo(mark)
	return before
}

// kick applies one kick of kind k; it returns the replicas it moved and
// false when it found nothing to do or left a replica without a place.
func (s *assignment) kick(k kick, rng *rand.Rand, groups []int) (int, bool) {
	switch k {
	case kickPushBatch:
		return 1, s.pushBatch(rng)
	case kickRecreateRegret, kickRecreateWidest:
		a, b := groups[rng.IntN(len(groups))], groups[rng.IntN(len(groups))]
		if partners := s.quota.partnersOf(a); len(partners) > 0 && rng.IntN(2) == 0 {
			// Groups one quota bounds trade its room: recreate them together.
			b = partners[rng.IntN(len(partners))]
		}
		if a == b {
			return 0, false
		}
		return s.recreate(s.takeGroups(a, b), k == kickRecreateRegret)
	case kickCloseGroup, kickCloseTwo:
		gi := groups[rng.IntN(len(groups))]
		moved := s.takeModelsOf(gi)
		if k == kickCloseTwo {
			// The models on a second group move too: the room the first
			// group's models need may be taken by them (a chain of floors,
			// spot caps or quotas).
			moved = append(moved, s.takeModelsOf(groups[rng.IntN(len(groups))])...)
		}
		s.shut = gi
		n, ok := s.recreate(moved, true)
		s.shut = -1
		return n, ok
	default:
		return s.emptyGroup(rng, groups[rng.IntN(len(groups))])
	}
}

// pushBatch moves a random batch of one model to another of its options.
func (s *assignment) pushBatch(rng *rand.Rand) bool {
	mi := rng.IntN(len(s.models))
	var from []int
	for oi, c := range s.count[mi] {
		if c > 0 {
			from = append(from, oi)
		}
	}
	if len(from) == 0 || len(s.opts[mi]) < 2 {
		return false
	}
	oa := from[rng.IntN(len(from))]
	ob := rng.IntN(len(s.opts[mi]))
	if ob == oa {
		return false
	}
	m := move(mi, oa, ob, 1+rng.IntN(s.count[mi][oa]))
	if _, why := s.try(m[:]...); why != "" {
		return false
	}
	s.apply(m[:]...)
	return true
}

// emptyGroup takes group gi's new replicas out and re-inserts them in a
// shuffled order, each at random at its cheapest or second-cheapest place.
func (s *assignment) emptyGroup(rng *rand.Rand, gi int) (int, bool) {
	moved := s.takeGroups(gi)
	rng.Shuffle(len(moved), func(i, j int) { moved[i], moved[j] = moved[j], moved[i] })
	for _, mi := range moved {
		first, second := s.twoCheapest(mi)
		choice := first
		if second >= 0 && rng.IntN(2) == 0 {
			choice = second
		}
		if choice < 0 {
			return len(moved), false
		}
		s.apply(change{mi, choice, 1})
	}
	return len(moved), true
}

// takeGroups removes the new replicas of the given groups and returns their
// models, one entry per replica.
func (s *assignment) takeGroups(groups ...int) []int {
	var moved []int
	for _, gi := range groups {
		for _, mi := range s.newReplicasOn(gi) {
			s.apply(change{mi, s.optionOn(mi, gi), -1})
			moved = append(moved, mi)
		}
	}
	return moved
}

// takeModelsOf removes every new replica, on any group, of the models with
// new replicas on group gi: a model whose replicas constrain each other (a
// spread cap, an on-demand floor) can then move them together.
func (s *assignment) takeModelsOf(gi int) []int {
	var moved []int
	for mi := range s.models {
		if oi := s.optionOn(mi, gi); oi < 0 || s.count[mi][oi] == 0 {
			continue
		}
		for oi, c := range s.count[mi] {
			if c > 0 {
				s.apply(change{mi, oi, -c})
				for range c {
					moved = append(moved, mi)
				}
			}
		}
	}
	return moved
}

// recreate places the replicas of moved (one model entry per replica) again,
// each where the greedy's bestOption puts it: widest first, or, with
// byRegret, the model that loses most by not getting its best place first
// (regret insertion: a model that halves its GPUs on a larger GPU takes it
// before one that saves little there). It returns how many it placed and
// false when one found no place.
func (s *assignment) recreate(moved []int, byRegret bool) (int, bool) {
	if !byRegret {
		sort.SliceStable(moved, func(i, j int) bool { return s.widestReplica(moved[i]) > s.widestReplica(moved[j]) })
		for _, mi := range moved {
			best := s.bestOption(mi)
			if best < 0 {
				return len(moved), false
			}
			s.apply(change{mi, best, 1})
		}
		return len(moved), true
	}
	pending := map[int]int{}
	for _, mi := range moved {
		pending[mi]++
	}
	models := make([]int, 0, len(pending))
	for mi := range pending {
		models = append(models, mi)
	}
	sort.Ints(models)
	for range moved {
		pick, pickRegret := -1, 0.0
		for _, mi := range models {
			if pending[mi] == 0 {
				continue
			}
			if r := s.regret(mi); pick < 0 || r > pickRegret {
				pick, pickRegret = mi, r
			}
		}
		best := s.bestOption(pick)
		if best < 0 {
			return len(moved), false
		}
		s.apply(change{pick, best, 1})
		pending[pick]--
	}
	return len(moved), true
}

// regret is what one more replica of model mi loses per hour, once nodes
// are full, when it gets its second-best place instead of its best: +Inf
// with one place left, -1 with none.
func (s *assignment) regret(mi int) float64 {
	first, second := math.Inf(1), math.Inf(1)
	s.insertions(mi, func(in insertion) {
		switch {
		case in.perReplica < first:
			first, second = in.perReplica, first
		case in.perReplica < second:
			second = in.perReplica
		}
	})
	if math.IsInf(first, 1) {
		return -1
	}
	return second - first
}

// twoCheapest is cheapestInsertion's best and runner-up option (-1 if none).
func (s *assignment) twoCheapest(mi int) (int, int) {
	best := s.cheapestInsertion(mi, -1)
	if best < 0 {
		return -1, -1
	}
	return best, s.cheapestInsertion(mi, best)
}
