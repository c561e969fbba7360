terraform {
  required_providers {
    mcllm = {
      source = "mcllm/mcllm"
    }
  }
}

data "mcllm_model" "llama" {
  id = "llama-3.1-70b"
}

output "llama_kv_per_token_kib" {
  # 320 KiB: 2 × 80 layers × 8 KV heads × 128 × 2 bytes.
  value = data.mcllm_model.llama.kv_cache_bytes_per_token / 1024
}
