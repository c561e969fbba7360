package planner

import (
	"maps"
	"math/bits"
	"sort"
)

// Packing works on GPU counts. A replica's pipeline stage takes t GPUs of
// one node, t a power of two, placed on an aligned block (offset a multiple
// of t), as a buddy allocator does. Aligned power-of-two blocks never
// fragment a node beyond what first-fit-decreasing recovers, so a group's
// node count follows from how many stages of each size it holds.

// levels is the number of block sizes: 1, 2, 4, … 64 GPUs.
const levels = 7

// sizeCounts counts blocks or stages per size; index i is size 1<<i.
type sizeCounts [levels]int

func levelOf(size int) int { return bits.TrailingZeros(uint(size)) }

// alignedBlocks decomposes the GPUs [0, n) into maximal aligned
// power-of-two blocks.
func alignedBlocks(n int) sizeCounts {
	var c sizeCounts
	for off := 0; off < n; {
		size := 1
		for size*2 <= n-off && off%(size*2) == 0 && size*2 <= 1<<(levels-1) {
			size *= 2
		}
		c[levelOf(size)]++
		off += size
	}
	return c
}

// groupBase is a group's state before new stages are packed: the nodes that
// exist (min_nodes, and nodes holding replicas kept from the last plan) and
// their free blocks.
type groupBase struct {
	baseNodes int
	free      sizeCounts // free aligned blocks on the base nodes
	fresh     sizeCounts // blocks of an empty node
	// whole: the blocks are the instances of a mixed MIG layout, each
	// taken whole by one stage of its size or smaller, never split.
	whole bool
}

// nodesFor is the node count after packing stages (counts per size) into
// the base nodes first and fresh nodes after, largest stages first. A
// block splits into two of half its size, or, whole, holds one smaller
// stage; either way stages taken largest first fill the fewest nodes.
func (b *groupBase) nodesFor(stages *sizeCounts) int {
	free := b.free
	nodes := b.baseNodes
	split := 2
	if b.whole {
		split = 1
	}
	avail := 0 // free slots of the current size
	for i := levels - 1; i >= 0; i-- {
		avail = avail*split + free[i]
		c := stages[i]
		if c == 0 {
			continue
		}
		use := min(c, avail)
		c -= use
		avail -= use
		if c == 0 {
			continue
		}
		perNode := 0
		for j := i; j < levels; j++ {
			if b.whole {
				perNode += b.fresh[j]
			} else {
				perNode += b.fresh[j] << (j - i)
			}
		}
		if perNode == 0 { // stage wider than a node: filtered out earlier
			return maxNodesPerGroup + 1
		}
		n := (c + perNode - 1) / perNode
		nodes += n
		avail += n*perNode - c
		for j := 0; j < i; j++ {
			free[j] += n * b.fresh[j]
		}
	}
	return nodes
}

// nodeAlloc is the GPU allocation of one node during binding.
type nodeAlloc struct {
	free uint64 // bit i set: GPU i is free
	// models counts the stages of each model on the node, so that
	// releasing one stage leaves the mark of the others.
	models map[int]int
	// class is the isolation class of the models on the node; -1 while
	// the node is empty.
	class int
}

// groupAlloc binds stages to concrete nodes and GPUs of one group.
type groupAlloc struct {
	gpusPerNode int
	maxNodes    int
	nodes       []nodeAlloc
	// instances, on a Partitioned group, are the MIG instances of a node
	// as blocks of its slots, smallest first: a stage takes one whole.
	instances []block
	// cursor[i] is the first node that may still have a free block of size
	// 1<<i (a free instance at least that large, on a Partitioned group);
	// it advances as blocks are taken, and release moves it back.
	cursor [levels]int
}

// block is an aligned run of a node's GPUs (or slots): [off, off+size).
type block struct{ off, size int }

func newGroupAlloc(g NodeGroup) *groupAlloc {
	a := &groupAlloc{gpusPerNode: g.GPUsPerNode, maxNodes: g.MaxNodes}
	if g.Partitioned() {
		for gpu := range g.PhysicalGPUs() {
			for _, in := range g.Sharing.Instances {
				a.instances = append(a.instances, block{gpu*g.Sharing.PerGPU + in.Offset, in.Slots})
			}
		}
		sort.SliceStable(a.instances, func(i, j int) bool { return a.instances[i].size < a.instances[j].size })
	}
	a.grow(g.MinNodes)
	return a
}

