package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// poolConfig renders a pool over the given node groups and shards (HCL
// bodies), with extra pool attributes.
func poolConfig(groups, shards, extra string) string {
	return fmt.Sprintf(`
%s

resource "mcllm_inference_pool" "fleet" {
  name = "fleet"
  node_groups = {
%s
  }
  model_shards = [for s in [%s] : s.demand]
%s
}
`, shardBlocks(shards), groups, shardRefs(shards), extra)
}

var shardDefs = map[string]string{
	"llama8":  `model = "llama-3.1-8b", precision = "bf16", max_context_tokens = 8192, max_concurrent_sequences = 16, replicas = 4`,
	"llama70": `model = "llama-3.1-70b", precision = "bf16", max_context_tokens = 8192, max_concurrent_sequences = 16, replicas = 2`,
	"mixtral": `model = "mixtral-8x7b", precision = "int4", max_context_tokens = 16384, max_concurrent_sequences = 8, replicas = 2, serving_model = "TheBloke/Mixtral-8x7B-Instruct-v0.1-AWQ"`,
	// "<name>@<variant>": the same deployment with other settings.
	"llama8@2": `model = "llama-3.1-8b", precision = "bf16", max_context_tokens = 8192, max_concurrent_sequences = 16, replicas = 2`,
}

// shardName is the deployment name of a shardDefs key.
func shardName(id string) string {
	for i, c := range id {
		if c == '@' {
			return id[:i]
		}
	}
	return id
}

func shardBlocks(names string) string {
	out := ""
	for _, n := range splitNames(names) {
		body := shardDefs[n]
		out += fmt.Sprintf("resource \"mcllm_model_shard\" %q {\n  name = %q\n  %s\n}\n", shardName(n), shardName(n), spaced(body))
	}
	return out
}

func shardRefs(names string) string {
	out := ""
	for i, n := range splitNames(names) {
		if i > 0 {
			out += ", "
		}
		out += "mcllm_model_shard." + shardName(n)
	}
	return out
}

func splitNames(s string) []string {
	var out []string
	cur := ""
	for _, c := range s + " " {
		if c == ' ' {
			if cur != "" {
				out = append(out, cur)
			}
			cur = ""
			continue
		}
		cur += string(c)
	}
	return out
}

func spaced(body string) string {
	out := ""
	for _, c := range body {
		if c == ',' {
			out += "\n "
			continue
		}
		out += string(c)
	}
	return out
}

const (
	groupH100 = `    h100 = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 2 }`
	groupA100 = `    a100 = { cloud = "azure", region = "eastus", instance_type = "Standard_ND96amsr_A100_v4", max_nodes = 2 }`
	groupL4   = `    l4   = { cloud = "gcp", region = "us-central1", instance_type = "g2-standard-96", max_nodes = 4 }`
)

