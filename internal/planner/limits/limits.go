// Package limits is the one table of the documented range of every numeric
// input: the planner and the memory estimator validate against it, and the
// provider states each range in its schema descriptions and maps a
// violation onto the attribute's path. Every bound is generous for real
// fleets and keeps each figure derived from the inputs in range: bytes in
// int64, costs in float64 and to the cent in int64 (see the sums in
// limits_test.go).
package limits

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Int is the inclusive range of a whole-number input.
type Int struct {
	// Name is the attribute as the schema spells it.
	Name     string
	Min, Max int64
	// What says what the maximum bounds, for messages.
	What string
}

// Check says what is wrong with v ("" when it is in range): the attribute,
// the range and the value.
func (l Int) Check(v int64) string {
	if v >= l.Min && v <= l.Max {
		return ""
	}
	return fmt.Sprintf("%s must be between %s and %s (%s), got %s", l.Name, group(l.Min), group(l.Max), l.What, group(v))
}

// Doc is the sentence the attribute's description ends with.
func (l Int) Doc() string { return fmt.Sprintf("From %s to %s.", group(l.Min), group(l.Max)) }

// Float is the range of a fractional input: Min (inclusive, or exclusive
// when MinExclusive) to Max inclusive. NaN and infinities are out of range.
type Float struct {
	Name         string
	Min, Max     float64
	MinExclusive bool
	What         string
}

// Check says what is wrong with v ("" when it is in range).
func (l Float) Check(v float64) string {
	above := v >= l.Min
	if l.MinExclusive {
		above = v > l.Min
	}
	if above && v <= l.Max && !math.IsNaN(v) {
		return ""
	}
	return fmt.Sprintf("%s must be %s (%s), got %g", l.Name, l.rangeText(), l.What, v)
}

