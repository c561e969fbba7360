terraform {
  required_providers {
    mcllm = {
      source = "mcllm/mcllm"
    }
  }
}

# Llama-3.1-70B in bf16 on 8×H100 80GB: which tensor-parallel degrees fit
# 32 concurrent 8k-token sequences, and how much KV cache each leaves.
data "mcllm_memory_estimate" "llama_on_h100" {
  model                    = "llama-3.1-70b"
  precision                = "bf16"
  max_context_tokens       = 8192
  max_concurrent_sequences = 32
  instance_type            = "aws/p5.48xlarge"
}

output "smallest_fitting_tensor_parallel" {
  value = data.mcllm_memory_estimate.llama_on_h100.estimate.recommended_tensor_parallel
}

output "kv_tokens_by_degree" {
  value = {
    for t, o in data.mcllm_memory_estimate.llama_on_h100.estimate.tensor_parallel_options :
    t => o.kv_cache_capacity_tokens
  }
}

# The same model quantized to int4 with an fp8 KV cache, on one L40S.
data "mcllm_memory_estimate" "llama_int4_l40s" {
  model                    = "llama-3.1-70b"
  precision                = "int4"
  kv_cache_precision       = "fp8"
  max_context_tokens       = 4096
  max_concurrent_sequences = 4
  instance_type            = "aws/g6e.xlarge"
  gpu_memory_utilization   = 0.95
}
