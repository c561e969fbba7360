package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// threeClouds renders a fleet of two nodes on AWS and the given max_nodes on
// GCP and Azure.
func threeClouds(gcp, azure int) string {
	return fmt.Sprintf(`aws = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 2 }
    gcp = { cloud = "gcp", region = "us-central1", instance_type = "a3-highgpu-8g", max_nodes = %d }
    azure = { cloud = "azure", region = "eastus", instance_type = "Standard_ND96amsr_A100_v4", max_nodes = %d }`, gcp, azure)
}

const resilientShards = `{ name = "llama70", model = "llama-3.1-70b", precision = "bf16", max_context_tokens = 8192, max_concurrent_sequences = 16, replicas = 4, min_replicas_on_failure = { cloud = 2 } },
    { name = "llama8", model = "llama-3.1-8b", precision = "bf16", max_context_tokens = 8192, max_concurrent_sequences = 16, replicas = 3, min_replicas_on_failure = { cloud = 2 } }`

// Losing any one cloud leaves every model its required replicas, and the
// failure report and traffic weights say so.
func TestAccInferencePool_survivesLosingACloud(t *testing.T) {
	const p = "mcllm_inference_pool.p"
	atLeast2 := knownvalue.MapExact(map[string]knownvalue.Check{
		"aws": int64Between(2, 4), "gcp": int64Between(2, 4), "azure": int64Between(2, 4)})
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: pool(threeClouds(2, 2), resilientShards, ""),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(p, tfjsonpath.New("placement"), knownvalue.MapSizeExact(7)),
				statecheck.ExpectKnownValue(p, tfjsonpath.New("failure_domains").AtMapKey("llama70").AtMapKey("after_losing_cloud"), atLeast2),
				statecheck.ExpectKnownValue(p, tfjsonpath.New("failure_domains").AtMapKey("llama8").AtMapKey("after_losing_cloud"), atLeast2),
				statecheck.ExpectKnownValue(p, tfjsonpath.New("failure_domains").AtMapKey("llama70").AtMapKey("worst_replicas"), int64Between(2, 4)),
				statecheck.ExpectKnownValue(p, tfjsonpath.New("traffic_weights").AtMapKey("llama70"), sumsTo(100)),
				statecheck.ExpectKnownValue(p, tfjsonpath.New("traffic_weights").AtMapKey("llama8"), sumsTo(100)),
				statecheck.ExpectKnownValue(p, tfjsonpath.New("cost").AtMapKey("total_per_month"), knownvalue.NotNull()),
			},
		}},
	})
}

// With GCP and Azure cut to nothing, no placement keeps two replicas after
// losing AWS: the plan fails naming the model, the cloud and the remedy.
func TestAccInferencePool_cannotSurviveLosingACloud(t *testing.T) {
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config:      pool(threeClouds(0, 0), resilientShards, ""),
			PlanOnly:    true,
			ExpectError: errorText(`Model "llama70" cannot be placed`),
		}, {
			Config:      pool(threeClouds(0, 0), resilientShards, ""),
			PlanOnly:    true,
			ExpectError: errorText(`cloud "aws" already hold 2 replicas each, the most one cloud may hold while 2 must survive its loss`),
		}, {
			Config:      pool(threeClouds(0, 0), resilientShards, ""),
			PlanOnly:    true,
			ExpectError: errorText(`To fix it: add a node group in another cloud`),
		}},
	})
}

// Spot with an on-demand floor: the floor runs on on-demand capacity, the
// rest on the cheaper spot group, and the cost splits them.
func TestAccInferencePool_onDemandFloor(t *testing.T) {
	const p = "mcllm_inference_pool.p"
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: pool(`spot = { cloud = "gcp", region = "us-central1", instance_type = "g2-standard-96", max_nodes = 2, capacity_type = "spot", price_per_hour = 2.4 }
    od = { cloud = "aws", region = "us-east-1", instance_type = "g6.xlarge", max_nodes = 8 }`,
				`{ name = "qwen", model = "qwen2.5-7b", precision = "bf16", max_context_tokens = 4096, max_concurrent_sequences = 4, replicas = 6, on_demand_floor = 2 }`, ""),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(p, tfjsonpath.New("node_group_sizes"), knownvalue.MapExact(map[string]knownvalue.Check{
					"od": knownvalue.Int64Exact(2), "spot": knownvalue.Int64Exact(1)})),
				statecheck.ExpectKnownValue(p, tfjsonpath.New("cost").AtMapKey("spot_per_hour"), knownvalue.Float64Exact(2.4)),
				statecheck.ExpectKnownValue(p, tfjsonpath.New("cost").AtMapKey("on_demand_per_hour"), knownvalue.Float64Exact(1.6096)),
			},
		}},
	})
}

