package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/limits"
)

func computedInt(desc string) schema.Attribute {
	return schema.Int64Attribute{Computed: true, MarkdownDescription: desc}
}
func computedFloat(desc string) schema.Attribute {
	return schema.Float64Attribute{Computed: true, MarkdownDescription: desc}
}
func computedStr(desc string) schema.Attribute {
	return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
}

func stageAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"node": computedInt("Node index within the node group, from 0."),
		"gpus": schema.ListAttribute{Computed: true, ElementType: types.Int64Type, MarkdownDescription: "GPU indices on that node."},
	}
}

func placementAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"node_group":    computedStr("Node group the replica runs on."),
		"cloud":         computedStr("Cloud of the node group."),
		"region":        computedStr("Region of the node group."),
		"instance_type": computedStr("Instance type of the node group (null for a custom GPU spec without one)."),
		"gpu_model":     computedStr("GPU model."),
		"capacity_type": computedStr("`on-demand` or `spot`."),
		"node":          computedInt("Node index of the first (or only) pipeline stage."),
		"gpus":          schema.ListAttribute{Computed: true, ElementType: types.Int64Type, MarkdownDescription: "GPU indices of the first (or only) pipeline stage."},
		"stages": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "The stages of a pipeline (`pipeline_parallel` > 1), each with its node and GPUs: on one node when the tensor degree " +
			"leaves room for several (one pod), across nodes otherwise (a LeaderWorkerSet); " +
			"null for a single-stage replica, whose node and GPUs are `node` and `gpus` (each number per replica costs the CLI time " +
			"at thousands of replicas).", NestedObject: schema.NestedAttributeObject{Attributes: stageAttributes()}},
		"tensor_parallel":      computedInt("Tensor-parallel degree (GPUs per stage, inside one node)."),
		"pipeline_parallel":    computedInt("Pipeline-parallel degree (stages, on nodes of the same group)."),
		"memory_per_gpu_bytes": computedInt("Memory the replica needs on its most loaded GPU (weights, KV cache, runtime overhead), bytes."),
		"usable_memory_bytes": computedInt("Memory of each GPU the serving engine may use, as the placement assumes: " +
			"`gpu_memory_bytes` × the `gpu_memory_utilization` in force, rounded down, bytes. `engine_args` passes " +
			"`--gpu-memory-utilization` as their ratio to four decimals (the utilization itself; `memory_profiles` has it too). " +
			"Whole bytes, not a fraction: at thousands of replicas each fractional number per entry costs the CLI seconds."),
		"gpu_memory_bytes": computedInt("Memory of one GPU as the serving engine sees it (CUDA's total), bytes."),
		"memory_profile":   computedStr("Key of the replica's entry in `memory_profiles`: its memory as the engine counts it."),
	}
}

// memoryProfileAttributes describe the memory of a model's replicas on one
// node group at one parallel layout. Replicas share it, so the figures are
// written once per layout rather than per replica: at thousands of
// replicas each fractional number in the placement costs the CLI seconds.
func memoryProfileAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"model":                  computedStr("The model shard."),
		"node_group":             computedStr("The node group."),
		"tensor_parallel":        computedInt("Tensor-parallel degree."),
		"pipeline_parallel":      computedInt("Pipeline-parallel degree."),
		"replicas":               computedInt("Replicas placed with this profile."),
		"gpu_memory_gib":         computedFloat("Memory of one GPU as the serving engine sees it (CUDA's total), GiB."),
		"gpu_memory_utilization": computedFloat("Share of it the engine may use (vLLM `--gpu-memory-utilization`)."),
		"memory_per_gpu_gib":     computedFloat("Memory a replica needs on its most loaded GPU: weights, KV cache and runtime overhead."),
		"weights_gib":            computedFloat("Weights of the stage, split over the tensor-parallel group."),
		"lora_gib":               computedFloat("LoRA adapter buffers of the stage (`engine.max_loras` at `max_lora_rank`), allocated with the weights; 0 without LoRA."),
		"kv_cache_gib":           computedFloat("The KV cache the plan reserves: `max_concurrent_sequences` full-context sequences."),
		"activation_gib":         computedFloat("Activation peak of the engine's profile run (forward pass or dummy sampler, the larger)."),
		"non_torch_gib":          computedFloat("Non-torch memory the profiler charges (allocator pools, NCCL where the release charges it)."),
		"cuda_graph_gib":         computedFloat("CUDA-graph memory that does not fit above the utilisation line; 0 with `enforce_eager`."),
		"kv_capacity_gib": computedFloat("KV cache the engine's profiler would find room for (usable − weights − activation − " +
			"non-torch): vLLM's \"Available KV cache memory\"."),
		"max_num_batched_tokens": computedInt("The profile batch the estimate assumed (passed as `--max-num-batched-tokens`)."),
		"engine_version":         computedStr("The vLLM release whose profiler the figures follow."),
	}
}

func nodeGroupAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"cloud": schema.StringAttribute{Required: true,
			MarkdownDescription: "`aws`, `azure`, `gcp`, or `custom` for hardware the catalog does not know.",
			Validators:          []validator.String{stringvalidator.OneOf(catalog.Clouds()...)}},
		"region": schema.StringAttribute{Required: true, MarkdownDescription: "Region (or, for `custom`, any location name)."},
		"instance_type": schema.StringAttribute{Optional: true,
			MarkdownDescription: "Catalog instance type of the cloud, for example `p5.48xlarge` (see `mcllm_gpu_instance_types`). Required unless `gpu` describes the hardware."},
		"gpu": schema.SingleNestedAttribute{Optional: true,
			MarkdownDescription: "A custom GPU node instead of a catalog instance type.",
			Attributes: map[string]schema.Attribute{
				"model": schema.StringAttribute{Required: true, MarkdownDescription: "GPU model name, matched by `constraints.gpu_models`."},
				"count": schema.Int64Attribute{Required: true, MarkdownDescription: withLimit("GPUs per node.", limits.GPUsPerNode),
					Validators: []validator.Int64{intLimit{limits.GPUsPerNode}}},
				"memory_gib": schema.Float64Attribute{Required: true,
					MarkdownDescription: withLimit("Memory per GPU a serving runtime sees (CUDA's total), GiB; for example 79.1 for an 80 GB card.", limits.GPUMemoryGiB),
					Validators:          []validator.Float64{floatLimit{limits.GPUMemoryGiB}}},
			}},
		"min_nodes": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(0),
			MarkdownDescription: withLimit("Nodes the group keeps even when empty; they are filled first. Defaults to 0.", limits.MinNodes),
			Validators:          []validator.Int64{intLimit{limits.MinNodes}}},
		"max_nodes": schema.Int64Attribute{Required: true, MarkdownDescription: withLimit("Most nodes the group may grow to.", limits.NodesPerGroup),
			Validators: []validator.Int64{intLimit{limits.NodesPerGroup}}},
		"capacity_type": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(planner.CapacityOnDemand),
			MarkdownDescription: "`on-demand` (default) or `spot`.",
			Validators:          []validator.String{stringvalidator.OneOf(planner.CapacityOnDemand, planner.CapacitySpot)}},
		"labels": schema.MapAttribute{Optional: true, ElementType: types.StringType,
			MarkdownDescription: "Labels that `constraints.labels` of a model can require."},
		"price_per_hour": schema.Float64Attribute{Optional: true,
			MarkdownDescription: withLimit("Price of one node in USD per hour; overrides the provider's `price_overrides` and the catalog. "+
				"Required when neither knows a price. 0 is free or already-paid capacity.", limits.PricePerHour),
			Validators: []validator.Float64{floatLimit{limits.PricePerHour}}},
		"confidential": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
			MarkdownDescription: "Whether the nodes offer confidential computing. Defaults to false."},
		"fast_network": schema.BoolAttribute{Optional: true,
			MarkdownDescription: "Whether the nodes talk over an OS-bypass fabric (EFA, InfiniBand, GPUDirect-TCPX, RoCE), so that a " +
				"replica's pipeline stages may span them. Omitted: the catalog's `network_fabric` of the instance type decides " +
				"(every fabric but `ethernet`); a custom group without it is plain Ethernet. Set it when the group's nodes have " +
				"a fabric the catalog does not know of, or to keep pipelines inside nodes."},
		"taints": schema.ListNestedAttribute{Optional: true,
			MarkdownDescription: "Taints of the group's nodes. The hand-off passes them on in `node_group_specs`, and the rendered workloads tolerate them.",
			NestedObject:        schema.NestedAttributeObject{Attributes: taintAttributes(false)}},
		"reservation": reservationAttribute(),
		"gpu_sharing": gpuSharingAttribute(),
	}
}

func poolSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "GPU supply and the placement of model deployments on it, computed at plan time. Declare node " +
			"groups on any cloud and pass the `demand` of each `mcllm_model_shard`; the plan shows, per replica, the node " +
			"group, node and GPUs it runs on, how many nodes each group needs, and what the fleet costs per hour. A " +
			"replica keeps its place across plans unless that place became infeasible or `rebalance` is asked for.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The pool's name.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"name": schema.StringAttribute{Required: true, MarkdownDescription: "Name of the pool."},
			"node_groups": schema.MapNestedAttribute{Required: true,
				MarkdownDescription: "Node groups keyed by a name of your choice, which placements refer to.",
				NestedObject:        schema.NestedAttributeObject{Attributes: nodeGroupAttributes()}},
			"model_shards": schema.ListNestedAttribute{Required: true,
				MarkdownDescription: "The deployments to place: usually `[mcllm_model_shard.x.demand, …]`. Order does not matter; names must be unique.",
				NestedObject:        schema.NestedAttributeObject{Attributes: demandAttributes(modeElement)}},
			"quotas": schema.MapNestedAttribute{Optional: true,
				MarkdownDescription: "Quotas the clouds set on the account, keyed by a name of your choice (the quota's code, say), " +
					"which explanations name. Each counts the node groups of its cloud and region (and family and capacity type, " +
					"when set); the plan keeps Σ nodes × vCPUs (or GPUs) per node within its `limit`, and a model that does not fit " +
					"because of one is explained with the quota, how much it asked and the raise that fixes it.",
				NestedObject: schema.NestedAttributeObject{Attributes: quotaAttributes()}},
			"quota_usage": schema.MapNestedAttribute{Computed: true,
				MarkdownDescription: "Per quota, keyed like `quotas`: what the planned node counts use of it, and the node groups it counts.",
				NestedObject:        schema.NestedAttributeObject{Attributes: quotaUsageAttributes()}},
			"strategy": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(string(planner.StrategyCost)),
				MarkdownDescription: "`cost` (default): cheapest fleet; `binpack`: fewest nodes; `spread`: each model over as many clouds as evenly as possible, then cheapest.",
				Validators:          []validator.String{stringvalidator.OneOf(string(planner.StrategyCost), string(planner.StrategyBinpack), string(planner.StrategySpread))}},
			"rebalance": schema.StringAttribute{Optional: true,
				MarkdownDescription: "A rebalance trigger. Changing its value (for example to today's date) lets that plan move up to " +
					"`max_moves` replicas whose place is still feasible, when that improves the strategy's objective; later plans " +
					"with the same value keep every replica where it is."},
			"max_moves": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(0),
				MarkdownDescription: withLimit("Most replicas whose place is still feasible that one plan may move: a change of `rebalance` to lower the objective, and any plan to make room for demand that the replicas kept from the last plan block and a fresh plan would place (a preemption: the fewest such replicas move, each listed in a warning with the replicas it makes room for). When more are needed, the plan says how many. Defaults to 0.", limits.MaxMoves),
				Validators:          []validator.Int64{intLimit{limits.MaxMoves}}},
			"allow_partial": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "When capacity is short, place what fits (higher `priority` first), warn, and list the rest in `unplaced` instead of failing the plan."},
			"gpu_memory_utilization": schema.Float64Attribute{Optional: true,
				MarkdownDescription: "Overrides the provider's `gpu_memory_utilization` for this pool.",
				Validators:          []validator.Float64{float64validator.Between(0, 1)}},
			"transfer_horizon_hours": schema.Float64Attribute{Optional: true,
				MarkdownDescription: "Hours over which the `cost` strategy spreads the one-time transfer of a model's weights from its " +
					"`weights_source` when it compares node groups: a replica's transfer cost ÷ this horizon is added to its hourly " +
					"cost. Defaults to 730 (a month). " + limits.TransferHorizon.Doc(),
				Validators: []validator.Float64{floatLimit{limits.TransferHorizon}}},
			"data_transfer": schema.MapNestedAttribute{Computed: true,
				MarkdownDescription: "Per replica of a model with a `weights_source`, keyed like `placement`: the one-time pull of its " +
					"weights to its node group.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"from":  computedStr("Where the weights are, `<cloud>/<region>`."),
					"kind":  computedStr("`none` (same region), `inter_region` (same cloud) or `internet` (another cloud)."),
					"bytes": computedInt("Bytes pulled: the model's weights at its precision."),
					"gb":    computedFloat("The same in decimal GB, as clouds bill it."),
					"cost_usd": computedFloat("One-time cost at the source cloud's price per GB (see the provider's `egress_prices`); " +
						"null when no price is known for that transfer."),
				}}},
			"kubernetes": kubernetesSettingsAttribute(),
			"node_group_specs": schema.MapNestedAttribute{Computed: true,
				MarkdownDescription: "Per node group, what the cloud's node-group resource takes: the size the placement needs and the " +
					"settings, generic and as EKS, GKE or AKS spell them. Known at plan time.",
				NestedObject: schema.NestedAttributeObject{Attributes: nodeGroupSpecAttributes()}},
			"placement": schema.MapNestedAttribute{Computed: true,
				MarkdownDescription: "Where every replica runs, keyed `<model>/<replica>`. Known at plan time.",
				NestedObject:        schema.NestedAttributeObject{Attributes: placementAttributes()}},
			"memory_profiles": schema.MapNestedAttribute{Computed: true,
				MarkdownDescription: "The memory of each model's replicas on each node group and parallel layout they use, as the " +
					"engine's start-up profiler counts it on the most loaded GPU (see the memory guide), keyed " +
					"`<model>/<node_group>/tp<t>-pp<p>`; each placement entry names its own in `memory_profile`. Known at plan time.",
				NestedObject: schema.NestedAttributeObject{Attributes: memoryProfileAttributes()}},
			"node_group_sizes": schema.MapAttribute{Computed: true, ElementType: types.Int64Type,
				MarkdownDescription: "Nodes each node group must be scaled to, within its `min_nodes` and `max_nodes`."},
			"cost": schema.SingleNestedAttribute{Computed: true, MarkdownDescription: "Cost in USD.",
				Attributes: map[string]schema.Attribute{
					"total_per_hour":  computedFloat("Whole fleet, per hour."),
					"total_per_month": computedFloat("Whole fleet, per month of 730 hours."),
					"per_cloud": schema.MapAttribute{Computed: true, ElementType: types.Float64Type,
						MarkdownDescription: "Per cloud, per hour."},
					"on_demand_per_hour":     computedFloat("On-demand node groups, per hour, beyond their reserved nodes."),
					"spot_per_hour":          computedFloat("Spot node groups, per hour (at the prices configured for them), beyond their reserved nodes."),
					"reserved_per_hour":      computedFloat("Reserved nodes (`reservation`), per hour at their committed price, used or idle."),
					"reserved_idle_per_hour": computedFloat("The part of `reserved_per_hour` paid for reserved nodes the plan leaves empty."),
					"per_model": schema.MapAttribute{Computed: true, ElementType: types.Float64Type,
						MarkdownDescription: "Per model: each node's price shared among the models on it by GPUs used."},
					"per_node_group": schema.MapAttribute{Computed: true, ElementType: types.Float64Type,
						MarkdownDescription: "Per node group: nodes × price."},
					"monthly": schema.SingleNestedAttribute{Computed: true,
						MarkdownDescription: "The same costs per month of 730 hours: per model, per node group, per cloud.",
						Attributes: map[string]schema.Attribute{
							"per_model":      schema.MapAttribute{Computed: true, ElementType: types.Float64Type, MarkdownDescription: "Per model."},
							"per_node_group": schema.MapAttribute{Computed: true, ElementType: types.Float64Type, MarkdownDescription: "Per node group."},
							"per_cloud":      schema.MapAttribute{Computed: true, ElementType: types.Float64Type, MarkdownDescription: "Per cloud."},
						}},
					"transfer_one_time": computedFloat("One-time transfer of the replicas' weights from their `weights_source`: the sum of " +
						"the priced entries of `data_transfer`."),
				}},
			"utilization": schema.MapNestedAttribute{Computed: true, MarkdownDescription: "Per node group: GPUs and memory in use.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"nodes":                  computedInt("Nodes of the group."),
					"used_gpus":              computedInt("GPUs holding a replica; on a group with `gpu_sharing`, its shares (MIG instances, time-sliced engines, memory blocks' slots)."),
					"total_gpus":             computedInt("GPUs of the group's nodes; on a group with `gpu_sharing`, its shares, counted as `used_gpus` counts them."),
					"gpu_memory_utilization": computedFloat("Memory placed over the usable memory of the group's GPUs, 0 to 1."),
					"reserved_used":          computedInt("Reserved nodes the plan uses."),
					"reserved_idle":          computedInt("Reserved nodes the plan leaves empty: paid and unused."),
				}}},
			"failure_domains": schema.MapNestedAttribute{Computed: true,
				MarkdownDescription: "Per model: the replicas left after losing each single cloud and each single region of the fleet, and the worst such loss.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"placed":         computedInt("Replicas placed."),
					"worst_kind":     computedStr("`cloud` or `region`: the kind of the worst loss."),
					"worst_domain":   computedStr("The cloud (or `<cloud>/<region>`) whose loss leaves the fewest replicas."),
					"worst_replicas": computedInt("Replicas left after the worst loss."),
					"worst_fraction": computedFloat("`worst_replicas` / `placed`."),
					"after_losing_cloud": schema.MapAttribute{Computed: true, ElementType: types.Int64Type,
						MarkdownDescription: "Replicas left after losing each cloud of the fleet."},
					"after_losing_region": schema.MapAttribute{Computed: true, ElementType: types.Int64Type,
						MarkdownDescription: "Replicas left after losing each region of the fleet, keyed `<cloud>/<region>`."},
				}}},
			"traffic_weights": schema.MapAttribute{Computed: true, ElementType: types.MapType{ElemType: types.Int64Type},
				MarkdownDescription: "Per model, integer weights per cloud that sum to 100, proportional to the replicas placed there: " +
					"the largest-remainder rounding of the shares, exact where a share is a whole percent (1:3 is 25/75), 0 exactly where " +
					"the model has no replica, and at least 1 where it has one. Ready for weighted DNS or load-balancer weights."},
			"traffic_weights_by_region": schema.MapAttribute{Computed: true, ElementType: types.MapType{ElemType: types.Int64Type},
				MarkdownDescription: "As `traffic_weights`, per region keyed `<cloud>/<region>`."},
			"unplaced": schema.MapNestedAttribute{Computed: true,
				MarkdownDescription: "Models with replicas left out under `allow_partial`, keyed by model name; empty when everything is placed.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"replicas": schema.ListAttribute{Computed: true, ElementType: types.Int64Type, MarkdownDescription: "Replica numbers left out."},
					"reason":   computedStr("Why, filter by filter."),
					"remedies": schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "Changes that would let them fit."},
				}}},
		},
	}
}

// PoolSchema is mcllm_inference_pool's schema, for the plan-time benchmark's
// yardstick provider (cmd/terraform-provider-minimal), which serves the same
// values without computing anything.
func PoolSchema() schema.Schema { return poolSchema() }

// ShardSchema is mcllm_model_shard's schema, for the same yardstick.
func ShardSchema() schema.Schema {
	var resp resource.SchemaResponse
	(&modelShardResource{}).Schema(context.Background(), resource.SchemaRequest{}, &resp)
	return resp.Schema
}
