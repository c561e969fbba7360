package planner

import (
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
	"math/bits"
)

// Filters, in the order they are applied. The names appear in explanations.
const (
	filterCloud        = "cloud"
	filterRegion       = "region"
	filterGPUModel     = "GPU model"
	filterLabels       = "labels"
	filterConfidential = "confidential computing"
	filterNoNodes      = "max_nodes = 0"
	filterDegree       = "tensor parallel degree"
	filterMemory       = "memory per GPU"
	// filterReplicaNodes: memory fits, but a replica spans more nodes
	// than max_nodes allows.
	filterReplicaNodes = "nodes per replica above max_nodes"
	// filterSlowNetwork: memory fits only with pipeline stages across
	// nodes, and the group's network is plain Ethernet.
	filterSlowNetwork = "pipeline across nodes without a fast network"
	// filterShared: the group's GPUs are shares (MIG or time-slicing)
	// and the model does not allow sharing.
	filterShared = "shared GPUs (constraints.share_gpu not set)"
	// filterFraction: the group's time-sliced shares are smaller than the
	// model's constraints.gpu_memory_fraction.
	filterFraction = "GPU memory fraction above the share"
)

// maxPipelineStages bounds the pipeline degree the planner chooses on its own.
const maxPipelineStages = 16

// option is one way a model's replica can run on a node group.
type option struct {
	group            int // index into the plan's groups
	tensor, pipeline int
	// memPerGPU is the replica's need on its most loaded GPU.
	memPerGPU int64
	// surcharge is the strategy's weight of the model's surcharge for one
	// replica on this group.
	surcharge float64
	// unit and units are how binding and the node-count model see the
	// replica: units aligned blocks of unit GPUs (bindUnit), worked out
	// once here rather than on every trial.
	unit, units int
}

// gpus is the GPUs one replica occupies on its nodes.
func (o option) gpus() int { return o.unit * o.units }

// bindUnit is how binding and the node-count model see one replica at
// tensor t × pipeline p on nodes of perNode GPUs: units aligned blocks of
// size GPUs each. A pipeline that fits one node is one block of the next
// power of two at or above t·p, so that its stages stay on one node (as
// they must where the network is not fast) and the count model, which packs
// aligned blocks, sees what binding will do; a pipeline across nodes is its
// p stages of t GPUs.
func bindUnit(t, p, perNode int) (size, units int) {
	if p > 1 && t*p <= perNode {
		if b := 1 << bits.Len(uint(t*p-1)); b <= perNode {
			return b, 1
		}
	}
	return t, p
}

// occupiedGPUs is the GPUs a replica at t × p occupies on nodes of perNode.
func occupiedGPUs(t, p, perNode int) int {
	size, units := bindUnit(t, p, perNode)
	return size * units
}

// filterReport is what the filters found for one model.
type filterReport struct {
	counts map[string]*FilterCount
	// closest is the memory-excluded group and degree that came nearest.
	closest     *memory.PerGPU
	closestName string
	// fewNodes are the groups whose memory holds a replica but whose
	// max_nodes is below the nodes it spans.
	fewNodes []nodeShortfall
}

// nodeShortfall is a group where a replica fits by memory at degrees t × p
// but spans more nodes than the group's max_nodes.
type nodeShortfall struct {
	group, tensor, pipeline, nodes int
}

func (r *filterReport) exclude(filter string, g NodeGroup) {
	c, ok := r.counts[filter]
	if !ok {
		c = &FilterCount{Filter: filter}
		r.counts[filter] = c
	}
	c.Groups++
	c.Nodes += g.MaxNodes
}

