# Hand-off to Azure: one AKS node pool per Azure node group of the pool,
# sized to the placement, and the pool's workloads applied to the cluster.
# AKS taints spot nodes with kubernetes.azure.com/scalesetpriority=spot; the
# rendered workloads tolerate it.

terraform {
  required_providers {
    mcllm      = { source = "mcllm/mcllm" }
    azurerm    = { source = "hashicorp/azurerm" }
    kubernetes = { source = "hashicorp/kubernetes" }
  }
}

provider "azurerm" {
  features {}
}

variable "cluster_id" {
  type = string
}

variable "hf_token" {
  description = "Hugging Face token for gated models; stored in the Secret the pods read HF_TOKEN from."
  type        = string
  sensitive   = true
}

resource "mcllm_model_shard" "mixtral" {
  name                     = "mixtral"
  model                    = "mixtral-8x7b"
  precision                = "bf16"
  max_context_tokens       = 16384
  max_concurrent_sequences = 8
  replicas                 = 2
}

resource "mcllm_inference_pool" "fleet" {
  name = "prod"
  node_groups = {
    a100 = {
      cloud         = "azure"
      region        = "eastus"
      instance_type = "Standard_ND96amsr_A100_v4"
      max_nodes     = 2
    }
  }
  model_shards = [mcllm_model_shard.mixtral.demand]
  kubernetes   = { namespace = "llm", hf_token_secret = "hf-token" }
}

locals {
  # The objects that run the placement, rendered from the pool: known at plan time, outside the pool's diff.
  manifests       = provider::mcllm::manifests(mcllm_inference_pool.fleet)
  azure_groups    = { for name, g in mcllm_inference_pool.fleet.node_group_specs : name => g if g.cloud == "azure" }
  azure_workloads = { for key, w in local.manifests.workloads : key => w if w.cloud == "azure" }
  azure_budgets   = { for key, b in local.manifests.disruption_budgets : key => b if b.cloud == "azure" }
}

resource "azurerm_kubernetes_cluster_node_pool" "gpu" {
  for_each = local.azure_groups

  # AKS node pool names: lower-case letters and digits, at most 12.
  name                  = substr(replace(lower(each.key), "/[^a-z0-9]/", ""), 0, 12)
  kubernetes_cluster_id = var.cluster_id
  vm_size               = each.value.aks.vm_size
  node_count            = each.value.desired_size
  priority              = each.value.aks.priority
  eviction_policy       = each.value.aks.eviction_policy
  node_labels           = each.value.labels
  node_taints           = each.value.aks.node_taints
  os_disk_size_gb       = each.value.aks.os_disk_size_gb
}

resource "kubernetes_manifest" "replica" {
  for_each = local.azure_workloads
  manifest = yamldecode(each.value.manifest)

  depends_on = [azurerm_kubernetes_cluster_node_pool.gpu, kubernetes_secret_v1.hf_token]
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
  for_each = local.azure_budgets
  manifest = yamldecode(each.value.manifest)

  depends_on = [kubernetes_namespace_v1.llm]
}
