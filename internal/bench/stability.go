package bench

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
)

// Step kinds of the stability suite. StepUnchanged re-plans an unchanged
// input after every other step: it must move nothing.
const (
	StepAddModel    = "add_model"
	StepRemoveModel = "remove_model"
	StepScaleUp     = "scale_up"
	StepScaleDown   = "scale_down"
	StepLoseGroup   = "lose_group"
	StepUnchanged   = "unchanged"
)

// StepKinds lists the step kinds in report order.
var StepKinds = []string{StepAddModel, StepRemoveModel, StepScaleUp, StepScaleDown, StepLoseGroup, StepUnchanged}

const stepsPerSequence = 5

// StabilityMoveBudget is the max_moves of every step: how many kept
// replicas the planner may move to place demand they block.
const StabilityMoveBudget = 10

type tally struct {
	steps, exposed, moves, minMoves, forced, unplaced int
	preempted                                         int
	// unplacedFresh counts replicas still unplaced when the same input is
	// planned without Previous: those are not caused by kept placements.
	unplacedFresh int
	// overBudget counts unplaced replicas that a preemption would place
	// with more moves than StabilityMoveBudget.
	overBudget int
	errors     int
	firstError string
}

// RunStability runs cfg.Sequences random sequences (1000 by default) of
// stepsPerSequence steps each. After every step the planner re-plans with
// Previous set to the last result; moves counts previous replicas that still
// exist and changed node group or stages, min_moves those of them that were
// on a node group the step removed.
func RunStability(cfg *Config) []Row {
	n := cfg.Sequences
	if n <= 0 {
		n = 1000
	}
	tallies := map[string]*tally{}
	for _, k := range StepKinds {
		tallies[k] = &tally{}
	}
	for i := 0; i < n; i++ {
		if err := runSequence(i, tallies); err != nil {
			t := tallies[StepUnchanged]
			t.errors++
			if t.firstError == "" {
				t.firstError = fmt.Sprintf("sequence %d: %v", i, err)
			}
		}
	}
	var rows []Row
	for _, k := range StepKinds {
		t := tallies[k]
		row := Row{
			Suite: "stability", Case: k, Replicas: t.exposed, Moves: ptr(t.moves), MinMoves: ptr(t.minMoves),
			Steps: ptr(t.steps), SpreadForced: ptr(t.forced), PlannerUnplaced: ptr(t.unplaced),
			UnplacedFresh: ptr(t.unplacedFresh), Preempted: ptr(t.preempted), OverBudget: ptr(t.overBudget),
		}
		if t.errors > 0 {
			row.Error = fmt.Sprintf("%d error(s), first: %s", t.errors, t.firstError)
		}
		cfg.progress("stability %-12s steps %5d moves %5d min_moves %5d spread_forced %4d preempted %4d", k, t.steps, t.moves, t.minMoves, t.forced, t.preempted)
		rows = append(rows, row)
	}
	return rows
}

// StabilitySpec is the base fleet of stability sequence i.
func StabilitySpec(i int) FleetSpec {
	return FleetSpec{Seed: uint64(100_000 + i), Replicas: 12 + i%25, Types: 6 + i%4, MaxRegions: 2, Headroom: 2.5}
}

func runSequence(i int, tallies map[string]*tally) error {
	spec := StabilitySpec(i)
	c, err := Generate("stability", fmt.Sprintf("seq-%d", i), spec)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(spec.Seed, 0x5eed))
	gen := newGenerator(spec.Seed^0xadd, 8)
	gen.seq = 5000 // names of added models never clash with the base ones
	req := c.Req
	req.MaxMoves = StabilityMoveBudget
	res, err := planner.Plan(req)
	if err != nil {
		return err
	}
	if err := CheckPlacement(req, res); err != nil {
		return fmt.Errorf("initial plan: %w", err)
	}
	kinds := StepKinds[:len(StepKinds)-1]
	for step := 0; step < stepsPerSequence; step++ {
		var next planner.Request
		var lost map[string]bool
		kind := ""
		for attempt := 0; attempt < 10 && kind == ""; attempt++ {
			k := kinds[rng.IntN(len(kinds))]
			if nr, l, ok := mutate(req, res, k, rng, gen); ok {
				next, lost, kind = nr, l, k
			}
		}
		if kind == "" {
			continue
		}
		next.Previous = res.Replicas
		nres, err := planner.Plan(next)
		if err != nil {
			return fmt.Errorf("step %d (%s): %w", step, kind, err)
		}
		record(tallies[kind], req, next, res.Replicas, nres, lost, fmt.Sprintf("sequence %d step %d", i, step))

		again := next
		again.Previous = nres.Replicas
		ares, err := planner.Plan(again)
		if err != nil {
			return fmt.Errorf("step %d (unchanged): %w", step, err)
		}
		record(tallies[StepUnchanged], next, again, nres.Replicas, ares, nil, fmt.Sprintf("sequence %d step %d re-plan", i, step))

		next.Previous = nil
		req, res = next, ares
	}
	return nil
}

