package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// Two reserved single-H100 nodes at a committed 4 USD/h beside 1×L4 nodes
// at 0.8048 (catalog): the L4 nodes would be cheaper to buy, but the
// reserved ones are paid already, so the plan fills them first.
func reservationPool(replicas, reservation string) string {
	return `
resource "mcllm_model_shard" "chat" {
  name = "chat"
  model = "llama-3.1-8b"
  precision = "bf16"
  max_context_tokens = 4096
  max_concurrent_sequences = 4
  replicas = ` + replicas + `
  tensor_parallel = 1
}

resource "mcllm_inference_pool" "fleet" {
  name = "fleet"
  node_groups = {
    h100 = { cloud = "aws", region = "us-east-1", instance_type = "p5.4xlarge", max_nodes = 4, reservation = ` + reservation + ` }
    l4   = { cloud = "aws", region = "us-east-1", instance_type = "g6.xlarge", max_nodes = 4 }
  }
  model_shards = [mcllm_model_shard.chat.demand]
}
`
}

func TestAccInferencePool_reservation(t *testing.T) {
	const pool = "mcllm_inference_pool.fleet"
	cost := tfjsonpath.New("cost")
	util := tfjsonpath.New("utilization").AtMapKey("h100")
	const active = `{ nodes = 2, price_per_hour = 4, starts = "2020-01-01T00:00:00Z" }`
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: reservationPool("2", active),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(pool, tfjsonpath.New("node_group_sizes"), knownvalue.MapExact(map[string]knownvalue.Check{
						"h100": knownvalue.Int64Exact(2), "l4": knownvalue.Int64Exact(0)})),
					plancheck.ExpectKnownValue(pool, cost.AtMapKey("total_per_hour"), knownvalue.Float64Exact(8)),
					plancheck.ExpectKnownValue(pool, cost.AtMapKey("reserved_per_hour"), knownvalue.Float64Exact(8)),
					plancheck.ExpectKnownValue(pool, cost.AtMapKey("on_demand_per_hour"), knownvalue.Float64Exact(0)),
					plancheck.ExpectKnownValue(pool, cost.AtMapKey("reserved_idle_per_hour"), knownvalue.Float64Exact(0)),
					plancheck.ExpectKnownValue(pool, util.AtMapKey("reserved_used"), knownvalue.Int64Exact(2)),
				}},
			},
			{
				// Three replicas: the third pays for an L4 node, not a third H100.
				Config: reservationPool("3", active),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(pool, tfjsonpath.New("node_group_sizes"), knownvalue.MapExact(map[string]knownvalue.Check{
						"h100": knownvalue.Int64Exact(2), "l4": knownvalue.Int64Exact(1)})),
					plancheck.ExpectKnownValue(pool, cost.AtMapKey("on_demand_per_hour"), knownvalue.Float64Exact(0.8048)),
				}},
			},
			{
				// One replica leaves a reserved node idle, paid and visible.
				Config: reservationPool("1", active),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(pool, util.AtMapKey("reserved_idle"), knownvalue.Int64Exact(1)),
					plancheck.ExpectKnownValue(pool, cost.AtMapKey("reserved_idle_per_hour"), knownvalue.Float64Exact(4)),
					plancheck.ExpectKnownValue(pool, cost.AtMapKey("total_per_hour"), knownvalue.Float64Exact(8)),
				}},
			},
			{
				// An ended reservation is no longer paid: the replica kept on
				// its node stays (its place is still feasible), at the group's
				// price, and the new one takes the cheaper L4.
				Config: reservationPool("2", `{ nodes = 2, price_per_hour = 4, ends = "2021-01-01T00:00:00Z" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(pool, cost.AtMapKey("reserved_per_hour"), knownvalue.Float64Exact(0)),
					plancheck.ExpectKnownValue(pool, tfjsonpath.New("node_group_sizes"), knownvalue.MapExact(map[string]knownvalue.Check{
						"h100": knownvalue.Int64Exact(1), "l4": knownvalue.Int64Exact(1)})),
					plancheck.ExpectKnownValue(pool, cost.AtMapKey("total_per_hour"), knownvalue.Float64Exact(7.6848)),
				}},
			},
		},
	})
}
