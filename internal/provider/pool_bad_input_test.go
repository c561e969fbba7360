package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

const okGroup = `h100 = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 2 }`
const okShard = `{ name = "llama", model = "llama-3.1-8b", precision = "bf16", max_context_tokens = 8192, max_concurrent_sequences = 8, replicas = 2 }`

// pool renders an inline pool: node group entries, model shard objects and
// extra attributes.
func pool(groups, shards, extra string) string {
	return "resource \"mcllm_inference_pool\" \"p\" {\n  name = \"p\"\n  node_groups = {\n    " + groups +
		"\n  }\n  model_shards = [\n    " + shards + "\n  ]\n  " + extra + "\n}\n"
}

func shard(overrides string) string {
	return strings.Replace(okShard, "{ name", "{ "+overrides+", name", 1)
}

func shardWithout(field string) string {
	parts := strings.Split(strings.Trim(okShard, "{} "), ", ")
	var keep []string
	for _, p := range parts {
		if !strings.HasPrefix(p, field+" ") {
			keep = append(keep, p)
		}
	}
	return "{ " + strings.Join(keep, ", ") + " }"
}

// TestAccBadInput is the matrix of invalid configurations: each must fail
// the plan with its message (the attribute paths are pinned by the
// protocol tests), never panic, and never write state.
func TestAccBadInput(t *testing.T) {
	cases := map[string]struct{ config, want string }{
		// Node groups.
		"unknown instance type": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xl", max_nodes = 1 }`, okShard, ""),
			`unknown instance type "aws/p5.48xl"; did you mean "aws/p5.48xlarge"`},
		"instance type of another cloud": {pool(`g = { cloud = "gcp", region = "us-central1", instance_type = "p5.48xlarge", max_nodes = 1 }`, okShard, ""),
			`unknown instance type "gcp/p5.48xlarge"`},
		"unknown cloud": {pool(`g = { cloud = "oracle", region = "x", instance_type = "bm.gpu4.8", max_nodes = 1 }`, okShard, ""),
			`Attribute node_groups["g"].cloud value must be one of`},
		"min above max": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", min_nodes = 3, max_nodes = 2 }`, okShard, ""),
			`min_nodes (3) is greater than max_nodes (2)`},
		"negative max": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = -1 }`, okShard, ""),
			`max_nodes must be between 0 and 100,000 (the most nodes one node group may have), got -1`},
		"gpu and instance type": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 1, gpu = { model = "H100", count = 8, memory_gib = 79 } }`, okShard, ""),
			`Set instance_type (a catalog type) or gpu (custom hardware), not both`},
		"no hardware": {pool(`g = { cloud = "aws", region = "us-east-1", max_nodes = 1 }`, okShard, ""),
			`Set instance_type to a catalog type of the cloud`},
		"custom without gpu": {pool(`g = { cloud = "custom", region = "lab", max_nodes = 1, price_per_hour = 1 }`, okShard, ""),
			`A custom node group describes its hardware in gpu.`},
		"custom zero gpus": {pool(`g = { cloud = "custom", region = "lab", max_nodes = 1, price_per_hour = 1, gpu = { model = "RTX", count = 0, memory_gib = 23 } }`, okShard, ""),
			`gpu.count must be between 1 and 64 (the most GPUs one node may have), got 0`},
		"no price known": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5e.48xlarge", max_nodes = 1 }`, okShard, ""),
			`The catalog has no price for node group "g"; set price_per_hour`},
		"negative price": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 1, price_per_hour = -2 }`, okShard, ""),
			`price_per_hour must be between 0 and 10,000 (the highest price of one node, USD per hour), got -2`},
		"bad capacity type": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 1, capacity_type = "reserved" }`, okShard, ""),
			`Attribute node_groups["g"].capacity_type value must be one of`},
		"bad taint effect": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 1, taints = [{ key = "a", effect = "NoRun" }] }`, okShard, ""),
			`Attribute node_groups["g"].taints[0].effect value must be one of`},
		"bad taint key": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 1, taints = [{ key = "a b", effect = "NoSchedule" }] }`, okShard, ""),
			`label key "a b"`},
		"duplicate taint": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 1, taints = [{ key = "a", effect = "NoSchedule" }, { key = "a", value = "b", effect = "NoSchedule" }] }`, okShard, ""),
			`Taint a:NoSchedule is listed twice`},
		"bad node label": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 1, labels = { "tier!" = "x" } }`, okShard, "kubernetes = {}"),
			`Node group labels are set on its nodes: label key "tier!"`},
		"node group name not a label": {pool(`"GPU pool" = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 1 }`, okShard, "kubernetes = {}"),
			`"GPU pool" labels Kubernetes nodes and pods, so it must be a valid label value`},
		// Model shards.
		"duplicate model name": {pool(okGroup, okShard+",\n    "+okShard, ""), `another model has the name too`},
		"unknown model":        {pool(okGroup, strings.Replace(okShard, "llama-3.1-8b", "llama-3.1-8", 1), ""), `unknown model "llama-3.1-8"; did you mean "llama-3.1-8b"`},
		"model and architecture": {pool(okGroup, shard(`architecture = { layers = 2, hidden_size = 64, attention_heads = 4, kv_heads = 2, head_dim = 16, vocab_size = 100, intermediate_size = 128, max_context_tokens = 8192 }`), ""),
			`Set either model (a catalog id) or architecture, not both`},
		"no model":            {pool(okGroup, shardWithout("model"), ""), `Set model to a catalog id such as`},
		"bad architecture":    {pool(okGroup, strings.Replace(shardWithout("model"), "{ ", `{ architecture = { layers = 2, hidden_size = 64, attention_heads = 4, kv_heads = 3, head_dim = 16, vocab_size = 100, intermediate_size = 128, max_context_tokens = 8192 }, `, 1), ""), `attention_heads (4) must be a multiple of kv_heads (3)`},
		"missing replicas":    {pool(okGroup, shardWithout("replicas"), ""), `Each model shard needs replicas`},
		"engine not modelled": {pool(okGroup, shard(`engine = { version = "0.7.0" }`), ""), `vLLM "0.7.0" is not a release mcllm models`},
		"batch below context, no chunking": {pool(okGroup, shard(`engine = { max_num_batched_tokens = 4096, enable_chunked_prefill = false }`), ""),
			`fewer than max_context_tokens (8192) with chunked prefill off`},
		"unknown precision":    {pool(okGroup, strings.Replace(okShard, `"bf16"`, `"int3"`, 1), ""), `unknown precision "int3"`},
		"unknown kv precision": {pool(okGroup, shard(`kv_cache_precision = "int2"`), ""), `unknown KV cache precision "int2"`},
		"zero context":         {pool(okGroup, strings.Replace(okShard, "8192", "0", 1), ""), `must be a positive number of tokens, got 0`},
		"context too long":     {pool(okGroup, strings.Replace(okShard, "8192", "262144", 1), ""), `exceeds the model's maximum context of 131072 tokens`},
		"zero concurrency":     {pool(okGroup, strings.Replace(okShard, "sequences = 8", "sequences = 0", 1), ""), `max_concurrent_sequences must be between 1 and 1,048,576`},
		"negative replicas":    {pool(okGroup, strings.Replace(okShard, "replicas = 2", "replicas = -1", 1), ""), `replicas must be between 0 and 100,000 (the most replicas of one model), got -1`},
		"tensor parallel 3":    {pool(okGroup, shard(`tensor_parallel = 3`), ""), `tensor parallel degree 3 is not a power of two`},
		"tensor parallel vs heads": {pool(okGroup, strings.Replace(shard(`tensor_parallel = 8`), "llama-3.1-8b", "qwen2.5-7b", 1), ""),
			`28 attention heads are not divisible by tensor parallel degree 8`},
		"pipeline zero":            {pool(okGroup, shard(`pipeline_parallel = 0`), ""), `pipeline_parallel must be between 1 and 1,024 (the most layers a model may have), got 0`},
		"unknown cloud constraint": {pool(okGroup, shard(`constraints = { clouds = ["oracle"] }`), ""), `"oracle" is not one of "aws", "azure", "gcp", "custom"`},
		"impossible constraint": {pool(okGroup, shard(`constraints = { clouds = ["azure"] }`), ""),
			`0/1 node groups can hold one (1 excluded by cloud)`},
		"confidential nowhere": {pool(okGroup, shard(`constraints = { confidential = true }`), ""), `1 excluded by confidential computing`},
		"too little capacity": {pool(okGroup, strings.Replace(okShard, "replicas = 2", "replicas = 40", 1), ""),
			`raise max_nodes of node group "h100" to 5`},
		"pipeline over ethernet": {pool(`l4 = { cloud = "gcp", region = "us-central1", instance_type = "g2-standard-96", max_nodes = 1 }`,
			strings.Replace(okShard, "llama-3.1-8b", "llama-3.1-405b", 1), ""),
			`excluded by pipeline across nodes without a fast network). To fix it: set constraints.pipeline_over_any_network to let pipeline stages span node group "l4" over Ethernet and raise max_nodes of node group "l4" to`},
		"model too big": {pool(`l4 = { cloud = "gcp", region = "us-central1", instance_type = "g2-standard-96", max_nodes = 1 }`,
			strings.Replace(strings.Replace(okShard, "llama-3.1-8b", "llama-3.1-405b", 1), `replicas = 2 }`, `replicas = 2, constraints = { pipeline_over_any_network = true } }`, 1), ""),
			`excluded by nodes per replica above max_nodes`},
		"model too big on a fast network": {pool(`l4 = { cloud = "gcp", region = "us-central1", instance_type = "g2-standard-96", max_nodes = 1, fast_network = true }`,
			strings.Replace(okShard, "llama-3.1-8b", "llama-3.1-405b", 1), ""), `excluded by nodes per replica above max_nodes`},
		"model too big for any pipeline": {pool(`l4 = { cloud = "gcp", region = "us-central1", instance_type = "g2-standard-8", max_nodes = 1, price_per_hour = 1 }`,
			strings.Replace(okShard, "llama-3.1-8b", "llama-3.1-405b", 1), ""), `excluded by memory per GPU`},
		"spread domains > replicas": {pool(okGroup, shard(`spread = { across = "cloud", min_domains = 3 }`), ""), `3 domains cannot be covered by 2 replicas`},
		"spread across unknown":     {pool(okGroup, shard(`spread = { across = "rack" }`), ""), `unknown spread domain "rack"`},
		"spread share":              {pool(okGroup, shard(`spread = { across = "cloud", max_share = 1.5 }`), ""), `spread.max_share must be in (0, 1], got 1.5`},
		"spread unmet":              {pool(okGroup, shard(`spread = { across = "cloud", min_domains = 2 }`), ""), `excluded by spread`},
		"replicas and autoscaling":  {pool(okGroup, shard(`autoscaling = { target_load = 10, load_per_replica = 5 }`), ""), `Set replicas or autoscaling, not both`},
		"autoscaling zero capacity": {pool(okGroup, strings.Replace(shardWithout("replicas"), "{ ", `{ autoscaling = { target_load = 10, load_per_replica = 0 }, `, 1), ""),
			`load_per_replica must be greater than 0 and at most 1,000,000,000,000,000`},
		"autoscaling estimate on unknown type": {pool(okGroup, strings.Replace(shardWithout("replicas"), "{ ", `{ autoscaling = { target_load = 10, estimate_on = "aws/p5.48" }, `, 1), ""),
			`unknown instance type "aws/p5.48"`},
		"autoscaling load and estimate": {pool(okGroup, strings.Replace(shardWithout("replicas"), "{ ", `{ autoscaling = { target_load = 10, load_per_replica = 5, estimate_on = "aws/p5.48xlarge" }, `, 1), ""),
			`Set load_per_replica or estimate_on, not both`},
		"autoscaling without load": {pool(okGroup, strings.Replace(shardWithout("replicas"), "{ ", `{ autoscaling = { target_load = 10 }, `, 1), ""),
			`or set estimate_on to an instance type`},
		"autoscaling estimate does not fit": {pool(okGroup, strings.Replace(strings.Replace(shardWithout("replicas"), "llama-3.1-8b", "llama-3.1-405b", 1), "{ ", `{ autoscaling = { target_load = 10, estimate_on = "gcp/g2-standard-8" }, `, 1), ""),
			`A replica does not fit gcp/g2-standard-8 GPUs`},
		"weights source unknown cloud": {pool(okGroup, shard(`weights_source = { cloud = "oracle", region = "x" }`), ""),
			`"oracle" is not one of "aws", "azure", "gcp", "custom"`},
		"transfer horizon zero": {pool(okGroup, okShard, `transfer_horizon_hours = 0`), `transfer_horizon_hours must be between 1 and 876,000`},
		"egress price key": {"provider \"mcllm\" {\n  egress_prices = { \"aws/egress\" = 0.1 }\n}\n" + pool(okGroup, okShard, ""),
			`"aws/egress" is not "<cloud>/internet" or "<cloud>/inter_region"`},
		"egress price negative": {"provider \"mcllm\" {\n  egress_prices = { \"gcp/inter_region\" = -1 }\n}\n" + pool(okGroup, okShard, ""),
			`egress_prices must be between 0 and 1,000 (the highest price of a GB transferred), got -1`},
		"floor above replicas":   {pool(okGroup, shard(`on_demand_floor = 3`), ""), `on_demand_floor must be at most the model's 2 replicas, got 3`},
		"failure above replicas": {pool(okGroup, shard(`min_replicas_on_failure = { cloud = 2 }`), ""), `2 replicas cannot remain after a loss when the model runs 2`},
		"slash in name":          {pool(okGroup, strings.Replace(okShard, `"llama"`, `"a/b"`, 1), ""), `must not contain "/"`},
		// LoRA (issue 15).
		"lora rank vLLM refuses": {pool(okGroup, shard(`engine = { max_loras = 2, max_lora_rank = 24 }`), ""),
			`vLLM accepts a max_lora_rank of [1 8 16 32 64 128 256 320 512], got 24`},
		"lora slots negative": {pool(okGroup, shard(`engine = { max_loras = -1 }`), ""), `max_loras must be between 0 and 1,024`},
		"lora on a mixture of experts": {pool(okGroup, strings.Replace(shard(`engine = { max_loras = 2 }`), "llama-3.1-8b", "mixtral-8x7b", 1), ""),
			`the expert and latent-attention buffers of this architecture are not modelled`},
		// Reservations (issue 15).
		"reservation above max_nodes": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 2, reservation = { nodes = 3 } }`, okShard, ""),
			`node_groups["g"].reservation.nodes must be between 0 and the group's max_nodes (2): reserved nodes are nodes of the group, got 3`},
		"reservation negative": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 2, reservation = { nodes = -1 } }`, okShard, ""),
			`reservation.nodes must be between 0 and 100,000`},
		"reservation bad time": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 2, reservation = { nodes = 1, ends = "next year" } }`, okShard, ""),
			`ends: "next year" is not an RFC 3339 time`},
		"reservation window reversed": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 2, reservation = { nodes = 1, starts = "2027-01-01T00:00:00Z", ends = "2026-01-01T00:00:00Z" } }`, okShard, ""),
			`ends (2026-01-01T00:00:00Z) must be after starts (2027-01-01T00:00:00Z)`},
		// GPU sharing (issue 15).
		"unknown MIG profile": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 2, gpu_sharing = { mig_profile = "1g.11gb" } }`, okShard, ""),
			`gpu_sharing.mig_profile: unknown MIG profile of H100-80GB "1g.11gb"; did you mean "1g.10gb"`},
		"MIG on a GPU without it": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "g6.12xlarge", max_nodes = 2, gpu_sharing = { mig_profile = "1g.10gb" } }`, okShard, ""),
			`L4 has no MIG profiles mcllm knows`},
		"mixed MIG layout the GPU lacks": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p6-b200.48xlarge", max_nodes = 2, gpu_sharing = { mig_profile = "all-balanced" } }`, okShard, ""),
			`gpu_sharing.mig_profile: unknown MIG profile of B200 "all-balanced"`},
		"mixed MIG layout above a node's shares": {pool(`g = { cloud = "custom", region = "lab", max_nodes = 1, price_per_hour = 1, gpu = { model = "A100-80GB", count = 16, memory_gib = 79 }, gpu_sharing = { mig_profile = "all-balanced" } }`, okShard, ""),
			`gpu_sharing: 16 GPUs × 8 shares of layout all-balanced is 128 shares per node, above the 64`},
		"both sharing kinds": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 2, gpu_sharing = { mig_profile = "1g.10gb", engines_per_gpu = 2 } }`, okShard, ""),
			`gpu_sharing sets exactly one of mig_profile (MIG instances), mig_profiles (MIG layouts to choose from), engines_per_gpu`},
		"unknown MIG profile to choose": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 2, gpu_sharing = { mig_profiles = ["1g.10gb", "2g.30gb"] } }`, okShard, ""),
			`gpu_sharing.mig_profiles[1]: unknown MIG profile of H100-80GB "2g.30gb"`},
		"MIG profile listed twice": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 2, gpu_sharing = { mig_profiles = ["1g.10gb", "1g.10gb"] } }`, okShard, ""),
			`gpu_sharing.mig_profiles lists "1g.10gb" twice`},
		"no MIG profile to choose": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 2, gpu_sharing = { mig_profiles = [] } }`, okShard, ""),
			`gpu_sharing.mig_profiles must list at least one MIG profile`},
		"time-slicing an AMD GPU": {pool(`g = { cloud = "azure", region = "eastus", instance_type = "Standard_ND96isr_MI300X_v5", max_nodes = 2, price_per_hour = 50, gpu_sharing = { engines_per_gpu = 2 } }`, okShard, ""),
			`MI300X is an AMD GPU, and time-slicing or memory blocks need NVIDIA's device plugin or KAI Scheduler`},
		"max engines not a power of two": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "g6e.xlarge", max_nodes = 2, gpu_sharing = { max_engines_per_gpu = 6 } }`, okShard, ""),
			`gpu_sharing.max_engines_per_gpu must be a power of two (2, 4, 8 or 16)`},
		"max engines above 16": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "g6e.xlarge", max_nodes = 2, gpu_sharing = { max_engines_per_gpu = 32 } }`, okShard, ""),
			`max_engines_per_gpu must be between 2 and 16`},
		"memory fraction over 1": {pool(okGroup, shard(`constraints = { share_gpu = true, gpu_memory_fraction = 1.5 }`), ""),
			`model_shards[0].constraints.gpu_memory_fraction must be greater than 0 and at most 1 (a part of one GPU's memory), got 1.5`},
		"memory fraction zero": {pool(okGroup, shard(`constraints = { share_gpu = true, gpu_memory_fraction = 0 }`), ""),
			`constraints.gpu_memory_fraction must be greater than 0 and at most 1, got 0`},
		"memory fraction without sharing": {pool(okGroup, shard(`constraints = { gpu_memory_fraction = 0.25 }`), ""),
			`model_shards[0].constraints.gpu_memory_fraction needs constraints.share_gpu`},
		"engines per GPU 1": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 2, gpu_sharing = { engines_per_gpu = 1 } }`, okShard, ""),
			`engines_per_gpu must be between 2 and 16`},
		"shares above a node's": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 2, gpu_sharing = { engines_per_gpu = 9 } }`, okShard, ""),
			`8 GPUs × 9 engines is 72 shares per node, above the 64 a node may hold`},
		// Quotas (issue 15).
		"negative quota": {pool(okGroup, okShard, `quotas = { q = { cloud = "aws", region = "us-east-1", limit = -1 } }`),
			`quotas["q"].limit must be between 0 and 1,000,000,000`},
		"unknown quota family": {pool(okGroup, okShard, `quotas = { q = { cloud = "aws", region = "us-east-1", family = "p", limit = 10 } }`),
			`quotas["q"].family: "p" is not a quota family of aws's catalog instance types; they count against "G and VT", "P" (did you mean "P"?)`},
		"quota below min_nodes": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", min_nodes = 1, max_nodes = 2 }`, okShard,
			`quotas = { q = { cloud = "aws", region = "us-east-1", family = "P", limit = 100 } }`),
			`the min_nodes of node groups "g" (1) count 192 vCPUs, over the limit of 100`},
		"bad quota unit": {pool(okGroup, okShard, `quotas = { q = { cloud = "aws", region = "us-east-1", unit = "cores", limit = 10 } }`),
			`Attribute quotas["q"].unit value must be one of`},
		"vcpu quota on custom hardware": {pool(`lab = { cloud = "custom", region = "lab", max_nodes = 1, price_per_hour = 1, gpu = { model = "RTX", count = 2, memory_gib = 23 } }`,
			okShard, `quotas = { q = { cloud = "custom", region = "lab", unit = "vcpus", limit = 10 } }`),
			`node group "lab" is custom hardware whose vCPUs the catalog does not know`},
		// Pool attributes.
		"unknown strategy":          {pool(okGroup, okShard, `strategy = "fastest"`), `Attribute strategy value must be one of`},
		"rebalance no budget":       {pool(okGroup, okShard, `rebalance = "now"`), `A rebalance moves nothing while max_moves is 0`},
		"utilization zero":          {pool(okGroup, okShard, `gpu_memory_utilization = 0`), `must be greater than 0 and at most 1, got 0`},
		"utilization five decimals": {pool(okGroup, okShard, `gpu_memory_utilization = 0.91234`), `must have at most four decimals (as 0.9 or 0.8575), got 0.91234`},
		"negative max moves":        {pool(okGroup, okShard, `max_moves = -1`), `max_moves must be between 0 and 100,000`},
		"bad namespace":             {pool(okGroup, okShard, `kubernetes = { namespace = "LLM_Serving" }`), `a lowercase RFC 1123 label must consist of`},
		"bad port":                  {pool(okGroup, okShard, `kubernetes = { port = 70000 }`), `value must be between 1 and 65535`},
		"bad secret name":           {pool(okGroup, okShard, `kubernetes = { hf_token_secret = "HF Token" }`), `a lowercase RFC 1123 subdomain must consist of`},
		"bad image":                 {pool(okGroup, okShard, `kubernetes = { image = "vllm openai" }`), `"vllm openai" is not a container image reference`},
		"model name not a label": {pool(okGroup, strings.Replace(okShard, `"llama"`, `"Llama 8B"`, 1), "kubernetes = {}"),
			`"Llama 8B" labels Kubernetes nodes and pods, so it must be a valid label value`},
		// Issue 12: numbers at and beyond their limits, fractions, empty strings.
		"max_nodes 2^63": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 9223372036854775808 }`, okShard, ""),
			`node_groups["g"].max_nodes = 9.223372037e+18 is beyond what a 64-bit integer holds`},
		"max_nodes above the limit": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 100001 }`, okShard, ""),
			`max_nodes must be between 0 and 100,000 (the most nodes one node group may have), got 100,001`},
		"gpu memory 1e15": {pool(`g = { cloud = "custom", region = "lab", max_nodes = 1, price_per_hour = 1, gpu = { model = "X", count = 8, memory_gib = 1e15 } }`, okShard, ""),
			`gpu.memory_gib must be between 1 and 1,024 (the most memory one GPU may have, in GiB), got 1e+15`},
		"price 2e15": {pool(`g = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 1, price_per_hour = 2e15 }`, okShard, ""),
			`price_per_hour must be between 0 and 10,000 (the highest price of one node, USD per hour), got 2e+15`},
		"price override above the limit": {"provider \"mcllm\" {\n  price_overrides = { \"aws/p5.48xlarge\" = 1e6 }\n}\n" + pool(okGroup, okShard, ""),
			`price_overrides must be between 0 and 10,000`},
		"replicas fractional in model_shards": {pool(okGroup, strings.Replace(okShard, "replicas = 2", "replicas = 2.5", 1), ""),
			`model_shards[0].replicas must be a whole number; got 2.5`},
		"replicas above the limit": {pool(okGroup, strings.Replace(okShard, "replicas = 2", "replicas = 999999", 1), ""),
			`replicas must be between 0 and 100,000 (the most replicas of one model), got 999,999`},
		"tensor parallel above the limit": {pool(okGroup, shard(`tensor_parallel = 128`), ""), `tensor_parallel must be between 1 and 64`},
		"pipeline 2^40":                   {pool(okGroup, shard(`pipeline_parallel = 1099511627776`), ""), `pipeline_parallel must be between 1 and 1,024`},
		"architecture layers 2^40": {pool(okGroup, strings.Replace(shardWithout("model"), "{ ", `{ architecture = { layers = 1099511627776, hidden_size = 64, attention_heads = 4, kv_heads = 2, head_dim = 16, vocab_size = 100, intermediate_size = 128, max_context_tokens = 8192 }, `, 1), ""),
			`layers must be between 1 and 1,024 (the most layers a model may have)`},
		"architecture of 1.7e19 parameters": {pool(okGroup, strings.Replace(shardWithout("model"), "{ ", `{ architecture = { layers = 1024, hidden_size = 131072, attention_heads = 32, kv_heads = 8, head_dim = 128, vocab_size = 100, intermediate_size = 1048576, max_context_tokens = 8192, experts = 4096, active_experts = 8, moe_intermediate_size = 1048576 }, `, 1), ""),
			`the model's parameters must be between 1 and 100,000,000,000,000`},
		"target load above the limit": {pool(okGroup, strings.Replace(shardWithout("replicas"), "{ ", `{ autoscaling = { target_load = 1e16, load_per_replica = 5 }, `, 1), ""),
			`target_load must be between 0 and 1,000,000,000,000,000`},
		"too few nodes for fixed degrees": {pool(okGroup, shard(`tensor_parallel = 8, pipeline_parallel = 4`), ""),
			`raise max_nodes of node group "h100" to 8 (a replica at tensor_parallel 8 × pipeline_parallel 4 spans 4 nodes)`},
		"empty pool name":          {strings.Replace(pool(okGroup, okShard, ""), `name = "p"`, `name = ""`, 1), `name must not be empty.`},
		"empty kv cache precision": {pool(okGroup, shard(`kv_cache_precision = ""`), ""), `model_shards[0].kv_cache_precision must not be empty; omit it`},
		"empty gpu model": {pool(`g = { cloud = "custom", region = "lab", max_nodes = 1, price_per_hour = 1, gpu = { model = "", count = 8, memory_gib = 80 } }`, okShard, ""),
			`node_groups["g"].gpu.model must not be empty.`},
		"empty region": {pool(`g = { cloud = "aws", region = "", instance_type = "p5.48xlarge", max_nodes = 1 }`, okShard, ""),
			`node_groups["g"].region must not be empty.`},
		"estimate fractional context": {`data "mcllm_memory_estimate" "x" {
  model = "llama-3.1-8b"
  precision = "bf16"
  max_context_tokens = 1.5
  max_concurrent_sequences = 1
}`, `max_context_tokens must be a whole number; got 1.5`},
		"function fractional context": {`output "x" {
  value = provider::mcllm::estimate_memory("llama-3.1-8b", "bf16", 1.5, 1)
}`, `max_context_tokens must be a whole number; got 1.5`},
		"shard fractional replicas": {`resource "mcllm_model_shard" "s" {
  name = "s"
  model = "llama-3.1-8b"
  precision = "bf16"
  max_context_tokens = 4096
  max_concurrent_sequences = 1
  replicas = 1.5
}`, `replicas must be a whole number; got 1.5`},
		"shard empty kv cache precision": {`resource "mcllm_model_shard" "s" {
  name = "s"
  model = "llama-3.1-8b"
  precision = "bf16"
  kv_cache_precision = ""
  max_context_tokens = 4096
  max_concurrent_sequences = 1
  replicas = 1
}`, `kv_cache_precision must not be empty; omit it`},
		// The shard resource itself.
		"shard unknown model": {`resource "mcllm_model_shard" "s" {
  name = "s"
  model = "mistral-8b"
  precision = "bf16"
  max_context_tokens = 4096
  max_concurrent_sequences = 1
  replicas = 1
}`, `unknown model "mistral-8b"`},
		"shard missing precision": {`resource "mcllm_model_shard" "s" {
  name = "s"
  model = "llama-3.1-8b"
  max_context_tokens = 4096
  max_concurrent_sequences = 1
  replicas = 1
}`, `The argument "precision" is required`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			unitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps: []resource.TestStep{{
					Config:      tc.config,
					PlanOnly:    true,
					ExpectError: errorText(tc.want),
				}},
			})
		})
	}
	if len(cases) < 85 {
		t.Errorf("the matrix has %d cases; keep at least 85", len(cases))
	}
}
