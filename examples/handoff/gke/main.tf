# Hand-off to Google Cloud: one GKE node pool per GCP node group of the pool,
# sized to the placement, and the pool's workloads applied to the cluster.
# The node pools are zonal (one zone in node_locations), so node_count is the
# group's size; a regional pool would multiply it by its zones.

terraform {
  required_providers {
    mcllm      = { source = "mcllm/mcllm" }
    google     = { source = "hashicorp/google" }
    kubernetes = { source = "hashicorp/kubernetes" }
  }
}

variable "cluster_id" {
  type = string
}

variable "zone" {
  type    = string
  default = "us-central1-a"
}

variable "hf_token" {
  description = "Hugging Face token for gated models; stored in the Secret the pods read HF_TOKEN from."
  type        = string
  sensitive   = true
}

resource "mcllm_model_shard" "qwen_7b" {
  name                     = "qwen-7b"
  model                    = "qwen2.5-7b"
  precision                = "bf16"
  max_context_tokens       = 16384
  max_concurrent_sequences = 16
  replicas                 = 4
}

resource "mcllm_inference_pool" "fleet" {
  name = "prod"
  node_groups = {
    l4-spot = {
      cloud         = "gcp"
      region        = "us-central1"
      instance_type = "g2-standard-48"
      capacity_type = "spot"
      max_nodes     = 4
    }
  }
  model_shards = [mcllm_model_shard.qwen_7b.demand]
  kubernetes   = { namespace = "llm", hf_token_secret = "hf-token" }
}

locals {
  # The objects that run the placement, rendered from the pool: known at plan time, outside the pool's diff.
  manifests     = provider::mcllm::manifests(mcllm_inference_pool.fleet)
  gcp_groups    = { for name, g in mcllm_inference_pool.fleet.node_group_specs : name => g if g.cloud == "gcp" }
  gcp_workloads = { for key, w in local.manifests.workloads : key => w if w.cloud == "gcp" }
  gcp_budgets   = { for key, b in local.manifests.disruption_budgets : key => b if b.cloud == "gcp" }
}

resource "google_container_node_pool" "gpu" {
  for_each = local.gcp_groups

  name           = "mcllm-${each.key}"
  cluster        = var.cluster_id
  node_locations = [var.zone]
  node_count     = each.value.desired_size

  node_config {
    machine_type = each.value.gke.machine_type
    spot         = each.value.gke.spot
    labels       = each.value.labels
    disk_size_gb = each.value.gke.disk_size_gb
    disk_type    = each.value.gke.disk_type

    guest_accelerator {
      type  = each.value.gke.accelerator_type
      count = each.value.gke.accelerator_count
      gpu_driver_installation_config {
        gpu_driver_version = "DEFAULT"
      }
    }

    dynamic "taint" {
      for_each = each.value.gke.taints
      content {
        key    = taint.value.key
        value  = taint.value.value
        effect = taint.value.effect
      }
    }
  }
}

resource "kubernetes_manifest" "replica" {
  for_each = local.gcp_workloads
  manifest = yamldecode(each.value.manifest)

  depends_on = [google_container_node_pool.gpu, kubernetes_secret_v1.hf_token]
}

# The namespace and the token Secret the workloads refer to (by name, never by value).
resource "kubernetes_namespace_v1" "llm" {
  metadata {
    name = "llm"
  }
}

resource "kubernetes_secret_v1" "hf_token" {
  metadata {
    name      = "hf-token"
    namespace = kubernetes_namespace_v1.llm.metadata[0].name
  }
  data = { HF_TOKEN = var.hf_token }
}

resource "kubernetes_manifest" "disruption_budget" {
  for_each = local.gcp_budgets
  manifest = yamldecode(each.value.manifest)

  depends_on = [kubernetes_namespace_v1.llm]
}
