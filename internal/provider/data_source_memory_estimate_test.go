package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// Llama-3.1-70B bf16 on 8×H100 80GB: no fit at t=1, little KV room at t=2,
// about half a million KV tokens at t=4 (the facts sheet's derivation).
func TestAccMemoryEstimate_llama70bOnH100(t *testing.T) {
	est := tfjsonpath.New("estimate")
	opts := est.AtMapKey("tensor_parallel_options")
	const ds = "data.mcllm_memory_estimate.llama"
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: `
data "mcllm_memory_estimate" "llama" {
  model                    = "llama-3.1-70b"
  precision                = "bf16"
  max_context_tokens       = 8192
  max_concurrent_sequences = 1
  instance_type            = "aws/p5.48xlarge"
}
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(ds, est.AtMapKey("weights_bytes"), knownvalue.Int64Exact(141_107_412_992)),
				statecheck.ExpectKnownValue(ds, est.AtMapKey("kv_cache_bytes_per_token"), knownvalue.Int64Exact(327_680)),
				statecheck.ExpectKnownValue(ds, est.AtMapKey("recommended_tensor_parallel"), knownvalue.Int64Exact(2)),
				statecheck.ExpectKnownValue(ds, opts.AtMapKey("1").AtMapKey("fits"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue(ds, opts.AtMapKey("2").AtMapKey("fits"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue(ds, opts.AtMapKey("4").AtMapKey("kv_cache_capacity_tokens"), int64Between(480_000, 500_000)),
				statecheck.ExpectKnownValue(ds, opts, knownvalue.MapSizeExact(4)),
			},
		}},
	})
}

func TestAccMemoryEstimate_function(t *testing.T) {
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: `
output "small" {
  value = provider::mcllm::estimate_memory("llama-3.1-8b", "bf16", 131072, 1, "aws/g6.xlarge")
}
output "model_only" {
  value = provider::mcllm::estimate_memory("deepseek-v3", "fp8", 32768, 4)
}
`,
			ConfigStateChecks: []statecheck.StateCheck{
				// The V0 log's GPU (22.07 GiB at 0.90: 2,356 blocks, pinned with the
				// V0 rules in the memory package) under the default v0.31.0 rules:
				// 0.26 GiB non-torch and the sampler's peak over 256 rows.
				statecheck.ExpectKnownOutputValueAtPath("small", tfjsonpath.New("tensor_parallel_options").AtMapKey("1").AtMapKey("kv_cache_capacity_tokens"), int64Between(2250*16, 2300*16)),
				statecheck.ExpectKnownOutputValueAtPath("small", tfjsonpath.New("tensor_parallel_options").AtMapKey("1").AtMapKey("fits"), knownvalue.Bool(false)),
				statecheck.ExpectKnownOutputValueAtPath("small", tfjsonpath.New("recommended_tensor_parallel"), knownvalue.Null()),
				statecheck.ExpectKnownOutputValueAtPath("model_only", tfjsonpath.New("kv_cache_bytes_per_token"), knownvalue.Int64Exact(70_272)),
				statecheck.ExpectKnownOutputValueAtPath("model_only", tfjsonpath.New("instance_type"), knownvalue.Null()),
				statecheck.ExpectKnownOutputValueAtPath("model_only", tfjsonpath.New("tensor_parallel_options"), knownvalue.Null()),
			},
		}},
	})
}

func TestAccMemoryEstimate_badInput(t *testing.T) {
	const base = `model = "llama-3.1-8b"
  precision = "bf16"
  max_context_tokens = 4096
  max_concurrent_sequences = 8`
	ds := func(body string) string { return "data \"mcllm_memory_estimate\" \"x\" {\n  " + body + "\n}" }
	for name, tc := range map[string]struct{ config, want string }{
		"unknown model": {ds(`model = "lama-3.1-8b"
  precision = "bf16"
  max_context_tokens = 4096
  max_concurrent_sequences = 8`), `unknown model "lama-3.1-8b"; did you mean "llama-3.1-8b"`},
		"unknown instance type": {ds(base + "\n  instance_type = \"aws/p5.48xl\""), `unknown instance type "aws/p5.48xl"; did you mean "aws/p5.48xlarge"`},
		"unknown precision": {ds(`model = "llama-3.1-8b"
  precision = "int3"
  max_context_tokens = 4096
  max_concurrent_sequences = 8`), `unknown precision "int3"; valid values are "bf16", "fp16", "fp32", "fp8"`},
		"unknown kv precision": {ds(base + "\n  kv_cache_precision = \"int2\""), `unknown KV cache precision "int2"`},
		"zero context": {ds(`model = "llama-3.1-8b"
  precision = "bf16"
  max_context_tokens = 0
  max_concurrent_sequences = 8`), `must be a positive number of tokens, got 0`},
		"context over the model's": {ds(`model = "llama-3.1-8b"
  precision = "bf16"
  max_context_tokens = 200000
  max_concurrent_sequences = 8`), `exceeds the model's maximum context of 131072 tokens`},
		"negative concurrency": {ds(`model = "llama-3.1-8b"
  precision = "bf16"
  max_context_tokens = 4096
  max_concurrent_sequences = -2`), `max_concurrent_sequences must be between 1 and 1,048,576 (the most sequences one replica may hold), got -2`},
		"utilization zero":      {ds(base + "\n  gpu_memory_utilization = 0"), `must be greater than 0 and at most 1, got 0`},
		"utilization above one": {ds(base + "\n  gpu_memory_utilization = 1.2"), `value must be between 0.000000 and 1.000000`},
		"tensor parallel 3":     {ds(base + "\n  tensor_parallel = 3"), `tensor parallel degree 3 is not a power of two`},
		"tensor parallel vs heads": {ds(`model = "qwen2.5-7b"
  precision = "bf16"
  max_context_tokens = 4096
  max_concurrent_sequences = 8
  tensor_parallel = 8`), `28 attention heads are not divisible by tensor parallel degree 8`},
		"tensor parallel beyond the node": {ds(base + "\n  instance_type = \"aws/g6.12xlarge\"\n  tensor_parallel = 8"), `aws/g6.12xlarge has 4 GPUs, fewer than tensor_parallel = 8`},
		"function unknown model":          {`output "x" { value = provider::mcllm::estimate_memory("llama-3.1-70", "bf16", 4096, 1) }`, `unknown model "llama-3.1-70"`},
		"function bad context":            {`output "x" { value = provider::mcllm::estimate_memory("llama-3.1-70b", "bf16", -1, 1) }`, `must be a positive number of tokens`},
		"function two instance types":     {`output "x" { value = provider::mcllm::estimate_memory("llama-3.1-70b", "bf16", 4096, 1, "aws/p5.48xlarge", "gcp/a3-highgpu-8g") }`, `at most one instance type`},
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

// The V0 start-up log the estimator was first calibrated on (Llama-3.1-8B
// on a 22.07 GiB GPU at 0.90: 2,356 blocks), through the CLI with the V0
// release's rules; the same request under v0.31.0 says what that release's
// profiler charges instead.
func TestAccMemoryEstimate_engineRelease(t *testing.T) {
	// A fresh path per check: tfjsonpath's AtMapKey appends to a shared slice.
	opt := func(attr string) tfjsonpath.Path {
		return tfjsonpath.New("estimate").AtMapKey("tensor_parallel_options").AtMapKey("1").AtMapKey(attr)
	}
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: `
data "mcllm_memory_estimate" "v0" {
  model                    = "llama-3.1-8b"
  precision                = "bf16"
  max_context_tokens       = 131072
  max_concurrent_sequences = 1
  instance_type            = "aws/g6.xlarge"
  engine                   = { version = "0.6.6" }
}
data "mcllm_memory_estimate" "v1" {
  model                    = "llama-3.1-8b"
  precision                = "bf16"
  max_context_tokens       = 131072
  max_concurrent_sequences = 256
  instance_type            = "aws/g6.xlarge"
  engine                   = { max_num_batched_tokens = 8192, enforce_eager = true }
}
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.mcllm_memory_estimate.v0", opt("kv_cache_capacity_tokens"), int64Between(2332*16, 2380*16)),
				statecheck.ExpectKnownValue("data.mcllm_memory_estimate.v0", opt("max_num_batched_tokens"), knownvalue.Int64Exact(2048)),
				statecheck.ExpectKnownValue("data.mcllm_memory_estimate.v1", opt("max_num_batched_tokens"), knownvalue.Int64Exact(8192)),
				statecheck.ExpectKnownValue("data.mcllm_memory_estimate.v1", opt("cuda_graph_bytes_per_gpu"), knownvalue.Int64Exact(0)),
			},
		}},
	})
}
