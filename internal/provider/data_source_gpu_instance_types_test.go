package provider

import (
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func TestAccGPUInstanceTypes_filters(t *testing.T) {
	const ds = "data.mcllm_gpu_instance_types.h100"
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: `
data "mcllm_gpu_instance_types" "h100" {
  cloud     = "aws"
  gpu_model = "H100-80GB"
}
data "mcllm_gpu_instance_types" "big_nvswitch" {
  min_gpu_memory_gb = 140
  interconnect      = "nvswitch"
  region            = "us-east-1"
}
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("instance_types"), knownvalue.MapSizeExact(2)),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("instance_types").AtMapKey("aws/p5.48xlarge"), knownvalue.ObjectPartial(map[string]knownvalue.Check{
					"gpus":               knownvalue.Int64Exact(8),
					"price_usd_per_hour": knownvalue.Float64Exact(55.04),
					"price_source":       knownvalue.StringExact("catalog"),
					"price_region":       knownvalue.StringExact("us-east-1"),
					"price_date":         knownvalue.StringExact("2026-01-21"),
					"visible_memory_gib": knownvalue.Float64Exact(79.14),
					"usable_memory_gib":  knownvalue.Float64Exact(71.226),
					"interconnect":       knownvalue.StringExact("nvswitch"),
				})),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("instance_types").AtMapKey("aws/p5.4xlarge").AtMapKey("gpus"), knownvalue.Int64Exact(1)),
				// H200 and B200 on AWS in us-east-1: p5en (priced), p6-b200; p5e has no region record.
				statecheck.ExpectKnownValue("data.mcllm_gpu_instance_types.big_nvswitch", tfjsonpath.New("instance_types"), knownvalue.MapExact(map[string]knownvalue.Check{
					"aws/p5en.48xlarge":    knownvalue.NotNull(),
					"aws/p6-b200.48xlarge": knownvalue.NotNull(),
				})),
			},
		}},
	})
}

func TestAccGPUInstanceTypes_priceOverridesAndUtilization(t *testing.T) {
	const ds = "data.mcllm_gpu_instance_types.azure_h200"
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: `
provider "mcllm" {
  gpu_memory_utilization = 0.8
  price_overrides = {
    "azure/Standard_ND96isr_H200_v5" = 84.5
  }
}
data "mcllm_gpu_instance_types" "azure_h200" {
  cloud     = "azure"
  gpu_model = "H200"
}
data "mcllm_gpu_instance_types" "mi300x" {
  gpu_model = "MI300X"
}
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("instance_types").AtMapKey("azure/Standard_ND96isr_H200_v5"), knownvalue.ObjectPartial(map[string]knownvalue.Check{
					"price_usd_per_hour": knownvalue.Float64Exact(84.5),
					"price_source":       knownvalue.StringExact("override"),
					"price_region":       knownvalue.Null(),
					"usable_memory_gib":  knownvalue.Float64Exact(111.848),
				})),
				// No source lists a price: it stays unknown, never invented.
				statecheck.ExpectKnownValue("data.mcllm_gpu_instance_types.mi300x", tfjsonpath.New("instance_types").AtMapKey("azure/Standard_ND96isr_MI300X_v5"), knownvalue.ObjectPartial(map[string]knownvalue.Check{
					"price_usd_per_hour": knownvalue.Null(),
					"price_source":       knownvalue.StringExact("unknown"),
				})),
			},
		}},
	})
}

func TestAccGPUInstanceTypes_badInput(t *testing.T) {
	for name, tc := range map[string]struct{ config, want string }{
		"unknown gpu model": {`data "mcllm_gpu_instance_types" "x" { gpu_model = "H100" }`, `unknown GPU model "H100"; did you mean "H100-80GB"`},
		"unknown cloud":     {`data "mcllm_gpu_instance_types" "x" { cloud = "oracle" }`, `Attribute cloud value must be one of`},
		"bad interconnect":  {`data "mcllm_gpu_instance_types" "x" { interconnect = "nvlink4" }`, `Attribute interconnect value must be one of`},
		"negative memory":   {`data "mcllm_gpu_instance_types" "x" { min_gpu_memory_gb = -1 }`, `must be at least 0`},
		"override unknown type": {`
provider "mcllm" {
  price_overrides = { "aws/p5.48xlarg" = 40 }
}
data "mcllm_gpu_instance_types" "x" {}`, `unknown instance type "aws/p5.48xlarg"; did you mean "aws/p5.48xlarge"`},
		"override bad key": {`
provider "mcllm" {
  price_overrides = { "p5.48xlarge" = 40 }
}
data "mcllm_gpu_instance_types" "x" {}`, `not of the form <cloud>/<instance_type>`},
		"override negative price": {`
provider "mcllm" {
  price_overrides = { "aws/p5.48xlarge" = -3 }
}
data "mcllm_gpu_instance_types" "x" {}`, `is out of range: price_overrides must be between 0 and 10,000`},
		"utilization above one": {`
provider "mcllm" {
  gpu_memory_utilization = 1.5
}
data "mcllm_gpu_instance_types" "x" {}`, `must be greater than 0 and at most 1, got 1.5`},
		"utilization zero": {`
provider "mcllm" {
  gpu_memory_utilization = 0
}
data "mcllm_gpu_instance_types" "x" {}`, `must be greater than 0 and at most 1, got 0`},
	} {
		t.Run(name, func(t *testing.T) {
			unitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps: []resource.TestStep{{
					Config:      tc.config,
					ExpectError: errorText(tc.want),
				}},
			})
		})
	}
}

// An unknown region finds nothing and says so, on the region attribute.
func TestProtocolGPUInstanceTypesUnknownRegionWarns(t *testing.T) {
	h := newProtocolHarness(t)
	resp := h.readDataSource("mcllm_gpu_instance_types", map[string]tftypes.Value{"region": str("us-east-9")})
	if len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Severity != tfprotov6.DiagnosticSeverityWarning ||
		!resp.Diagnostics[0].Attribute.Equal(attrPath("region")) {
		t.Fatalf("want one warning on region, got %s", diagText(resp.Diagnostics))
	}
	state, err := resp.State.Unmarshal(h.schema.DataSourceSchemas["mcllm_gpu_instance_types"].ValueType())
	if err != nil {
		t.Fatal(err)
	}
	var vals map[string]tftypes.Value
	var types map[string]tftypes.Value
	if err := state.As(&vals); err != nil || vals["instance_types"].As(&types) != nil || len(types) != 0 {
		t.Fatalf("want no instance types, got %v (%v)", vals["instance_types"], err)
	}
}
