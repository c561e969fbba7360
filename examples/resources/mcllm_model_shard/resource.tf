terraform {
  required_providers {
    mcllm = {
      source = "mcllm/mcllm"
    }
  }
}

# A catalog model: Llama-3.1-70B in bf16, 16 concurrent 8k-token sequences
# per replica, three replicas on at least two clouds.
resource "mcllm_model_shard" "llama_70b" {
  name                     = "llama-70b"
  model                    = "llama-3.1-70b"
  precision                = "bf16"
  max_context_tokens       = 8192
  max_concurrent_sequences = 16
  replicas                 = 3
  priority                 = 10

  constraints = {
    clouds     = ["aws", "gcp", "azure"]
    gpu_models = ["H100-80GB", "H200", "A100-80GB"]
  }

  spread = {
    across      = "cloud"
    min_domains = 2
    max_share   = 0.67
  }
}

# A quantized checkpoint on 48 GB GPUs, with the engine's settings pinned:
# the memory estimate follows vLLM 0.31.0's start-up profiler for a
# 4096-token profile batch, and the rendered engine arguments pass both.
resource "mcllm_model_shard" "qwen_72b_awq" {
  name                     = "qwen-72b-awq"
  model                    = "qwen2.5-72b-awq"
  precision                = "int4-awq"
  max_context_tokens       = 16384
  max_concurrent_sequences = 8
  replicas                 = 2

  engine = {
    version                = "0.31.0"
    max_num_batched_tokens = 4096
  }

  constraints = {
    gpu_models = ["L40S"]
  }
}

# A model the catalog does not know, described by its config.json.
resource "mcllm_model_shard" "in_house" {
  name                     = "in-house-13b"
  precision                = "fp8"
  kv_cache_precision       = "fp8"
  max_context_tokens       = 16384
  max_concurrent_sequences = 8
  replicas                 = 2

  architecture = {
    layers             = 40
    hidden_size        = 5120
    attention_heads    = 40
    kv_heads           = 8
    head_dim           = 128
    vocab_size         = 32000
    intermediate_size  = 13824
    max_context_tokens = 16384
  }
}

# Weights, KV cache and their total per replica.
output "llama_70b_memory" {
  value = mcllm_model_shard.llama_70b.memory
}
