# Hand-off to AWS: one EKS managed node group per AWS node group of the pool,
# scaled to the placement, and the pool's workloads applied to the cluster.
# The pool part runs anywhere; the aws and kubernetes parts need an existing
# EKS cluster (with the NVIDIA device plugin and, for replicas whose pipeline
# stages span nodes, LeaderWorkerSet installed).

terraform {
  required_providers {
    mcllm      = { source = "mcllm/mcllm" }
    aws        = { source = "hashicorp/aws" }
    kubernetes = { source = "hashicorp/kubernetes" }
  }
}

variable "cluster_name" {
  type = string
}

variable "node_role_arn" {
  type = string
}

variable "subnet_ids" {
  type = list(string)
}

variable "hf_token" {
  description = "Hugging Face token for gated models; stored in the Secret the pods read HF_TOKEN from."
  type        = string
  sensitive   = true
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
    h100 = {
      cloud         = "aws"
      region        = "us-east-1"
      instance_type = "p5.48xlarge"
      max_nodes     = 4
      taints        = [{ key = "dedicated", value = "llm", effect = "NoSchedule" }]
    }
  }
  model_shards = [mcllm_model_shard.llama_70b.demand]
  kubernetes = {
    namespace       = "llm"
    hf_token_secret = "hf-token"
  }
}

locals {
  # The objects that run the placement, rendered from the pool: known at plan time, outside the pool's diff.
  manifests     = provider::mcllm::manifests(mcllm_inference_pool.fleet)
  aws_groups    = { for name, g in mcllm_inference_pool.fleet.node_group_specs : name => g if g.cloud == "aws" }
  aws_workloads = { for key, w in local.manifests.workloads : key => w if w.cloud == "aws" }
  aws_budgets   = { for key, b in local.manifests.disruption_budgets : key => b if b.cloud == "aws" }
  aws_services  = { for key, s in local.manifests.services : key => s if s.cloud == "aws" }
}

resource "aws_eks_node_group" "gpu" {
  for_each = local.aws_groups

  cluster_name    = var.cluster_name
  node_group_name = "mcllm-${each.key}"
  node_role_arn   = var.node_role_arn
  subnet_ids      = var.subnet_ids
  ami_type        = "AL2023_x86_64_NVIDIA"
  instance_types  = each.value.eks.instance_types
  capacity_type   = each.value.eks.capacity_type
  labels          = each.value.labels
  disk_size       = each.value.eks.disk_size

  scaling_config {
    desired_size = each.value.desired_size
    min_size     = each.value.min_size
    # EKS needs room for at least one node.
    max_size = max(each.value.max_size, 1)
  }

  dynamic "taint" {
    for_each = each.value.eks.taints
    content {
      key    = taint.value.key
      value  = taint.value.value
      effect = taint.value.effect
    }
  }
}

resource "kubernetes_manifest" "replica" {
  for_each = local.aws_workloads
  manifest = yamldecode(each.value.manifest)

  depends_on = [aws_eks_node_group.gpu, kubernetes_secret_v1.hf_token]
}

resource "kubernetes_manifest" "service" {
  for_each = local.aws_services
  manifest = yamldecode(each.value.manifest)
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
  for_each = local.aws_budgets
  manifest = yamldecode(each.value.manifest)

  depends_on = [kubernetes_namespace_v1.llm]
}
