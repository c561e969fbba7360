package provider

import (
	"fmt"
	"os"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// importCases are the documented imports: each resource's own example and
// the id its import.sh and import-by-string-id.tf use.
var importCases = []struct{ dir, address, id, computed string }{
	{"mcllm_inference_pool", "mcllm_inference_pool.fleet", "prod", "node_group_sizes"},
	{"mcllm_model_shard", "mcllm_model_shard.llama_70b", "llama-70b", "memory"},
}

func readExample(t *testing.T, dir, file string) string {
	t.Helper()
	b, err := os.ReadFile("../../examples/resources/" + dir + "/" + file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// onlyNameAndID checks what the docs say import restores: name and id,
// nothing else.
func onlyNameAndID(id string) resource.ImportStateCheckFunc {
	return func(states []*terraform.InstanceState) error {
		if len(states) != 1 {
			return fmt.Errorf("imported %d instances, want 1", len(states))
		}
		attrs := states[0].Attributes
		if attrs["name"] != id || attrs["id"] != id {
			return fmt.Errorf("imported name %q, id %q; want %q for both", attrs["name"], attrs["id"], id)
		}
		for k, v := range attrs {
			if k != "name" && k != "id" && k != "%" && v != "" {
				return fmt.Errorf("import restored %s = %q; the docs promise name and id only", k, v)
			}
		}
		return nil
	}
}

// The import command against each resource's documented example: it
// restores name and id, and the next plan updates the resource in place
// with everything computed, known at plan time.
func TestAccImportCommand(t *testing.T) {
	for _, tc := range importCases {
		t.Run(tc.dir, func(t *testing.T) {
			config := readExample(t, tc.dir, "resource.tf")
			unitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps: []resource.TestStep{
					{Config: config, ResourceName: tc.address, ImportState: true, ImportStateId: tc.id,
						ImportStatePersist: true, ImportStateCheck: onlyNameAndID(tc.id)},
					{Config: config, ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(tc.address, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(tc.address, tfjsonpath.New(tc.computed), knownvalue.NotNull()),
					}}},
				},
			})
		})
	}
}

// An import block (import-by-string-id.tf beside the example) imports and
// computes in one plan.
func TestAccImportBlock(t *testing.T) {
	for _, tc := range importCases {
		t.Run(tc.dir, func(t *testing.T) {
			config := readExample(t, tc.dir, "resource.tf") + "\n" + readExample(t, tc.dir, "import-by-string-id.tf")
			unitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps: []resource.TestStep{{Config: config, ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(tc.address, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(tc.address, tfjsonpath.New("id"), knownvalue.StringExact(tc.id)),
					plancheck.ExpectKnownValue(tc.address, tfjsonpath.New(tc.computed), knownvalue.NotNull()),
				}}}},
			})
		})
	}
}
