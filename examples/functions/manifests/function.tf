terraform {
  required_providers {
    mcllm = { source = "mcllm/mcllm" }
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
  kubernetes   = { namespace = "llm" }
}

# The objects that run the placement, known at plan time; feed them to
# kubernetes_manifest with yamldecode(each.value.manifest).
locals {
  manifests = provider::mcllm::manifests(mcllm_inference_pool.fleet)
}

output "workload_kinds" {
  value = { for key, w in local.manifests.workloads : key => w.kind }
}

output "services" {
  value = keys(local.manifests.services)
}
