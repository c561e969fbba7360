package planner

import (
	"maps"
	"math/rand/v2"
	"slices"
)

// The region search: the best plan can need several models to trade places
// at once — one leaves a group for the group a second model holds, the
// second leaves for a third group, and only then does a waiting replica fit,
// or a dear node close. No single trade or batch move pays on its own, so
// the local search (search.go) and the shortage search's trials
// (shortage.go) seldom find such a rotation. The region search takes every
// new replica off a small set of groups (a region) and searches exactly,
// depth first, how many replicas of each model go back on each of the
// region's groups: the models in placement order (highest priority first),
// each branch cut as soon as it leaves more unplaced at some priority than
// the best leaf found, or, placing as many, costs no less (a branch and
// bound). The best leaf is kept when it places more at the highest priority
// where the counts differ, or as many of each at a lower objective. Every
// loop is bounded by counts of evaluations, never by the clock.

// regionBudget bounds the trials (one per model's vector of counts) that
// all regions evaluate, and regionLeafBudget those of one region, so that a
// region whose models have many replicas cannot starve the others;
// regionSets bounds the regions of each size beyond pairs (regions).
const (
	regionBudget     = 200_000
	regionLeafBudget = 20_000
	regionSets       = 60
	// regionReplicas bounds the fleets searched (in replicas), as
	// noiseStartReplicas bounds the noise starts: above it a region's
	// models have too many replicas for an exact search within the budget.
	regionReplicas = noiseStartReplicas
)

// regionSolve is the depth-first search over one region.
type regionSolve struct {
	s       *assignment
	models  []int   // models with an option in the region, placement order
	options [][]int // per entry of models: its options in the region
	free    []int   // per entry of models: replicas it may put back
	// base counts, per priority, the replicas unplaced once the region is
	// emptied, for the models outside models and those inside alike.
	base map[int]int
	path []change
	// best is the best leaf's changes, bestLeft its unplaced per priority
	// (nil until a leaf is found), bestObj its objective.
	best      []change
	bestLeft  map[int]int
	bestObj   score
	evaluated int
	budget    int
}

// regionSearch runs the region search over unplaced (indices per model,
// ascending), which it updates; it reports whether the plan changed. After a
// change it places what now fits and runs the local search again.
func (s *assignment) regionSearch(unplaced [][]int) bool {
	if totalReplicas(s.req) > regionReplicas {
		return false
	}
	// Passes over every region while one changes the plan: a rotation on
	// one region can open another.
	changed, budget := false, regionBudget
	for again := true; again && budget > 0; {
		again = false
		for _, region := range s.regions() {
			if budget <= 0 {
				break
			}
			if s.solveRegion(region, unplaced, &budget) {
				changed, again = true, true
			}
		}
	}
	if changed {
		// Room the rotations freed elsewhere, and the moves that only now
		// pay.
		s.placeWhatFits(rand.New(rand.NewPCG(0x72656769, 0x6f6e)), unplaced, nil, nil)
		s.improve()
		s.explainUnplaced(unplaced)
	}
	return changed
}

// regions lists the sets of groups worth a search, at least one of them
// holding a new replica: every pair, then the sets of three, four and more
// while there are at most regionSets of that size (a fleet of 8 groups: 28
// pairs and 56 triples; of 6: every set, the whole fleet last). The larger
// sets catch the chains the pairs cannot: a model spread across clouds with
// an on-demand floor that must leave one group for two others.
func (s *assignment) regions() [][]int {
	holds := make([]bool, len(s.groups))
	for mi := range s.models {
		for oi, opt := range s.opts[mi] {
			if s.count[mi][oi] > 0 {
				holds[opt.group] = true
			}
		}
	}
	n := len(s.groups)
	var out [][]int
	for k := 2; k <= n && (k == 2 || binomial(n, k) <= regionSets); k++ {
		set := make([]int, k)
		for i := range set {
			set[i] = i
		}
		for {
			if slices.ContainsFunc(set, func(gi int) bool { return holds[gi] }) {
				out = append(out, slices.Clone(set))
			}
			// The next set of k in lexicographic order.
			i := k - 1
			for i >= 0 && set[i] == n-k+i {
				i--
			}
			if i < 0 {
				break
			}
			set[i]++
			for j := i + 1; j < k; j++ {
				set[j] = set[j-1] + 1
			}
		}
	}
	return out
}

// binomial is n choose k.
func binomial(n, k int) int {
	r := 1
	for i := 1; i <= k; i++ {
		r = r * (n - k + i) / i
	}
	return r
}

