package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
)

func TestApportion(t *testing.T) {
	for _, tc := range []struct {
		shares map[string]int
		keys   []string
		want   map[string]int
	}{
		{map[string]int{"aws": 1, "gcp": 1, "azure": 1}, []string{"aws", "azure", "gcp"}, map[string]int{"aws": 34, "azure": 33, "gcp": 33}},
		{map[string]int{"aws": 2, "gcp": 1}, []string{"aws", "azure", "gcp"}, map[string]int{"aws": 67, "azure": 0, "gcp": 33}},
		{map[string]int{"aws": 19, "gcp": 1}, []string{"aws", "gcp"}, map[string]int{"aws": 95, "gcp": 5}},
		{map[string]int{"aws": 5}, []string{"aws", "gcp"}, map[string]int{"aws": 100, "gcp": 0}},
		{map[string]int{}, []string{"aws"}, map[string]int{"aws": 0}},
	} {
		got := Apportion(tc.shares, tc.keys, 100)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("Apportion(%v) = %v, want %v", tc.shares, got, tc.want)
		}
	}
}

// randomPlacement spreads random replicas over random groups.
func randomPlacement(rng *rand.Rand) ([]planner.NodeGroup, []planner.ModelDemand, []planner.Replica) {
	clouds := []string{"aws", "azure", "gcp", "custom"}
	var groups []planner.NodeGroup
	for i := range 1 + rng.IntN(8) {
		groups = append(groups, planner.NodeGroup{Name: fmt.Sprintf("g%d", i), Cloud: clouds[rng.IntN(4)], Region: fmt.Sprintf("r%d", rng.IntN(3))})
	}
	var models []planner.ModelDemand
	var reps []planner.Replica
	for m := range 1 + rng.IntN(5) {
		name := fmt.Sprintf("m%d", m)
		models = append(models, planner.ModelDemand{Name: name})
		for i := range rng.IntN(12) {
			reps = append(reps, planner.Replica{Model: name, Index: i, NodeGroup: groups[rng.IntN(len(groups))].Name})
		}
	}
	return groups, models, reps
}

// The weights always sum to the total and are 0 exactly where a model has
// no replica, over 10,000 random placements.
func TestPropertyTrafficWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	for range 10_000 {
		groups, _, reps := randomPlacement(rng)
		total := 1 + rng.IntN(1000)
		for _, kind := range []string{Cloud, Region} {
			weights := TrafficWeights(groups, reps, kind, total)
			has := map[string]map[string]bool{}
			for _, r := range reps {
				for _, g := range groups {
					if g.Name == r.NodeGroup {
						if has[r.Model] == nil {
							has[r.Model] = map[string]bool{}
						}
						has[r.Model][g.Domain(kind)] = true
					}
				}
			}
			for model := range has {
				if _, ok := weights[model]; !ok {
					t.Fatalf("%s has replicas but no weights", model)
				}
			}
			for model, w := range weights {
				sum := 0
				for d, v := range w {
					sum += v
					switch {
					case !has[model][d] && v != 0:
						t.Fatalf("%s %s: weight %d without capacity", model, d, v)
					case has[model][d] && v == 0 && total >= len(has[model]):
						t.Fatalf("%s %s: weight 0 with capacity (total %d)", model, d, total)
					}
				}
				if sum != total {
					t.Fatalf("%s: weights %v sum to %d, want %d", model, w, sum, total)
				}
			}
		}
	}
}

// The failure report matches a brute-force recount: remove every replica
// of the lost domain and count what is left.
func TestPropertyFailureDomains(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 4))
	for range 10_000 {
		groups, models, reps := randomPlacement(rng)
		for _, f := range FailureDomains(groups, models, reps) {
			for _, s := range append(append([]Survival{}, f.ByCloud...), f.ByRegion...) {
				left := 0
				for _, r := range reps {
					if r.Model != f.Model {
						continue
					}
					for _, g := range groups {
						if g.Name == r.NodeGroup && g.Domain(s.Kind) != s.Domain {
							left++
						}
					}
				}
				if left != s.Replicas {
					t.Fatalf("%s after losing %s %s: reported %d, recount %d", f.Model, s.Kind, s.Domain, s.Replicas, left)
				}
				if s.Replicas < f.Worst.Replicas {
					t.Fatalf("%s: worst %+v is not the worst (%+v)", f.Model, f.Worst, s)
				}
			}
		}
	}
}

func TestTransfers(t *testing.T) {
	groups := []planner.NodeGroup{
		{Name: "same", Cloud: "aws", Region: "us-east-1"},
		{Name: "region", Cloud: "aws", Region: "us-west-2"},
		{Name: "cloud", Cloud: "gcp", Region: "us-central1"},
	}
	weights := map[string]Weights{"m": {Source: Location{Cloud: "aws", Region: "us-east-1"}, CheckpointBytes: 140e9}}
	price := func(cloud, kind string) (float64, bool) {
		switch kind {
		case "none":
			return 0, true
		case "inter_region":
			return 0.02, true
		}
		return 0, false // no internet price known
	}
	stages := func(nodes ...int) []planner.Stage {
		var out []planner.Stage
		for _, n := range nodes {
			out = append(out, planner.Stage{Node: n})
		}
		return out
	}
	replicas := []planner.Replica{{Model: "m", Index: 0, NodeGroup: "same", Stages: stages(0)},
		{Model: "m", Index: 1, NodeGroup: "region", Stages: stages(3, 4)}, // two nodes: two copies
		{Model: "m", Index: 2, NodeGroup: "cloud", Stages: stages(1, 1)}, {Model: "local", Index: 0, NodeGroup: "cloud", Stages: stages(0)}}
	got := Transfers(groups, weights, replicas, price)
	src := weights["m"].Source
	want := map[string]Transfer{
		"m/0": {From: src, Kind: "none", Bytes: 140e9, Priced: true},
		"m/1": {From: src, Kind: "inter_region", Bytes: 280e9, CostUSD: 5.6, Priced: true},
		"m/2": {From: src, Kind: "internet", Bytes: 140e9},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d transfers, want %d (a model without a source pulls nothing): %v", len(got), len(want), got)
	}
	for k, w := range want {
		if g := got[k]; g.Kind != w.Kind || g.Bytes != w.Bytes || g.Priced != w.Priced || math.Abs(g.CostUSD-w.CostUSD) > 1e-9 {
			t.Errorf("%s: %+v, want %+v", k, g, w)
		}
	}
	sur, missing := TransferSurcharges(groups, weights, 730, price)
	if s := sur["m"]; s["same"] != 0 || math.Abs(s["region"]-2.8/730) > 1e-12 || len(s) != 2 {
		t.Errorf("surcharges %v", s)
	}
	if len(missing["m"]) != 1 || missing["m"][0].Kind != "internet" {
		t.Errorf("missing prices %v", missing)
	}
}