func (b block) mask() uint64 { return fullMask(b.size) << b.off }

// freeIn reports whether every GPU of the block is free in free.
func (b block) freeIn(free uint64) bool { return free&b.mask() == b.mask() }

// isInstance reports whether gpus, in order, are exactly one instance of a
// Partitioned group's layout.
func (a *groupAlloc) isInstance(gpus []int) bool {
	for _, b := range a.instances {
		if len(gpus) == b.size && gpus[0] == b.off {
			for k, g := range gpus {
				if g != b.off+k {
					return false
				}
			}
			return true
		}
	}
	return false
}

func fullMask(n int) uint64 {
	if n >= 64 {
		return ^uint64(0)
	}
	return 1<<n - 1
}

// clone is a copy of a that binding can change apart from it.
func (a *groupAlloc) clone() *groupAlloc {
	c := *a
	c.nodes = make([]nodeAlloc, len(a.nodes))
	for i, n := range a.nodes {
		n.models = maps.Clone(n.models)
		c.nodes[i] = n
	}
	return &c
}

func (a *groupAlloc) grow(n int) {
	for len(a.nodes) < n {
		a.nodes = append(a.nodes, nodeAlloc{free: fullMask(a.gpusPerNode), class: -1})
	}
}

// take marks GPUs of a node as used; false when any is already used or out
// of range (a previous placement that no longer fits).
func (a *groupAlloc) take(node int, gpus []int, model, class int) bool {
	if node < 0 || node >= a.maxNodes {
		return false
	}
	var mask uint64
	for _, g := range gpus {
		if g < 0 || g >= a.gpusPerNode || mask&(1<<g) != 0 {
			return false
		}
		mask |= 1 << g
	}
	a.grow(node + 1)
	n := &a.nodes[node]
	if n.free&mask != mask || (n.class >= 0 && n.class != class) {
		return false
	}
	n.free &^= mask
	n.class = class
	n.addModel(model)
	return true
}

func (n *nodeAlloc) addModel(model int) {
	if n.models == nil {
		n.models = map[int]int{}
	}
	n.models[model]++
}

// holds reports whether a stage of the model is on the node.
func (n *nodeAlloc) holds(model int) bool { return n.models[model] > 0 }

// blockIn finds where a stage of size binds on a node with GPUs free: the
// lowest aligned free block of size, or on a Partitioned group the
// smallest free instance at least that large, taken whole.
func (a *groupAlloc) blockIn(free uint64, size int) (block, bool) {
	if a.instances != nil {
		for _, b := range a.instances {
			if b.size >= size && b.freeIn(free) {
				return b, true
			}
		}
		return block{}, false
	}
	for off := 0; off+size <= a.gpusPerNode; off += size {
		if b := (block{off, size}); b.freeIn(free) {
			return b, true
		}
	}
	return block{}, false
}

// place binds one stage of size GPUs, first fit from the lowest node index.
// With exclusive, nodes already holding the model are skipped (anti-affinity).
func (a *groupAlloc) place(size, model, class int, exclusive bool) (Stage, bool) {
	lvl := levelOf(size)
	start := a.cursor[lvl]
	for i := start; ; i++ {
		if i == len(a.nodes) {
			if i >= a.maxNodes {
				return Stage{}, false
			}
			a.grow(i + 1)
		}
		n := &a.nodes[i]
		b, ok := a.blockIn(n.free, size)
		if !ok {
			if i == a.cursor[lvl] {
				a.cursor[lvl] = i + 1
			}
			continue
		}
		if (exclusive && n.holds(model)) || (n.class >= 0 && n.class != class) {
			continue
		}
		return a.takeAt(i, b, model, class), true
	}
}

// takeAt binds block b of node i, free and of the model's class, to the
// model.
func (a *groupAlloc) takeAt(i int, b block, model, class int) Stage {
	n := &a.nodes[i]
	n.free &^= b.mask()
	n.class = class
	n.addModel(model)
	gpus := make([]int, b.size)
	for k := range gpus {
		gpus[k] = b.off + k
	}
	return Stage{Node: i, GPUs: gpus}
}

