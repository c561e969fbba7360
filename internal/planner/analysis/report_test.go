package analysis

import (
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
)

func TestReportSplitsAndRoundsCosts(t *testing.T) {
	groups := []planner.NodeGroup{
		{Name: "od", Cloud: "aws", Region: "us-east-1", CapacityType: planner.CapacityOnDemand},
		{Name: "spot", Cloud: "gcp", Region: "us-central1", CapacityType: planner.CapacitySpot},
	}
	models := []planner.ModelDemand{{Name: "m"}, {Name: "idle"}}
	res := &planner.Result{
		CostPerHour: 12.345678,
		Groups: []planner.GroupResult{
			{Name: "od", Nodes: 2, UsedGPUs: 9, TotalGPUs: 16, CostPerHour: 10.00004, MemoryUtilization: 0.123456},
			{Name: "spot", Nodes: 1, UsedGPUs: 1, TotalGPUs: 8, CostPerHour: 2.345638},
		},
		ModelCost: map[string]float64{"m": 12.345678},
		Replicas: []planner.Replica{
			{Model: "m", Index: 0, NodeGroup: "od"}, {Model: "m", Index: 1, NodeGroup: "od"}, {Model: "m", Index: 2, NodeGroup: "spot"},
		},
	}
	r := ReportOf(groups, models, res, nil, nil)
	c := r.Cost
	for _, tc := range []struct {
		what      string
		got, want float64
	}{
		{"total per hour", c.TotalPerHour, 12.3457},
		{"total per month", c.TotalPerMonth, 9012.34}, // 12.345678 × 730 = 9012.34494
		{"on-demand", c.OnDemandPerHour, 10.0},
		{"spot", c.SpotPerHour, 2.3456},
		{"aws", c.PerCloud["aws"], 10.0},
		{"gcp per month", c.MonthlyPerCloud["gcp"], 1712.32}, // 2.345638 × 730 = 1712.31574
		{"model m", c.PerModel["m"], 12.3457},
		{"idle model", c.PerModel["idle"], 0},
		{"od utilization", r.Groups["od"].MemoryUtilization, 0.1235},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %g, want %g", tc.what, tc.got, tc.want)
		}
	}
	if _, ok := c.PerModel["idle"]; !ok {
		t.Error("a model without replicas is left out of per_model; it should show 0")
	}
	if w := r.TrafficWeights["m"]; w["aws"]+w["gcp"] != 100 || w["aws"] != 67 {
		t.Errorf("traffic weights %v, want 67 / 33", w)
	}
	if f := r.Failures["m"]; f.Placed != 3 || f.Worst.Domain != "aws" || f.Worst.Replicas != 1 || f.Worst.Fraction != 0.3333 {
		t.Errorf("failure report %+v", f)
	}
	if len(r.Transfers) != 0 || c.TransferOneTime != 0 {
		t.Errorf("no weights_source, yet transfers %v, cost %g", r.Transfers, c.TransferOneTime)
	}
}

func TestRoundHalfAwayFromZero(t *testing.T) {
	for _, tc := range []struct {
		x    float64
		d    int
		want float64
	}{{1.23456, 4, 1.2346}, {-1.23455, 4, -1.2346}, {2.5, 0, 3}, {1e300, 4, 1e300}} {
		if got := Round(tc.x, tc.d); got != tc.want {
			t.Errorf("Round(%g, %d) = %g, want %g", tc.x, tc.d, got, tc.want)
		}
	}
}

// Issue 14: weights are the replica shares, exact where a share is a whole
// percent, and never 0 where a model has replicas.
func TestTrafficWeightsExactShares(t *testing.T) {
	clouds := []string{"aws", "azure", "gcp"}
	var groups []planner.NodeGroup
	for _, c := range clouds {
		groups = append(groups, planner.NodeGroup{Name: c, Cloud: c})
	}
	place := func(counts ...int) []planner.Replica {
		var out []planner.Replica
		for i, n := range counts {
			for range n {
				out = append(out, planner.Replica{Model: "m", Index: len(out), NodeGroup: clouds[i]})
			}
		}
		return out
	}
	for _, tc := range []struct {
		counts []int
		want   map[string]int
	}{
		{[]int{1, 0, 3}, map[string]int{"aws": 25, "azure": 0, "gcp": 75}},
		{[]int{2, 0, 1}, map[string]int{"aws": 67, "azure": 0, "gcp": 33}},
		{[]int{1, 1, 2}, map[string]int{"aws": 25, "azure": 25, "gcp": 50}},
		{[]int{3, 1, 16}, map[string]int{"aws": 15, "azure": 5, "gcp": 80}},
		{[]int{1, 0, 299}, map[string]int{"aws": 1, "azure": 0, "gcp": 99}}, // 0.33 % rounds to 0: given 1
	} {
		got := TrafficWeights(groups, place(tc.counts...), Cloud, 100)["m"]
		for _, c := range clouds {
			if got[c] != tc.want[c] {
				t.Errorf("%v replicas: weights %v, want %v", tc.counts, got, tc.want)
				break
			}
		}
	}
	// Every split of 100 replicas in whole percents is reproduced exactly.
	for a := 0; a <= 100; a += 7 {
		for b := 0; a+b <= 100; b += 11 {
			counts := []int{a, b, 100 - a - b}
			got := TrafficWeights(groups, place(counts...), Cloud, 100)["m"]
			for i, c := range clouds {
				if got[c] != counts[i] {
					t.Fatalf("%v replicas: weights %v", counts, got)
				}
			}
		}
	}
}
