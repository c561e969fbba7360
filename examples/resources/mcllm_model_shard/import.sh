# A model shard is imported by its name (OpenTofu: tofu import ...).
terraform import mcllm_model_shard.llama_70b llama-70b