// Demand-driven replicas: ceil(target / per replica) within the bounds,
// known at plan time, and followed by the pool.
func TestAccModelShard_autoscaling(t *testing.T) {
	shard := func(target string) string {
		return `
resource "mcllm_model_shard" "m" {
  name                     = "m"
  model                    = "llama-3.1-8b"
  precision                = "bf16"
  max_context_tokens       = 4096
  max_concurrent_sequences = 8
  autoscaling = {
    target_load      = ` + target + `
    load_per_replica = 40
    min_replicas     = 2
    max_replicas     = 6
  }
}
resource "mcllm_inference_pool" "p" {
  name         = "p"
  node_groups  = { ` + okGroup + ` }
  model_shards = [mcllm_model_shard.m.demand]
}
`
	}
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: shard("130"), // ceil(130 / 40) = 4
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue("mcllm_model_shard.m", tfjsonpath.New("replicas"), knownvalue.Int64Exact(4)),
					plancheck.ExpectKnownValue("mcllm_inference_pool.p", tfjsonpath.New("placement"), knownvalue.MapSizeExact(4)),
				}},
			},
			{
				Config: shard("1000"), // 25, capped at max_replicas
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue("mcllm_model_shard.m", tfjsonpath.New("replicas"), knownvalue.Int64Exact(6)),
				}},
			},
			{
				Config: shard("10"), // 1, raised to min_replicas
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue("mcllm_model_shard.m", tfjsonpath.New("replicas"), knownvalue.Int64Exact(2)),
					plancheck.ExpectKnownValue("mcllm_inference_pool.p", tfjsonpath.New("placement"), knownvalue.MapSizeExact(2)),
				}},
			},
		},
	})
}

// The load per replica estimated by the bandwidth roofline: Llama-3.1-8B
// bf16, 8 sequences of 4,096 tokens, on one H100 (t1) of a p5.48xlarge:
// 8 × 3.35 TB/s / (16.06 GB weights + 4.29 GB KV) = 1,316.6 tokens/s, so
// 5,000 tokens/s need ceil(3.8) = 4 replicas.
func TestAccModelShard_autoscalingRoofline(t *testing.T) {
	config := func(autoscaling string) string {
		return `
resource "mcllm_model_shard" "m" {
  name                     = "m"
  model                    = "llama-3.1-8b"
  precision                = "bf16"
  max_context_tokens       = 4096
  max_concurrent_sequences = 8
  autoscaling              = ` + autoscaling + `
}
`
	}
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: config(`{ target_load = 5000, estimate_on = "aws/p5.48xlarge" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue("mcllm_model_shard.m", tfjsonpath.New("autoscaling").AtMapKey("load_per_replica"), knownvalue.Float64Exact(1316.6)),
					plancheck.ExpectKnownValue("mcllm_model_shard.m", tfjsonpath.New("replicas"), knownvalue.Int64Exact(4)),
					plancheck.ExpectKnownValue("mcllm_model_shard.m", tfjsonpath.New("demand").AtMapKey("replicas"), knownvalue.Int64Exact(4)),
				}},
			},
			{
				// On one L4 (300 GB/s) a replica serves 117.9 tokens/s: 43 replicas.
				Config: config(`{ target_load = 5000, estimate_on = "gcp/g2-standard-48" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue("mcllm_model_shard.m", tfjsonpath.New("autoscaling").AtMapKey("load_per_replica"), knownvalue.Float64Exact(117.9)),
					plancheck.ExpectKnownValue("mcllm_model_shard.m", tfjsonpath.New("replicas"), knownvalue.Int64Exact(43)),
				}},
			},
		},
	})
}

