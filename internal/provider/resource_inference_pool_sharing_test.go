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

// Engines at their own memory fractions on one L40S (48 GB, 0.9 of it in
// eighths of 0.1125): a 0.6B takes one eighth, a Phi-3 mini asked to keep
// 0.4 of the GPU takes four (0.45), both on the one GPU of one node. The
// hand-off sends them to KAI Scheduler with their blocks' gpu-fraction, no
// nvidia.com/gpu request, each engine at its block's utilization.
const fractionalPool = `
resource "mcllm_model_shard" "tiny" {
  name = "tiny"
  model = "qwen3-0.6b"
  precision = "bf16"
  max_context_tokens = 4096
  max_concurrent_sequences = 2
  replicas = 2
  constraints = { share_gpu = true }
}

resource "mcllm_model_shard" "phi" {
  name = "phi"
  model = "phi-3-mini-4k"
  precision = "bf16"
  max_context_tokens = 4096
  max_concurrent_sequences = 2
  replicas = 1
  constraints = { share_gpu = true, gpu_memory_fraction = 0.4 }
}

resource "mcllm_inference_pool" "fleet" {
  name = "fleet"
  node_groups = {
    l40s = {
      cloud = "aws", region = "us-east-1", instance_type = "g6e.xlarge", max_nodes = 2
      gpu_sharing = { max_engines_per_gpu = 8 }
    }
  }
  model_shards = [mcllm_model_shard.tiny.demand, mcllm_model_shard.phi.demand]
  kubernetes = {}
}

output "tiny" {
  value = try(provider::mcllm::manifests(mcllm_inference_pool.fleet).workloads["tiny/0"].manifest, "")
}
output "phi_args" {
  value = try(join(" ", provider::mcllm::manifests(mcllm_inference_pool.fleet).workloads["phi/0"].engine_args), "")
}
output "tiny_requests_gpu" {
  value = try(strcontains(provider::mcllm::manifests(mcllm_inference_pool.fleet).workloads["tiny/0"].manifest, "nvidia.com/gpu:"), true)
}
`

func TestAccInferencePool_fractionalSharing(t *testing.T) {
	const pool = "mcllm_inference_pool.fleet"
	place := tfjsonpath.New("placement")
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: fractionalPool,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectKnownValue(pool, tfjsonpath.New("node_group_sizes"), knownvalue.MapExact(map[string]knownvalue.Check{
					"l40s": knownvalue.Int64Exact(1)})),
				plancheck.ExpectKnownValue(pool, tfjsonpath.New("node_group_specs").AtMapKey("l40s").AtMapKey("max_engines_per_gpu"), knownvalue.Int64Exact(8)),
				plancheck.ExpectKnownValue(pool, tfjsonpath.New("node_group_specs").AtMapKey("l40s").AtMapKey("gpus_per_node"), knownvalue.Int64Exact(1)),
				plancheck.ExpectKnownValue(pool, place.AtMapKey("phi/0").AtMapKey("gpus"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.Int64Exact(0), knownvalue.Int64Exact(1), knownvalue.Int64Exact(2), knownvalue.Int64Exact(3)})),
				plancheck.ExpectKnownValue(pool, tfjsonpath.New("memory_profiles").AtMapKey("phi/l40s/tp1-pp1").AtMapKey("gpu_memory_utilization"),
					knownvalue.Float64Exact(0.45)),
				plancheck.ExpectKnownValue(pool, tfjsonpath.New("memory_profiles").AtMapKey("tiny/l40s/tp1-pp1").AtMapKey("gpu_memory_utilization"),
					knownvalue.Float64Exact(0.1125)),
				plancheck.ExpectKnownOutputValue("tiny", knownvalue.StringRegexp(regexp.MustCompile(`(?s)gpu-fraction: "0.125".*schedulerName: kai-scheduler`))),
				plancheck.ExpectKnownOutputValue("tiny_requests_gpu", knownvalue.Bool(false)),
				plancheck.ExpectKnownOutputValue("phi_args", knownvalue.StringRegexp(regexp.MustCompile(`--gpu-memory-utilization 0.45( |$)`))),
			}},
		}},
	})
}

// The planner chooses the group's MIG layout from the allowed ones: ten
// 0.6B replicas fit one node of 1g.10gb instances, where 3g.40gb would take
// two. A repeat plan is empty, and the layout stays while it is allowed.
func migChoicePool(profiles string) string {
	return `
resource "mcllm_inference_pool" "fleet" {
  name = "fleet"
  node_groups = {
    a100 = {
      cloud = "azure", region = "eastus", instance_type = "Standard_NC96ads_A100_v4", max_nodes = 2
      gpu_sharing = { mig_profiles = ` + profiles + ` }
    }
  }
  model_shards = [{ name = "tiny", model = "qwen3-0.6b", precision = "bf16", max_context_tokens = 4096,
    max_concurrent_sequences = 4, replicas = 10, constraints = { share_gpu = true } }]
}
`
}

