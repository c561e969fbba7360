# A pool is imported by its name (OpenTofu: tofu import ...).
terraform import mcllm_inference_pool.fleet prod
