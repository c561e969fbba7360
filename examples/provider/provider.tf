terraform {
  required_providers {
    mcllm = {
      source = "mcllm/mcllm"
    }
  }
}

# No credentials: the provider plans from its built-in catalogs.
provider "mcllm" {
  # Share of each GPU's memory the serving engine may use (vLLM's
  # --gpu-memory-utilization). Defaults to 0.9.
  gpu_memory_utilization = 0.9

  # Negotiated or reserved prices replace the catalog's on-demand list price.
  price_overrides = {
    "aws/p5.48xlarge"                = 39.80
    "azure/Standard_ND96isr_H200_v5" = 84.00
  }

  # Data transfer prices (USD per GB) for pulling model weights from their
  # bucket: leaving a cloud, or between two regions of one cloud. Google
  # Cloud's inter-region price has no default.
  egress_prices = {
    "gcp/inter_region" = 0.02
  }
}
