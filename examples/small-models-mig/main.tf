# Many small models on shared GPUs: sixteen 0.6-8B deployments that opt into
# sharing (constraints.share_gpu) on 4×A100-80GB nodes partitioned into MIG
# instances, on 1×L4 nodes time-sliced by two engines, and on 1×L40S nodes
# whose engines each take the block of memory they need. A replica takes
# one MIG instance (or one time-sliced share, or one block) instead of a
# whole GPU; the node groups' specs carry the labels the GPU Operator's MIG
# manager and the device plugin read, the pods request
# nvidia.com/mig-<profile>, and the L40S ones go to KAI Scheduler with
# their gpu-fraction.

terraform {
  required_providers {
    mcllm = {
      source = "mcllm/mcllm"
    }
  }
}

locals {
  models = {
    "qwen3-0.6b"      = "bf16"
    "phi-3-mini-4k"   = "bf16"
    "qwen2.5-7b"      = "fp8"
    "llama-3.1-8b"    = "fp8"
    "qwen3-8b"        = "fp8"
    "mistral-7b-v0.3" = "fp8"
  }
}

resource "mcllm_model_shard" "small" {
  count                    = 16
  name                     = format("chat-%02d", count.index)
  model                    = keys(local.models)[count.index % 6]
  precision                = local.models[keys(local.models)[count.index % 6]]
  max_context_tokens       = 4096
  max_concurrent_sequences = 4
  replicas                 = 1
  constraints = {
    share_gpu = true
  }
}

resource "mcllm_inference_pool" "small" {
  name = "small-models"
  node_groups = {
    # The planner chooses the layout of these A100 nodes: 7 instances of
    # 9.5 GiB per GPU, 3 of 19.5 GiB, 2 of 39.25 GiB, or the mixed
    # all-balanced (two of 9.5, one of 19.5 and one of 39.25 GiB).
    # node_group_specs shows the choice, and later plans keep it while it
    # is listed.
    a100 = {
      cloud         = "azure"
      region        = "eastus"
      instance_type = "Standard_NC96ads_A100_v4"
      max_nodes     = 2
      gpu_sharing   = { mig_profiles = ["1g.10gb", "2g.20gb", "3g.40gb", "all-balanced"] }
    }
    # Two engines time-slicing each L4, each at half the memory.
    l4-shared = {
      cloud         = "aws"
      region        = "us-east-1"
      instance_type = "g6.xlarge"
      max_nodes     = 4
      gpu_sharing   = { engines_per_gpu = 2 }
    }
    # Engines at their own memory fractions: each takes 1/8, 1/4, 1/2 or
    # all of the GPU's 0.9, the smallest block that holds it.
    l40s-blocks = {
      cloud         = "aws"
      region        = "us-east-1"
      instance_type = "g6e.xlarge"
      max_nodes     = 2
      gpu_sharing   = { max_engines_per_gpu = 8 }
    }
  }
  model_shards = [for s in mcllm_model_shard.small : s.demand]
  kubernetes   = {}
}

output "node_group_sizes" {
  value = mcllm_inference_pool.small.node_group_sizes
}

output "mig_layout" {
  value = mcllm_inference_pool.small.node_group_specs["a100"].mig_profile
}

output "mig_labels" {
  value = { for k, s in mcllm_inference_pool.small.node_group_specs : k => s.labels }
}

output "engine_utilization" {
  value = { for k, p in mcllm_inference_pool.small.memory_profiles : k => p.gpu_memory_utilization }
}