// record adds one re-plan to a tally.
func record(t *tally, old, cur planner.Request, prev []planner.Replica, res *planner.Result, lost map[string]bool, where string) {
	m := countMoves(old, cur, prev, res, lost)
	t.steps++
	t.exposed += m.exposed
	t.moves += m.moves
	t.minMoves += m.minMoves
	t.forced += m.forced
	for _, mv := range res.Moves {
		if mv.Kind == planner.MovePreemption {
			t.preempted++
		}
	}
	if n := res.UnplacedReplicas(); n > 0 {
		t.unplaced += n
		fresh := cur
		fresh.Previous = nil
		if fres, err := planner.Plan(fresh); err == nil {
			t.unplacedFresh += fres.UnplacedReplicas()
		}
		for _, u := range res.Unplaced {
			if u.MovesNeeded > 0 {
				t.overBudget += len(u.Replicas)
			}
		}
	}
	if err := CheckPlacement(cur, res); err != nil {
		t.errors++
		if t.firstError == "" {
			t.firstError = where + ": " + err.Error()
		}
	}
}

type moveCount struct{ exposed, moves, minMoves, forced int }

// countMoves compares a previous placement with a new result. Exposed are
// previous replicas whose model and index still exist; moves those whose
// node group or stages changed (or that are no longer placed); minMoves
// those that were on a lost node group; forced counts the survivors a
// lowered spread cap pushes out of their cloud.
func countMoves(old, cur planner.Request, prev []planner.Replica, res *planner.Result, lost map[string]bool) moveCount {
	var mc moveCount
	replicas := map[string]planner.ModelDemand{}
	for _, m := range cur.Models {
		replicas[m.Name] = m
	}
	cloudOf := map[string]string{}
	for _, g := range old.NodeGroups {
		cloudOf[g.Name] = g.Cloud
	}
	now := map[string]planner.Replica{}
	for _, r := range res.Replicas {
		now[r.Key()] = r
	}
	survivors := map[string]map[string]int{}
	for _, r := range prev {
		m, ok := replicas[r.Model]
		if !ok || r.Index >= m.Replicas {
			continue
		}
		mc.exposed++
		if nr, ok := now[r.Key()]; !ok || nr.NodeGroup != r.NodeGroup || !sameStages(nr.Stages, r.Stages) {
			mc.moves++
		}
		if lost[r.NodeGroup] {
			mc.minMoves++
			continue
		}
		if survivors[r.Model] == nil {
			survivors[r.Model] = map[string]int{}
		}
		survivors[r.Model][cloudOf[r.NodeGroup]]++
	}
	for name, byCloud := range survivors {
		m := replicas[name]
		if m.Spread.Across != planner.SpreadCloud {
			continue
		}
		limit := shareCap(m)
		for _, n := range byCloud {
			mc.forced += max(0, n-limit)
		}
	}
	mc.forced += mc.minMoves
	return mc
}

func sameStages(a, b []planner.Stage) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Node != b[i].Node || !slices.Equal(a[i].GPUs, b[i].GPUs) {
			return false
		}
	}
	return true
}

// mutate applies one step of a kind to a request. It returns the new
// request, the node groups the step removed, and false when the step does
// not apply or would make the request infeasible.
func mutate(req planner.Request, res *planner.Result, kind string, rng *rand.Rand, gen *generator) (planner.Request, map[string]bool, bool) {
	next := req
	next.Models = slices.Clone(req.Models)
	next.NodeGroups = slices.Clone(req.NodeGroups)
	var lost map[string]bool
	switch kind {
	case StepAddModel:
		gen.groups = next.NodeGroups
		m, err := gen.model(1 + rng.IntN(8))
		if err != nil {
			return req, nil, false
		}
		next.Models = append(next.Models, m)
	case StepRemoveModel:
		if len(next.Models) < 2 {
			return req, nil, false
		}
		i := rng.IntN(len(next.Models))
		next.Models = slices.Delete(next.Models, i, i+1)
	case StepScaleUp:
		i := rng.IntN(len(next.Models))
		next.Models[i].Replicas += 1 + rng.IntN(4)
	case StepScaleDown:
		var cands []int
		for i, m := range next.Models {
			if m.Replicas > max(1, m.Spread.MinDomains) {
				cands = append(cands, i)
			}
		}
		if len(cands) == 0 {
			return req, nil, false
		}
		m := &next.Models[cands[rng.IntN(len(cands))]]
		low := max(1, m.Spread.MinDomains)
		m.Replicas = low + rng.IntN(m.Replicas-low)
	case StepLoseGroup:
		// Lose a group that holds replicas, so that something must move.
		busy := map[string]bool{}
		for _, r := range res.Replicas {
			busy[r.NodeGroup] = true
		}
		var cands []int
		for i, g := range next.NodeGroups {
			if busy[g.Name] {
				cands = append(cands, i)
			}
		}
		if len(cands) == 0 || len(next.NodeGroups) < 2 {
			return req, nil, false
		}
		i := cands[rng.IntN(len(cands))]
		lost = map[string]bool{next.NodeGroups[i].Name: true}
		next.NodeGroups = slices.Delete(next.NodeGroups, i, i+1)
	default:
		return req, nil, false
	}
	if len(planner.Validate(next)) > 0 || reserve(next, Shapes(next)) >= 0 {
		return req, nil, false
	}
	return next, lost, true
}
