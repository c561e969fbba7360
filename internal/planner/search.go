package planner

import (
	"math/rand/v2"
	"sort"
)

// The local search: it starts from the greedy assignment and keeps any
// change that lowers the strategy's objective — batch moves of one model's
// replicas, exchanges between two models, re-packing a whole group, and an
// iterated local search with a seeded generator. Every loop is bounded by a
// count of evaluations, never by the clock, so plans stay deterministic.

// moveBudget bounds the moves the local search evaluates, so that its run
// time is bounded and the result never depends on the clock.
const moveBudget = 2_000_000

// swapBudget bounds the exchanges evaluated beyond the single moves.
const swapBudget = 250_000

// evacuationBudget bounds the replicas re-inserted by group evacuations.
const evacuationBudget = 20_000

// improve runs a best-improvement local search over the group chosen for
// each new replica: move δ replicas of one model from one group to another
// when that lowers the objective, keeping every constraint.
func (p *plan) improve() {
	p.localSearch()
	p.perturb()
}

// perturbTrials bounds the iterated-local-search trials; perturbBudget
// bounds their total work in replicas re-inserted.
const (
	perturbTrials = 40
	perturbBudget = 5_000
	// perturbMoves bounds the local-search moves all trials evaluate.
	perturbMoves = 600_000
)

// perturb is an iterated local search: it empties a group of its new
// replicas, re-inserts them in a shuffled order choosing at random between
// the two cheapest places, runs the local search again, and keeps the result
// only when it is cheaper. The generator is seeded with a constant, so the
// plan stays deterministic.
func (p *plan) perturb() {
	rng := rand.New(rand.NewPCG(0x6d636c6c, 0x6d))
	work := 0
	moves := 0
	for trial := 0; trial < perturbTrials && work < perturbBudget && moves < perturbMoves; trial++ {
		var groups []int
		for gi := range p.groups {
			for mi := range p.models {
				if oi := p.optionOn(mi, gi); oi >= 0 && p.count[mi][oi] > 0 {
					groups = append(groups, gi)
					break
				}
			}
		}
		if len(groups) == 0 {
			return
		}
		if trial%2 == 1 {
			// The other kick: push a batch of one model into another group,
			// often one not in use yet, and let the local search follow.
			work++
			mi := rng.IntN(len(p.models))
			var from []int
			for oi, c := range p.count[mi] {
				if c > 0 {
					from = append(from, oi)
				}
			}
			if len(from) == 0 || len(p.opts[mi]) < 2 {
				continue
			}
			oa := from[rng.IntN(len(from))]
			ob := rng.IntN(len(p.opts[mi]))
			if ob == oa {
				continue
			}
			d := 1 + rng.IntN(p.count[mi][oa])
			if p.nodesWith(mi, p.opts[mi][ob], d) > p.groups[p.opts[mi][ob].group].MaxNodes || !p.spreadAllows(mi, oa, ob, d) {
				continue
			}
			before := p.totalObjective()
			m := p.mark()
			p.add(mi, oa, -d)
			p.add(mi, ob, d)
			moves += p.localSearch()
			if p.totalObjective() > before+1e-9 {
				p.undo(m)
			} else {
				p.commit() // equal cost is kept too: it lets the search cross plateaus
			}
			continue
		}
		gi := groups[rng.IntN(len(groups))]
		var moved []int
		for mi := range p.models {
			if oi := p.optionOn(mi, gi); oi >= 0 {
				for range p.count[mi][oi] {
					moved = append(moved, mi)
				}
			}
		}
		work += len(moved)
		rng.Shuffle(len(moved), func(i, j int) { moved[i], moved[j] = moved[j], moved[i] })
		before := p.totalObjective()
		m := p.mark()
		ok := true
		for _, mi := range moved {
			p.add(mi, p.optionOn(mi, gi), -1)
		}
		for _, mi := range moved {
			first, second := p.twoCheapest(mi)
			choice := first
			if second >= 0 && rng.IntN(2) == 0 {
				choice = second
			}
			if choice < 0 {
				ok = false
				break
			}
			p.add(mi, choice, 1)
		}
		if ok {
			moves += p.localSearch()
		}
		if !ok || p.totalObjective() > before+1e-9 {
			p.undo(m)
		} else {
			p.commit()
		}
	}
}

// twoCheapest is cheapestInsertion's best and runner-up option (-1 if none).
func (p *plan) twoCheapest(mi int) (int, int) {
	best := p.cheapestInsertion(mi, -1)
	if best < 0 {
		return -1, -1
	}
	return best, p.cheapestInsertion(mi, best)
}

