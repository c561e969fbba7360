terraform {
  required_providers {
    mcllm = {
      source = "mcllm/mcllm"
    }
  }
}

# Every 8-GPU node with at least 80 GB per GPU and NVSwitch, on any cloud.
data "mcllm_gpu_instance_types" "big" {
  min_gpu_memory_gb = 80
  min_gpus          = 8
  interconnect      = "nvswitch"
}

# Cheapest of them per GPU-hour, among those with a known price.
locals {
  priced = {
    for key, t in data.mcllm_gpu_instance_types.big.instance_types :
    key => t.price_usd_per_hour / t.gpus if t.price_usd_per_hour != null
  }
}

output "cheapest_per_gpu_hour" {
  value = [for key, p in local.priced : key if p == min(values(local.priced)...)][0]
}

# L4 machines on GCP in us-central1.
data "mcllm_gpu_instance_types" "gcp_l4" {
  cloud     = "gcp"
  gpu_model = "L4"
  region    = "us-central1"
}