func TestAccInferencePool_lifecycle(t *testing.T) {
	const pool = "mcllm_inference_pool.fleet"
	placement := tfjsonpath.New("placement")
	same := statecheck.CompareValue(compare.ValuesSame())
	same70 := statecheck.CompareValue(compare.ValuesSame())
	history := &placementHistory{address: pool}
	noMoves := func(moved []string) error {
		if len(moved) > 0 {
			return fmt.Errorf("replicas moved: %v", moved)
		}
		return nil
	}
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: poolConfig(groupH100+"\n"+groupL4, "llama8 llama70", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(pool, plancheck.ResourceActionCreate),
					// Both 70B replicas fill one 8×H100 node at t4; the 8B replicas
					// (t2 on L4) take one 8×L4 node: 55.04 + 8.0033 per hour.
					plancheck.ExpectKnownValue(pool, placement.AtMapKey("llama70/0").AtMapKey("node_group"), knownvalue.StringExact("h100")),
					plancheck.ExpectKnownValue(pool, placement.AtMapKey("llama70/1").AtMapKey("tensor_parallel"), knownvalue.Int64Exact(4)),
					plancheck.ExpectKnownValue(pool, placement.AtMapKey("llama8/3").AtMapKey("node_group"), knownvalue.StringExact("l4")),
					plancheck.ExpectKnownValue(pool, tfjsonpath.New("node_group_sizes"), knownvalue.MapExact(map[string]knownvalue.Check{
						"h100": knownvalue.Int64Exact(1), "l4": knownvalue.Int64Exact(1)})),
					plancheck.ExpectKnownValue(pool, placement, knownvalue.MapSizeExact(6)),
					plancheck.ExpectKnownValue(pool, tfjsonpath.New("cost").AtMapKey("total_per_hour"), knownvalue.Float64Exact(63.0433)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					same.AddStateValue(pool, placement.AtMapKey("llama8/0")),
					same70.AddStateValue(pool, placement.AtMapKey("llama70/1")),
				},
			},
			{
				// Adding a model adds keys and moves nothing.
				Config: poolConfig(groupH100+"\n"+groupL4, "llama8 llama70 mixtral", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(pool, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(pool, placement, knownvalue.MapSizeExact(8)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					same.AddStateValue(pool, placement.AtMapKey("llama8/0")),
					same70.AddStateValue(pool, placement.AtMapKey("llama70/1")),
					history.record(),
				},
			},
			{
				// Losing the L4 group moves only the replicas that ran there.
				Config: poolConfig(groupH100+"\n"+groupA100, "llama8 llama70 mixtral", ""),
				ConfigStateChecks: []statecheck.StateCheck{
					same70.AddStateValue(pool, placement.AtMapKey("llama70/1")),
					history.moved(func(moved []string) error {
						for _, k := range moved {
							if k[:6] != "llama8" && k[:7] != "mixtral" {
								return fmt.Errorf("%s moved though its group remains (moved: %v)", k, moved)
							}
						}
						return nil
					}),
					statecheck.ExpectKnownValue(pool, tfjsonpath.New("node_group_sizes"), knownvalue.MapSizeExact(2)),
				},
			},
			{
				// Scaling down removes the highest replica numbers only.
				Config: poolConfig(groupH100+"\n"+groupA100, "llama8@2 llama70 mixtral", ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(pool, placement, knownvalue.MapPartial(map[string]knownvalue.Check{
						"llama8/0": knownvalue.NotNull(), "llama8/1": knownvalue.NotNull()})),
					statecheck.ExpectKnownValue(pool, placement, knownvalue.MapSizeExact(6)),
					history.moved(noMoves),
				},
			},
			{
				// A strategy change with rebalance moves at most max_moves.
				Config: poolConfig(groupH100+"\n"+groupA100, "llama8@2 llama70 mixtral", `
  strategy  = "spread"
  rebalance = "first"
  max_moves = 1`),
				ConfigStateChecks: []statecheck.StateCheck{
					history.moved(func(moved []string) error {
						// Every model sits in one cloud: spreading one helps, and
						// the budget allows exactly one move.
						if len(moved) != 1 {
							return fmt.Errorf("%d replicas moved with max_moves = 1, want 1: %v (placement %v)", len(moved), moved, h2s(history.last))
						}
						return nil
					}),
				},
			},
			{
				// Without a new rebalance trigger, a strategy change alone moves nothing.
				Config: poolConfig(groupH100+"\n"+groupA100, "llama8@2 llama70 mixtral", `
  strategy  = "cost"
  rebalance = "first"
  max_moves = 1`),
				ConfigStateChecks: []statecheck.StateCheck{history.moved(noMoves)},
			},
			{
				ResourceName:  pool,
				ImportState:   true,
				ImportStateId: "fleet",
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 || states[0].Attributes["name"] != "fleet" || states[0].ID != "fleet" {
						return fmt.Errorf("import restored %+v", states)
					}
					return nil
				},
			},
		},
	})
}

// Inputs known only after apply leave the placement unknown in the plan, and
// the apply fills it in consistently.
func TestAccInferencePool_unknownInputs(t *testing.T) {
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: `
resource "terraform_data" "replicas" {
  input = 3
}
resource "mcllm_model_shard" "m" {
  name                     = "m"
  model                    = "llama-3.1-8b"
  precision                = "bf16"
  max_context_tokens       = 4096
  max_concurrent_sequences = 4
  replicas                 = terraform_data.replicas.output
}
resource "mcllm_inference_pool" "p" {
  name         = "p"
  node_groups  = { ` + okGroup + ` }
  model_shards = [mcllm_model_shard.m.demand]
}
`,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectUnknownValue("mcllm_model_shard.m", tfjsonpath.New("demand")),
				plancheck.ExpectUnknownValue("mcllm_inference_pool.p", tfjsonpath.New("placement")),
				plancheck.ExpectKnownValue("mcllm_model_shard.m", tfjsonpath.New("id"), knownvalue.StringExact("m")),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("mcllm_inference_pool.p", tfjsonpath.New("placement"), knownvalue.MapSizeExact(3)),
			},
		}},
	})
}

