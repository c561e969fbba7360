package planner

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"

	"github.com/hashicorp/go-hclog"
)

// ErrInvalid wraps the input errors Plan returns.
var ErrInvalid = errors.New("invalid planner input")

// InvalidError carries every problem of an invalid request.
type InvalidError struct{ Problems []*InputError }

func (e *InvalidError) Error() string {
	msg := fmt.Sprintf("%d problem(s) in the planner input", len(e.Problems))
	for _, p := range e.Problems {
		msg += "; " + p.Error()
	}
	return msg
}

// Unwrap lets errors.Is(err, ErrInvalid) match.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

func replicaKey(model string, index int) string { return model + "/" + strconv.Itoa(index) }

// Plan places every replica of every model on the node groups. It returns
// an *InvalidError for bad input and never panics on any input.
func Plan(req Request) (res *Result, err error) {
	if problems := Validate(req); len(problems) > 0 {
		return nil, &InvalidError{Problems: problems}
	}
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("planner: internal error: %v", r)
		}
	}()
	if req.Strategy == "" {
		req.Strategy = StrategyCost
	}
	if req.Logger == nil {
		req.Logger = hclog.NewNullLogger()
	}
	base := newPlan(req, nil)
	res = settle(req, base.run())
	if req.Rebalance && req.MaxMoves > 0 && len(req.Previous) > 0 {
		res = rebalance(req, base, res)
	}
	return res, nil
}

// settle re-plans on top of a result while that places more replicas: the
// fast node-count model of the assignment can miss room that the concrete
// binding leaves (spread across nodes, pipeline stages), and a plan must be a
// fixed point — re-planning it must change nothing. Moves keep their
// meaning: against the request's previous placement.
func settle(req Request, res *Result) *Result {
	for range 8 {
		if len(res.Unplaced) == 0 {
			return res
		}
		again := req
		again.Previous = res.Replicas
		next := newPlan(again, nil).run()
		if len(next.Replicas) <= len(res.Replicas) {
			return res
		}
		moves := append([]Move(nil), res.Moves...)
		moves = append(moves, movesAgainst(req.Previous, res.Replicas, next.Replicas)...)
		next.Moves = moves
		sort.Slice(next.Moves, func(i, j int) bool { return lessKey(next.Moves[i].To, next.Moves[j].To) })
		res = next
	}
	return res
}

// movesAgainst lists replicas new in next (absent from placed) that had
// another place in prev.
func movesAgainst(prev, placed, next []Replica) []Move {
	had := map[string]bool{}
	for _, r := range placed {
		had[r.Key()] = true
	}
	old := map[string]Replica{}
	for _, r := range prev {
		old[r.Key()] = r
	}
	var out []Move
	for _, r := range next {
		if o, ok := old[r.Key()]; ok && !had[r.Key()] && !samePlace(o, r) {
			out = append(out, Move{Key: r.Key(), From: o, To: r, Reason: "its previous place is no longer feasible"})
		}
	}
	return out
}

// plan is one run of the planner over a request.
type plan struct {
	req    Request
	log    hclog.Logger
	groups []NodeGroup   // sorted by name
	models []ModelDemand // placement order: priority desc, then name

	opts           [][]option // per model: one option per feasible group
	swapsEvaluated int
	evacuations    int
	journal        []journalEntry
	marks          int
	// optIndex[mi][gi] is model mi's option on group gi, or -1.
	optIndex [][]int
	reports  []*filterReport // per model

	allocs []*groupAlloc // per group: kept replicas bound
	// Isolation classes: models of one class may share nodes, models of
	// different classes never do. Class 0 is the shared class.
	classOf    []int          // per model
	kinds      []string       // per model: domainKind
	classes    int            // number of classes
	bases      [][]groupBase  // per group, per class: state after kept replicas
	stages     [][]sizeCounts // per group, per class: new stages
	classNodes [][]int        // per group, per class: nodes
	nodes      []int          // per group: node count after new stages

	kept    [][]Replica // per model: replicas kept from the previous plan
	pending [][]int     // per model: replica indices still to place
	count   [][]int     // per model, per option: new replicas there
	domains []map[string]int
	// spot counts, per model, the replicas on spot node groups.
	spot []int
	// exclusive counts, per group, the replicas of each model spread
	// across nodes (one node each), kept and new.
	exclusive []map[int]int
	failed    []map[int]string // per model: replica index → why it moved
	// released names previous replicas a rebalance frees to move.
	released map[string]bool
}

