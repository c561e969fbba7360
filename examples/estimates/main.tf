# make demo: a walkthrough of the catalog and the memory estimator through
# the real CLI. No cloud credentials; everything is computed at plan time.

terraform {
  required_providers {
    mcllm = {
      source = "mcllm/mcllm"
    }
  }
}

provider "mcllm" {}

locals {
  # Nodes to size against, keyed by a short label for the table.
  nodes = {
    "1 aws 8xH200"      = "aws/p5en.48xlarge"
    "2 gcp 8xH100"      = "gcp/a3-highgpu-8g"
    "3 azure 8xA100-80" = "azure/Standard_ND96amsr_A100_v4"
    "4 aws 4xL40S"      = "aws/g6e.12xlarge"
    "5 gcp 8xL4"        = "gcp/g2-standard-96"
  }
  instance_types = values(local.nodes)

  # Deployments: model, precision, context, concurrent sequences.
  deployments = {
    "llama-3.1-8b bf16 8k×64"  = ["llama-3.1-8b", "bf16", 8192, 64]
    "llama-3.1-70b bf16 8k×32" = ["llama-3.1-70b", "bf16", 8192, 32]
    "llama-3.1-70b int4 8k×32" = ["llama-3.1-70b", "int4", 8192, 32]
    "mixtral-8x7b bf16 32k×8"  = ["mixtral-8x7b", "bf16", 32768, 8]
    "llama-3.1-405b fp8 8k×16" = ["llama-3.1-405b", "fp8", 8192, 16]
    "deepseek-v3 fp8 16k×8"    = ["deepseek-v3", "fp8", 16384, 8]
  }

  estimates = {
    for name, d in local.deployments : name => {
      for it in local.instance_types :
      it => provider::mcllm::estimate_memory(d[0], d[1], d[2], d[3], it)
    }
  }
}

data "mcllm_gpu_instance_types" "catalog" {
  min_gpus = 4
}

output "catalog" {
  description = "GPU instance types with four GPUs or more in the built-in catalog."
  value = join("\n", concat(
    [format("%-6s %-32s %-10s %4s %9s %10s", "cloud", "instance type", "GPU", "GPUs", "GiB/GPU", "USD/hour")],
    [
      for key, t in data.mcllm_gpu_instance_types.catalog.instance_types : format("%-6s %-32s %-10s %4d %9.2f %10s",
        t.cloud, t.name, t.gpu_model, t.gpus, t.visible_memory_gib,
      t.price_usd_per_hour == null ? "unknown" : format("%.2f", t.price_usd_per_hour))
    ]
  ))
}

output "memory" {
  description = "Model-level memory of each deployment."
  value = join("\n", concat(
    [format("%-28s %12s %16s %10s %10s", "deployment", "weights GiB", "KV KiB/token", "KV GiB", "total GiB")],
    [for name, by_type in local.estimates : format("%-28s %12.1f %16.1f %10.1f %10.1f",
      name, by_type[local.instance_types[0]].weights_gib, by_type[local.instance_types[0]].kv_cache_bytes_per_token / 1024,
    by_type[local.instance_types[0]].kv_cache_gib, by_type[local.instance_types[0]].total_gib)]
  ))
}

output "fit" {
  description = "Smallest tensor-parallel degree that fits each deployment on one node of each type and the KV tokens it leaves, or the per-GPU shortfall at the node's full width."
  value = join("\n", concat(
    [format("%-28s %s", "deployment", join("", [for label in keys(local.nodes) : format("%-21s", substr(label, 2, -1))]))],
    [for name, by_type in local.estimates : format("%-28s %s", name, join("", [
      for it in local.instance_types : format("%-21s",
        by_type[it].recommended_tensor_parallel == null
        ? format("- (%.1f GiB short)", by_type[it].tensor_parallel_options[reverse(keys(by_type[it].tensor_parallel_options))[0]].shortfall_gib_per_gpu)
        : format("t%d  %.2fM tok", by_type[it].recommended_tensor_parallel,
      by_type[it].tensor_parallel_options[tostring(by_type[it].recommended_tensor_parallel)].kv_cache_capacity_tokens / 1000000))
    ]))]
  ))
}
