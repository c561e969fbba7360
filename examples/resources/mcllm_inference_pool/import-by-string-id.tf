# Adopt the pool named "prod" into mcllm_inference_pool.fleet: the plan that
# imports it also computes its placement from the configuration.
import {
  to = mcllm_inference_pool.fleet
  id = "prod"
}