// localSearch runs single moves, then exchanges and re-packs, until none
// improves; it returns the moves it evaluated.
func (p *plan) localSearch() int {
	evaluated := 0
	for pass := 0; evaluated < moveBudget; pass++ {
		improved := false
		for mi := range p.models {
			for oa := range p.opts[mi] {
				if p.count[mi][oa] == 0 {
					continue
				}
				bestGain, bestB, bestD := 1e-9, -1, 0
				// Adding replicas never lowers a group's objective, so only
				// batches whose removal shrinks the source can gain, or any
				// batch that leaves a surcharge behind.
				var useful []int
				a := p.opts[mi][oa]
				for _, d := range deltas(p.count[mi][oa]) {
					if a.surcharge > 0 || p.objective(a.group, p.nodesWith(mi, a, -d)) < p.objective(a.group, p.nodes[a.group])-1e-12 {
						useful = append(useful, d)
					}
				}
				for ob := range p.opts[mi] {
					if ob == oa {
						continue
					}
					for _, d := range useful {
						evaluated++
						if gain, ok := p.moveGain(mi, oa, ob, d); ok && gain > bestGain {
							bestGain, bestB, bestD = gain, ob, d
						}
					}
				}
				if bestB >= 0 {
					p.add(mi, oa, -bestD)
					p.add(mi, bestB, bestD)
					improved = true
				}
			}
		}
		if !improved && !p.swapPass() && !p.evacuatePass() {
			return evaluated
		}
	}
	p.log.Debug("local search stopped at its budget", "moves_evaluated", evaluated)
	return evaluated
}

// swapPass tries exchanges that no single move finds: d1 replicas of one
// model go from group a to group b while d2 replicas of another go from b to
// a — one model makes room for the other. It applies the best exchange and
// reports whether it found one.
func (p *plan) swapPass() bool {
	type side struct{ mi, oa, ob int }
	best, bestGain := [2]side{}, 1e-9
	bestD := [2]int{}
	found := false
	// Only exchanges whose incoming half would shrink its source group are
	// worth trying: that is where the gain comes from.
	for m2 := range p.models {
		for oa2, from := range p.opts[m2] {
			if p.count[m2][oa2] == 0 {
				continue
			}
			var shrinking []int // batches whose leaving shrinks the source
			for _, d2 := range deltas(p.count[m2][oa2]) {
				if p.nodesWith(m2, from, -d2) < p.nodes[from.group] {
					shrinking = append(shrinking, d2)
				}
			}
			for ob2, to := range p.opts[m2] {
				if ob2 == oa2 {
					continue
				}
				for _, d2 := range shrinking {
					for m1 := range p.models {
						oa1, ob1 := p.optionOn(m1, to.group), p.optionOn(m1, from.group)
						if m1 == m2 || oa1 < 0 || ob1 < 0 || p.count[m1][oa1] == 0 {
							continue
						}
						for c1, d1 := p.count[m1][oa1], 1; d1 <= c1; d1 = nextDelta(d1, c1) {
							p.swapsEvaluated++
							if p.swapsEvaluated > swapBudget {
								return false
							}
							if gain, ok := p.swapGain(m1, oa1, ob1, d1, m2, oa2, ob2, d2); ok && gain > bestGain {
								best, bestD, bestGain, found = [2]side{{m1, oa1, ob1}, {m2, oa2, ob2}}, [2]int{d1, d2}, gain, true
							}
						}
					}
				}
			}
		}
	}
	if !found {
		return false
	}
	for i, s := range best {
		p.add(s.mi, s.oa, -bestD[i])
		p.add(s.mi, s.ob, bestD[i])
	}
	return true
}

// optionOn is the index of model mi's option on group gi, or -1.
func (p *plan) optionOn(mi, gi int) int { return p.optIndex[mi][gi] }

// journalEntry is one assignment change, recorded so that trial moves can
// be undone.
type journalEntry struct{ mi, oi, delta int }

// mark starts a trial: changes after it can be undone. Marks nest.
func (p *plan) mark() int {
	p.marks++
	return len(p.journal)
}

// undo reverts every change since the mark and ends the trial.
func (p *plan) undo(mark int) {
	entries := p.journal[mark:]
	p.journal = p.journal[:mark]
	p.marks--
	saved := p.marks
	p.marks = 0 // reverting is not itself recorded
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		p.add(e.mi, e.oi, -e.delta)
	}
	p.marks = saved
	p.trimJournal()
}

