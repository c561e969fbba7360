package bench

import (
	"fmt"
	"io"
	"math"
	"regexp"
	"runtime"
	"sort"
	"time"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
)

// Row is one JSON line of the benchmark. The fields up to MinMoves are
// always present (null when they do not apply); the rest only when set.
type Row struct {
	Suite          string   `json:"suite"`
	Case           string   `json:"case"`
	Replicas       int      `json:"replicas"`
	CandidateNodes *int     `json:"candidate_nodes"`
	PlannerCost    *float64 `json:"planner_cost"`
	OptimalCost    *float64 `json:"optimal_cost"`
	LowerBound     *float64 `json:"lower_bound"`
	FFDCost        *float64 `json:"ffd_cost"`
	PlannerMs      *float64 `json:"planner_ms"`
	OptimalMs      *float64 `json:"optimal_ms"`
	PeakMiB        *float64 `json:"peak_mib"`
	Moves          *int     `json:"moves"`
	MinMoves       *int     `json:"min_moves"`

	Seed       *uint64 `json:"seed,omitempty"`
	Models     *int    `json:"models,omitempty"`
	NodeGroups *int    `json:"node_groups,omitempty"`
	MILPStatus string  `json:"milp_status,omitempty"`
	// MILPBest is CBC's best solution when it was not proven optimal.
	MILPBest *float64 `json:"milp_best,omitempty"`
	// LowerBoundMs is the wall time of the LP relaxation.
	LowerBoundMs *float64 `json:"lower_bound_ms,omitempty"`
	// BaseMiB is the child's peak RSS before planning (input built).
	BaseMiB *float64 `json:"base_mib,omitempty"`
	// Steps and SpreadForced are stability figures: steps replanned, and
	// moves a lowered spread cap forces beyond min_moves.
	Steps        *int `json:"steps,omitempty"`
	SpreadForced *int `json:"spread_forced,omitempty"`
	// Preempted (stability) counts the moves the planner made to place
	// demand that kept replicas blocked, within the suite's move budget.
	Preempted *int `json:"preempted,omitempty"`
	// PlannerUnplaced and FFDUnplaced count replicas left unplaced; a cost
	// with unplaced replicas is not comparable with one without.
	PlannerUnplaced *int `json:"planner_unplaced,omitempty"`
	FFDUnplaced     *int `json:"ffd_unplaced,omitempty"`
	// UnplacedFresh (stability) is how many of PlannerUnplaced stay
	// unplaced when the same input is planned without Previous.
	UnplacedFresh *int `json:"unplaced_fresh,omitempty"`
	// OverBudget (stability) is how many of PlannerUnplaced a preemption
	// places, but only with more moves than the step's max_moves.
	OverBudget *int `json:"over_budget,omitempty"`
	// GPUsUsed (sharing) is the physical GPUs holding a replica.
	GPUsUsed *int `json:"gpus_used,omitempty"`
	// Error is a placement the checker rejects, or a failure to run.
	Error string `json:"error,omitempty"`
	// MILPError is an exact solution the checker rejects; its cost is then
	// left out.
	MILPError string `json:"milp_error,omitempty"`
}

// Config is how a benchmark run solves and measures.
type Config struct {
	Solver Solver
	// ScaleLPLimit bounds the LP relaxation at scale.
	ScaleLPLimit time.Duration
	// ChildExe is the binary run as "ChildExe -child <case>" to measure
	// the planner's peak RSS at scale; "" measures in process (TotalAlloc).
	ChildExe string
	// Progress receives one line per case; nil discards.
	Progress io.Writer
	// CBCVersion is filled in by the first CBC run.
	CBCVersion string
	// Sequences is the number of stability sequences (1000 when 0).
	Sequences int
	// Cases, when set, runs only the quality cases whose name it matches.
	Cases *regexp.Regexp
	// SeedOffset shifts every quality case's seed: the same kinds of fleet,
	// drawn anew, that the planner was never tuned on.
	SeedOffset uint64
}

func (c *Config) progress(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format+"\n", args...)
	}
}

func ptr[T any](v T) *T { return &v }

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

func costPtr(x float64) *float64 { return ptr(round(x, 4)) }

