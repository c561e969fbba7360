package provider

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
)

// handoffAttributeNames are the attribute names of the pool and, at any
// depth, of its hand-off outputs and the manifests function's result.
func handoffAttributeNames() map[string]bool {
	names := map[string]bool{}
	var walk func(attrs map[string]schema.Attribute)
	walk = func(attrs map[string]schema.Attribute) {
		for name, a := range attrs {
			names[name] = true
			switch n := a.(type) {
			case schema.SingleNestedAttribute:
				walk(n.Attributes)
			case schema.MapNestedAttribute:
				walk(n.NestedObject.Attributes)
			case schema.ListNestedAttribute:
				walk(n.NestedObject.Attributes)
			}
		}
	}
	walk(poolSchema().Attributes)
	// …and of what the manifests function returns.
	for name := range manifestsTypes {
		names[name] = true
	}
	walk(workloadAttributes())
	walk(modelObjectAttributes("Service"))
	return names
}

// TestHandoffExamplesParse checks the EKS, GKE and AKS hand-off examples,
// which need cloud credentials to plan: they parse, they are formatted, and
// every attribute they read from the pool (directly, through each.value or a
// dynamic block's iterator) exists.
func TestHandoffExamplesParse(t *testing.T) {
	files, err := filepath.Glob("../../examples/handoff/*/*.tf")
	if err != nil || len(files) < 3 {
		t.Fatalf("want the eks, gke and aks examples, found %v (%v)", files, err)
	}
	known := handoffAttributeNames()
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f, diags := hclsyntax.ParseConfig(src, file, hcl.InitialPos)
		if diags.HasErrors() {
			t.Errorf("%s: %s", file, diags.Error())
			continue
		}
		checked := 0
		_ = hclsyntax.VisitAll(f.Body.(*hclsyntax.Body), func(n hclsyntax.Node) hcl.Diagnostics {
			e, ok := n.(*hclsyntax.ScopeTraversalExpr)
			if !ok {
				return nil
			}
			var steps []string
			for _, s := range e.Traversal {
				switch st := s.(type) {
				case hcl.TraverseRoot:
					steps = append(steps, st.Name)
				case hcl.TraverseAttr:
					steps = append(steps, st.Name)
				}
			}
			var rest []string
			switch {
			case len(steps) >= 3 && steps[0] == "mcllm_inference_pool":
				rest = steps[2:]
			case len(steps) >= 2 && steps[0] == "each" && steps[1] == "value", len(steps) >= 2 && steps[0] == "taint" && steps[1] == "value":
				rest = steps[2:]
			}
			for _, name := range rest {
				checked++
				if !known[name] {
					t.Errorf("%s:%d: %q is not an attribute of the pool or its hand-off outputs", file, e.SrcRange.Start.Line, name)
				}
			}
			return nil
		})
		if checked == 0 {
			t.Errorf("%s reads nothing from the pool", file)
		}
	}
	if tofu := os.Getenv("TF_ACC_TERRAFORM_PATH"); tofu != "" {
		out, err := exec.Command(tofu, "fmt", "-check", "-recursive", "../../examples").CombinedOutput()
		if err != nil {
			t.Errorf("tofu fmt -check: %v\n%s", err, out)
		}
	}
}