// commit ends the trial and keeps its changes.
func (p *plan) commit() {
	p.marks--
	p.trimJournal()
}

func (p *plan) trimJournal() {
	if p.marks == 0 {
		p.journal = p.journal[:0]
	}
}

// totalObjective is the strategy's objective of the whole assignment:
// under the spread strategy, each model's fullest domain counts first.
func (p *plan) totalObjective() float64 {
	total := 0.0
	for gi, n := range p.nodes {
		total += p.objective(gi, n)
	}
	for mi, counts := range p.count {
		for oi, c := range counts {
			total += float64(c) * p.opts[mi][oi].surcharge
		}
	}
	if p.req.Strategy == StrategySpread {
		for mi := range p.models {
			total += spreadWeight * float64(p.maxDomain(mi))
		}
	}
	return total
}

// spreadWeight makes one replica of imbalance outweigh any cost.
const spreadWeight = 1e9

// evacuatePass tries, group by group, to empty a group of its new replicas
// and re-insert each elsewhere at the least extra cost: the move that closes
// a half-used large node in favour of small ones, which no batch move of a
// single model finds. It applies the first trial that lowers the objective.
func (p *plan) evacuatePass() bool {
	for gi := range p.groups {
		if p.evacuations >= evacuationBudget {
			return false
		}
		var moved []int // model indices, one entry per replica
		for mi := range p.models {
			if oi := p.optionOn(mi, gi); oi >= 0 {
				for range p.count[mi][oi] {
					moved = append(moved, mi)
				}
			}
		}
		if len(moved) == 0 {
			continue
		}
		p.evacuations += len(moved)
		before := p.totalObjective()
		// Two insertion orders: largest replicas first, and most
		// constrained models first. The better one is kept when it beats
		// the current assignment.
		orders := [][]int{append([]int(nil), moved...), append([]int(nil), moved...)}
		sort.SliceStable(orders[0], func(i, j int) bool { return p.replicaGPUs(orders[0][i]) > p.replicaGPUs(orders[0][j]) })
		sort.SliceStable(orders[1], func(i, j int) bool { return len(p.opts[orders[1][i]]) < len(p.opts[orders[1][j]]) })
		best, bestObj := -1, before-1e-9
		for i, order := range orders {
			m := p.mark()
			if p.reinsert(gi, order) {
				if obj := p.totalObjective(); obj < bestObj {
					best, bestObj = i, obj
				}
			}
			p.undo(m)
		}
		if best >= 0 {
			p.reinsert(gi, orders[best])
			p.log.Debug("re-packed node group", "group", p.groups[gi].Name, "replicas", len(moved))
			return true
		}
	}
	return false
}

// reinsert takes the new replicas of group gi out and puts each back, in
// order, wherever it raises the objective least (gi included). False when
// one finds no place.
func (p *plan) reinsert(gi int, order []int) bool {
	for _, mi := range order {
		p.add(mi, p.optionOn(mi, gi), -1)
	}
	for _, mi := range order {
		best := p.cheapestInsertion(mi, -1)
		if best < 0 {
			return false
		}
		p.add(mi, best, 1)
	}
	return true
}

// replicaGPUs is the most GPUs a replica of model mi takes on any option.
func (p *plan) replicaGPUs(mi int) int {
	most := 0
	for _, o := range p.opts[mi] {
		most = max(most, o.gpus())
	}
	return most
}

// cheapestInsertion is the option, other than skip, where one more replica
// of model mi raises the objective least, within every constraint.
func (p *plan) cheapestInsertion(mi, skip int) int {
	best, bestCost := -1, 0.0
	for oi, o := range p.opts[mi] {
		if oi == skip {
			continue
		}
		n, ok := p.admits(mi, oi)
		if !ok {
			continue
		}
		dom := p.domain(mi, o)
		cost := p.objective(o.group, n) - p.objective(o.group, p.nodes[o.group]) + o.surcharge + p.amortized(o)*1e-6
		if p.req.Strategy == StrategySpread {
			cost += spreadWeight * float64(p.domains[mi][dom])
		}
		if best < 0 || cost < bestCost {
			best, bestCost = oi, cost
		}
	}
	return best
}

// change is delta replicas of model mi at option o.
type change struct {
	mi    int
	o     option
	delta int
}