// QualitySpecs are the quality cases: 10 to 200 replicas, three fleets each,
// then 30 production-shaped fleets (FleetSpec.Production) of 20 to 150
// replicas, six seeds each, then 12 production-shaped fleets under cloud
// quotas (FleetSpec.Quotas) of 30 to 100 replicas, four seeds each, 6 with
// shared GPUs (FleetSpec.Sharing) and 9 with reserved nodes
// (FleetSpec.Reservations), three seeds each.
func QualitySpecs() []FleetSpec {
	var out []FleetSpec
	for _, n := range []int{10, 25, 50, 100, 200} {
		for k := 0; k < 3; k++ {
			out = append(out, FleetSpec{
				Seed: uint64(n*1000 + k + 1), Replicas: n,
				Types: []int{6, 9, 12}[k], MaxRegions: []int{2, 3, 2}[k], Headroom: []float64{1.3, 1.8, 2.5}[k],
			})
		}
	}
	for _, n := range []int{20, 40, 60, 100, 150} {
		for k := 0; k < 6; k++ {
			out = append(out, FleetSpec{
				Seed: uint64(1_000_000 + n*1000 + k + 1), Replicas: n, Production: true,
				Types: []int{8, 10, 12}[k%3], MaxRegions: 3, Headroom: []float64{1.3, 1.8, 2.5}[k%3],
			})
		}
	}
	for _, n := range []int{30, 60, 100} {
		for k := 0; k < 4; k++ {
			out = append(out, FleetSpec{
				Seed: uint64(2_000_000 + n*1000 + k + 1), Replicas: n, Production: true, Quotas: true,
				Types: []int{8, 10, 12, 10}[k], MaxRegions: 3, Headroom: []float64{1.3, 1.8, 2.5, 3}[k],
			})
		}
	}
	for _, n := range []int{40, 80} {
		for k := 0; k < 3; k++ {
			out = append(out, FleetSpec{
				Seed: uint64(4_000_000 + n*1000 + k + 1), Replicas: n, Production: true, Sharing: true,
				Types: []int{8, 10, 12}[k], MaxRegions: 2, Headroom: []float64{1.3, 1.8, 2.5}[k],
			})
		}
	}
	for _, n := range []int{30, 60, 100} {
		for k := 0; k < 3; k++ {
			out = append(out, FleetSpec{
				Seed: uint64(3_000_000 + n*1000 + k + 1), Replicas: n, Production: true, Reservations: true,
				Types: []int{8, 10, 12}[k], MaxRegions: 3, Headroom: []float64{1.3, 1.8, 2.5}[k],
			})
		}
	}
	return out
}

// QualityName names a quality case: q… generated, p… production-shaped,
// k… production-shaped under quotas, r… with reservations, g… with shared
// GPUs.
func QualityName(s FleetSpec) string {
	switch {
	case s.Quotas:
		return fmt.Sprintf("k%d-s%d", s.Replicas, s.Seed)
	case s.Reservations:
		return fmt.Sprintf("r%d-s%d", s.Replicas, s.Seed)
	case s.Sharing:
		return fmt.Sprintf("g%d-s%d", s.Replicas, s.Seed)
	case s.Production:
		return fmt.Sprintf("p%d-s%d", s.Replicas, s.Seed)
	}
	return fmt.Sprintf("q%d-s%d", s.Replicas, s.Seed)
}

// ScaleSpecs are the scale cases, by name.
func ScaleSpecs() []struct {
	Name string
	Spec FleetSpec
} {
	return []struct {
		Name string
		Spec FleetSpec
	}{
		{"scale-1k", FleetSpec{Seed: 901, Replicas: 1_000, Types: len(instancePool), MaxRegions: 3, Headroom: 2.5}},
		{"scale-10k", FleetSpec{Seed: 902, Replicas: 10_000, Types: len(instancePool), MaxRegions: 3, Headroom: 2.5, MinCandidateNodes: 5_000}},
		{"scale-50k", FleetSpec{Seed: 903, Replicas: 50_000, Types: len(instancePool), MaxRegions: 4, Headroom: 2.5, MinCandidateNodes: 25_000}},
	}
}

// ScaleCase generates a scale case by name.
func ScaleCase(name string) (*Case, error) {
	for _, s := range ScaleSpecs() {
		if s.Name == name {
			return Generate("scale", s.Name, s.Spec)
		}
	}
	return nil, fmt.Errorf("no scale case %q", name)
}

// timePlan runs the planner runs times on one core (GOMAXPROCS 1, after a
// GC) and returns the last result and the median wall time in ms.
func timePlan(req planner.Request, runs int) (*planner.Result, float64, error) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	var res *planner.Result
	times := make([]float64, 0, runs)
	for i := 0; i < runs; i++ {
		runtime.GC()
		start := time.Now()
		r, err := planner.Plan(req)
		d := time.Since(start)
		if err != nil {
			return nil, 0, err
		}
		res = r
		times = append(times, float64(d.Microseconds())/1000)
	}
	sort.Float64s(times)
	return res, times[len(times)/2], nil
}

// EvalCase plans a case and compares it with the exact optimum (when exact)
// and the FFD baseline. Used by the quality suite and the oracle test.
func EvalCase(c *Case, cfg *Config, exact bool, runs int) Row {
	row := Row{
		Suite: c.Suite, Case: c.Name, Replicas: c.Replicas(), CandidateNodes: ptr(c.CandidateNodes()),
		Seed: ptr(c.Spec.Seed), Models: ptr(len(c.Req.Models)), NodeGroups: ptr(len(c.Req.NodeGroups)),
	}
	shapes := Shapes(c.Req)
	res, ms, err := timePlan(c.Req, runs)
	if err != nil {
		row.Error = "planner: " + err.Error()
		return row
	}
	row.PlannerCost, row.PlannerMs = costPtr(res.CostPerHour), ptr(round(ms, 3))
	row.PlannerUnplaced = ptr(res.UnplacedReplicas())
	if err := CheckPlacement(c.Req, res); err != nil {
		row.Error = "placement: " + err.Error()
	}
	row.FFDCost, row.FFDUnplaced = ffdFigures(c.Req, shapes)
	if exact {
		m, err := cfg.Solver.Solve(c.Req, shapes, false)
		cfg.noteVersion(m.Version)
		if err != nil {
			row.MILPStatus = "error: " + err.Error()
		} else {
			row.MILPStatus = m.Status
			row.OptimalMs = ptr(round(m.Millis, 1))
			if m.Optimal {
				row.OptimalCost = costPtr(m.Cost)
				if err := verifySolution(c.Req, shapes, m); err != nil {
					row.MILPError, row.OptimalCost = err.Error(), nil
				}
			} else if m.HasCost {
				row.MILPBest = costPtr(m.Cost)
			}
		}
	}
	row.LowerBound, row.LowerBoundMs = cfg.lowerBound(c, shapes, cfg.Solver.TimeLimit)
	return row
}

