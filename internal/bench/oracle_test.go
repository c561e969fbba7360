package bench

import (
	"fmt"
	"testing"
	"time"
)

// oracleSpecs are 30 small seeded instances (5 to 30 replicas) of varied
// fleets and capacity.
func oracleSpecs() []FleetSpec {
	var out []FleetSpec
	for i := 0; i < 30; i++ {
		out = append(out, FleetSpec{
			Seed: uint64(7_000 + i), Replicas: 5 + (i*7)%26,
			Types: 6 + i%5, MaxRegions: 1 + i%3, Headroom: []float64{1.3, 1.8, 2.5}[i%3],
		})
	}
	return out
}

// TestPlannerAgainstOptimum compares the planner with the exact optimum of
// CBC on small instances: within 5% of it, never costlier than the FFD
// baseline, and every placement feasible. It skips without cbc on PATH
// unless MCLLM_REQUIRE_CBC=1.
func TestPlannerAgainstOptimum(t *testing.T) {
	cfg := &Config{Solver: Solver{Path: cbcOrSkip(t), TimeLimit: 10 * time.Second}}
	for _, spec := range oracleSpecs() {
		name := fmt.Sprintf("seed=%d/replicas=%d", spec.Seed, spec.Replicas)
		t.Run(name, func(t *testing.T) {
			c, err := Generate("oracle", name, spec)
			if err != nil {
				t.Fatal(err)
			}
			row := EvalCase(c, cfg, true, 1)
			desc := fmt.Sprintf("spec %+v: %d models, %d node groups, %d candidate nodes; planner %s, optimum %s (%s), FFD %s (%d unplaced)",
				spec, *row.Models, *row.NodeGroups, *row.CandidateNodes,
				fmtCost(row.PlannerCost), fmtCost(row.OptimalCost), row.MILPStatus, fmtCost(row.FFDCost), deref(row.FFDUnplaced))
			if row.Error != "" {
				t.Fatalf("%s: %s", desc, row.Error)
			}
			if n := deref(row.PlannerUnplaced); n > 0 {
				t.Fatalf("%s: planner left %d replica(s) unplaced in a feasible case", desc, n)
			}
			if row.OptimalCost == nil {
				t.Fatalf("%s: CBC did not prove an optimum", desc)
			}
			planned, opt := *row.PlannerCost, *row.OptimalCost
			if planned < opt-1e-3 {
				t.Fatalf("%s: planner below the proven optimum: the exact model is wrong", desc)
			}
			if row.LowerBound != nil && *row.LowerBound > opt+1e-3 {
				t.Fatalf("%s: LP bound %.4f above the optimum", desc, *row.LowerBound)
			}
			if planned > 1.05*opt+1e-6 {
				t.Errorf("%s: planner/optimum %.4f > 1.05", desc, planned/opt)
			}
			if row.FFDCost != nil && deref(row.FFDUnplaced) == 0 && planned > *row.FFDCost+1e-6 {
				t.Errorf("%s: planner costlier than FFD", desc)
			}
		})
	}
}
