package provider

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	goversion "github.com/hashicorp/go-version"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// TestAccExamples plans and applies every documentation example through the
// real CLI, so that docs never show configuration that does not work.
func TestAccExamples(t *testing.T) {
	dirs, err := filepath.Glob("../../examples/*/*")
	if err != nil {
		t.Fatal(err)
	}
	dirs = append(dirs, "../../examples/provider", "../../examples/estimates", "../../examples/quickstart", "../../examples/weighted-routing", "../../examples/quotas", "../../examples/small-models-mig")
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
			unitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps:                    []resource.TestStep{{Config: config}},
			})
		})
	}
}

// TestAccExamplesAsWritten runs every root module a user can copy — each
// example directory, each terraform block of docs/ and of the README — as
// written, through the CLI of TF_ACC_TERRAFORM_PATH: init against a
// filesystem mirror holding a fresh build of the provider (the source
// address as written, no reattach), then validate and plan.
func TestAccExamplesAsWritten(t *testing.T) {
	cli := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if os.Getenv("TF_ACC") == "" || cli == "" {
		t.Skip("TF_ACC and TF_ACC_TERRAFORM_PATH not set: run through make test or make testacc")
	}
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+mirrorConfig(t), "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	version := cliVersion(t, cli)
	modules := copyableModules(t)
	names := make([]string, 0, len(modules))
	for name := range modules {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		files := modules[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			all := strings.Join(slices.Collect(maps.Values(files)), "\n")
			if !mcllmSource.MatchString(all) {
				t.Fatalf("no required_providers with source = \"mcllm/mcllm\": a copy would resolve hashicorp/mcllm")
			}
			if others := otherSources(all); len(others) > 0 {
				t.Skipf("needs providers %v and their credentials; TestHandoffExamplesParse checks it", others)
			}
			if strings.Contains(all, "provider::") && version.LessThan(functionsSince) {
				t.Skipf("calls provider functions, which %s %s does not have (Terraform ≥ 1.8, OpenTofu ≥ 1.7)", filepath.Base(cli), version)
			}
			dir := t.TempDir()
			for file, src := range files {
				if err := os.WriteFile(filepath.Join(dir, file), []byte(src), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			for _, args := range [][]string{
				{"init", "-input=false", "-no-color"},
				{"validate", "-no-color"},
				{"plan", "-input=false", "-no-color", "-lock=false"},
			} {
				cmd := exec.Command(cli, args...)
				cmd.Dir, cmd.Env = dir, env
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%s %s: %v\n%s", filepath.Base(cli), args[0], err, out)
				}
			}
		})
	}
}

var (
	mcllmSource     = regexp.MustCompile(`(?m)^\s*mcllm\s*=\s*\{[^}]*source\s*=\s*"mcllm/mcllm"`)
	anySource       = regexp.MustCompile(`source\s*=\s*"([^"]+)"`)
	fencedTerraform = regexp.MustCompile("(?s)```(?:terraform|hcl)\n(.*?)```")
	functionsSince  = goversion.Must(goversion.NewVersion("1.8.0"))
)

// otherSources lists the providers besides mcllm a module requires.
func otherSources(src string) []string {
	var others []string
	for _, m := range anySource.FindAllStringSubmatch(src, -1) {
		if m[1] != "mcllm/mcllm" {
			others = append(others, m[1])
		}
	}
	return others
}

// copyableModules gathers, by a name for the test, the files of every
// example directory and every fenced terraform block of docs/ and README.md;
// a docs block that repeats an example (tfplugindocs embeds them) runs once.
func copyableModules(t *testing.T) map[string]map[string]string {
	t.Helper()
	modules := map[string]map[string]string{}
	seen := map[string]bool{}
	dirs, _ := filepath.Glob("../../examples/*/*")
	dirs = append(dirs, "../../examples/provider", "../../examples/estimates", "../../examples/quickstart", "../../examples/weighted-routing", "../../examples/quotas", "../../examples/small-models-mig")
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.tf"))
		if len(files) == 0 {
			continue
		}
		m := map[string]string{}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m[filepath.Base(f)] = string(b)
			seen[strings.TrimSpace(string(b))] = true
		}
		modules[strings.TrimPrefix(dir, "../../")] = m
	}
	pages, _ := filepath.Glob("../../docs/*/*.md")
	pages = append(pages, "../../docs/index.md", "../../README.md")
	for _, page := range pages {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range fencedTerraform.FindAllStringSubmatch(string(b), -1) {
			// CLI configuration (provider_installation) is not a module.
			if seen[strings.TrimSpace(m[1])] || strings.HasPrefix(m[1], "provider_installation") {
				continue
			}
			seen[strings.TrimSpace(m[1])] = true
			modules[fmt.Sprintf("%s#%d", strings.TrimPrefix(page, "../../"), i+1)] = map[string]string{"main.tf": m[1]}
		}
	}
	if len(modules) < 15 {
		t.Fatalf("found %d copyable modules; the examples or docs moved", len(modules))
	}
	return modules
}

// mirrorConfig builds the provider into a filesystem mirror for both
// registry hosts and returns a CLI configuration that installs mcllm/mcllm
// from it and nothing from a network.
func mirrorConfig(t *testing.T) string {
	t.Helper()
	mirror := t.TempDir()
	bin := filepath.Join(t.TempDir(), "terraform-provider-mcllm")
	build := exec.Command("go", "build", "-o", bin, "../..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	hosts := []string{"registry.opentofu.org", "registry.terraform.io"}
	for _, host := range hosts {
		dir := filepath.Join(mirror, host, "mcllm", "mcllm", "0.1.0", runtime.GOOS+"_"+runtime.GOARCH)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "terraform-provider-mcllm_v0.1.0"), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	config := filepath.Join(t.TempDir(), "mirror.tfrc")
	hcl := fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path    = %q\n    include = [%q, %q]\n  }\n}\n",
		mirror, hosts[0]+"/mcllm/mcllm", hosts[1]+"/mcllm/mcllm")
	if err := os.WriteFile(config, []byte(hcl), 0o600); err != nil {
		t.Fatal(err)
	}
	return config
}

// cliVersion is the version the CLI reports of itself.
func cliVersion(t *testing.T, cli string) *goversion.Version {
	t.Helper()
	out, err := exec.Command(cli, "version", "-json").Output()
	if err != nil {
		t.Fatalf("%s version: %v", cli, err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%s version -json: %v", cli, err)
	}
	return goversion.Must(goversion.NewVersion(v.Version))
}
