package provider

import (
	"os"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// testProviders serves the provider in-process to the acceptance-test
// harness, which drives the real CLI against it.
var testProviders = map[string]func() (tfprotov6.ProviderServer, error){
	"mcllm": NewProtocol6("test"),
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