func newPlan(req Request, released map[string]bool) *plan {
	p := &plan{req: req, log: req.Logger, released: released}
	p.groups = append([]NodeGroup(nil), req.NodeGroups...)
	sort.Slice(p.groups, func(i, j int) bool { return p.groups[i].Name < p.groups[j].Name })
	p.models = append([]ModelDemand(nil), req.Models...)
	sort.Slice(p.models, func(i, j int) bool {
		a, b := p.models[i], p.models[j]
		if a.Priority != b.Priority {
			return a.Priority > b.Priority
		}
		return a.Name < b.Name
	})
	return p
}

func (p *plan) run() *Result {
	n, m := len(p.groups), len(p.models)
	p.opts = make([][]option, m)
	p.reports = make([]*filterReport, m)
	for i, md := range p.models {
		p.opts[i], p.reports[i] = feasibleOptions(md, p.groups)
		p.log.Debug("filtered node groups", "model", md.Name, "feasible", len(p.opts[i]), "groups", n)
	}
	p.optIndex = make([][]int, m)
	for mi := range p.models {
		p.optIndex[mi] = make([]int, n)
		for gi := range p.optIndex[mi] {
			p.optIndex[mi][gi] = -1
		}
		for oi, o := range p.opts[mi] {
			p.optIndex[mi][o.group] = oi
		}
	}
	p.assignClasses()
	p.kinds = make([]string, m)
	for mi := range p.models {
		p.kinds[mi] = p.kindOf(mi)
	}
	p.allocs = make([]*groupAlloc, n)
	for gi, g := range p.groups {
		p.allocs[gi] = newGroupAlloc(g)
	}
	p.keepPrevious()
	p.exclusive = make([]map[int]int, n)
	for gi := range p.exclusive {
		p.exclusive[gi] = map[int]int{}
	}
	for mi, kept := range p.kept {
		if p.models[mi].Spread.Across != SpreadNode {
			continue
		}
		for _, r := range kept {
			for gi, g := range p.groups {
				if g.Name == r.NodeGroup {
					p.exclusive[gi][mi]++
				}
			}
		}
	}
	p.bases = make([][]groupBase, n)
	p.stages = make([][]sizeCounts, n)
	p.classNodes = make([][]int, n)
	p.nodes = make([]int, n)
	for gi, g := range p.groups {
		p.bases[gi] = p.allocs[gi].basesAfterPins(g, p.classes)
		p.stages[gi] = make([]sizeCounts, p.classes)
		p.classNodes[gi] = make([]int, p.classes)
		for c := range p.classes {
			p.classNodes[gi][c] = p.classNodesAfter(gi, c, &p.stages[gi][c], -1, 0)
			p.nodes[gi] += p.classNodes[gi][c]
		}
	}
	p.count = make([][]int, m)
	for mi := range p.models {
		p.count[mi] = make([]int, len(p.opts[mi]))
	}
	unplaced := p.assign(p.pending)
	p.improve()
	// The local search can free capacity: give what is left another chance.
	if retry := p.assign(unplaced); !equalLists(retry, unplaced) {
		unplaced = retry
		p.improve()
	}
	return p.bind(unplaced)
}

// domainOf names the failure domain of a group for a model's spread.
func domainOf(g NodeGroup, across string) string {
	switch across {
	case SpreadRegion:
		return g.Cloud + "/" + g.Region
	case SpreadCloud:
		return g.Cloud
	}
	return g.Name
}

// domainKind is what counts as a domain for a model: its spread domain, or
// the cloud under the spread strategy; "" (the group) otherwise.
func (p *plan) domainKind(mi int) string { return p.kinds[mi] }

// kindOf works out domainKind once per model.
func (p *plan) kindOf(mi int) string {
	m := p.models[mi]
	switch a := m.Spread.Across; {
	case a == SpreadCloud || a == SpreadRegion:
		return a
	case m.MinReplicasOnFailure.Cloud > 0:
		return SpreadCloud
	case m.MinReplicasOnFailure.Region > 0:
		return SpreadRegion
	case p.req.Strategy == StrategySpread:
		return SpreadCloud
	}
	return ""
}

// cap is the most replicas of model mi one domain may hold.
func (p *plan) cap(mi int) int { return shareCap(p.models[mi], p.domainKind(mi)) }

func (p *plan) domain(mi int, o option) string { return domainOf(p.groups[o.group], p.domainKind(mi)) }

// shareCap is the most replicas of a model one domain of the given kind may
// hold: the spread's max_share, and the replicas that must survive the
// loss of that domain (min_replicas_on_failure).
func shareCap(m ModelDemand, kind string) int {
	limit := math.MaxInt
	if m.Spread.MaxShare > 0 && (m.Spread.Across == SpreadCloud || m.Spread.Across == SpreadRegion) {
		limit = max(1, int(math.Floor(m.Spread.MaxShare*float64(m.Replicas)+1e-9)))
	}
	if n := m.MinReplicasOnFailure.of(kind); n > 0 {
		limit = min(limit, m.Replicas-n)
	}
	return limit
}