// solveRegion empties region, searches it, and keeps the best leaf when it
// beats the plan before; it reports whether it did.
func (s *assignment) solveRegion(region []int, unplaced [][]int, budget *int) bool {
	current := s.unplacedPerPriority(unplaced)
	mark := s.mark()
	var removed []change
	r := &regionSolve{s: s, base: map[int]int{}, budget: min(*budget, regionLeafBudget)}
	for mi, md := range s.models {
		free := len(unplaced[mi])
		var options []int
		for _, gi := range region {
			if oi := s.optionOn(mi, gi); oi >= 0 {
				options = append(options, oi)
				if c := s.count[mi][oi]; c > 0 {
					s.apply(change{mi, oi, -c})
					removed = append(removed, change{mi, oi, c})
					free += c
				}
			}
		}
		r.base[md.Priority] += free
		if len(options) > 0 && free > 0 {
			r.models = append(r.models, mi)
			r.options = append(r.options, options)
			r.free = append(r.free, free)
		}
	}
	r.search(0, s.obj.of(s))
	*budget -= r.evaluated
	s.undo(mark)
	if r.bestLeft == nil || comparePerPriority(current, r.bestLeft) < 0 {
		return false
	}
	// The search judged each model's counts against the emptied region; the
	// change from the plan before, as one trial, must pass every rule too
	// (a spread's min_domains judges what a model leaves, not what it adds).
	net := r.netChange(removed)
	d, why := s.try(net...)
	if why != "" || comparePerPriority(current, r.bestLeft) == 0 && !d.less(improvement) {
		return false
	}
	s.apply(net...)
	for mi := range s.models {
		placed := 0
		for _, n := range s.count[mi] {
			placed += n
		}
		left := len(s.pending[mi]) - placed
		switch u := len(unplaced[mi]); {
		case left < u:
			unplaced[mi] = unplaced[mi][u-left:]
		case left > u:
			unplaced[mi] = s.unplaceLast(mi, left-u, unplaced[mi])
		}
	}
	return true
}

// netChange is the best leaf as changes to the plan before the region was
// emptied of removed, one change per model and option.
func (r *regionSolve) netChange(removed []change) []change {
	type key struct{ mi, oi int }
	delta := map[key]int{}
	var order []key
	add := func(ch change, sign int) {
		k := key{ch.mi, ch.oi}
		if _, ok := delta[k]; !ok {
			order = append(order, k)
		}
		delta[k] += sign * ch.delta
	}
	for _, ch := range removed {
		add(ch, -1)
	}
	for _, ch := range r.best {
		add(ch, 1)
	}
	var out []change
	for _, k := range order {
		if d := delta[k]; d != 0 {
			out = append(out, change{k.mi, k.oi, d})
		}
	}
	return out
}

// search decides the counts of models[k:] in the region, obj being the
// objective of the decisions so far.
func (r *regionSolve) search(k int, obj score) {
	if r.evaluated >= r.budget {
		return
	}
	if k == len(r.models) {
		c := 0
		if r.bestLeft != nil {
			c = comparePerPriority(r.base, r.bestLeft)
		}
		if r.bestLeft == nil || c < 0 || c == 0 && obj.less(r.bestObj.plus(improvement)) {
			r.bestObj, r.bestLeft = obj, maps.Clone(r.base)
			r.best = append(r.best[:0], r.path...)
		}
		return
	}
	// The models from k on may place every replica they put back: the base
	// with them all placed bounds every leaf below from below. Adding
	// replicas never lowers the objective (prices, surcharges and the
	// spread's sum of squares only grow), so the objective so far bounds
	// every leaf below that places as many as the best.
	bound := r.bound(k)
	if r.bestLeft != nil {
		if c := comparePerPriority(bound, r.bestLeft); c > 0 || c == 0 && !obj.less(r.bestObj.plus(improvement)) {
			return
		}
	}
	s, mi, options := r.s, r.models[k], r.options[k]
	priority := s.models[mi].Priority
	counts := make([]int, len(options))
	changes := make([]change, len(options))
	for total := r.free[k]; total >= 0; total-- {
		// Putting back fewer leaves more unplaced: once that alone is worse
		// than the best leaf, every smaller total is too.
		if total < r.free[k] {
			if bound[priority]++; r.bestLeft != nil && comparePerPriority(bound, r.bestLeft) > 0 {
				return
			}
		}
		for ok := firstSplit(counts, total); ok; ok = nextSplit(counts) {
			if r.evaluated >= r.budget {
				return
			}
			changes = changes[:0]
			for i, c := range counts {
				if c > 0 {
					changes = append(changes, change{mi, options[i], c})
				}
			}
			d := score{}
			if len(changes) > 0 {
				r.evaluated++
				var why string
				if d, why = s.try(changes...); why != "" {
					continue
				}
			}
			mark := s.mark()
			s.apply(changes...)
			r.base[priority] -= total
			n := len(r.path)
			r.path = append(r.path, changes...)
			r.search(k+1, obj.plus(d))
			r.path = r.path[:n]
			r.base[priority] += total
			s.undo(mark)
		}
	}
}

// bound is the replicas unplaced per priority if every model from k on put
// every replica back.
func (r *regionSolve) bound(k int) map[int]int {
	out := maps.Clone(r.base)
	for j := k; j < len(r.models); j++ {
		out[r.s.models[r.models[j]].Priority] -= r.free[j]
	}
	return out
}

// firstSplit sets counts to the first split of total over its entries (all
// on the first); false when counts has no entry and total is not 0.
func firstSplit(counts []int, total int) bool {
	if len(counts) == 0 {
		return total == 0
	}
	clear(counts)
	counts[0] = total
	return true
}

// nextSplit advances counts to the next split of the same total, in
// lexicographically decreasing order; false after the last.
func nextSplit(counts []int) bool {
	// Find the rightmost entry, not the last, with something to pass on.
	n := len(counts)
	for i := n - 2; i >= 0; i-- {
		if counts[i] > 0 {
			counts[i]--
			rest := 1 + counts[n-1]
			counts[n-1] = 0
			counts[i+1] += rest // 0 before: the entries after i were
			return true
		}
	}
	return false
}
