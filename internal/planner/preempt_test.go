package planner

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// preemptionCase is a plan whose kept 8B replica sits on the only group a
// new 70B model fits, while a cheap group now has room for the 8B one.
func preemptionCase(t *testing.T) (Request, *Result) {
	t.Helper()
	big := group(t, "big", "aws/p4d.24xlarge", 1)
	small := group(t, "small", "aws/g6.xlarge", 0)
	req := Request{NodeGroups: []NodeGroup{big, small},
		Models: []ModelDemand{demand(t, "chat", "llama-3.1-8b", "bf16", 4096, 4, 1)}}
	first := mustPlan(t, req)
	if len(first.Replicas) != 1 || first.Replicas[0].NodeGroup != "big" {
		t.Fatalf("setup: the 8B replica should start on big: %+v", first.Replicas)
	}
	req.Previous = first.Replicas
	req.NodeGroups[1].MaxNodes = 2
	large := demand(t, "large", "llama-3.1-70b", "bf16", 8192, 8, 1)
	large.TensorParallel = 8
	req.Models = append(req.Models, large)
	return req, first
}

func TestPreemptionMovesTheReplicaInTheWay(t *testing.T) {
	req, first := preemptionCase(t)
	req.MaxMoves = 1
	res := mustPlan(t, req)
	checkInvariants(t, req, res)
	if res.UnplacedReplicas() != 0 {
		t.Fatalf("the 70B model should be placed by moving the 8B replica: %+v", res.Unplaced)
	}
	if len(res.Moves) != 1 {
		t.Fatalf("want exactly one move, got %+v", res.Moves)
	}
	mv := res.Moves[0]
	if mv.Key != first.Replicas[0].Key() || mv.Kind != MovePreemption || mv.To.NodeGroup != "small" {
		t.Errorf("want chat/0 preempted to small, got %s %s to %s", mv.Key, mv.Kind, mv.To.NodeGroup)
	}
	if !strings.Contains(mv.Reason, "large/0") {
		t.Errorf("the move should name the replica it makes room for: %q", mv.Reason)
	}
	// The result is a fixed point: planning it again moves nothing.
	again := req
	again.Previous = res.Replicas
	if r := mustPlan(t, again); len(r.Moves) != 0 || r.UnplacedReplicas() != 0 {
		t.Errorf("a repeat plan moved %d and left %d unplaced", len(r.Moves), r.UnplacedReplicas())
	}
}

func TestPreemptionWithoutBudgetNamesTheBudget(t *testing.T) {
	req, _ := preemptionCase(t)
	res := mustPlan(t, req)
	if len(res.Moves) != 0 {
		t.Fatalf("max_moves 0 must move nothing: %+v", res.Moves)
	}
	if len(res.Unplaced) != 1 || res.Unplaced[0].Model != "large" {
		t.Fatalf("the 70B model should stay unplaced: %+v", res.Unplaced)
	}
	found := false
	for _, r := range res.Unplaced[0].Remedies {
		found = found || strings.Contains(r, "set max_moves to at least 1 (it is 0)")
	}
	if !found {
		t.Errorf("the remedies should name the move budget: %q", res.Unplaced[0].Remedies)
	}
	if got := res.Unplaced[0].MovesNeeded; got != 1 {
		t.Errorf("MovesNeeded = %d, want the 1 move the preemption takes", got)
	}
}

// Over random fleets where demand is added on top of a plan, a preemption
// moves at most max_moves replicas that could have stayed, never drops or
// leaves out one that the stable plan places, and places at least as much
// as the stable plan at every priority.
func TestPropertyPreemption(t *testing.T) {
	n := 1_000
	if testing.Short() {
		n = 200
	}
	rng := rand.New(rand.NewPCG(21, 3))
	preempting := 0
	for i := range n {
		req := randomRequest(t, rng)
		res := mustPlan(t, req)
		next := req
		next.Previous = res.Replicas
		next.Models = append([]ModelDemand(nil), req.Models...)
		for j := range 1 + rng.IntN(3) {
			extra := randomRequest(t, rng).Models[0]
			extra.Name += "-added-" + string(rune('a'+j))
			next.Models = append(next.Models, extra)
		}
		if len(Validate(next)) > 0 {
			continue
		}
		stable := mustPlan(t, next)
		next.MaxMoves = 1 + rng.IntN(4)
		got := mustPlan(t, next)
		checkInvariants(t, next, got)
		if !placesAll(got, stable) {
			t.Fatalf("case %d: preemption left out a replica the stable plan places", i)
		}
		if placesMore(next, stable, got) {
			t.Fatalf("case %d: preemption placed less than the stable plan", i)
		}
		optional := 0
		for _, mv := range got.Moves {
			if mv.Kind == MovePreemption {
				optional++
			} else if mv.Kind != MoveForced {
				t.Fatalf("case %d: move of kind %q without a rebalance", i, mv.Kind)
			}
		}
		if optional > next.MaxMoves {
			t.Fatalf("case %d: preemption moved %d replicas, max_moves %d", i, optional, next.MaxMoves)
		}
		if optional > 0 {
			preempting++
		}
	}
	t.Logf("%d of %d cases preempted", preempting, n)
	if preempting == 0 {
		t.Fatal("no case preempted: the property tests nothing")
	}
}