func TestAccInferencePool_migLayoutChoice(t *testing.T) {
	const pool = "mcllm_inference_pool.fleet"
	spec := tfjsonpath.New("node_group_specs").AtMapKey("a100")
	chose := func(profile string, nodes int64) []plancheck.PlanCheck {
		return []plancheck.PlanCheck{
			plancheck.ExpectKnownValue(pool, spec.AtMapKey("mig_profile"), knownvalue.StringExact(profile)),
			plancheck.ExpectKnownValue(pool, spec.AtMapKey("labels").AtMapKey("nvidia.com/mig.config"), knownvalue.StringExact("all-"+profile)),
			plancheck.ExpectKnownValue(pool, tfjsonpath.New("node_group_sizes").AtMapKey("a100"), knownvalue.Int64Exact(nodes)),
		}
	}
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: migChoicePool(`["3g.40gb", "1g.10gb"]`), ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: chose("1g.10gb", 1)}},
			{Config: migChoicePool(`["3g.40gb", "1g.10gb"]`), ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
			{Config: migChoicePool(`["3g.40gb"]`), ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: chose("3g.40gb", 2)}},
			{Config: migChoicePool(`["1g.10gb", "3g.40gb"]`), ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: chose("3g.40gb", 2)}},
		},
	})
}

// The GPU Operator's mixed layout all-balanced on 4×A100-80GB nodes: each
// GPU holds two 1g.10gb, one 2g.20gb and one 3g.40gb instance (8, 4 and 4
// per node). Ten 0.6B replicas take the eight 1g instances and two 2g; two
// Qwen2.5-14B bf16 need a 3g each. One node holds them all, labelled
// all-balanced, and each pod asks for the instance it was bound to.
func balancedPool(profiles string) string {
	return `
resource "mcllm_inference_pool" "fleet" {
  name = "fleet"
  node_groups = {
    mig = {
      cloud = "azure", region = "eastus", instance_type = "Standard_NC96ads_A100_v4", max_nodes = 3
      gpu_sharing = { ` + profiles + ` }
    }
  }
  model_shards = [
    { name = "tiny", model = "qwen3-0.6b", precision = "bf16", max_context_tokens = 4096,
      max_concurrent_sequences = 4, replicas = 10, constraints = { share_gpu = true } },
    { name = "mid", model = "qwen2.5-14b", precision = "bf16", max_context_tokens = 4096,
      max_concurrent_sequences = 2, replicas = 2, constraints = { share_gpu = true } },
  ]
  kubernetes = {}
}

output "mid" {
  value = try(provider::mcllm::manifests(mcllm_inference_pool.fleet).workloads["mid/0"].manifest, "")
}
output "tiny_last" {
  value = try(provider::mcllm::manifests(mcllm_inference_pool.fleet).workloads["tiny/9"].manifest, "")
}
`
}

func TestAccInferencePool_balancedMIG(t *testing.T) {
	const pool = "mcllm_inference_pool.fleet"
	spec := tfjsonpath.New("node_group_specs").AtMapKey("mig")
	place := tfjsonpath.New("placement")
	balanced := []plancheck.PlanCheck{
		plancheck.ExpectKnownValue(pool, tfjsonpath.New("node_group_sizes").AtMapKey("mig"), knownvalue.Int64Exact(1)),
		plancheck.ExpectKnownValue(pool, spec.AtMapKey("mig_profile"), knownvalue.StringExact("all-balanced")),
		plancheck.ExpectKnownValue(pool, spec.AtMapKey("labels").AtMapKey("nvidia.com/mig.config"), knownvalue.StringExact("all-balanced")),
		plancheck.ExpectKnownValue(pool, spec.AtMapKey("gpus_per_node"), knownvalue.Int64Exact(4)),
		plancheck.ExpectKnownValue(pool, place.AtMapKey("mid/0").AtMapKey("gpus"), knownvalue.ListExact([]knownvalue.Check{
			knownvalue.Int64Exact(4), knownvalue.Int64Exact(5), knownvalue.Int64Exact(6), knownvalue.Int64Exact(7)})),
		plancheck.ExpectKnownValue(pool, tfjsonpath.New("memory_profiles").AtMapKey("mid/mig/tp1-pp1-3g.40gb").AtMapKey("gpu_memory_gib"),
			knownvalue.Float64Exact(39.25)),
		plancheck.ExpectKnownValue(pool, tfjsonpath.New("memory_profiles").AtMapKey("tiny/mig/tp1-pp1-1g.10gb").AtMapKey("replicas"),
			knownvalue.Int64Exact(8)),
		plancheck.ExpectKnownValue(pool, tfjsonpath.New("memory_profiles").AtMapKey("tiny/mig/tp1-pp1-2g.20gb").AtMapKey("replicas"),
			knownvalue.Int64Exact(2)),
		plancheck.ExpectKnownOutputValue("mid", knownvalue.StringRegexp(regexp.MustCompile(`nvidia.com/mig-3g.40gb: "?1"?`))),
		plancheck.ExpectKnownOutputValue("tiny_last", knownvalue.StringRegexp(regexp.MustCompile(`nvidia.com/mig-2g.20gb: "?1"?`))),
	}
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: balancedPool(`mig_profile = "all-balanced"`), ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: balanced}},
			{Config: balancedPool(`mig_profile = "all-balanced"`), ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
			// Chosen among uniform layouts: 3g.40gb would take two nodes.
			{Config: balancedPool(`mig_profiles = ["3g.40gb", "all-balanced"]`), ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: balanced}},
		},
	})
}
