terraform {
  required_providers {
    mcllm = {
      source = "mcllm/mcllm"
    }
  }
}

# Model-level figures only.
output "llama_8b" {
  value = provider::mcllm::estimate_memory("llama-3.1-8b", "bf16", 8192, 16)
}

# With an instance type: per-GPU need at each tensor-parallel degree.
output "deepseek_on_h200" {
  value = provider::mcllm::estimate_memory("deepseek-v3", "fp8", 32768, 8, "aws/p5en.48xlarge").recommended_tensor_parallel
}
