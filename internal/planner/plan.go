package planner

import (
	"errors"
	"fmt"
	"math"
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
		if o, ok := old[r.Key()]; ok && !had[r.Key()] && !SamePlace(o, r) {
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
	classSum   []int          // per group: Σ class nodes
	existing   []int          // per group: nodes before new stages
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
		for oi, o := range p.opts[i] {
			g := p.groups[o.group]
			nodes := (o.gpus() + g.GPUsPerNode - 1) / g.GPUsPerNode
			p.opts[i][oi].surcharge = p.weighSurcharge(md.Surcharge[g.Name] * float64(nodes))
		}
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
			p.exclusive[p.groupIndex(r.NodeGroup)][mi]++
		}
	}
	p.bases = make([][]groupBase, n)
	p.stages = make([][]sizeCounts, n)
	p.classNodes = make([][]int, n)
	p.classSum, p.existing, p.nodes = make([]int, n), make([]int, n), make([]int, n)
	for gi, g := range p.groups {
		p.bases[gi], p.existing[gi] = p.allocs[gi].basesAfterPins(g, p.classes)
		p.stages[gi] = make([]sizeCounts, p.classes)
		p.classNodes[gi] = make([]int, p.classes)
		for c := range p.classes {
			p.classNodes[gi][c] = p.classNodesAfter(gi, c, &p.stages[gi][c], -1, 0)
			p.classSum[gi] += p.classNodes[gi][c]
		}
		p.nodes[gi] = max(p.classSum[gi], p.existing[gi])
	}
	p.count = make([][]int, m)
	for mi := range p.models {
		p.count[mi] = make([]int, len(p.opts[mi]))
	}
	unplaced := p.assign(p.pending)
	p.improve()
	// The local search can free capacity: give what is left another chance.
	if retry := p.assign(unplaced); !sameCounts(retry, unplaced) {
		unplaced = retry
		p.improve()
	}
	p.spreadSpot()
	return p.bind(unplaced)
}

// spreadSpot puts a model's spot replicas on at least two spot node groups
// when it has two or more of them and a second spot group can take one, so
// that one spot reclaim never takes them all. It may cost more; it moves
// only replicas placed by this plan.
func (p *plan) spreadSpot() {
	for mi := range p.models {
		groups := map[int]bool{}
		total := 0
		for _, r := range p.kept[mi] {
			if gi := p.groupIndex(r.NodeGroup); gi >= 0 && p.isSpot(gi) {
				groups[gi] = true
				total++
			}
		}
		from := -1
		for oi, o := range p.opts[mi] {
			if p.isSpot(o.group) && p.count[mi][oi] > 0 {
				groups[o.group] = true
				total += p.count[mi][oi]
				from = oi
			}
		}
		if total < 2 || len(groups) != 1 || from < 0 {
			continue
		}
		best, bestCost := -1, 0.0
		for ob, o := range p.opts[mi] {
			if !p.isSpot(o.group) || groups[o.group] || !p.spreadAllows(mi, from, ob, 1) {
				continue
			}
			n := p.nodesWith(mi, o, 1)
			if n > p.groups[o.group].MaxNodes {
				continue
			}
			if cost := p.objective(o.group, n) - p.objective(o.group, p.nodes[o.group]) + o.surcharge; best < 0 || cost < bestCost {
				best, bestCost = ob, cost
			}
		}
		if best >= 0 {
			p.add(mi, from, -1)
			p.add(mi, best, 1)
		}
	}
}

// groupIndex finds a node group by name, or -1.
func (p *plan) groupIndex(name string) int {
	i := sort.Search(len(p.groups), func(i int) bool { return p.groups[i].Name >= name })
	if i < len(p.groups) && p.groups[i].Name == name {
		return i
	}
	return -1
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

// weighSurcharge is a surcharge in the strategy's objective: a cost, which
// binpack only uses to break ties.
func (p *plan) weighSurcharge(perHour float64) float64 {
	if p.req.Strategy == StrategyBinpack {
		return perHour * 1e-9
	}
	return perHour
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
	return max(p.classSum[o.group]-p.classNodes[o.group][c]+p.classNodesAfter(o.group, c, &s, mi, delta), p.existing[o.group])
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
	p.classSum[o.group] += n - p.classNodes[o.group][c]
	p.classNodes[o.group][c] = n
	p.nodes[o.group] = max(p.classSum[o.group], p.existing[o.group])
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

// admits checks one more replica of model mi at option oi against every
// constraint — spread caps and min_domains, the on-demand floor, max_nodes —
// and returns the group's node count with it.
func (p *plan) admits(mi, oi int) (int, bool) {
	m, o := p.models[mi], p.opts[mi][oi]
	if p.domainKind(mi) != "" {
		c := p.domains[mi][p.domain(mi, o)]
		if c >= p.cap(mi) || (c > 0 && p.distinctDomains(mi) < m.Spread.MinDomains) {
			return 0, false
		}
	}
	if !p.spotAllows(mi, -1, oi, 1) {
		return 0, false
	}
	n := p.nodesWith(mi, o, 1)
	return n, n <= p.groups[o.group].MaxNodes
}

// bestOption picks the option for one more replica of model mi, or -1.
// Free capacity already paid for wins; then the lowest cost per replica once
// nodes are full. Under the spread strategy the emptiest domain comes first.
// Until min_domains are covered only a new domain will do: a replica that
// finds none stays unplaced, and is explained.
func (p *plan) bestOption(mi int) int {
	best := -1
	var bestKey [3]float64
	for oi, o := range p.opts[mi] {
		n, ok := p.admits(mi, oi)
		if !ok {
			continue
		}
		dom := p.domain(mi, o)
		opening := 0.0
		if p.objective(o.group, n)-p.objective(o.group, p.nodes[o.group]) > 1e-12 {
			opening = 1
		}
		key := [3]float64{0, opening, p.amortized(o) + o.surcharge}
		if p.req.Strategy == StrategySpread {
			key[0] = float64(p.domains[mi][dom])
		}
		if best < 0 || less3(key, bestKey) {
			best, bestKey = oi, key
		}
	}
	return best
}

// sameCounts reports whether two per-model lists of unplaced replicas have
// the same lengths: a retry only ever removes entries, so that says whether
// it placed anything.
func sameCounts(a, b [][]int) bool {
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
