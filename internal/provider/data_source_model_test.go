package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func TestAccModel(t *testing.T) {
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: `
data "mcllm_model" "llama" { id = "llama-3.1-70b" }
data "mcllm_model" "deepseek" { id = "DeepSeek-V3" }
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.mcllm_model.llama", tfjsonpath.New("parameters"), knownvalue.Int64Exact(70_553_706_496)),
				statecheck.ExpectKnownValue("data.mcllm_model.llama", tfjsonpath.New("kv_cache_bytes_per_token"), knownvalue.Int64Exact(327_680)),
				statecheck.ExpectKnownValue("data.mcllm_model.llama", tfjsonpath.New("attention"), knownvalue.StringExact("gqa")),
				statecheck.ExpectKnownValue("data.mcllm_model.llama", tfjsonpath.New("tensor_parallel_degrees"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.Int64Exact(1), knownvalue.Int64Exact(2), knownvalue.Int64Exact(4), knownvalue.Int64Exact(8),
				})),
				statecheck.ExpectKnownValue("data.mcllm_model.deepseek", tfjsonpath.New("attention"), knownvalue.StringExact("mla")),
				statecheck.ExpectKnownValue("data.mcllm_model.deepseek", tfjsonpath.New("kv_cache_bytes_per_token"), knownvalue.Int64Exact(70_272)),
				statecheck.ExpectKnownValue("data.mcllm_model.deepseek", tfjsonpath.New("experts"), knownvalue.Int64Exact(256)),
			},
		}},
	})
}

func TestAccModel_unknownSuggestsNearest(t *testing.T) {
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config:      `data "mcllm_model" "x" { id = "llama-3.1-70" }`,
			ExpectError: errorText(`unknown model "llama-3.1-70"; did you mean "llama-3.1-70b"`),
		}},
	})
}
