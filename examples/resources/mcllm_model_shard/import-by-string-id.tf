# Adopt the deployment named "llama-70b" into mcllm_model_shard.llama_70b:
# the plan that imports it also computes its memory and demand.
import {
  to = mcllm_model_shard.llama_70b
  id = "llama-70b"
}
