package handoff

import (
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// Issue 12: pool "prod" with model "eu-llama" and pool "prod-eu" with model
// "llama", in one namespace, render no object of the same kind and name;
// every name stays a DNS label the API server takes.
func TestTwoPoolsInOneNamespaceDoNotCollide(t *testing.T) {
	groups := []Group{testGroup(t, "h100", "aws/p5.48xlarge", 4, planner.CapacityOnDemand)}
	seen := map[string]string{}
	for _, pm := range [][2]string{{"prod", "eu-llama"}, {"prod-eu", "llama"}} {
		f := testFleet(t, groups, []testModel{{pm[1], "llama-3.1-8b", memory.BF16, memory.KVAuto, 8192, 8, 2}}, nil)
		f.Pool = pm[0]
		out, err := Render(f)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, set := range []map[string]Manifest{out.Workloads, out.Services, out.DisruptionBudgets} {
			for _, m := range set {
				n++
				if errs := validation.IsDNS1035Label(m.Name); len(errs) > 0 {
					t.Errorf("%s %q: %v", m.Kind, m.Name, errs)
				}
				key := m.Namespace + "/" + m.Kind + "/" + m.Name
				if other, dup := seen[key]; dup && other != pm[0] {
					t.Errorf("pools %q and %q both render %s", other, pm[0], key)
				}
				seen[key] = pm[0]
			}
		}
		if n < 3 {
			t.Fatalf("pool %q rendered %d objects", pm[0], n)
		}
	}
}
