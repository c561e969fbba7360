package handoff

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// kaiBinpack places one pod of shares slots (of perGPU per GPU) as KAI
// Scheduler's default binpack GPU strategy does (kai-scheduler/KAI-Scheduler
// d5bc503: actions/common/allocate.go tries nodes by score;
// gpusharingorder scores a node with a partly used GPU the pod fits on
// highest, nodeplacement/pack.go then the node with the fewest idle GPUs,
// ties by name; gpupack takes the fullest GPU that fits, an idle one only
// when none does). A whole-GPU pod takes an idle GPU. used[node][gpu] is the
// slots taken; false when no GPU of any node has room.
func kaiBinpack(used [][]int, shares, perGPU int) bool {
	best, bestGPU, bestShared, bestIdle := -1, -1, false, 0
	for n, gpus := range used {
		idle, fitGPU, fitUsed := 0, -1, -1
		for g, u := range gpus {
			if u == 0 {
				idle++
			}
			if shares < perGPU && u > 0 && u+shares <= perGPU && u > fitUsed {
				fitGPU, fitUsed = g, u
			}
		}
		shared := fitGPU >= 0
		if !shared {
			if idle == 0 {
				continue
			}
			for g, u := range gpus {
				if u == 0 {
					fitGPU = g
					break
				}
			}
		}
		if best < 0 || shared && !bestShared || shared == bestShared && idle < bestIdle {
			best, bestGPU, bestShared, bestIdle = n, fitGPU, shared, idle
		}
	}
	if best < 0 {
		return false
	}
	used[best][bestGPU] += shares
	return true
}

// The blocks a plan gives a Fractional group are placed by KAI, not by the
// plan, one pod at a time in arrival order. Over random shared fleets and
// random arrival orders, KAI's default binpack placement never strands a
// block on the planned nodes: some GPU always has room for the next.
func TestKAIBinpackPlacesThePlannedBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	groups, orders := 0, 0
	for range 300 {
		f := randomSharedFleet(t, rng)
		blocks := map[string][]int{}
		for _, r := range f.Replicas {
			if g := f.Groups[r.NodeGroup]; g.Fractional() {
				blocks[g.Name] = append(blocks[g.Name], len(r.Stages[0].GPUs))
			}
		}
		for _, name := range slices.Sorted(maps.Keys(blocks)) { // in one order: the draws reproduce
			b, g := blocks[name], f.Groups[name]
			groups++
			for range 20 {
				orders++
				used := make([][]int, f.Sizes[name])
				for n := range used {
					used[n] = make([]int, g.PhysicalGPUs())
				}
				for _, k := range rng.Perm(len(b)) {
					if !kaiBinpack(used, b[k], g.Sharing.PerGPU) {
						t.Fatalf("group %s, %d nodes of %d GPUs in %d slots: blocks %v strand one in this order (placed %v)",
							name, f.Sizes[name], g.PhysicalGPUs(), g.Sharing.PerGPU, b, used)
					}
				}
			}
		}
	}
	t.Logf("%d block groups, %d arrival orders, none stranded", groups, orders)
	if groups == 0 {
		t.Error("no fractional group in the fleets")
	}
}

// The model is the binpack rule: pods of 0.5, 0.5, 0.25, 0.25, 0.5 on one
// node of 2 GPUs fill both (KAI's spread strategy, the emptiest GPU first,
// leaves each a quarter and strands the last 0.5).
func TestKAIBinpackModel(t *testing.T) {
	used := [][]int{{0, 0}}
	for _, s := range []int{2, 2, 1, 1, 2} { // quarters of a GPU
		if !kaiBinpack(used, s, 4) {
			t.Fatalf("binpack strands a block: %v", used)
		}
	}
	if used[0][0] != 4 || used[0][1] != 4 {
		t.Errorf("used %v, want both GPUs full", used)
	}
}
