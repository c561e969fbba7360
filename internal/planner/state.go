package planner

import (
	"sort"

	"github.com/hashicorp/go-hclog"
)

// assignment is the one state every pass of the planner works on: which
// option each new replica uses (count), how many nodes each group needs for
// that (nodes), and the state each constraint keeps. Passes change it only
// through try (evaluate changes without applying them), apply, and
// mark / undo / commit around trials, so that the node counts, the
// constraints and the objective never disagree.
type assignment struct {
	req    Request
	log    hclog.Logger
	groups []NodeGroup   // sorted by name
	models []ModelDemand // placement order: priority desc, then name

	opts [][]option // per model: one option per feasible group
	// optIndex[mi][gi] is model mi's option on group gi, or -1.
	optIndex [][]int
	reports  []*filterReport // per model: what the filters excluded
	count    [][]int         // per model, per option: new replicas there
	widest   []int           // per model: the most GPUs a replica takes

	nodes       *occupancy
	obj         objective
	constraints []constraint
	// checks are the constraints a trial can break; the others shape node
	// counts and binding, and judge kept replicas.
	checks []constraint
	// The constraints by kind, for the passes that ask one of them.
	capacity  *capacityLimit
	spread    *spreadLimit
	spot      *spotFloor
	isolation *isolationClasses
	exclusive *nodeExclusivity
	quota     *quotaLimits

	// blocked[mi][oi] names the constraint that refused one more replica of
	// model mi at option oi when the last of its replicas found no place
	// ("" when none did): what explanations read.
	blocked map[int][]string

	allocs  []*groupAlloc       // per group: kept replicas bound
	kept    [][]Replica         // per model: replicas kept from the previous plan
	pending [][]int             // per model: replica indices still to place
	failed  []map[int]moveCause // per model: why a previous replica does not stay
	// released names previous replicas a rebalance or a preemption frees
	// to move, with the reason their move gives.
	released map[string]moveCause

	trial    []step // the changes try is evaluating
	trialBuf []step
	scratch  []step
	after    []groupNodes
	journal  []change
	marks    int

	swapsEvaluated, evacuations int
	// shut is a group no replica may be inserted on for the moment (a
	// perturbation's kick), or -1.
	shut int
	// byRegret orders the greedy's models by regret within a priority (the
	// second start).
	byRegret bool
	// wide gives the iterated local search (perturb.go) another seed and
	// the two-group kick in its cycle.
	wide bool
}

// change is delta replicas (negative to remove) of model mi at option oi.
type change struct{ mi, oi, delta int }

// step is a change with what the node count and the constraints look up
// about it, worked out once per trial.
type step struct {
	change
	group, class int
	level        int // levelOf of the bind unit's size (bindUnit)
	stages       int // bind units: the pipeline degree, or 1 for a pipeline inside a node
	surcharge    float64
}

// steps annotates changes into buf.
func (s *assignment) steps(buf []step, changes []change) []step {
	if cap(buf) < len(changes) {
		buf = make([]step, len(changes), 2*len(changes))
	}
	buf = buf[:len(changes)]
	for i, ch := range changes {
		buf[i] = s.stepOf(ch)
	}
	return buf
}

// stepOf annotates one change.
func (s *assignment) stepOf(ch change) step {
	o := &s.opts[ch.mi][ch.oi]
	return step{ch, o.group, s.isolation.classOf[ch.mi], levelOf(o.unit), o.units, o.surcharge}
}

func newAssignment(req Request, released map[string]moveCause) *assignment {
	s := &assignment{req: req, log: req.Logger, released: released, obj: newObjective(req.Strategy), shut: -1}
	s.groups = append([]NodeGroup(nil), req.NodeGroups...)
	sort.Slice(s.groups, func(i, j int) bool { return s.groups[i].Name < s.groups[j].Name })
	s.models = append([]ModelDemand(nil), req.Models...)
	sort.Slice(s.models, func(i, j int) bool {
		a, b := s.models[i], s.models[j]
		if a.Priority != b.Priority {
			return a.Priority > b.Priority
		}
		return a.Name < b.Name
	})
	return s
}

// groupIndex finds a node group by name, or -1: the one lookup by name.
func (s *assignment) groupIndex(name string) int {
	i := sort.Search(len(s.groups), func(i int) bool { return s.groups[i].Name >= name })
	if i < len(s.groups) && s.groups[i].Name == name {
		return i
	}
	return -1
}

// optionOn is the index of model mi's option on group gi, or -1.
func (s *assignment) optionOn(mi, gi int) int { return s.optIndex[mi][gi] }