// Under allow_partial, what does not fit is a warning and is listed in
// unplaced; what fits is placed, higher priority first.
func TestAccInferencePool_allowPartial(t *testing.T) {
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: pool(`h100 = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 1 }`,
				`{ name = "important", model = "llama-3.1-8b", precision = "bf16", max_context_tokens = 8192, max_concurrent_sequences = 8, replicas = 6, priority = 10 },
    { name = "batch", model = "llama-3.1-8b", precision = "bf16", max_context_tokens = 8192, max_concurrent_sequences = 8, replicas = 6 }`,
				`allow_partial = true`),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("mcllm_inference_pool.p", tfjsonpath.New("placement"), knownvalue.MapSizeExact(8)),
				statecheck.ExpectKnownValue("mcllm_inference_pool.p", tfjsonpath.New("unplaced"), knownvalue.MapExact(map[string]knownvalue.Check{
					"batch": knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"replicas": knownvalue.ListExact([]knownvalue.Check{
							knownvalue.Int64Exact(2), knownvalue.Int64Exact(3), knownvalue.Int64Exact(4), knownvalue.Int64Exact(5)}),
					}),
				})),
			},
		}},
	})
}

// preemptionConfig is a pool where a kept 8B replica holds the only node
// group a 70B model at tensor_parallel 8 fits, once the 70B model is added.
func preemptionConfig(withLarge bool, smallNodes int, maxMoves string) string {
	large, ref := "", ""
	if withLarge {
		large = `
resource "mcllm_model_shard" "large" {
  name                     = "large"
  model                    = "llama-3.1-70b"
  precision                = "bf16"
  max_context_tokens       = 8192
  max_concurrent_sequences = 8
  replicas                 = 1
  tensor_parallel          = 8
}`
		ref = ", mcllm_model_shard.large.demand"
	}
	return fmt.Sprintf(`
resource "mcllm_model_shard" "chat" {
  name                     = "chat"
  model                    = "llama-3.1-8b"
  precision                = "bf16"
  max_context_tokens       = 4096
  max_concurrent_sequences = 4
  replicas                 = 1
}
%s
resource "mcllm_inference_pool" "fleet" {
  name = "fleet"
  node_groups = {
    big   = { cloud = "aws", region = "us-east-1", instance_type = "p4d.24xlarge", max_nodes = 1 }
    small = { cloud = "aws", region = "us-east-1", instance_type = "g6.xlarge", max_nodes = %d }
  }
  model_shards = [mcllm_model_shard.chat.demand%s]
  %s
}
`, large, smallNodes, ref, maxMoves)
}

// Demand that kept replicas block is placed by moving the fewest of them,
// within max_moves; without the budget the plan fails and names it.
func TestAccInferencePool_preemption(t *testing.T) {
	const pool = "mcllm_inference_pool.fleet"
	placement := tfjsonpath.New("placement")
	history := &placementHistory{address: pool}
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: preemptionConfig(false, 0, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(pool, placement.AtMapKey("chat/0").AtMapKey("node_group"), knownvalue.StringExact("big")),
					history.record(),
				},
			},
			{
				Config:      preemptionConfig(true, 2, ""),
				ExpectError: regexp.MustCompile(`set max_moves to at least 1\s+\(it is 0\)`),
			},
			{
				Config: preemptionConfig(true, 2, "max_moves = 1"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(pool, placement.AtMapKey("chat/0").AtMapKey("node_group"), knownvalue.StringExact("small")),
					plancheck.ExpectKnownValue(pool, placement.AtMapKey("large/0").AtMapKey("node_group"), knownvalue.StringExact("big")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					history.moved(func(moved []string) error {
						if len(moved) != 1 || moved[0] != "chat/0" {
							return fmt.Errorf("want only chat/0 moved, got %v", moved)
						}
						return nil
					}),
				},
			},
			{
				// The preempting plan is a fixed point.
				Config:             preemptionConfig(true, 2, "max_moves = 1"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: false,
			},
		},
	})
}