// feasibleOptions runs the filters of one model over every group and
// returns, per group that passes, the cheapest way to run a replica there.
// kinds[gi] numbers the GPU of group gi (gpuKinds): groups of one instance
// type in many regions ask the estimate the same questions, answered once.
// memo is reset for the model: one serves every model of a plan.
func feasibleOptions(m ModelDemand, groups []NodeGroup, kinds []int, memo *estimateMemo) ([]option, *filterReport) {
	rep := &filterReport{counts: map[string]*FilterCount{}}
	memo.reset(m.Memory)
	var opts []option
	for gi, g := range groups {
		switch {
		case !allowed(m.Clouds, g.Cloud):
			rep.exclude(filterCloud, g)
		case !allowed(m.Regions, g.Region):
			rep.exclude(filterRegion, g)
		case !allowed(m.GPUModels, g.GPUModel):
			rep.exclude(filterGPUModel, g)
		case !hasLabels(g.Labels, m.Labels):
			rep.exclude(filterLabels, g)
		case m.Confidential && !g.Confidential:
			rep.exclude(filterConfidential, g)
		case g.MaxNodes == 0:
			rep.exclude(filterNoNodes, g)
		case g.Sharing != nil && !m.ShareGPU:
			rep.exclude(filterShared, g)
		case m.TensorParallel > g.GPUsPerNode || (g.Sharing != nil && (m.TensorParallel > 1 || m.PipelineParallel > 1)):
			rep.exclude(filterDegree, g)
		case m.GPUMemoryFraction > 0 && g.TimeSliced() && fractionSlots(g, m.GPUMemoryFraction) == 0:
			rep.exclude(filterFraction, g)
		default:
			at := m
			if g.Sharing != nil { // a share holds a whole replica
				at.TensorParallel, at.PipelineParallel = 1, 1
			}
			o, ok, miss, short, slow := chooseDegrees(at, g, memo, kinds[gi])
			if !ok && slow {
				rep.exclude(filterSlowNetwork, g)
				continue
			}
			if !ok && short.nodes > 0 {
				rep.exclude(filterReplicaNodes, g)
				short.group = gi
				rep.fewNodes = append(rep.fewNodes, short)
				continue
			}
			if !ok {
				rep.exclude(filterMemory, g)
				if miss != nil && (rep.closest == nil || miss.ShortfallBytes() < rep.closest.ShortfallBytes()) {
					rep.closest, rep.closestName = miss, g.Name
				}
				continue
			}
			o.group = gi
			opts = append(opts, o)
		}
	}
	return opts, rep
}

// chooseDegrees picks the degrees a replica runs at on group g: the fewest
// GPUs that fit, tensor parallelism inside a node before pipeline stages
// across nodes (vLLM's practice), honouring degrees the model fixes. When
// nothing fits it returns the nearest memory miss, or, when the memory fits
// but the group has too few nodes for the replica, the fewest nodes a
// replica would span, or (slow) that it fits only with stages across nodes
// the network does not suit.
func chooseDegrees(m ModelDemand, g NodeGroup, memo *estimateMemo, kind int) (o option, ok bool, miss *memory.PerGPU, short nodeShortfall, slow bool) {
	if g.Fractional() || g.Partitioned() {
		o, ok, miss = chooseBlock(m, g, memo, kind)
		return o, ok, miss, nodeShortfall{}, false
	}
	gpu := g.GPU()
	est := m.Memory
	var degrees []int
	switch {
	case m.TensorParallel > 0:
		degrees = []int{m.TensorParallel}
	default:
		degrees = memo.validTensorParallel(g.GPUsPerNode)
	}
	if len(degrees) == 0 {
		return option{}, false, nil, nodeShortfall{}, false
	}
	acrossNodes := g.FastNetwork || m.PipelineOverAnyNetwork
	stages := []int{1}
	if m.PipelineParallel > 0 {
		stages = []int{m.PipelineParallel}
	}
	// The nearest memory miss, kept by value: a pointer to each answer
	// would put every one on the heap.
	var nearest memory.PerGPU
	missed := false
	try := func(t, p int) (option, bool) {
		nodes := replicaNodes(t, p, g.GPUsPerNode)
		if slow && nodes > 1 && !acrossNodes {
			// Already known to fit only across nodes this network cannot
			// carry: all this try could add.
			return option{}, false
		}
		r := memo.perGPU(gpu, kind, t, p)
		switch {
		case r.Fits && nodes > 1 && !acrossNodes:
			slow = true
		case r.Fits && nodes <= g.MaxNodes:
			unit, units := bindUnit(t, p, g.GPUsPerNode)
			return option{tensor: t, pipeline: p, memPerGPU: r.NeedBytes, unit: unit, units: units}, true
		case r.Fits:
			if short.nodes == 0 || nodes < short.nodes {
				short = nodeShortfall{tensor: t, pipeline: p, nodes: nodes}
			}
		case !missed || r.ShortfallBytes() < nearest.ShortfallBytes():
			nearest, missed = r, true
		}
		return option{}, false
	}
	for _, p := range stages {
		for _, t := range degrees {
			if o, ok := try(t, p); ok {
				return o, true, nil, nodeShortfall{}, false
			}
		}
	}
	if m.PipelineParallel > 0 {
		return option{}, false, copyOf(nearest, missed), short, slow
	}
	// Nothing fits one node: split the layers over pipeline stages. The
	// fewest GPUs occupied win — a tensor degree below the node's GPU count
	// can need fewer (a 405B bf16 at t4×p3 = 12 H100 where t8×p2 takes 16),
	// and a pipeline inside a node occupies its aligned block (bindUnit) —
	// then the fewest stages, each of which adds a hop to every token.
	layers := min(maxPipelineStages, est.Arch.Layers)
	var best option
	found := false
	for p := 2; p <= layers; p++ {
		if found && occupiedGPUs(degrees[0], p, g.GPUsPerNode) >= best.gpus() {
			break // every later (t, p) occupies more GPUs
		}
		for _, t := range degrees {
			if found && occupiedGPUs(t, p, g.GPUsPerNode) >= best.gpus() {
				break
			}
			if o, ok := try(t, p); ok {
				best, found = o, true
				break // the smallest t that fits at this p
			}
		}
	}
	if found {
		// A pipeline inside a node whose block has GPUs to spare takes
		// them as more stages, when the layers allow: less memory per GPU,
		// and no GPU of the block left idle.
		if n := best.gpus(); best.tensor*best.pipeline < n && n/best.tensor <= layers {
			if o, ok := try(best.tensor, n/best.tensor); ok {
				best = o
			}
		}
		return best, true, nil, nodeShortfall{}, false
	}
	return option{}, false, copyOf(nearest, missed), short, slow
}

