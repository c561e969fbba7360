# A multi-cloud fleet bound by the quotas its accounts really have. Each
# quota counts what its cloud counts: AWS the vCPUs of an instance-family
# class per region ("Running On-Demand P instances", quota code L-417A185B),
# GCP the GPUs of a GPU type per region (NVIDIA_H100_GPUS), Azure the vCPUs
# of a VM family per region. The planner keeps every quota, fills the rest
# of the demand elsewhere, and quota_usage shows what the plan uses of each.
# A reservation marks nodes already paid for.

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
  precision                = "fp8"
  max_context_tokens       = 8192
  max_concurrent_sequences = 16
  replicas                 = 6
}

resource "mcllm_model_shard" "qwen_7b" {
  name                     = "qwen-7b"
  model                    = "qwen2.5-7b"
  precision                = "bf16"
  max_context_tokens       = 8192
  max_concurrent_sequences = 8
  replicas                 = 8
}

resource "mcllm_inference_pool" "fleet" {
  name = "quota-bound"
  node_groups = {
    aws-h100 = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 4 }
    aws-l4 = {
      cloud         = "aws"
      region        = "us-east-1"
      instance_type = "g6.12xlarge"
      max_nodes     = 8
      # One node under a one-year commitment: paid whether used or not, so
      # the plan fills it first; cost.reserved_per_hour reports it apart.
      reservation = { nodes = 1, price_per_hour = 2.9 }
    }
    gcp-h100 = { cloud = "gcp", region = "us-central1", instance_type = "a3-highgpu-8g", max_nodes = 4 }
    azure-a100 = {
      cloud         = "azure"
      region        = "eastus"
      instance_type = "Standard_NC96ads_A100_v4"
      max_nodes     = 4
    }
  }
  model_shards = [mcllm_model_shard.llama_70b.demand, mcllm_model_shard.qwen_7b.demand]
  quotas = {
    # One p5.48xlarge has 192 vCPUs: this quota allows one node.
    "aws/us-east-1/L-417A185B" = { cloud = "aws", region = "us-east-1", family = "P", capacity_type = "on-demand", limit = 192 }
    "aws/us-east-1/L-DB2E81BA" = { cloud = "aws", region = "us-east-1", family = "G and VT", capacity_type = "on-demand", limit = 96 }
    # GPUs, not vCPUs: one a3-highgpu-8g node.
    "gcp/us-central1/NVIDIA_H100_GPUS" = { cloud = "gcp", region = "us-central1", family = "NVIDIA_H100_GPUS", limit = 8 }
    "azure/eastus/StandardNCADSA100v4Family" = {
      cloud  = "azure"
      region = "eastus"
      family = "StandardNCADSA100v4Family"
      limit  = 192
    }
  }
}

output "quota_usage" {
  value = mcllm_inference_pool.fleet.quota_usage
}

output "node_group_sizes" {
  value = mcllm_inference_pool.fleet.node_group_sizes
}
