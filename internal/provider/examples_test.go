package provider

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// TestAccExamples plans and applies every documentation example through the
// real CLI, so that docs never show configuration that does not work.
func TestAccExamples(t *testing.T) {
	dirs, err := filepath.Glob("../../examples/*/*")
	if err != nil {
		t.Fatal(err)
	}
	dirs = append(dirs, "../../examples/provider", "../../examples/estimates", "../../examples/quickstart", "../../examples/weighted-routing")
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.tf"))
		// The hand-off examples need cloud providers and credentials;
		// TestHandoffExamplesParse checks them.
		if len(files) == 0 || filepath.Base(filepath.Dir(dir)) == "handoff" {
			continue
		}
		t.Run(filepath.Base(filepath.Dir(dir))+"/"+filepath.Base(dir), func(t *testing.T) {
			var config string
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				config += string(b) + "\n"
			}
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps:                    []resource.TestStep{{Config: config}},
			})
		})
	}
}