// filter runs the static filters of every model over every group, indexes
// the options that pass, and sets up the constraints.
func (s *assignment) filter() {
	n, m := len(s.groups), len(s.models)
	s.opts = make([][]option, m)
	s.reports = make([]*filterReport, m)
	s.optIndex = make([][]int, m)
	s.count = make([][]int, m)
	s.blocked = map[int][]string{}
	s.widest = make([]int, m)
	kinds, memo := gpuKinds(s.groups), newEstimateMemo()
	for mi, md := range s.models {
		s.opts[mi], s.reports[mi] = feasibleOptions(md, s.groups, kinds, memo)
		for oi, o := range s.opts[mi] {
			s.opts[mi][oi].surcharge = s.obj.surcharge(md, s.groups[o.group], o)
			s.widest[mi] = max(s.widest[mi], o.gpus())
		}
		s.optIndex[mi] = make([]int, n)
		for gi := range s.optIndex[mi] {
			s.optIndex[mi][gi] = -1
		}
		for oi, o := range s.opts[mi] {
			s.optIndex[mi][o.group] = oi
		}
		s.count[mi] = make([]int, len(s.opts[mi]))
		s.log.Debug("filtered node groups", "model", md.Name, "feasible", len(s.opts[mi]), "groups", n)
	}
	s.allocs = make([]*groupAlloc, n)
	for gi, g := range s.groups {
		s.allocs[gi] = newGroupAlloc(g)
	}
	s.isolation = newIsolationClasses(s.models)
	s.exclusive = newNodeExclusivity(s.models, s.isolation.classOf, n)
	s.spread = newSpreadLimit(s)
	s.spot = newSpotFloor(s.models)
	s.capacity = &capacityLimit{}
	s.quota = newQuotaLimits(s)
	// Cheapest checks first: the first constraint that refuses is the one
	// an explanation names.
	s.constraints = []constraint{s.spot, s.spread, s.isolation, s.exclusive, s.capacity, s.quota}
	s.checks = []constraint{s.spot, s.spread, s.capacity}
	if len(s.req.Quotas) > 0 {
		s.checks = append(s.checks, s.quota)
	}
}

// startPacking sizes every group after the kept replicas are bound.
func (s *assignment) startPacking() {
	s.nodes = newOccupancy(s)
}

// try evaluates changes against every constraint without applying them. It
// returns the objective's change (negative: better) and "", or the name of
// the constraint that refuses them.
func (s *assignment) try(changes ...change) (score, string) { return s.evaluate(true, changes) }

// costOf is the objective's change for changes, whether or not the
// constraints allow them.
func (s *assignment) costOf(changes ...change) score {
	d, _ := s.evaluate(false, changes)
	return d
}

func (s *assignment) evaluate(checked bool, changes []change) (score, string) {
	// A copy, so that the caller's changes never escape to the heap.
	s.trialBuf = s.steps(s.trialBuf, changes)
	s.trial, s.after = s.trialBuf, s.after[:0]
	why := ""
	if checked {
		for _, c := range s.checks {
			if why = c.refuses(s); why != "" {
				break
			}
		}
	}
	var d score
	if why == "" {
		d = s.obj.change(s)
	}
	s.trial = nil
	return d, why
}

// apply makes changes, recording them while a trial is open.
func (s *assignment) apply(changes ...change) {
	for _, ch := range changes {
		if ch.delta == 0 {
			continue
		}
		if s.marks > 0 {
			s.journal = append(s.journal, ch)
		}
		s.count[ch.mi][ch.oi] += ch.delta
		for _, c := range s.constraints {
			c.record(s, ch)
		}
		s.nodes.record(s, s.stepOf(ch))
	}
}

// move is the changes that take d replicas of model mi from option from to
// option to.
func move(mi, from, to, d int) [2]change {
	return [2]change{{mi, from, -d}, {mi, to, d}}
}

// mark starts a trial: changes after it can be undone. Marks nest.
func (s *assignment) mark() int {
	s.marks++
	return len(s.journal)
}

// undo reverts every change since the mark and ends the trial.
func (s *assignment) undo(mark int) {
	entries := append([]change(nil), s.journal[mark:]...)
	s.journal = s.journal[:mark]
	saved := s.marks - 1
	s.marks = 0 // reverting is not itself recorded
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		s.apply(change{e.mi, e.oi, -e.delta})
	}
	s.marks = saved
	s.trimJournal()
}

// commit ends the trial and keeps its changes.
func (s *assignment) commit() {
	s.marks--
	s.trimJournal()
}

func (s *assignment) trimJournal() {
	if s.marks == 0 {
		s.journal = s.journal[:0]
	}
}

// newReplicasOn lists, one entry per replica, the models of the new
// replicas on group gi.
func (s *assignment) newReplicasOn(gi int) []int {
	var out []int
	for mi := range s.models {
		if oi := s.optionOn(mi, gi); oi >= 0 {
			for range s.count[mi][oi] {
				out = append(out, mi)
			}
		}
	}
	return out
}

// widestReplica is the most GPUs a replica of model mi takes on any option.
func (s *assignment) widestReplica(mi int) int { return s.widest[mi] }