// Isolation: a dedicated model and two tenants never share a node.
func TestAccInferencePool_isolation(t *testing.T) {
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: pool(okGroup, `{ name = "a", model = "llama-3.1-8b", precision = "bf16", max_context_tokens = 4096, max_concurrent_sequences = 4, replicas = 2, isolation = { dedicated = true } },
    { name = "b", model = "qwen2.5-7b", precision = "bf16", max_context_tokens = 4096, max_concurrent_sequences = 4, replicas = 2, isolation = { tenant = "red" } },
    { name = "c", model = "mistral-7b-v0.3", precision = "bf16", max_context_tokens = 4096, max_concurrent_sequences = 4, replicas = 2, isolation = { tenant = "blue" } }`, ""),
			// Two nodes of max_nodes = 2 cannot hold three isolation classes.
			ExpectError: errorText(`Model "c" cannot be placed`),
		}, {
			Config: pool(`h100 = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 3 }`,
				`{ name = "a", model = "llama-3.1-8b", precision = "bf16", max_context_tokens = 4096, max_concurrent_sequences = 4, replicas = 2, isolation = { dedicated = true } },
    { name = "b", model = "qwen2.5-7b", precision = "bf16", max_context_tokens = 4096, max_concurrent_sequences = 4, replicas = 2, isolation = { tenant = "red" } },
    { name = "c", model = "mistral-7b-v0.3", precision = "bf16", max_context_tokens = 4096, max_concurrent_sequences = 4, replicas = 2, isolation = { tenant = "blue" } }`, ""),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("mcllm_inference_pool.p", tfjsonpath.New("node_group_sizes").AtMapKey("h100"), knownvalue.Int64Exact(3)),
				statecheck.ExpectKnownValue("mcllm_inference_pool.p", tfjsonpath.New("placement").AtMapKey("a/0").AtMapKey("node"), knownvalue.Int64Exact(0)),
				statecheck.ExpectKnownValue("mcllm_inference_pool.p", tfjsonpath.New("placement").AtMapKey("a/1").AtMapKey("node"), knownvalue.Int64Exact(0)),
			},
		}},
	})
}

// Weight transfer: a model lands in the region of its weights when node
// prices tie; the pool reports each replica's pull and its cost at the
// source cloud's price, with the provider's override.
func TestAccInferencePool_dataTransfer(t *testing.T) {
	const p = "mcllm_inference_pool.p"
	for region, group := range map[string]string{"us-west-2": "b-west", "us-east-1": "a-east"} {
		config := `
provider "mcllm" {
  egress_prices = { "gcp/internet" = 0.05 }
}
` + pool(`a-east = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 2 }
    b-west = { cloud = "aws", region = "us-west-2", instance_type = "p5.48xlarge", max_nodes = 2 }`,
			`{ name = "near", model = "llama-3.1-8b", precision = "bf16", max_context_tokens = 4096, max_concurrent_sequences = 8, replicas = 2,
      weights_source = { cloud = "aws", region = "`+region+`" } },
    { name = "far", model = "llama-3.1-8b", precision = "bf16", max_context_tokens = 4096, max_concurrent_sequences = 8, replicas = 1,
      weights_source = { cloud = "gcp", region = "us-central1" } },
    { name = "local", model = "llama-3.1-8b", precision = "bf16", max_context_tokens = 4096, max_concurrent_sequences = 8, replicas = 1 }`, "")
		transfer := tfjsonpath.New("data_transfer")
		t.Run(region, func(t *testing.T) {
			unitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps: []resource.TestStep{{
					Config: config,
					ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
						plancheck.ExpectKnownValue(p, tfjsonpath.New("placement").AtMapKey("near/0").AtMapKey("node_group"), knownvalue.StringExact(group)),
						plancheck.ExpectKnownValue(p, tfjsonpath.New("placement").AtMapKey("near/1").AtMapKey("node_group"), knownvalue.StringExact(group)),
						plancheck.ExpectKnownValue(p, transfer.AtMapKey("near/0"), knownvalue.ObjectExact(map[string]knownvalue.Check{
							"from": knownvalue.StringExact("aws/" + region), "kind": knownvalue.StringExact("none"),
							"bytes": knownvalue.Int64Exact(16060522496), "gb": knownvalue.Float64Exact(16.061), "cost_usd": knownvalue.Float64Exact(0)})),
						// 16.0605 GB × 0.05 USD.
						plancheck.ExpectKnownValue(p, transfer.AtMapKey("far/0").AtMapKey("kind"), knownvalue.StringExact("internet")),
						plancheck.ExpectKnownValue(p, transfer.AtMapKey("far/0").AtMapKey("cost_usd"), knownvalue.Float64Exact(0.803)),
						plancheck.ExpectKnownValue(p, tfjsonpath.New("cost").AtMapKey("transfer_one_time"), knownvalue.Float64Exact(0.803)),
						plancheck.ExpectKnownValue(p, transfer, knownvalue.MapSizeExact(3)),
						// All four replicas share one p5.48xlarge (55.04 USD/h): 730 h.
						plancheck.ExpectKnownValue(p, tfjsonpath.New("cost").AtMapKey("monthly").AtMapKey("per_cloud"),
							knownvalue.MapExact(map[string]knownvalue.Check{"aws": knownvalue.Float64Exact(40179.2)})),
					}},
				}},
			})
		})
	}
}