// freeBlocks counts the aligned free blocks of size on a node (the free
// instances at least that large on a Partitioned group).
func (a *groupAlloc) freeBlocks(free uint64, size int) int {
	n := 0
	if a.instances != nil {
		for _, b := range a.instances {
			if b.size >= size && b.freeIn(free) {
				n++
			}
		}
		return n
	}
	for off := 0; off+size <= a.gpusPerNode; off += size {
		if (block{off, size}).freeIn(free) {
			n++
		}
	}
	return n
}

// takeBlock binds one stage of size GPUs to node i where blockIn finds
// room, when the node has it and holds the model's class or none.
func (a *groupAlloc) takeBlock(i, size, model, class int) (Stage, bool) {
	n := &a.nodes[i]
	b, ok := a.blockIn(n.free, size)
	if !ok || (n.class >= 0 && n.class != class) {
		return Stage{}, false
	}
	return a.takeAt(i, b, model, class), true
}

// placeBeside binds the next stage of a replica on node i, where its
// previous stage is, when that node has room (a replica's own stages never
// count against its model's anti-affinity).
func (a *groupAlloc) placeBeside(i, size, model, class int) (Stage, bool) {
	if i < 0 || i >= len(a.nodes) {
		return Stage{}, false
	}
	return a.takeBlock(i, size, model, class)
}

// placeWithRoom binds a stage to the lowest node with room for need stages
// of size — the stages of one replica that fit a node go on one node, so a
// pipeline spans the fewest nodes — opening a node when none has room.
func (a *groupAlloc) placeWithRoom(size, need, model, class int, exclusive bool) (Stage, bool) {
	// Nodes before the cursor of this size have no free block of it.
	for i := a.cursor[levelOf(size)]; i < a.maxNodes; i++ {
		if i == len(a.nodes) {
			a.grow(i + 1)
		}
		n := &a.nodes[i]
		if (exclusive && n.holds(model)) || a.freeBlocks(n.free, size) < need {
			continue
		}
		if st, ok := a.takeBlock(i, size, model, class); ok {
			return st, true
		}
	}
	return Stage{}, false
}

// usedNodes is the group size: one past the highest node holding anything,
// and at least min_nodes.
func (a *groupAlloc) usedNodes(minNodes int) int {
	used := 0
	for i, n := range a.nodes {
		if n.free != fullMask(a.gpusPerNode) {
			used = i + 1
		}
	}
	return max(used, minNodes)
}

// basesAfterPins summarises the allocation so far (kept replicas) per
// isolation class, as the starting point of the fast node-count
// evaluation, and the nodes that exist already (min_nodes included). Empty
// nodes belong to no class: any class may fill them, as binding does, so
// they count as the fresh nodes of whichever classes need some, and the
// group has max(existing nodes, Σ class nodes).
func (a *groupAlloc) basesAfterPins(g NodeGroup, classes int) (bases []groupBase, existing int) {
	fresh := a.freeOn(fullMask(g.GPUsPerNode))
	bases = make([]groupBase, classes)
	for c := range bases {
		bases[c] = groupBase{fresh: fresh, whole: a.instances != nil}
	}
	existing = a.usedNodes(g.MinNodes)
	for i := 0; i < min(existing, len(a.nodes)); i++ {
		n := a.nodes[i]
		if n.free == fullMask(g.GPUsPerNode) {
			continue
		}
		c := max(n.class, 0)
		bases[c].baseNodes++
		free := a.freeOn(n.free)
		for l := range free {
			bases[c].free[l] += free[l]
		}
	}
	return bases, existing
}

// freeOn counts the blocks a node with GPUs free offers the count model:
// its maximal aligned free blocks, or its free instances on a Partitioned
// group.
func (a *groupAlloc) freeOn(free uint64) sizeCounts {
	var c sizeCounts
	if a.instances == nil {
		addFreeBlocks(&c, free, a.gpusPerNode)
		return c
	}
	for _, b := range a.instances {
		if b.freeIn(free) {
			c[levelOf(b.size)]++
		}
	}
	return c
}

// addFreeBlocks counts the maximal aligned free blocks of a node.
func addFreeBlocks(c *sizeCounts, free uint64, gpusPerNode int) {
	for off := 0; off < gpusPerNode; {
		if free&(1<<off) == 0 {
			off++
			continue
		}
		size := 1
		for off%(size*2) == 0 && off+size*2 <= gpusPerNode && size*2 <= 1<<(levels-1) &&
			free&(fullMask(size*2)<<off) == fullMask(size*2)<<off {
			size *= 2
		}
		c[levelOf(size)]++
		off += size
	}
}