func (c *Config) noteVersion(v string) {
	if c.CBCVersion == "" && v != "" {
		c.CBCVersion = v
	}
}

// lowerBound solves the LP relaxation: its cost (nil unless solved to
// optimality within the limit) and its wall time.
func (c *Config) lowerBound(cs *Case, shapes [][]Shape, limit time.Duration) (*float64, *float64) {
	s := c.Solver
	s.TimeLimit = limit
	m, err := s.Solve(cs.Req, shapes, true)
	c.noteVersion(m.Version)
	if err != nil {
		return nil, nil
	}
	ms := ptr(round(m.Millis, 1))
	if !m.Optimal {
		return nil, ms
	}
	return costPtr(m.Cost), ms
}

// RunQuality runs the quality suite.
func RunQuality(cfg *Config) []Row {
	var rows []Row
	for _, spec := range QualitySpecs() {
		spec.Seed += cfg.SeedOffset
		if cfg.Cases != nil && !cfg.Cases.MatchString(QualityName(spec)) {
			continue
		}
		c, err := Generate("quality", QualityName(spec), spec)
		if err != nil {
			rows = append(rows, Row{Suite: "quality", Case: QualityName(spec), Replicas: spec.Replicas, Error: err.Error()})
			continue
		}
		row := EvalCase(c, cfg, true, 5)
		cfg.progress("quality %-12s replicas %4d planner %s optimum %s (%s)", row.Case, row.Replicas,
			fmtCost(row.PlannerCost), fmtCost(row.OptimalCost), row.MILPStatus)
		rows = append(rows, row)
	}
	return rows
}

// RunScale runs the scale suite: the planner in a child process (peak RSS),
// FFD and the LP bound in this one.
func RunScale(cfg *Config) []Row {
	var rows []Row
	for _, s := range ScaleSpecs() {
		row := Row{Suite: "scale", Case: s.Name, Replicas: s.Spec.Replicas, Seed: ptr(s.Spec.Seed)}
		c, err := Generate("scale", s.Name, s.Spec)
		if err != nil {
			row.Error = err.Error()
			rows = append(rows, row)
			continue
		}
		row.CandidateNodes = ptr(c.CandidateNodes())
		row.Models, row.NodeGroups = ptr(len(c.Req.Models)), ptr(len(c.Req.NodeGroups))
		out, err := cfg.planScale(c)
		switch {
		case err != nil:
			row.Error = err.Error()
		default:
			row.PlannerCost, row.PlannerMs = out.Cost, out.Ms
			row.PeakMiB, row.BaseMiB = out.PeakMiB, out.BaseMiB
			row.PlannerUnplaced = out.Unplaced
			row.Error = out.Error
		}
		shapes := Shapes(c.Req)
		row.FFDCost, row.FFDUnplaced = ffdFigures(c.Req, shapes)
		row.LowerBound, row.LowerBoundMs = cfg.lowerBound(c, shapes, cfg.ScaleLPLimit)
		cfg.progress("scale   %-12s replicas %6d planner %s in %s ms, peak %s MiB", row.Case, row.Replicas,
			fmtCost(row.PlannerCost), fmtF(row.PlannerMs, 1), fmtF(row.PeakMiB, 1))
		rows = append(rows, row)
	}
	return rows
}

// verifySolution checks that CBC's solution is a placement the checker
// accepts, at the cost CBC reports.
func verifySolution(req planner.Request, shapes [][]Shape, m MILPResult) error {
	res, err := m.Realize(req, shapes)
	if err != nil {
		return err
	}
	if err := CheckPlacement(req, res); err != nil {
		return err
	}
	if math.Abs(res.CostPerHour-m.Cost) > 1e-6*math.Max(1, m.Cost) {
		return fmt.Errorf("realized cost %.6f, solution cost %.6f", res.CostPerHour, m.Cost)
	}
	return nil
}

// ffdFigures runs the baseline: its cost and, when it left replicas
// unplaced, how many.
func ffdFigures(req planner.Request, shapes [][]Shape) (*float64, *int) {
	f := FFD(req, shapes)
	if f.Unplaced > 0 {
		return costPtr(f.Cost), ptr(f.Unplaced)
	}
	return costPtr(f.Cost), nil
}