// nodesAfter is group gi's node count after the changes that concern it.
func (p *plan) nodesAfter(gi int, changes ...change) int {
	total := p.classSum[gi]
	touched := map[int]bool{}
	for _, ch := range changes {
		if ch.o.group == gi {
			touched[p.classOf[ch.mi]] = true
		}
	}
	for c := range touched {
		s := p.stages[gi][c]
		ex := map[int]int{}
		for _, ch := range changes {
			if ch.o.group != gi || p.classOf[ch.mi] != c {
				continue
			}
			s[levelOf(ch.o.t)] += ch.delta * ch.o.p
			if p.models[ch.mi].Spread.Across == SpreadNode {
				ex[ch.mi] += ch.delta
			}
		}
		n := p.bases[gi][c].nodesFor(&s)
		for m, cnt := range p.exclusive[gi] {
			if p.classOf[m] == c {
				n = max(n, cnt+ex[m])
			}
		}
		for m, d := range ex {
			n = max(n, p.exclusive[gi][m]+d)
		}
		total += n - p.classNodes[gi][c]
	}
	return max(total, p.existing[gi])
}

// swapGain is the objective's decrease when d1 replicas of m1 move from
// option oa1 to ob1 and d2 of m2 from oa2 to ob2 (the opposite groups).
func (p *plan) swapGain(m1, oa1, ob1, d1, m2, oa2, ob2, d2 int) (float64, bool) {
	if !p.spreadAllows(m1, oa1, ob1, d1) || !p.spreadAllows(m2, oa2, ob2, d2) {
		return 0, false
	}
	ga, gb := p.opts[m1][oa1].group, p.opts[m1][ob1].group
	changes := []change{
		{m1, p.opts[m1][oa1], -d1}, {m1, p.opts[m1][ob1], d1},
		{m2, p.opts[m2][oa2], -d2}, {m2, p.opts[m2][ob2], d2},
	}
	na, nb := p.nodesAfter(ga, changes...), p.nodesAfter(gb, changes...)
	if na > p.groups[ga].MaxNodes || nb > p.groups[gb].MaxNodes {
		return 0, false
	}
	before := p.objective(ga, p.nodes[ga]) + p.objective(gb, p.nodes[gb])
	surcharges := float64(d1)*(p.opts[m1][oa1].surcharge-p.opts[m1][ob1].surcharge) +
		float64(d2)*(p.opts[m2][oa2].surcharge-p.opts[m2][ob2].surcharge)
	return before - p.objective(ga, na) - p.objective(gb, nb) + surcharges, true
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

// moveGain is the objective's decrease when d replicas of model mi move from
// option oa to ob, and whether the move keeps every constraint.
func (p *plan) moveGain(mi, oa, ob, d int) (float64, bool) {
	a, b := p.opts[mi][oa], p.opts[mi][ob]
	nb := p.nodesWith(mi, b, d)
	if nb > p.groups[b.group].MaxNodes {
		return 0, false
	}
	if !p.spreadAllows(mi, oa, ob, d) {
		return 0, false
	}
	na := p.nodesWith(mi, a, -d)
	before := p.objective(a.group, p.nodes[a.group]) + p.objective(b.group, p.nodes[b.group])
	after := p.objective(a.group, na) + p.objective(b.group, nb)
	return before - after + float64(d)*(a.surcharge-b.surcharge), true
}

// spreadAllows checks a move of d replicas of model mi from option oa to ob
// against the model's spread.
func (p *plan) spreadAllows(mi, oa, ob, d int) bool {
	if !p.spotAllows(mi, oa, ob, d) {
		return false
	}
	m := p.models[mi]
	da, db := p.domain(mi, p.opts[mi][oa]), p.domain(mi, p.opts[mi][ob])
	if p.domainKind(mi) == "" || da == db {
		return true
	}
	if p.domains[mi][db]+d > p.cap(mi) {
		return false
	}
	// Emptying a domain must not drop below min_domains.
	if p.domains[mi][da] == d && p.domains[mi][db] > 0 && p.distinctDomains(mi) <= m.Spread.MinDomains {
		return false
	}
	// Under the spread strategy, never make the fullest domain fuller.
	return p.req.Strategy != StrategySpread || p.domains[mi][db]+d <= p.maxDomain(mi)
}

func (p *plan) distinctDomains(mi int) int {
	n := 0
	for _, c := range p.domains[mi] {
		if c > 0 {
			n++
		}
	}
	return n
}

func (p *plan) maxDomain(mi int) int {
	most := 0
	for _, c := range p.domains[mi] {
		most = max(most, c)
	}
	return most
}
