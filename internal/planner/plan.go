package planner

import (
	"errors"
	"fmt"
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
// an *InvalidError for bad input and never panics on any input. Groups that
// offer Layouts get the one that plans best (chooseLayouts).
func Plan(req Request) (*Result, error) {
	if hasLayouts(req.NodeGroups) {
		return chooseLayouts(req)
	}
	res, err := planOne(req)
	if res != nil {
		res.NodeGroups = req.NodeGroups
	}
	return res, err
}

// planOne plans a request whose groups have their sharing settled.
func planOne(req Request) (res *Result, err error) {
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
	res = settle(req, run(req, nil))
	var released map[string]moveCause
	if len(res.Unplaced) > 0 && len(req.Previous) > 0 {
		res, released = preempt(req, res) // preempt.go: move the fewest kept replicas in the way
	}
	if req.Rebalance && req.MaxMoves > 0 && len(req.Previous) > 0 {
		res = rebalance(req, res, released)
	}
	return res, nil
}

// run is one pass of the pipeline over a valid request, each stage in its
// file; released names previous replicas a rebalance or a preemption lets
// move, with the reason of their move.
func run(req Request, released map[string]moveCause) *Result {
	s, unplaced := start(req, released, startOpts{})
	n := totalReplicas(req)
	if n <= secondStartReplicas {
		// A second start, its greedy ordering models by regret: the search
		// is path-dependent, and the best end is kept. Floors, spot caps
		// and quotas chain node groups together (room one frees another may
		// take), so two more starts search with another kick sequence that
		// also closes two groups at once.
		starts := []startOpts{{byRegret: true}, {wide: true}, {byRegret: true, wide: true}}
		if n <= noiseStartReplicas {
			// Four more starts greedily place and search at noisy prices
			// first, then search at the true ones: a structure the others'
			// local optima share can then break. Measured against CBC's
			// optimum on 111 fleets (the bench's 57 production-shaped ones
			// and 54 drawn with seeds the bench does not use): with two
			// noise starts, mean 1.0027, worst 1.0331; with four, mean
			// 1.0019, worst 1.0212, at 1.44 × the planner time.
			starts = append(starts,
				startOpts{noise: 1, amplitude: 0.3}, startOpts{noise: 2, amplitude: 0.5, wide: true},
				startOpts{noise: 4, amplitude: 0.5, wide: true}, startOpts{noise: 5, amplitude: 0.3})
		}
		for _, o := range starts {
			if alt, left := start(req, released, o); betterStart(alt, left, s, unplaced) {
				s, unplaced = alt, left
			}
		}
	}
	s.reshuffle(unplaced)    // shortage.go: which replicas run when not all fit
	s.regionSearch(unplaced) // region.go: exact re-solves of small sets of groups
	s.spreadSpot()           // assign.go: spot replicas over two groups
	return s.bind(unplaced)  // bind.go: nodes and GPUs; explain.go for what is left
}

// secondStartReplicas bounds the fleets run plans from several starts (in
// replicas), so that time at scale stays that of one start;
// noiseStartReplicas bounds those that also get the noise starts, whose
// gain was measured on fleets of up to 200 replicas and whose cost grows
// with the fleet (bench scale-1k: 5.9 s with them, the plan no cheaper).
const (
	secondStartReplicas = 2_000
	noiseStartReplicas  = 500
)

// startOpts vary a start: byRegret orders the greedy's models by regret
// within a priority; wide gives the local search another kick sequence,
// with the two-group kick in its cycle; noise, when not 0, seeds the
// factors within ±amplitude that scale each group's prices for the greedy
// and a first search (noise.go).
type startOpts struct {
	byRegret, wide bool
	noise          uint64
	amplitude      float64
}

// start runs the stages up to binding from scratch.
func start(req Request, released map[string]moveCause, o startOpts) (*assignment, [][]int) {
	s := newAssignment(req, released) // state.go: groups and models indexed once
	s.byRegret, s.wide = o.byRegret, o.wide
	s.filter()       // filter.go: options per model and group; constraint_*.go
	s.keepPrevious() // stability.go: previous replicas that still fit stay
	s.startPacking() // occupancy.go: node counts after them
	var restore func()
	if o.noise > 0 {
		restore = s.noisePrices(o.noise, o.amplitude)
	}
	unplaced := s.assign(s.pending) // assign.go: greedy, by priority
	s.improve()                     // search.go, perturb.go: local search on the objective (objective.go)
	if restore != nil {
		restore()
		s.improve()
	}
	// The local search can free capacity, and replicas of other models can
	// make room: give what is left another chance, highest priority first
	// (repair.go).
	if retry := s.repair(unplaced); !sameCounts(retry, unplaced) {
		unplaced = retry
		s.improve()
	}
	// A replica still unplaced may take the place of a new replica of a
	// lower priority, or of a dearer one of its own priority (repair.go).
	if s.exchange(unplaced) {
		s.improve()
	}
	return s, unplaced
}

// betterStart reports whether start a (leaving aLeft unplaced) beats b:
// fewer unplaced at the highest priority where they differ, then a lower
// objective.
func betterStart(a *assignment, aLeft [][]int, b *assignment, bLeft [][]int) bool {
	if c := comparePerPriority(b.unplacedPerPriority(bLeft), a.unplacedPerPriority(aLeft)); c != 0 {
		return c > 0 // b leaves more unplaced
	}
	return a.obj.of(a).less(b.obj.of(b).plus(improvement))
}

func totalReplicas(req Request) int {
	n := 0
	for _, m := range req.Models {
		n += m.Replicas
	}
	return n
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
		next := run(again, nil)
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
			out = append(out, Move{Key: r.Key(), From: o, To: r, Kind: MoveForced, Reason: "its previous place is no longer feasible"})
		}
	}
	return out
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