// chooseBlock picks the block of slots a replica of m takes on Fractional
// group g: the smallest power of two that holds it, and at least the
// model's GPU memory fraction; else the nearest miss, on the whole GPU. On
// a Partitioned group the block is the smallest instance of the layout
// that holds it (the nearest miss then on the largest).
func chooseBlock(m ModelDemand, g NodeGroup, memo *estimateMemo, kind int) (option, bool, *memory.PerGPU) {
	var r memory.PerGPU
	for k := max(1, fractionSlots(g, m.GPUMemoryFraction)); k <= g.Sharing.PerGPU; k *= 2 {
		if g.Partitioned() { // the next instance of the layout, whole
			in, ok := g.MIGInstanceFor(k)
			if !ok {
				break
			}
			k = in.Slots
		}
		r = memo.perGPUOf(g.EngineGPU(k), perGPUKey{kind: kind, t: 1, p: 1, slots: k})
		if r.Fits {
			return option{tensor: 1, pipeline: 1, memPerGPU: r.NeedBytes, unit: k, units: 1}, true, nil
		}
	}
	return option{}, false, copyOf(r, true)
}

// fractionSlots is the fewest slots whose engine gets at least fraction of
// a time-sliced group's GPU: a power of two on a Fractional group, where a
// replica's block is; 1 on equal shares; 0 when no share gets it. 1 for
// no fraction.
func fractionSlots(g NodeGroup, fraction float64) int {
	if fraction <= 0 || !g.TimeSliced() {
		return 1
	}
	step := 1
	if g.Fractional() {
		step = g.Sharing.PerGPU
	}
	for k := 1; k <= step; k *= 2 {
		if g.EngineGPU(k).Utilization >= fraction {
			return k
		}
	}
	return 0
}

// copyOf is a pointer to a copy of r when ok, else nil; the copy is made
// only then.
func copyOf(r memory.PerGPU, ok bool) *memory.PerGPU {
	if !ok {
		return nil
	}
	c := r
	return &c
}