// objective is what the strategy minimises for one group at n nodes.
func (p *plan) objective(gi, n int) float64 {
	cost := p.groups[gi].PricePerHour * float64(n)
	if p.req.Strategy == StrategyBinpack {
		return float64(n) + cost*1e-9
	}
	return cost + float64(n)*1e-9
}

// amortized is the strategy's cost of one replica once nodes are full.
func (p *plan) amortized(o option) float64 {
	g := p.groups[o.group]
	share := float64(o.gpus()) / float64(g.GPUsPerNode)
	if p.req.Strategy == StrategyBinpack {
		return share
	}
	return g.PricePerHour * share
}

// assignClasses numbers the isolation classes: 0 for models that share,
// one per tenant, one per dedicated model, in model order.
func (p *plan) assignClasses() {
	p.classOf = make([]int, len(p.models))
	p.classes = 1
	tenants := map[string]int{}
	for mi, m := range p.models {
		switch {
		case m.Isolation.Dedicated:
			p.classOf[mi] = p.classes
			p.classes++
		case m.Isolation.Tenant != "":
			c, ok := tenants[m.Isolation.Tenant]
			if !ok {
				c = p.classes
				tenants[m.Isolation.Tenant] = c
				p.classes++
			}
			p.classOf[mi] = c
		}
	}
}

// classNodesAfter is the nodes class c of group gi needs for stages s, with
// delta more replicas of model mi when that model is spread across nodes
// (each such replica needs a node of its own).
func (p *plan) classNodesAfter(gi, c int, s *sizeCounts, mi, delta int) int {
	n := p.bases[gi][c].nodesFor(s)
	if len(p.exclusive[gi]) == 0 && (mi < 0 || p.models[mi].Spread.Across != SpreadNode) {
		return n
	}
	for m, cnt := range p.exclusive[gi] {
		if p.classOf[m] != c {
			continue
		}
		if m == mi {
			cnt += delta
		}
		n = max(n, cnt)
	}
	if mi >= 0 && p.classOf[mi] == c && p.models[mi].Spread.Across == SpreadNode && p.exclusive[gi][mi] == 0 {
		n = max(n, delta)
	}
	return n
}

// nodesWith is a group's node count with delta replicas of model mi at
// option o added (negative to remove).
func (p *plan) nodesWith(mi int, o option, delta int) int {
	c := p.classOf[mi]
	s := p.stages[o.group][c]
	s[levelOf(o.t)] += delta * o.p
	return p.nodes[o.group] - p.classNodes[o.group][c] + p.classNodesAfter(o.group, c, &s, mi, delta)
}

func (p *plan) add(mi, oi, delta int) {
	if p.marks > 0 {
		p.journal = append(p.journal, journalEntry{mi, oi, delta})
	}
	o := p.opts[mi][oi]
	c := p.classOf[mi]
	p.count[mi][oi] += delta
	p.stages[o.group][c][levelOf(o.t)] += delta * o.p
	if p.models[mi].Spread.Across == SpreadNode {
		p.exclusive[o.group][mi] += delta
	}
	n := p.classNodesAfter(o.group, c, &p.stages[o.group][c], -1, 0)
	p.nodes[o.group] += n - p.classNodes[o.group][c]
	p.classNodes[o.group][c] = n
	p.domains[mi][p.domain(mi, o)] += delta
	if p.isSpot(o.group) {
		p.spot[mi] += delta
	}
}

func (p *plan) isSpot(gi int) bool { return p.groups[gi].CapacityType == CapacitySpot }

// spotRoom is how many more replicas of model mi may run on spot capacity.
func (p *plan) spotRoom(mi int) int {
	return p.models[mi].Replicas - p.models[mi].OnDemandFloor - p.spot[mi]
}

// spotAllows checks that moving d replicas of model mi to option ob (from
// oa, or -1 for a new replica) keeps its on-demand floor.
func (p *plan) spotAllows(mi, oa, ob, d int) bool {
	if !p.isSpot(p.opts[mi][ob].group) || (oa >= 0 && p.isSpot(p.opts[mi][oa].group)) {
		return true
	}
	return p.spotRoom(mi) >= d
}

