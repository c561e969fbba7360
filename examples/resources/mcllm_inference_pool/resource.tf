terraform {
  required_providers {
    mcllm = {
      source = "mcllm/mcllm"
    }
  }
}

resource "mcllm_model_shard" "llama_8b" {
  name                     = "llama-8b"
  model                    = "llama-3.1-8b"
  precision                = "bf16"
  max_context_tokens       = 8192
  max_concurrent_sequences = 32
  replicas                 = 4
}

resource "mcllm_model_shard" "mixtral" {
  name                     = "mixtral"
  model                    = "mixtral-8x7b"
  precision                = "int4"
  max_context_tokens       = 16384
  max_concurrent_sequences = 8
  replicas                 = 2
}

resource "mcllm_inference_pool" "fleet" {
  name = "prod"

  node_groups = {
    aws-h100 = {
      cloud         = "aws"
      region        = "us-east-1"
      instance_type = "p5.48xlarge"
      max_nodes     = 2
    }
    gcp-l4 = {
      cloud          = "gcp"
      region         = "us-central1"
      instance_type  = "g2-standard-48"
      min_nodes      = 1
      max_nodes      = 8
      capacity_type  = "spot"
      price_per_hour = 1.60
    }
    lab = {
      cloud          = "custom"
      region         = "on-prem"
      gpu            = { model = "RTX-6000-Ada", count = 4, memory_gib = 47.5 }
      max_nodes      = 2
      price_per_hour = 0
    }
  }

  model_shards = [
    mcllm_model_shard.llama_8b.demand,
    mcllm_model_shard.mixtral.demand,
  ]

  strategy = "cost"

  # To let the next plan re-optimise, change this value; up to max_moves
  # replicas whose place is still feasible may then move.
  rebalance = "2026-11-28"
  max_moves = 2
}

# Feed the node counts to the clouds' node groups.
output "node_group_sizes" {
  value = mcllm_inference_pool.fleet.node_group_sizes
}
