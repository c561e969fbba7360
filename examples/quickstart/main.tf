# Quickstart: a fleet on three clouds and six model deployments, placed at
# plan time. `make demo` plans and applies it with the local build.

terraform {
  required_providers {
    mcllm = {
      source = "mcllm/mcllm"
    }
  }
}

provider "mcllm" {
  gpu_memory_utilization = 0.9
}

variable "llama_70b_replicas" {
  description = "Replicas of Llama-3.1-70B (the demo's what-if raises it)."
  type        = number
  default     = 2
}

# --- Demand -----------------------------------------------------------------

resource "mcllm_model_shard" "llama_8b" {
  name                     = "llama-8b"
  model                    = "llama-3.1-8b"
  precision                = "bf16"
  max_context_tokens       = 8192
  max_concurrent_sequences = 32
  replicas                 = 6
  spread = {
    across      = "cloud"
    min_domains = 2
    max_share   = 0.5
  }
}

resource "mcllm_model_shard" "llama_70b" {
  name                     = "llama-70b"
  model                    = "llama-3.1-70b"
  precision                = "bf16"
  max_context_tokens       = 8192
  max_concurrent_sequences = 16
  replicas                 = var.llama_70b_replicas
  priority                 = 10
  # The weights sit in a bucket in us-east-1: pulling them elsewhere costs.
  weights_source = {
    cloud  = "aws"
    region = "us-east-1"
  }
  # One replica keeps serving whichever cloud is lost.
  min_replicas_on_failure = {
    cloud = 1
  }
}

resource "mcllm_model_shard" "llama_70b_int4" {
  name               = "llama-70b-int4"
  model              = "llama-3.1-70b"
  precision          = "int4"
  kv_cache_precision = "fp8"
  # int4 needs a checkpoint quantized ahead (AWQ here).
  serving_model            = "hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4"
  max_context_tokens       = 8192
  max_concurrent_sequences = 8
  replicas                 = 2
  constraints = {
    gpu_models = ["L40S"]
  }
}

resource "mcllm_model_shard" "mixtral" {
  name                     = "mixtral"
  model                    = "mixtral-8x7b"
  precision                = "bf16"
  max_context_tokens       = 16384
  max_concurrent_sequences = 8
  replicas                 = 2
}

resource "mcllm_model_shard" "qwen_7b" {
  name                     = "qwen-7b"
  model                    = "qwen2.5-7b"
  precision                = "bf16"
  max_context_tokens       = 16384
  max_concurrent_sequences = 16
  replicas                 = 4
  constraints = {
    gpu_models = ["L4"]
  }
}

resource "mcllm_model_shard" "llama_405b" {
  name                     = "llama-405b"
  model                    = "llama-3.1-405b"
  precision                = "fp8"
  max_context_tokens       = 8192
  max_concurrent_sequences = 8
  replicas                 = 1
  priority                 = 5
  constraints = {
    clouds = ["aws", "gcp"]
  }
}

# --- Supply and placement ----------------------------------------------------

resource "mcllm_inference_pool" "fleet" {
  name = "multi-cloud"

  node_groups = {
    aws-h100 = {
      cloud         = "aws"
      region        = "us-east-1"
      instance_type = "p5.48xlarge"
      max_nodes     = 4
      labels        = { tier = "large" }
      # Keep other workloads off the H100s; the rendered workloads tolerate it.
      taints = [{ key = "dedicated", value = "llm", effect = "NoSchedule" }]
    }
    gcp-h100 = {
      cloud         = "gcp"
      region        = "us-central1"
      instance_type = "a3-highgpu-8g"
      max_nodes     = 4
      labels        = { tier = "large" }
    }
    azure-a100 = {
      cloud         = "azure"
      region        = "eastus"
      instance_type = "Standard_ND96amsr_A100_v4"
      max_nodes     = 4
      labels        = { tier = "large" }
    }
    aws-l40s = {
      cloud         = "aws"
      region        = "us-east-1"
      instance_type = "g6e.12xlarge"
      max_nodes     = 4
    }
    gcp-l4 = {
      cloud         = "gcp"
      region        = "us-central1"
      instance_type = "g2-standard-48"
      min_nodes     = 1
      max_nodes     = 6
    }
  }

  model_shards = [
    mcllm_model_shard.llama_8b.demand,
    mcllm_model_shard.llama_70b.demand,
    mcllm_model_shard.llama_70b_int4.demand,
    mcllm_model_shard.mixtral.demand,
    mcllm_model_shard.qwen_7b.demand,
    mcllm_model_shard.llama_405b.demand,
  ]

  # Render a Kubernetes workload per replica and a Service per model and cloud.
  kubernetes = {
    namespace        = "llm"
    create_namespace = true
    hf_token_secret  = "hf-token"
  }
}

# --- What a reviewer reads ----------------------------------------------------

