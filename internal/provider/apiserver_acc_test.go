package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/mcllm/terraform-provider-mcllm/internal/kubetest"
)

// manifestsAccepted applies, as server-side dry runs, every manifest the
// manifests function renders for the pool (workloads, services, disruption
// budgets; output mcllm_manifests) to a real API server.
type manifestsAccepted struct {
	server *kubetest.Server
	pool   string
	count  *int
}

func (c manifestsAccepted) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	if req.State == nil || req.State.Values == nil || req.State.Values.RootModule == nil {
		resp.Error = fmt.Errorf("no state")
		return
	}
	if out, ok := req.State.Values.Outputs["mcllm_manifests"]; ok {
		rendered, _ := out.Value.(map[string]any)
		var names []string
		manifests := map[string]string{}
		for _, attr := range []string{"namespaces", "workloads", "services", "disruption_budgets"} {
			m, _ := rendered[attr].(map[string]any)
			for key, v := range m {
				obj, _ := v.(map[string]any)
				text, _ := obj["manifest"].(string)
				names = append(names, attr+" "+key)
				manifests[attr+" "+key] = text
			}
		}
		if len(names) == 0 {
			resp.Error = fmt.Errorf("%s renders no manifests", c.pool)
			return
		}
		sort.Strings(names)
		for _, n := range names {
			if err := c.server.Apply(manifests[n], true); err != nil {
				resp.Error = fmt.Errorf("%s: %w", n, err)
				return
			}
		}
		*c.count = len(names)
		return
	}
	resp.Error = fmt.Errorf("no output mcllm_manifests")
}

// withManifests adds an output of the pool's rendered objects to a config.
func withManifests(config, pool string) string {
	return config + "\noutput \"mcllm_manifests\" {\n  value = provider::mcllm::manifests(" + pool + ")\n}\n"
}

// The quickstart's rendered objects, LeaderWorkerSets included, are
// accepted by a real API server with LeaderWorkerSet's CRD installed.
func TestAccQuickstartManifestsAcceptedByAPIServer(t *testing.T) {
	server := kubetest.StartWithLWS(t, "llm")
	config, err := os.ReadFile("../../examples/quickstart/main.tf")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config:            withManifests(string(config), "mcllm_inference_pool.fleet"),
			ConfigStateChecks: []statecheck.StateCheck{manifestsAccepted{server: server, pool: "mcllm_inference_pool.fleet", count: &n}},
		}},
	})
	t.Logf("%d quickstart objects accepted by the API server (dry run)", n)
}

// The pools of the hand-off examples (their mcllm resources, without the
// cloud and Kubernetes providers they feed) render objects a real API server
// accepts.
func TestAccHandoffExamplesManifestsAcceptedByAPIServer(t *testing.T) {
	server := kubetest.StartWithLWS(t, "llm")
	files, err := filepath.Glob("../../examples/handoff/*/main.tf")
	if err != nil || len(files) < 3 {
		t.Fatalf("want the eks, gke and aks examples, found %v (%v)", files, err)
	}
	for _, file := range files {
		t.Run(filepath.Base(filepath.Dir(file)), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			f, diags := hclwrite.ParseConfig(src, file, hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			config := hclwrite.NewEmptyFile()
			for _, b := range f.Body().Blocks() {
				if b.Type() == "resource" && strings.HasPrefix(b.Labels()[0], "mcllm_") {
					config.Body().AppendBlock(b)
				}
			}
			n := 0
			unitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps: []resource.TestStep{{
					Config:            withManifests(string(config.Bytes()), "mcllm_inference_pool.fleet"),
					ConfigStateChecks: []statecheck.StateCheck{manifestsAccepted{server: server, pool: "mcllm_inference_pool.fleet", count: &n}},
				}},
			})
			t.Logf("%d objects accepted by the API server (dry run)", n)
		})
	}
}
