package planner

import (
	"reflect"
	"slices"
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// Free capacity (price 0) is planned like any other: cost 0 reported, and
// the same placement whatever the order of the groups.
func TestPlanZeroPrices(t *testing.T) {
	a, b := group(t, "a", "aws/p5.48xlarge", 2), group(t, "b", "gcp/a3-highgpu-8g", 2)
	a.PricePerHour, b.PricePerHour = 0, 0
	m := demand(t, "m", "llama-3.1-8b", memory.BF16, 4096, 1, 3)
	var results []*Result
	for _, groups := range [][]NodeGroup{{a, b}, {b, a}} {
		for _, s := range []Strategy{StrategyCost, StrategyBinpack, StrategySpread} {
			res, err := Plan(Request{NodeGroups: slices.Clone(groups), Models: []ModelDemand{m}, Strategy: s})
			if err != nil {
				t.Fatal(err)
			}
			if res.CostPerHour != 0 || len(res.Replicas) != 3 {
				t.Fatalf("%s: cost %g, %d replicas", s, res.CostPerHour, len(res.Replicas))
			}
			results = append(results, res)
		}
	}
	for i := range 3 {
		if !reflect.DeepEqual(results[i].Replicas, results[i+3].Replicas) {
			t.Errorf("strategy %d: placement depends on the order of the groups:\n%+v\n%+v", i, results[i].Replicas, results[i+3].Replicas)
		}
	}
}
