terraform {
  required_providers {
    mcllm = {
      source = "mcllm/mcllm"
    }
  }
}

resource "mcllm_model_shard" "llama_70b" {
  name                     = "llama-70b"
  model                    = "llama-3.1-70b"
  precision                = "bf16"
  max_context_tokens       = 8192
  max_concurrent_sequences = 16
  replicas                 = 2
}

resource "mcllm_inference_pool" "fleet" {
  name = "prod"
  node_groups = {
    h100 = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 2 }
  }
  model_shards = [mcllm_model_shard.llama_70b.demand]
}

# The vLLM arguments of every replica, for whatever starts the engine.
output "vllm_args" {
  value = {
    for key, p in mcllm_inference_pool.fleet.placement :
    key => provider::mcllm::engine_args(p, mcllm_model_shard.llama_70b.demand)
  }
}

# On another port: vllm serve … --port 8080.
output "first_replica_command" {
  value = join(" ", concat(["vllm", "serve"],
  provider::mcllm::engine_args(mcllm_inference_pool.fleet.placement["llama-70b/0"], mcllm_model_shard.llama_70b.demand, 8080)))
}