output "placement" {
  description = "Where each replica runs."
  value = {
    for key, p in mcllm_inference_pool.fleet.placement :
    key => format("%s node %d GPUs %s (t%d×p%d, %.1f GiB/GPU)", p.node_group, p.node, join(",", p.gpus),
    p.tensor_parallel, p.pipeline_parallel, p.memory_per_gpu_bytes / 1073741824)
  }
}

output "node_group_sizes" {
  description = "Nodes per node group: feed these to the clouds' node groups."
  value       = mcllm_inference_pool.fleet.node_group_sizes
}

output "resilience" {
  description = "Per model: replicas left after losing each cloud, and the worst case."
  value = {
    for model, f in mcllm_inference_pool.fleet.failure_domains :
    model => format("%d placed; worst: losing %s %s leaves %d; per cloud lost: %s", f.placed, f.worst_kind, f.worst_domain,
    f.worst_replicas, join(", ", [for cloud, left in f.after_losing_cloud : "${cloud} → ${left}"]))
  }
}

output "traffic_weights" {
  description = "Per model, weights per cloud summing to 100, for weighted DNS or load balancers."
  value       = mcllm_inference_pool.fleet.traffic_weights
}

output "node_groups" {
  description = "What each cloud's node-group resource takes: the size, and the settings as EKS, GKE or AKS spell them."
  value = {
    for name, g in mcllm_inference_pool.fleet.node_group_specs : name => format("%s × %d (max %d); disk needed %d GiB; %s", g.instance_type,
      g.desired_size, g.max_size, g.disk_size_gib, g.eks != null ? "EKS capacity_type ${g.eks.capacity_type}, disk_size ${g.eks.disk_size}" :
      g.gke != null ? "GKE guest_accelerator ${g.gke.accelerator_count} × ${g.gke.accelerator_type}, disk_size_gb ${g.gke.disk_size_gb} (${g.gke.disk_type})" :
    "AKS priority ${g.aks.priority}, os_disk_size_gb ${g.aks.os_disk_size_gb}")
  }
}

output "engine_args" {
  description = "The vLLM arguments of one replica, as the plan sizes it."
  value = join(" ", provider::mcllm::engine_args(mcllm_inference_pool.fleet.placement["llama-70b/0"],
  mcllm_model_shard.llama_70b.demand))
}

output "manifest_example" {
  description = "The Kubernetes object that runs one replica: feed workloads[*].manifest to kubernetes_manifest (yamldecode)."
  value       = provider::mcllm::manifests(mcllm_inference_pool.fleet).workloads["llama-70b/0"].manifest
}

output "data_transfer" {
  description = "One-time pulls of model weights from their bucket, per replica."
  value = {
    for key, t in mcllm_inference_pool.fleet.data_transfer :
    key => format("%.1f GB from %s (%s): %s", t.gb, t.from, t.kind, t.cost_usd == null ? "no price known" : format("%.2f USD", t.cost_usd))
  }
}

output "cost_per_hour" {
  description = "USD per hour: total and per model."
  value = {
    total     = mcllm_inference_pool.fleet.cost.total_per_hour
    per_model = mcllm_inference_pool.fleet.cost.per_model
  }
}

locals {
  placement = mcllm_inference_pool.fleet.placement
  models    = sort(distinct([for key, p in local.placement : split("/", key)[0]]))
  groups    = sort(keys(mcllm_inference_pool.fleet.node_group_sizes))
}

output "summary" {
  description = "A table for humans: each model's replicas per node group, then each group's nodes and cost."
  value = join("\n", concat(
    [format("%-16s %-62s %10s", "model", "replicas per node group (degrees)", "USD/hour")],
    [for m in local.models : format("%-16s %-62s %10.2f", m, join(", ", [
      for g in local.groups : format("%s ×%d (%s)", g,
        length([for key, p in local.placement : key if split("/", key)[0] == m && p.node_group == g]),
        join(" ", distinct([for key, p in local.placement : format("t%d×p%d", p.tensor_parallel, p.pipeline_parallel)
      if split("/", key)[0] == m && p.node_group == g])))
      if length([for key, p in local.placement : key if split("/", key)[0] == m && p.node_group == g]) > 0
    ]), mcllm_inference_pool.fleet.cost.per_model[m])],
    [""],
    [format("%-16s %6s %10s %14s", "node group", "nodes", "USD/hour", "GPU memory use")],
    [for g in local.groups : format("%-16s %6d %10.2f %13.0f%%", g, mcllm_inference_pool.fleet.node_group_sizes[g],
      mcllm_inference_pool.fleet.cost.per_node_group[g],
    mcllm_inference_pool.fleet.utilization[g].gpu_memory_utilization * 100)],
    [format("%-16s %6s %10.2f", "total", "", mcllm_inference_pool.fleet.cost.total_per_hour)],
  ))
}
