# An inference pool is imported by its name. Only name and id are restored:
# the next plan computes the placement from the configuration, as on creation.
tofu import mcllm_inference_pool.fleet prod
