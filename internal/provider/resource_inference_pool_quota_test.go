package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// Two AWS G-family groups share one "Running On-Demand G and VT instances"
// quota of 96 vCPUs: two g6.12xlarge nodes (48 vCPUs each, catalog). Eight
// 8B replicas at t1 need 8 L4 GPUs: two 4-GPU nodes fit the quota exactly;
// the 8-GPU g6.48xlarge (192 vCPUs) does not fit it at all.
const quotaGroups = `    l4x4 = { cloud = "aws", region = "us-east-1", instance_type = "g6.12xlarge", max_nodes = 4 }
    l4x8 = { cloud = "aws", region = "us-east-1", instance_type = "g6.48xlarge", max_nodes = 2 }`

func quotaPool(limit, replicas string) string {
	return `
resource "mcllm_model_shard" "small" {
  name = "small"
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
` + quotaGroups + `
  }
  model_shards = [mcllm_model_shard.small.demand]
  allow_partial = true
  quotas = {
    "L-DB2E81BA" = { cloud = "aws", region = "us-east-1", family = "G and VT", capacity_type = "on-demand", limit = ` + limit + ` }
  }
}
`
}

func TestAccInferencePool_quota(t *testing.T) {
	const pool = "mcllm_inference_pool.fleet"
	usage := tfjsonpath.New("quota_usage").AtMapKey("L-DB2E81BA")
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: quotaPool("96", "8"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					// Two g6.12xlarge (9.20/h) are the cheapest fleet, and all
					// the quota allows.
					plancheck.ExpectKnownValue(pool, tfjsonpath.New("node_group_sizes"), knownvalue.MapExact(map[string]knownvalue.Check{
						"l4x4": knownvalue.Int64Exact(2), "l4x8": knownvalue.Int64Exact(0)})),
					plancheck.ExpectKnownValue(pool, usage.AtMapKey("used"), knownvalue.Int64Exact(96)),
					plancheck.ExpectKnownValue(pool, usage.AtMapKey("unit"), knownvalue.StringExact("vcpus")),
					plancheck.ExpectKnownValue(pool, usage.AtMapKey("node_groups"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringExact("l4x4"), knownvalue.StringExact("l4x8")})),
					plancheck.ExpectKnownValue(pool, tfjsonpath.New("unplaced"), knownvalue.MapSizeExact(0)),
				}},
			},
			{
				// Twelve replicas need a third node: the quota leaves four out,
				// names itself and the raise to 144 vCPUs.
				Config: quotaPool("96", "12"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(pool, usage.AtMapKey("used"), knownvalue.Int64Exact(96)),
					plancheck.ExpectKnownValue(pool, tfjsonpath.New("unplaced").AtMapKey("small").AtMapKey("reason"),
						knownvalue.StringRegexp(regexp.MustCompile(`excluded by quota.*quota "L-DB2E81BA" counts 96 of its 96 vCPUs`))),
					plancheck.ExpectKnownValue(pool, tfjsonpath.New("unplaced").AtMapKey("small").AtMapKey("remedies").AtSliceIndex(0),
						knownvalue.StringExact(`raise quota "L-DB2E81BA" to 144 vCPUs (node group "l4x4" then holds the 4 missing replicas)`)),
				}},
			},
			{
				// The raise it names places them all.
				Config: quotaPool("144", "12"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(pool, tfjsonpath.New("unplaced"), knownvalue.MapSizeExact(0)),
					plancheck.ExpectKnownValue(pool, usage.AtMapKey("used"), knownvalue.Int64Exact(144)),
				}},
			},
			{
				// A repeat plan is empty.
				Config:   quotaPool("144", "12"),
				PlanOnly: true,
			},
		},
	})
}
