package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// A shard serving four LoRA adapters of rank 16 on Llama-3.1-8B: vLLM
// pre-allocates 320 MiB of buffers per GPU at t1 (memory/lora_test.go
// derives the figure), the memory profile shows them, and the engine
// arguments enable exactly those slots.
func loraPool(engine string) string {
	return `
resource "mcllm_model_shard" "chat" {
  name = "chat"
  model = "llama-3.1-8b"
  precision = "bf16"
  max_context_tokens = 8192
  max_concurrent_sequences = 8
  replicas = 1
  tensor_parallel = 1
  ` + engine + `
}

resource "mcllm_inference_pool" "fleet" {
  name = "fleet"
  node_groups = {
    h100 = { cloud = "aws", region = "us-east-1", instance_type = "p5.4xlarge", max_nodes = 2 }
  }
  model_shards = [mcllm_model_shard.chat.demand]
}

locals {
  args = provider::mcllm::engine_args(mcllm_inference_pool.fleet.placement["chat/0"], mcllm_model_shard.chat.demand)
}

output "lora" {
  value = contains(local.args, "--enable-lora") ? {
    slots = local.args[index(local.args, "--max-loras") + 1]
    rank  = local.args[index(local.args, "--max-lora-rank") + 1]
  } : null
}
`
}

func TestAccInferencePool_lora(t *testing.T) {
	const pool = "mcllm_inference_pool.fleet"
	profile := tfjsonpath.New("memory_profiles").AtMapKey("chat/h100/tp1-pp1")
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: loraPool(`engine = { max_loras = 4, max_lora_rank = 16 }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(pool, profile.AtMapKey("lora_gib"), knownvalue.Float64Exact(0.313)),
					plancheck.ExpectKnownOutputValue("lora", knownvalue.ObjectExact(map[string]knownvalue.Check{
						"slots": knownvalue.StringExact("4"), "rank": knownvalue.StringExact("16")})),
				}},
			},
			{
				Config: loraPool(""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(pool, profile.AtMapKey("lora_gib"), knownvalue.Float64Exact(0)),
					plancheck.ExpectKnownOutputValue("lora", knownvalue.Null()),
				}},
			},
		},
	})
}
