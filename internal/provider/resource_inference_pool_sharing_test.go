package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// Ten 0.6B replicas that opt into sharing, on 4×A100-80GB nodes split into
// 1g.10gb MIG instances (7 per GPU, 9.5 GiB each: 28 per node): one node
// holds them all, labelled for the GPU Operator's MIG manager, and each
// pod asks for one instance as the device plugin's mixed strategy names it.
func sharingPool(shareGPU string) string {
	return `
resource "mcllm_model_shard" "tiny" {
  name = "tiny"
  model = "qwen3-0.6b"
  precision = "bf16"
  max_context_tokens = 4096
  max_concurrent_sequences = 4
  replicas = 10
  constraints = { share_gpu = ` + shareGPU + ` }
}

resource "mcllm_inference_pool" "fleet" {
  name = "fleet"
  node_groups = {
    mig = {
      cloud = "azure", region = "eastus", instance_type = "Standard_NC96ads_A100_v4", max_nodes = 2
      gpu_sharing = { mig_profile = "1g.10gb" }
    }
  }
  model_shards = [mcllm_model_shard.tiny.demand]
  allow_partial = true
  kubernetes = {}
}

output "resources" {
  value = try(provider::mcllm::manifests(mcllm_inference_pool.fleet).workloads["tiny/9"].manifest, "")
}
`
}

func TestAccInferencePool_sharing(t *testing.T) {
	const pool = "mcllm_inference_pool.fleet"
	spec := tfjsonpath.New("node_group_specs").AtMapKey("mig")
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: sharingPool("true"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(pool, tfjsonpath.New("node_group_sizes"), knownvalue.MapExact(map[string]knownvalue.Check{
						"mig": knownvalue.Int64Exact(1)})),
					plancheck.ExpectKnownValue(pool, spec.AtMapKey("labels").AtMapKey("nvidia.com/mig.config"), knownvalue.StringExact("all-1g.10gb")),
					plancheck.ExpectKnownValue(pool, spec.AtMapKey("gpus_per_node"), knownvalue.Int64Exact(4)),
					plancheck.ExpectKnownValue(pool, tfjsonpath.New("placement").AtMapKey("tiny/9").AtMapKey("gpus"),
						knownvalue.ListExact([]knownvalue.Check{knownvalue.Int64Exact(9)})),
					plancheck.ExpectKnownOutputValue("resources", knownvalue.StringRegexp(regexp.MustCompile(`nvidia.com/mig-1g.10gb: "?1"?`))),
				}},
			},
			{
				// Without the model's consent the shares are not used.
				Config: sharingPool("false"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(pool, tfjsonpath.New("unplaced").AtMapKey("tiny").AtMapKey("remedies").AtSliceIndex(0),
						knownvalue.StringRegexp(regexp.MustCompile(`^set constraints.share_gpu to run on shared GPUs`))),
				}},
			},
		},
	})
}
