package provider

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// testProviders serves the provider in-process to the acceptance-test
// harness, which drives the real CLI against it.
var testProviders = map[string]func() (tfprotov6.ProviderServer, error){
	"mcllm": NewProtocol6("test"),
}

func TestMain(m *testing.M) {
	followTheCLI()
	os.Exit(m.Run())
}

// followTheCLI points the acceptance harness at the provider address the
// examples' source = "mcllm/mcllm" resolves to with the CLI under test:
// namespace mcllm, host registry.opentofu.org for OpenTofu and
// registry.terraform.io for Terraform. TF_ACC_PROVIDER_NAMESPACE and
// TF_ACC_PROVIDER_HOST still override it.
func followTheCLI() {
	if os.Getenv("TF_ACC_PROVIDER_NAMESPACE") == "" {
		_ = os.Setenv("TF_ACC_PROVIDER_NAMESPACE", "mcllm")
	}
	if os.Getenv("TF_ACC_PROVIDER_HOST") != "" {
		return
	}
	cli := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if cli == "" {
		cli, _ = exec.LookPath("terraform") // what the harness itself runs then
	}
	if cli == "" {
		return
	}
	host := "registry.terraform.io"
	if out, err := exec.Command(cli, "version").Output(); err == nil && bytes.Contains(out, []byte("OpenTofu")) {
		host = "registry.opentofu.org"
	}
	_ = os.Setenv("TF_ACC_PROVIDER_HOST", host)
}

// unitTest runs an acceptance test case through the CLI. A case whose
// configuration calls a provider function skips on a CLI without them:
// Terraform below 1.8 (functions came with 1.8; OpenTofu has them since 1.7
// and tfversion compares the CLI's own version number).
func unitTest(t *testing.T, tc resource.TestCase) {
	t.Helper()
	for _, step := range tc.Steps {
		if strings.Contains(step.Config, "provider::") {
			tc.TerraformVersionChecks = append(tc.TerraformVersionChecks, tfversion.SkipBelow(tfversion.Version1_8_0))
			break
		}
	}
	resource.UnitTest(t, tc)
}

// TestAccHarness fails loudly when `make test` did not reach the real CLI,
// so that acceptance tests can never be skipped unnoticed under make.
func TestAccHarness(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("TF_ACC not set: acceptance tests run through `make test` or `make testacc`")
	}
	path := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if path == "" {
		t.Fatal("TF_ACC is set but TF_ACC_TERRAFORM_PATH is not: the harness would try to download a CLI")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("TF_ACC_TERRAFORM_PATH: %v", err)
	}
}
