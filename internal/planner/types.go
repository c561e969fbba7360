// Package planner decides where every replica of every model runs: which
// node group, which node, which GPUs, at which tensor / pipeline degree; how
// many nodes each group needs; what it costs; and, for what cannot be placed,
// why and what would fix it. It is pure Go: it knows nothing of Terraform.
//
// The pipeline follows Nomad's scheduler and kube-scheduler; Plan (plan.go)
// reads as it, each stage in its file:
//
//	validate      validate.go     every bad input, with its field
//	filter        filter.go       options per model and group: the static
//	                              filters and the degrees a replica runs at
//	keep          stability.go    previous replicas that still fit stay put
//	assign        assign.go       greedy, by priority, one replica at a time
//	improve       search.go       local search: moves, swaps, re-packs, kicks
//	bind          bind.go         concrete nodes and GPU indices (pack.go)
//	explain       explain.go      why the rest is unplaced, what would fix it
//	settle        plan.go         re-plan until a fixed point
//	preempt       preempt.go      move the fewest kept replicas (max_moves)
//	                              that block demand a fresh plan places
//	rebalance     rebalance.go    move up to max_moves replicas when cheaper
//
// Every stage from keep to improve works on one state, the assignment
// (state.go): replica counts per model and option, node counts per group
// (occupancy.go), and the constraints, each a plugin in its file that owns
// its state, its refusals and its messages — constraint_capacity.go
// (max_nodes), constraint_spread.go (max_share, min_domains, failure
// tolerance), constraint_spot.go (on-demand floor), constraint_isolation.go
// (tenants, dedicated models), constraint_exclusive.go (spread across node),
// constraint_quota.go (cloud quotas over several groups).
// Passes change the assignment only through try / apply / undo, and compare
// plans only with the objective (objective.go), rebalance included.
package planner