// Doc is the sentence the attribute's description ends with.
func (l Float) Doc() string {
	s := l.rangeText()
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

func (l Float) rangeText() string {
	if l.MinExclusive {
		return fmt.Sprintf("greater than %s and at most %s", fgroup(l.Min), fgroup(l.Max))
	}
	return fmt.Sprintf("between %s and %s", fgroup(l.Min), fgroup(l.Max))
}

// group writes n with thousands separators: 100,000.
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// fgroup writes a bound: whole bounds with separators, others as %g.
func fgroup(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) <= 1e15 {
		return group(int64(x))
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// GiB is 2^30 bytes.
const GiB = 1 << 30

// Bounds that size data structures, as constants.
const (
	// MaxGPUsPerNode: the planner keeps a node's GPUs in a 64-bit mask.
	MaxGPUsPerNode = 64
	// MaxNodesPerGroup bounds the nodes of one group.
	MaxNodesPerGroup = 100_000
)

// Node groups.
var (
	// NodesPerGroup bounds max_nodes and min_nodes: far above any real
	// group (a cloud's largest GPU clusters are tens of thousands of GPUs),
	// small enough that every count fits in memory.
	NodesPerGroup = Int{Name: "max_nodes", Min: 0, Max: MaxNodesPerGroup, What: "the most nodes one node group may have"}
	// MinNodes is min_nodes, within the same bound.
	MinNodes = Int{Name: "min_nodes", Min: 0, Max: NodesPerGroup.Max, What: "the most nodes one node group may have"}
	// GPUsPerNode bounds gpu.count: the planner keeps a node's GPUs in a
	// 64-bit mask; the largest nodes sold have 8 (NVIDIA HGX) to 16 GPUs.
	GPUsPerNode = Int{Name: "gpu.count", Min: 1, Max: MaxGPUsPerNode, What: "the most GPUs one node may have"}
	// GPUMemoryGiB bounds gpu.memory_gib. The largest GPU memory sold is
	// 288 GB of HBM3e (NVIDIA B300, AMD Instinct MI355X, vendor data
	// sheets, 2025); 1 TiB leaves room, and 1 TiB × 64 GPUs × 100,000
	// nodes of one group still fits int64 bytes.
	GPUMemoryGiB = Float{Name: "gpu.memory_gib", Min: 1, Max: 1024, What: "the most memory one GPU may have, in GiB"}
	// PricePerHour bounds price_per_hour and price_overrides, USD per
	// node-hour. The dearest catalog node lists below USD 100 per hour
	// (AWS p5/p5e on-demand); at USD 10,000 × 100,000 nodes × 10,000 groups
	// the monthly cost in cents still fits int64.
	PricePerHour = Float{Name: "price_per_hour", Min: 0, Max: 10_000, What: "the highest price of one node, USD per hour"}
	// NodeGroups bounds the node groups of one pool: the plan-time
	// benchmark measures re-plans of 2,000 groups.
	NodeGroups = Int{Name: "node_groups", Min: 1, Max: 2_000, What: "the most node groups one pool may have"}
)

// Quotas.
var (
	// QuotaLimit bounds a quota's limit, in vCPUs or GPUs. Cloud quotas
	// run to thousands of vCPUs per family and region; a billion leaves
	// room, and a billion × 2,000 groups still fits int64.
	QuotaLimit = Int{Name: "limit", Min: 0, Max: 1_000_000_000, What: "the largest quota mcllm plans for"}
	// QuotaPerNode bounds what one node counts against a quota: the
	// largest catalog node has 224 vCPUs (GCP a3-ultragpu-8g, a4-highgpu-8g).
	QuotaPerNode = Int{Name: "per_node", Min: 1, Max: 100_000, What: "the most a node may count against a quota"}
)

// Pool and provider settings.
var (
	// MaxMoves bounds max_moves: a rebalance moves at most every replica.
	MaxMoves = Int{Name: "max_moves", Min: 0, Max: PoolReplicas.Max, What: "the most replicas of all models of one pool"}
	// TransferHorizon bounds transfer_horizon_hours: from an hour to a
	// century (876,000 hours).
	TransferHorizon = Float{Name: "transfer_horizon_hours", Min: 1, Max: 876_000, What: "a century of hours"}
	// EgressPrice bounds egress_prices, USD per GB: cloud list prices are
	// USD 0.01 to 0.20 (each cloud's bandwidth pricing page).
	EgressPrice = Float{Name: "egress_prices", Min: 0, Max: 1000, What: "the highest price of a GB transferred"}
)

// Model shards.
var (
	// Replicas bounds a model's replicas, given or computed by autoscaling:
	// one replica per node of a group at its largest.
	Replicas = Int{Name: "replicas", Min: 0, Max: 100_000, What: "the most replicas of one model"}
	// Models bounds the model shards of one pool: the benchmark's
	// scale-50k fleet has 11,067 (docs/BENCHMARKS.md).
	Models = Int{Name: "model_shards", Min: 0, Max: 20_000, What: "the most model shards one pool may have"}
	// PoolReplicas bounds the replicas of all models of one pool: twice the
	// benchmark's largest fleet (50,000); the CLI alone takes about 10 s
	// to re-plan 5,000 (docs/BENCHMARKS.md).
	PoolReplicas = Int{Name: "replicas", Min: 0, Max: 100_000, What: "the most replicas of all models of one pool"}
	// ModelGroupPairs and ReplicaGroupPairs bound the planner's work, which
	// grows with model shards × node groups and replicas × node groups
	// when every group can hold every model. Measured on two shared cores
	// (issue 12), identical groups: 500 shards × 1,000 groups plan in
	// 13–18 s, 2,000 × 2,000 in more than 6 minutes; 100,000 replicas on
	// 2,000 groups in 59 s, on 10,000 groups in 6 minutes. The benchmark's
	// scale-50k fleet has 575,484 and 2,600,000 of them.
	ModelGroupPairs   = Int{Name: "model_shards", Min: 0, Max: 1_000_000, What: "the most model shards × node groups one pool may plan"}
	ReplicaGroupPairs = Int{Name: "model_shards", Min: 0, Max: 100_000_000, What: "the most replicas × node groups one pool may plan"}
	// ContextTokens bounds max_context_tokens (the shard's and a custom
	// architecture's): the longest context published is 10M tokens
	// (Llama 4 Scout, Meta's model card, 2025).
	ContextTokens = Int{Name: "max_context_tokens", Min: 1, Max: 1 << 24, What: "the longest context mcllm plans for"}
	// Concurrency bounds max_concurrent_sequences, far above any engine's
	// batch (vLLM's default max_num_seqs is 256).
	Concurrency = Int{Name: "max_concurrent_sequences", Min: 1, Max: 1 << 20, What: "the most sequences one replica may hold"}
	// BatchedTokens bounds engine.max_num_batched_tokens, far above any
	// profile batch (vLLM's defaults are 2,048 to 16,384).
	BatchedTokens = Int{Name: "max_num_batched_tokens", Min: 1, Max: 1 << 22, What: "the largest scheduler step mcllm plans for"}
	// EnginesPerGPU bounds gpu_sharing.engines_per_gpu: the device
	// plugin's time-slicing replicas; beyond 16 engines a GPU's memory
	// holds little each.
	EnginesPerGPU = Int{Name: "engines_per_gpu", Min: 2, Max: 16, What: "the most engines mcllm lets share one GPU"}
	// MaxEnginesPerGPU bounds gpu_sharing.max_engines_per_gpu: the
	// smallest block of a GPU's memory an engine takes is 1/16 of it.
	MaxEnginesPerGPU = Int{Name: "max_engines_per_gpu", Min: 2, Max: 16, What: "the most engines mcllm lets share one GPU"}
	// LoRAs bounds vLLM --max-loras: adapters resident on a GPU at once.
	// Each slot pre-allocates buffers for every layer; deployments run a
	// handful to a few dozen (vLLM docs, "LoRA Adapters").
	LoRAs = Int{Name: "max_loras", Min: 0, Max: 1024, What: "the most LoRA adapters mcllm plans per replica"}
	// TensorParallel bounds tensor_parallel: a tensor-parallel group stays
	// inside one node.
	TensorParallel = Int{Name: "tensor_parallel", Min: 1, Max: GPUsPerNode.Max, What: "the most GPUs one node may have"}
	// PipelineParallel bounds pipeline_parallel: at most one stage per
	// layer (it is also at most the model's layers).
	PipelineParallel = Int{Name: "pipeline_parallel", Min: 1, Max: 1024, What: "the most layers a model may have"}
	// Priority bounds priority.
	Priority = Int{Name: "priority", Min: -1_000_000, Max: 1_000_000, What: "the range of priorities"}
	// Domains bounds spread.min_domains, on_demand_floor and
	// min_replicas_on_failure, which count replicas or domains of them.
	Domains = Int{Name: "min_domains", Min: 0, Max: Replicas.Max, What: "the most replicas of one model"}
	// ReplicaBound bounds autoscaling's min_replicas and max_replicas.
	ReplicaBound = Int{Name: "max_replicas", Min: 0, Max: Replicas.Max, What: "the most replicas of one model"}
	// Load bounds autoscaling's target_load and load_per_replica, in any
	// unit: 10^15 tokens per second is far beyond any fleet.
	Load = Float{Name: "target_load", Min: 0, Max: 1e15, What: "the largest load mcllm plans for"}
	// LoadPerReplica bounds load_per_replica, which divides the target.
	LoadPerReplica = Float{Name: "load_per_replica", Min: 0, Max: 1e15, MinExclusive: true, What: "the largest load mcllm plans for"}
)

// A custom architecture. The largest published models have 126 layers and
// a hidden size of 16,384 (Llama 3.1 405B, config.json), 384 experts
// (Kimi K2, config.json) and vocabularies of 262,144 tokens (Gemma 3,
// config.json); each bound is several times that, and together they keep
// the parameter count within int64.
var (
	Layers           = Int{Name: "layers", Min: 1, Max: PipelineParallel.Max, What: "the most layers a model may have"}
	HiddenSize       = Int{Name: "hidden_size", Min: 1, Max: 1 << 17, What: "the largest hidden size mcllm plans for"}
	AttentionHeads   = Int{Name: "attention_heads", Min: 1, Max: 4096, What: "the most attention heads mcllm plans for"}
	KVHeads          = Int{Name: "kv_heads", Min: 1, Max: 4096, What: "the most attention heads mcllm plans for"}
	HeadDim          = Int{Name: "head_dim", Min: 1, Max: 2048, What: "the largest head dimension mcllm plans for"}
	VocabSize        = Int{Name: "vocab_size", Min: 1, Max: 1 << 24, What: "the largest vocabulary mcllm plans for"}
	IntermediateSize = Int{Name: "intermediate_size", Min: 1, Max: 1 << 20, What: "the widest MLP mcllm plans for"}
	ArchContext      = Int{Name: "max_context_tokens", Min: 1, Max: ContextTokens.Max, What: "the longest context mcllm plans for"}
	Experts          = Int{Name: "experts", Min: 0, Max: 4096, What: "the most experts mcllm plans for"}
	ActiveExperts    = Int{Name: "active_experts", Min: 0, Max: 4096, What: "the most experts mcllm plans for"}
	MoEIntermediate  = Int{Name: "moe_intermediate_size", Min: 0, Max: 1 << 20, What: "the widest MLP mcllm plans for"}
	// Parameters bounds a model's total parameters, computed from the
	// fields above: 100 trillion, a hundred times the largest open model
	// (Kimi K2, 1.04 trillion).
	Parameters = Int{Name: "parameters", Min: 1, Max: 100_000_000_000_000, What: "the most parameters mcllm plans for"}
	// ReplicaBytes bounds the weights plus KV cache of one replica: 1 PiB,
	// far beyond the memory of any single serving deployment.
	ReplicaBytes = Int{Name: "memory", Min: 0, Max: 1 << 50, What: "the most memory one replica may need, 1 PiB"}
)

// Named is the same range for another attribute.
func (l Int) Named(name string) Int { l.Name = name; return l }

// Named is the same range for another attribute.
func (l Float) Named(name string) Float { l.Name = name; return l }