// assign chooses a group for every pending replica: models by priority,
// each replica to free capacity already paid for when there is some, else to
// the option cheapest per replica once nodes fill up. It returns the replica
// indices it could not place, per model.
func (p *plan) assign(pending [][]int) [][]int {
	unplaced := make([][]int, len(p.models))
	for _, mi := range p.assignOrder() {
		m := p.models[mi]
		for _, idx := range pending[mi] {
			best := p.bestOption(mi)
			if best < 0 {
				unplaced[mi] = append(unplaced[mi], idx)
				continue
			}
			p.add(mi, best, 1)
		}
		if len(unplaced[mi]) > 0 {
			p.log.Info("replicas left unplaced", "model", m.Name, "count", len(unplaced[mi]))
		}
	}
	return unplaced
}

// assignOrder is the order models are assigned in: higher priority first;
// within a priority the most constrained (fewest feasible groups) first, so
// that a model with few choices is not crowded out by one with many; then
// the largest replicas; then by name.
func (p *plan) assignOrder() []int {
	order := make([]int, len(p.models))
	for i := range order {
		order[i] = i
	}
	size := func(mi int) int {
		most := 0
		for _, o := range p.opts[mi] {
			most = max(most, o.gpus())
		}
		return most
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i], order[j]
		ma, mb := p.models[a], p.models[b]
		if ma.Priority != mb.Priority {
			return ma.Priority > mb.Priority
		}
		if len(p.opts[a]) != len(p.opts[b]) {
			return len(p.opts[a]) < len(p.opts[b])
		}
		if sa, sb := size(a), size(b); sa != sb {
			return sa > sb
		}
		return ma.Name < mb.Name
	})
	return order
}

// bestOption picks the option for one more replica of model mi, or -1.
// Free capacity already paid for wins; then the lowest cost per replica once
// nodes are full. Under the spread strategy the emptiest domain comes first.
// Until min_domains are covered only a new domain will do: a replica that
// finds none stays unplaced, and is explained.
func (p *plan) bestOption(mi int) int {
	m := p.models[mi]
	spreading := p.domainKind(mi) != ""
	needNewDomain := spreading && p.distinctDomains(mi) < m.Spread.MinDomains
	best := -1
	var bestKey [3]float64
	for oi, o := range p.opts[mi] {
		dom := p.domain(mi, o)
		if spreading && (p.domains[mi][dom] >= p.cap(mi) || (needNewDomain && p.domains[mi][dom] > 0)) {
			continue
		}
		if !p.spotAllows(mi, -1, oi, 1) {
			continue
		}
		n := p.nodesWith(mi, o, 1)
		if n > p.groups[o.group].MaxNodes {
			continue
		}
		opening := 0.0
		if p.objective(o.group, n)-p.objective(o.group, p.nodes[o.group]) > 1e-12 {
			opening = 1
		}
		key := [3]float64{0, opening, p.amortized(o)}
		if p.req.Strategy == StrategySpread {
			key[0] = float64(p.domains[mi][dom])
		}
		if best < 0 || less3(key, bestKey) {
			best, bestKey = oi, key
		}
	}
	return best
}

func equalLists(a, b [][]int) bool {
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
	}
	return true
}

func less3(a, b [3]float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

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
				// batches whose removal shrinks the source can gain.
				var useful []int
				a := p.opts[mi][oa]
				for _, d := range deltas(p.count[mi][oa]) {
					if p.objective(a.group, p.nodesWith(mi, a, -d)) < p.objective(a.group, p.nodes[a.group])-1e-12 {
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
			for ob2, to := range p.opts[m2] {
				if ob2 == oa2 {
					continue
				}
				for _, d2 := range deltas(p.count[m2][oa2]) {
					if p.nodesWith(m2, from, -d2) >= p.nodes[from.group] {
						continue
					}
					for m1 := range p.models {
						oa1, ob1 := p.optionOn(m1, to.group), p.optionOn(m1, from.group)
						if m1 == m2 || oa1 < 0 || ob1 < 0 || p.count[m1][oa1] == 0 {
							continue
						}
						for _, d1 := range deltas(p.count[m1][oa1]) {
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
	m := p.models[mi]
	best, bestCost := -1, 0.0
	for oi, o := range p.opts[mi] {
		if oi == skip {
			continue
		}
		dom := p.domain(mi, o)
		if p.domainKind(mi) != "" && (p.domains[mi][dom] >= p.cap(mi) ||
			(p.distinctDomains(mi) < m.Spread.MinDomains && p.domains[mi][dom] > 0)) {
			continue
		}
		if !p.spotAllows(mi, -1, oi, 1) {
			continue
		}
		n := p.nodesWith(mi, o, 1)
		if n > p.groups[o.group].MaxNodes {
			continue
		}
		cost := p.objective(o.group, n) - p.objective(o.group, p.nodes[o.group]) + p.amortized(o)*1e-6
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
	total := p.nodes[gi]
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
	return total
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
	return before - p.objective(ga, na) - p.objective(gb, nb), true
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
	return before - after, true
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