import (
	"math"

	"github.com/hashicorp/go-hclog"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// Strategy is what the planner minimises.
type Strategy string

// Strategies.
const (
	// StrategyCost minimises the fleet's hourly cost (then nodes).
	StrategyCost Strategy = "cost"
	// StrategyBinpack minimises the number of nodes (then cost).
	StrategyBinpack Strategy = "binpack"
	// StrategySpread spreads every model's replicas as evenly as it can over
	// clouds (then minimises cost).
	StrategySpread Strategy = "spread"
)

// Capacity types.
const (
	CapacityOnDemand = "on-demand"
	CapacitySpot     = "spot"
)

// Spread domains.
const (
	SpreadCloud  = "cloud"
	SpreadRegion = "region"
	SpreadNode   = "node"
)

// NodeGroup is GPU supply: up to MaxNodes identical nodes.
type NodeGroup struct {
	Name        string
	Cloud       string
	Region      string
	GPUModel    string
	GPUsPerNode int
	// GPUMemoryBytes is the runtime-visible memory of one GPU.
	GPUMemoryBytes int64
	// Utilization is the share of GPUMemoryBytes a serving engine may use.
	Utilization float64
	// PricePerHour is the cost of one node in USD per hour (0 for owned
	// hardware).
	PricePerHour float64
	MinNodes     int
	MaxNodes     int
	CapacityType string
	Labels       map[string]string
	Confidential bool
	// FastNetwork: the nodes talk over an OS-bypass fabric (EFA,
	// InfiniBand, GPUDirect-TCPX, RoCE), so a replica's pipeline stages may
	// span them.
	FastNetwork bool
	// Reserved is nodes already paid for — a capacity reservation, a
	// capacity block, a committed-use discount — at ReservedPrice each per
	// hour, whether they run replicas or not; nodes beyond them cost
	// PricePerHour (CostAt).
	Reserved      int
	ReservedPrice float64
	// Sharing, when set, makes the group's GPUs shares of physical GPUs
	// (GPUsPerNode counts the shares): MIG instances or time-sliced
	// shares, each holding one replica at tensor and pipeline degree 1, of
	// models that allow it (ModelDemand.ShareGPU).
	Sharing *GPUSharing
	// Layouts, on a group without Sharing, are the sharings the planner
	// may choose one of for the whole group (Plan, layout.go): a managed
	// node group labels all its nodes alike, so one MIG layout each.
	Layouts []Layout
	// relaid, set while a layout other than the previous one is tried,
	// says why replicas of the last plan cannot stay on the group.
	relaid string
}

// Layout is one sharing a group may take: GPUSharing, and for MIG the
// memory of one instance (NodeGroup.Shared).
type Layout struct {
	Sharing  GPUSharing
	MIGBytes int64
	// Previous marks the layout the group had in the last plan: under
	// another, its replicas from then cannot stay (its nodes are
	// partitioned again).
	Previous bool
}

// GPUSharing is how the physical GPUs of a group are shared.
type GPUSharing struct {
	// MIGProfile is the MIG instance every share is (uniform layout
	// "all-<profile>"), GPUMemoryBytes its memory; "" for time-slicing,
	// where each share is an engine on the whole GPU with Utilization its
	// part of the GPU (Shared).
	MIGProfile string
	// MIGLayout names a mixed MIG layout (the nvidia.com/mig.config value,
	// all-balanced), whose Instances partition every GPU into profiles of
	// several sizes. A share is then one of the GPU's 8 memory slices
	// (PerGPU 8), and a replica takes one instance whole: the smallest
	// free one that holds it (Partitioned).
	MIGLayout string
	Instances []MIGInstance
	// PerGPU is the shares of one physical GPU.
	PerGPU int
	// Fractional makes the time-sliced shares slots of a GPU's usable
	// memory rather than one engine each: a replica takes an aligned
	// power-of-two block of slots on one GPU, the smallest that holds it
	// (ModelDemand.GPUMemoryFraction may ask more), and its engine's
	// utilization is its shares' (EngineGPU). PerGPU is then a power of
	// two, so that aligned blocks never cross a GPU.
	Fractional bool
}

// MIGInstance is one instance of a GPU under a mixed MIG layout: its
// profile, the memory slices [Offset, Offset+Slots) it occupies, an aligned
// power-of-two block of the GPU's 8, and the memory a process sees in it.
type MIGInstance struct {
	Profile       string
	Offset, Slots int
	Bytes         int64
}

// MIGName is how the sharing's MIG layout is named where a user writes it
// (node_group_specs.mig_profile): the profile of a uniform layout, the
// mixed layout's label value; "" without MIG.
func (s GPUSharing) MIGName() string {
	if s.MIGLayout != "" {
		return s.MIGLayout
	}
	return s.MIGProfile
}

// Shared is group g with its GPUs shared as s: GPUsPerNode counts the
// shares, and for MIG each share has migBytes of memory (what a process
// sees in the instance). Time-sliced shares keep the whole GPU's memory,
// and each share gets 1/PerGPU of the utilization, rounded down to the
// four decimals vLLM takes: --gpu-memory-utilization is a fraction of the
// whole device, and the engines' fractions must sum within it. On a
// Fractional group an engine of k shares gets k of them (EngineGPU). Under a
// mixed MIG layout the shares are memory slices, migBytes is unused, and
// GPUMemoryBytes is a slice's part of the instances' memory (each engine
// sees its instance's, EngineGPU).
func (g NodeGroup) Shared(s GPUSharing, migBytes int64) NodeGroup {
	g.Sharing = &s
	g.GPUsPerNode *= s.PerGPU
	switch {
	case len(s.Instances) > 0: // a slot's part of the instances' memory
		var sum int64
		for _, in := range s.Instances {
			sum += in.Bytes
		}
		g.GPUMemoryBytes = sum / int64(max(s.PerGPU, 1))
	case s.MIGProfile != "":
		g.GPUMemoryBytes = migBytes
	case s.PerGPU > 1:
		g.Utilization = math.Floor(g.Utilization/float64(s.PerGPU)*1e4) / 1e4
	}
	return g
}

// PhysicalGPUs is the GPUs of one node, whatever shares they are split into.
func (g NodeGroup) PhysicalGPUs() int {
	if g.Sharing != nil && g.Sharing.PerGPU > 1 {
		return g.GPUsPerNode / g.Sharing.PerGPU
	}
	return g.GPUsPerNode
}

// TimeSliced reports whether the group's shares are engines time-slicing
// (or MPS-sharing) whole GPUs.
func (g NodeGroup) TimeSliced() bool {
	return g.Sharing != nil && g.Sharing.MIGProfile == "" && g.Sharing.MIGLayout == ""
}

// Partitioned reports whether the group's GPUs are under a mixed MIG
// layout: each replica takes one instance of it whole.
func (g NodeGroup) Partitioned() bool { return g.Sharing != nil && len(g.Sharing.Instances) > 0 }

// InstancesPerNode counts the instances of at least slots memory slices
// on one node of a Partitioned group: what replicas whose block is slots
// or more share.
func (g NodeGroup) InstancesPerNode(slots int) int {
	n := 0
	for _, in := range g.Sharing.Instances {
		if in.Slots >= slots {
			n++
		}
	}
	return n * g.PhysicalGPUs()
}

// MIGInstanceFor is the smallest instance of a Partitioned group's layout
// of at least slots memory slices: the one a block of slots takes; false
// when none is that large.
func (g NodeGroup) MIGInstanceFor(slots int) (MIGInstance, bool) {
	best, ok := MIGInstance{}, false
	for _, in := range g.Sharing.Instances {
		if in.Slots >= slots && (!ok || in.Slots < best.Slots) {
			best, ok = in, true
		}
	}
	return best, ok
}

// Fractional reports whether engines of the group take blocks of a GPU's
// memory of their own size (GPUSharing.Fractional).
func (g NodeGroup) Fractional() bool { return g.Sharing != nil && g.Sharing.Fractional }

// CostAt is the group's cost per hour at n nodes: every reserved node at
// its committed price, used or idle, and the nodes beyond them at the
// group's price. The one cost rule of a group: the objective, the result
// and every report use it.
func (g NodeGroup) CostAt(n int) float64 {
	return float64(g.Reserved)*g.ReservedPrice + float64(max(0, n-g.Reserved))*g.PricePerHour
}

// NodePrice is what node i of the group costs per hour: the committed price
// for the first Reserved nodes (binding fills the lowest nodes first).
func (g NodeGroup) NodePrice(i int) float64 {
	if i < g.Reserved {
		return g.ReservedPrice
	}
	return g.PricePerHour
}

// GPU is the memory a serving engine sees on one GPU (or share) of the
// group; on a time-sliced group, the whole GPU, shared by its engines. On
// a Fractional group it is the engine of one slot (EngineGPU(1)).
func (g NodeGroup) GPU() memory.GPU { return g.EngineGPU(1) }

// EngineGPU is the GPU an engine of slots shares sees: on a Fractional
// group, the whole GPU with slots × a share's utilization (four decimals
// still; SlotUtilization inverts it), and its part of the memory above the
// engines' budgets (memory.GPU.Shares); on a Partitioned group the
// smallest instance of at least slots memory slices; elsewhere GPU,
// whatever slots.
func (g NodeGroup) EngineGPU(slots int) memory.GPU {
	gpu := memory.GPU{VisibleBytes: g.GPUMemoryBytes, Utilization: g.Utilization, Model: g.GPUModel}
	switch {
	case g.Partitioned(): // the instance an engine of slots runs in
		in, _ := g.MIGInstanceFor(max(slots, 1))
		gpu.VisibleBytes = in.Bytes
	case g.Fractional():
		slots = min(max(slots, 1), g.Sharing.PerGPU)
		gpu.Utilization = math.Round(g.Utilization*float64(slots)*1e4) / 1e4
		gpu.Shares = g.Sharing.PerGPU / slots
	case g.TimeSliced():
		gpu.Shares = g.Sharing.PerGPU
	}
	return gpu
}

// SlotUtilization is a Fractional group's share utilization given an
// engine of slots shares at engineUtil (EngineGPU's inverse): what a
// stored placement, which records the engine's, needs to rebuild its group.
func SlotUtilization(engineUtil float64, slots int) float64 {
	return math.Round(engineUtil/float64(max(slots, 1))*1e4) / 1e4
}

// MIGInstanceOf is the profile of the instance replica r is bound to on a
// Partitioned group; "" elsewhere.
func (g NodeGroup) MIGInstanceOf(r Replica) string {
	if !g.Partitioned() || len(r.Stages) == 0 {
		return ""
	}
	in, _ := g.MIGInstanceFor(len(r.Stages[0].GPUs))
	return in.Profile
}

// ReplicaGPU is the GPU replica r's engine sees on the group: on a
// Fractional or Partitioned group, its block's or instance's (the GPUs of
// its one stage).
func (g NodeGroup) ReplicaGPU(r Replica) memory.GPU {
	if (g.Fractional() || g.Partitioned()) && len(r.Stages) > 0 {
		return g.EngineGPU(len(r.Stages[0].GPUs))
	}
	return g.GPU()
}

// Spread constrains how a model's replicas are spread over failure domains.
type Spread struct {
	// Across is "cloud", "region" or "node" ("" for no spread). Across
	// "node" keeps every replica on a node of its own.
	Across string
	// MinDomains is the least number of distinct domains the replicas use.
	MinDomains int
	// MaxShare caps the share of replicas in any one domain, in (0, 1]; 0
	// means no cap. The cap is floor(MaxShare × replicas), at least 1.
	MaxShare float64
}

// ModelDemand is one model deployment to place.
type ModelDemand struct {
	Name string
	// Memory is the model's memory estimate (weights, KV cache, overhead).
	Memory   *memory.Estimate
	Replicas int
	// TensorParallel and PipelineParallel fix the degrees; 0 lets the
	// planner choose per node group.
	TensorParallel   int
	PipelineParallel int
	// Priority: higher is placed first when capacity is short.
	Priority int
	// Allowed clouds, regions and GPU models; empty allows any.
	Clouds    []string
	Regions   []string
	GPUModels []string
	// Labels a node group must carry (all of them, equal values).
	Labels map[string]string
	// Confidential requires confidential-computing node groups.
	Confidential bool
	// ShareGPU lets a replica run on a share of a GPU (a MIG instance or a
	// time-sliced share, NodeGroup.Sharing); off, only on whole GPUs.
	ShareGPU bool
	// GPUMemoryFraction is the least part of a time-sliced GPU's memory a
	// sharing replica's engine gets (its --gpu-memory-utilization), in
	// (0, 1]; 0 for no more than it needs. A Fractional group rounds it up
	// to a block; on equal shares a smaller share excludes the group.
	GPUMemoryFraction float64
	// PipelineOverAnyNetwork lets a replica's pipeline stages span nodes
	// without a fast network; by default they span only FastNetwork groups.
	PipelineOverAnyNetwork bool
	Spread                 Spread
	// MinReplicasOnFailure is how many replicas must remain after losing
	// any one cloud or any one region.
	MinReplicasOnFailure FailureTolerance
	// OnDemandFloor is how many replicas must run on on-demand capacity:
	// at most Replicas − OnDemandFloor may run on spot node groups.
	OnDemandFloor int
	// Isolation says which other models may share a node with this one.
	Isolation Isolation
	// Surcharge is an extra cost per hour of placing one replica on a node
	// group, for every node the replica spans, keyed by group name: for
	// example the one-time transfer of the model's weights to each node,
	// amortised over a horizon. The cost and spread strategies weigh it when
	// they place a replica; kept replicas have paid it already.
	Surcharge map[string]float64
}

// Quota caps what node groups may run at once, the way a cloud's service
// quota does: over the groups it counts, Σ nodes × PerNode[group] ≤ Limit.
// AWS and Azure count the vCPUs of an instance family per region, GCP the
// GPUs of a GPU type per region; the adapter works out which groups a
// quota counts and what one node of each counts, so the planner keeps one
// linear rule for every cloud.
type Quota struct {
	Name string
	// Unit is what the quota counts, for messages: "vCPUs", "GPUs".
	Unit  string
	Limit int
	// PerNode is, per node group name, what one node of it counts.
	PerNode map[string]int
}

// Isolation keeps models apart on nodes, for security. A dedicated model
// shares its nodes with no other model; models of a tenant share nodes only
// with models of the same tenant; the others share among themselves.
type Isolation struct {
	Dedicated bool
	Tenant    string
}

// FailureTolerance is the replicas a model keeps when one domain is lost.
// The planner enforces it as a cap of Replicas − N per domain. A model
// tolerates the loss of clouds or of regions, with a spread over the same
// kind of domain, if any.
type FailureTolerance struct {
	Cloud  int
	Region int
}

func (f FailureTolerance) of(kind string) int {
	switch kind {
	case SpreadCloud:
		return f.Cloud
	case SpreadRegion:
		return f.Region
	}
	return 0
}

// Stage is one pipeline stage of a replica: its node and GPU indices.
type Stage struct {
	Node int
	GPUs []int
}

// Replica is where one replica runs.
type Replica struct {
	Model            string
	Index            int
	NodeGroup        string
	TensorParallel   int
	PipelineParallel int
	// MemoryPerGPU is the replica's need on its most loaded GPU.
	MemoryPerGPU int64
	// Stages holds PipelineParallel stages of TensorParallel GPUs each.
	Stages []Stage
}

// Key is the replica's stable name "<model>/<index>".
func (r Replica) Key() string { return replicaKey(r.Model, r.Index) }

// Request is the planner's whole input.
type Request struct {
	NodeGroups []NodeGroup
	Models     []ModelDemand
	// Previous is the placement of the last plan; replicas whose place is
	// still feasible keep it.
	Previous []Replica
	// Quotas bound the node groups they count, together.
	Quotas   []Quota
	Strategy Strategy
	// Rebalance allows moving feasible replicas to improve the objective,
	// at most MaxMoves of them.
	Rebalance bool
	MaxMoves  int
	// Logger receives the planner's decisions; nil discards them.
	Logger hclog.Logger
}

// GroupResult is the outcome for one node group.
type GroupResult struct {
	Name string
	// Nodes is the size the group must be scaled to.
	Nodes int
	// UsedGPUs and TotalGPUs count GPUs, or on a shared group its shares
	// (MIG instances, engines' slots).
	UsedGPUs    int
	TotalGPUs   int
	CostPerHour float64
	// MemoryUtilization is the memory placed over the usable memory of the
	// group's nodes, in [0, 1].
	MemoryUtilization float64
}

// Move is a replica that changed place against the previous plan.
type Move struct {
	Key    string
	From   Replica
	To     Replica
	Kind   MoveKind
	Reason string
}

// MoveKind says why a replica moved.
type MoveKind string

// The kinds of move.
const (
	// MoveForced: its previous place is no longer feasible.
	MoveForced MoveKind = "forced"
	// MoveRebalance: a rebalance moved it to improve the objective.
	MoveRebalance MoveKind = "rebalance"
	// MovePreemption: it stood in the way of demand that could not be placed
	// while it stayed.
	MovePreemption MoveKind = "preemption"
)

// moveCause is why a previous replica does not keep its place.
type moveCause struct {
	kind   MoveKind
	reason string
}

// Unplaced reports replicas of one model that could not be placed.
type Unplaced struct {
	Model    string
	Replicas []int
	// Reason is the one-line explanation, kube-scheduler style.
	Reason string
	// Filters counts, per filter, the node groups it excluded.
	Filters []FilterCount
	// ShortfallBytes is the per-GPU memory missing on the closest group at
	// its best degree, when memory is what excluded every group.
	ShortfallBytes int64
	// Remedies are concrete changes that would let the replicas fit.
	Remedies []string
	// MovesNeeded is, when moving replicas kept from the last plan would
	// place more of them but takes more moves than max_moves allows, how
	// many moves that takes; 0 otherwise.
	MovesNeeded int
}

// FilterCount is how many node groups (and their nodes) one filter excluded.
type FilterCount struct {
	Filter string
	Groups int
	Nodes  int
}

// Result is the planner's whole output. Every slice is sorted, so that the
// same request yields byte-identical results.
type Result struct {
	Replicas    []Replica
	Groups      []GroupResult
	CostPerHour float64
	// ModelCost apportions each node's cost to the models on it by GPUs used.
	ModelCost map[string]float64
	Moves     []Move
	Unplaced  []Unplaced
	// NodeGroups are the request's node groups as planned: those that
	// offered Layouts with the one chosen.
	NodeGroups []NodeGroup
}

// GroupsByName indexes the request's node groups by name.
func (r Request) GroupsByName() map[string]NodeGroup { return GroupsByName(r.NodeGroups) }

// GroupsByName indexes node groups by name: the one lookup by name outside
// a plan.
func GroupsByName(groups []NodeGroup) map[string]NodeGroup {
	out := make(map[string]NodeGroup, len(groups))
	for _, g := range groups {
		out[g.Name] = g
	}
	return out
}

// ModelsByName indexes the request's models by name.
func (r Request) ModelsByName() map[string]ModelDemand {
	out := make(map[string]ModelDemand, len(r.Models))
	for _, m := range r.Models {
		out[m.Name] = m
	}
	return out
}

// UnplacedReplicas counts the replicas left unplaced, over all models.
func (r *Result) UnplacedReplicas() int {
	n := 0
	for _, u := range r.Unplaced {
		n += len(u.Replicas)
	}
	return n
}
