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
// heuristic, so its search takes another path on a larger fleet: 1 of
// these 2,000 instances breaks it (case 1986, a deeper local optimum
// brought in by the one-for-several trade; 0 before it, 50 before repair,
// the regret kicks and the exclusive node floor, 3 before the exchange and
// the count of every node a spread pipeline spans), 5 of 10,000 (35; 26
// with that count; 15 with the exchange; 8 once binding keeps to the node
// count the search priced; 7 with batches traded for cheaper ones; 5 once
// a trade's refill places lower priorities too). The test fails when more
// than 2 in 1,000 break it, and logs each that does.
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
	rng := rand.New(rand.NewPCG(14, 14))
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
	if worse*1000 > 2*n {
		t.Errorf("%d of %d instances worse with more capacity, more than 2 in 1,000", worse, n)
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