// estimateMemo answers the questions the filters ask one model's memory
// estimate, each once: groups of one instance type in many regions ask the
// same. A memo without maps (&estimateMemo{}) asks the estimate every time,
// for callers that filter one group.
type estimateMemo struct {
	est     *memory.Estimate
	index   map[perGPUKey]int32 // into answers
	answers []memory.PerGPU     // kept across resets: no allocation per answer
	degrees map[int][]int       // GPUs per node → valid tensor degrees
}

// perGPUKey is one question: a GPU kind, degrees, and on a Fractional or
// Partitioned group the block's slots (0 elsewhere).
type perGPUKey struct{ kind, t, p, slots int }

// gpuKinds numbers the distinct GPUs (memory, utilisation, model) of groups.
func gpuKinds(groups []NodeGroup) []int {
	type kind struct {
		gpu    memory.GPU
		layout string // a mixed MIG layout's engines see its instances
	}
	ids := map[kind]int{}
	kinds := make([]int, len(groups))
	for gi, g := range groups {
		k := kind{gpu: g.GPU()}
		if g.Partitioned() {
			k.layout = g.Sharing.MIGLayout
		}
		id, ok := ids[k]
		if !ok {
			id = len(ids)
			ids[k] = id
		}
		kinds[gi] = id
	}
	return kinds
}

func newEstimateMemo() *estimateMemo {
	return &estimateMemo{index: map[perGPUKey]int32{}, degrees: map[int][]int{}}
}

// reset starts answering for another estimate, keeping the maps' room.
func (m *estimateMemo) reset(est *memory.Estimate) {
	m.est = est
	clear(m.index)
	m.answers = m.answers[:0]
	clear(m.degrees)
}

func (m *estimateMemo) perGPU(gpu memory.GPU, kind, t, p int) memory.PerGPU {
	return m.perGPUOf(gpu, perGPUKey{kind: kind, t: t, p: p})
}

func (m *estimateMemo) perGPUOf(gpu memory.GPU, key perGPUKey) memory.PerGPU {
	if m.index == nil {
		return m.est.PerGPU(gpu, key.t, key.p)
	}
	if i, ok := m.index[key]; ok {
		return m.answers[i]
	}
	r := m.est.PerGPU(gpu, key.t, key.p)
	m.index[key] = int32(len(m.answers))
	m.answers = append(m.answers, r)
	return r
}

func (m *estimateMemo) validTensorParallel(gpusPerNode int) []int {
	if m.degrees == nil {
		return m.est.ValidTensorParallel(gpusPerNode)
	}
	d, ok := m.degrees[gpusPerNode]
	if !ok {
		d = m.est.ValidTensorParallel(gpusPerNode)
		m.degrees[gpusPerNode] = d
	}
	return d
}

// replicaNodes is the nodes a replica of t × p GPUs spans on nodes of
// perNode GPUs: each pipeline stage's tensor-parallel group inside one node,
// as many stages on a node as fit.
func replicaNodes(t, p, perNode int) int {
	perNodeStages := max(1, perNode/t)
	return (p + perNodeStages - 1) / perNodeStages
}

func allowed(list []string, v string) bool {
	if len(list) == 0 {
		return true
	}
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// Shape is how one replica of a model runs on a node group.
type Shape struct {
	TensorParallel   int
	PipelineParallel int
	// MemoryPerGPU is the replica's need on its most loaded GPU.
	MemoryPerGPU int64
	occupied     int // GPUs taken on the nodes, when not t·p
}

// GPUs is the GPUs one replica occupies: t·p, or the aligned block a
// pipeline inside one node takes (see bindUnit).
func (s Shape) GPUs() int {
	if s.occupied > 0 {
		return s.occupied
	}
	return s.TensorParallel * s.PipelineParallel
}

// ReplicaShape tells whether a replica of m can run on g, passing every
// filter, and at which degrees the planner would run it there. Benchmarks
// and exact solvers use it to model the same choices the planner has.
func ReplicaShape(m ModelDemand, g NodeGroup) (Shape, bool) {
	opts, _ := feasibleOptions(m, []NodeGroup{g}, []int{0}, &estimateMemo{})
	if len(opts) == 0 {
		return Shape{}, false
	}
	o := opts[0]
	return Shape{TensorParallel: o.tensor, PipelineParallel: o.pipeline, MemoryPerGPU: o.memPerGPU, occupied: o.gpus()}, true
}
