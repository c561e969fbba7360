# Weighted routing from the placement: each cloud's endpoint gets the share
# of a model's traffic that its replicas can serve. The weights come from
# mcllm_inference_pool.traffic_weights (integers that sum to 100 per model).
#
# This example feeds them to terraform_data so that it runs anywhere; with
# the AWS provider the same values go to aws_route53_record:
#
#   resource "aws_route53_record" "llama" {
#     for_each       = mcllm_inference_pool.fleet.traffic_weights["llama-70b"]
#     zone_id        = var.zone_id
#     name           = "llama.example.com"
#     type           = "CNAME"
#     ttl            = 60
#     set_identifier = each.key
#     records        = [var.endpoints[each.key]]
#     weighted_routing_policy {
#       weight = each.value
#     }
#   }
#
# A cloud with weight 0 has no replica of the model: a record with weight 0
# receives no traffic, which is what it should get.

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
  replicas                 = 3
  min_replicas_on_failure = {
    cloud = 1
  }
}

resource "mcllm_inference_pool" "fleet" {
  name = "routing"
  node_groups = {
    aws   = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 2 }
    gcp   = { cloud = "gcp", region = "us-central1", instance_type = "a3-highgpu-8g", max_nodes = 2 }
    azure = { cloud = "azure", region = "eastus", instance_type = "Standard_ND96amsr_A100_v4", max_nodes = 2 }
  }
  model_shards = [mcllm_model_shard.llama_70b.demand]
}

# Stand-in for the DNS records: one route per cloud, with its weight.
resource "terraform_data" "routes" {
  input = [
    for cloud, weight in mcllm_inference_pool.fleet.traffic_weights["llama-70b"] :
    { set_identifier = cloud, weight = weight }
  ]
}

output "llama_weights" {
  value = mcllm_inference_pool.fleet.traffic_weights["llama-70b"]
}
