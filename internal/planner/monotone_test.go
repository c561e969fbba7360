package planner

import (
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
)

// Issue 14: more capacity should never yield a worse fresh plan — raising
// one group's max_nodes or adding a node group (min_nodes 0) places at
// least as many replicas of each priority, highest first, and, placing as
// many, costs no more (the strategy's objective). The planner is a bounded
// heuristic, so its search could take another path on a larger fleet; the
// test fails on any instance that does, and logs each. None of 10,000 with
// the test's seed does since the region search (region.go), nor of 10,000
// with each of MCLLM_MONOTONE_SEED=15, 16 and 17, instances tuned for
// nothing; before it, 1 with the test's seed and 2 with seed 15.
//
//	MCLLM_MONOTONE_CASES=20000 go test -run Monotone -v ./internal/planner/
func TestPropertyMonotoneInCapacity(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 500
	}
	if v, err := strconv.Atoi(os.Getenv("MCLLM_MONOTONE_CASES")); err == nil {
		n = v
	}
	seed := uint64(14)
	if v, err := strconv.ParseUint(os.Getenv("MCLLM_MONOTONE_SEED"), 10, 64); err == nil {
		seed = v // instances the test's own seed never draws
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	worse := 0
	for i := range n {
		req := randomRequest(t, rng)
		req.Strategy = StrategyCost
		base := mustPlan(t, req)
		more := req
		more.NodeGroups = append([]NodeGroup(nil), req.NodeGroups...)
		if gi := rng.IntN(len(more.NodeGroups) + 1); gi < len(more.NodeGroups) {
			more.NodeGroups[gi].MaxNodes += 1 + rng.IntN(4)
		} else {
			g := randomRequest(t, rng).NodeGroups[0]
			g.Name, g.MinNodes = "extra", 0 // more capacity, nothing more to pay for
			more.NodeGroups = append(more.NodeGroups, g)
		}
		bigger := mustPlan(t, more)
		obj := newObjective(req.Strategy)
		a, b := obj.ofResult(req, base), obj.ofResult(more, bigger)
		switch cmp := comparePlaced(req, base, bigger); {
		case cmp < 0:
			worse++
			t.Logf("case %d: more capacity places fewer replicas of some priority (%d unplaced, %d before)", i, bigger.UnplacedReplicas(), base.UnplacedReplicas())
		case cmp == 0 && b.exceeds(a):
			worse++
			t.Logf("case %d: more capacity costs %.4f, %.4f before", i, b.cost, a.cost)
		}
	}
	t.Logf("%d of %d instances worse with more capacity", worse, n)
	if worse > 0 {
		t.Errorf("%d of %d instances worse with more capacity", worse, n)
	}
}

// comparePlaced compares the replicas b places against a, priority by
// priority from the highest: +1 when b places more at the first priority
// that differs, -1 when fewer, 0 when the same at every priority.
func comparePlaced(req Request, a, b *Result) int {
	priority := map[string]int{}
	levels := map[int]bool{}
	for _, m := range req.Models {
		priority[m.Name] = m.Priority
		levels[m.Priority] = true
	}
	count := func(r *Result) map[int]int {
		out := map[int]int{}
		for _, rep := range r.Replicas {
			out[priority[rep.Model]]++
		}
		return out
	}
	ca, cb := count(a), count(b)
	order := slices.Sorted(maps.Keys(levels))
	slices.Reverse(order)
	for _, p := range order {
		if cb[p] != ca[p] {
			if cb[p] > ca[p] {
				return 1
			}
			return -1
		}
	}
	return 0
}
