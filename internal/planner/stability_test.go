package planner

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestStabilitySequences runs 1,000 random sequences of changes — add a
// model, remove one, scale one, lose a node group, change nothing — each
// step planned on top of the last, and checks that only what must move moves.
func TestStabilitySequences(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for seq := range 1_000 {
		req := randomRequest(t, rng)
		req.Strategy = StrategyCost
		res := mustPlan(t, req)
		for step := range 6 {
			prev := res.Replicas
			next := req
			next.Models = append([]ModelDemand(nil), req.Models...)
			next.NodeGroups = append([]NodeGroup(nil), req.NodeGroups...)
			next.Previous = prev
			kind := rng.IntN(5)
			removedGroup, scaled := "", ""
			switch kind {
			case 0: // add a model
				extra := randomRequest(t, rng).Models[0]
				extra.Name = fmt.Sprintf("added-%d-%d", seq, step)
				next.Models = append(next.Models, extra)
			case 1: // remove a model
				if len(next.Models) > 0 {
					i := rng.IntN(len(next.Models))
					next.Models = append(next.Models[:i], next.Models[i+1:]...)
				}
			case 2: // scale a model
				if len(next.Models) > 0 {
					i := rng.IntN(len(next.Models))
					m := &next.Models[i]
					m.Replicas = rng.IntN(9)
					if f := &m.MinReplicasOnFailure; f.Cloud >= m.Replicas {
						f.Cloud = max(0, m.Replicas-1)
					}
					m.OnDemandFloor = min(m.OnDemandFloor, m.Replicas)
					if m.Spread.MaxShare > 0 || m.MinReplicasOnFailure.Cloud > 0 || m.OnDemandFloor > 0 {
						scaled = m.Name // its per-domain cap follows the count
					}
					if next.Models[i].Spread.MinDomains > next.Models[i].Replicas {
						next.Models[i].Spread.MinDomains = next.Models[i].Replicas
					}
				}
			case 3: // lose a node group
				if len(next.NodeGroups) > 1 {
					i := rng.IntN(len(next.NodeGroups))
					removedGroup = next.NodeGroups[i].Name
					next.NodeGroups = append(next.NodeGroups[:i], next.NodeGroups[i+1:]...)
				}
			}
			got, err := Plan(next)
			if err != nil {
				t.Fatalf("seq %d step %d: %v", seq, step, err)
			}
			checkInvariants(t, next, got)
			now := map[string]Replica{}
			for _, r := range got.Replicas {
				now[r.Key()] = r
			}
			for _, old := range prev {
				cur, ok := now[old.Key()]
				if !ok || SamePlace(old, cur) {
					continue // removed, scaled away, or stayed
				}
				if (kind == 3 && old.NodeGroup == removedGroup) || old.Model == scaled {
					continue
				}
				reason := ""
				for _, mv := range got.Moves {
					if mv.Key == old.Key() {
						reason = mv.Reason
					}
				}
				t.Fatalf("seq %d step %d (change %d): %s moved from %s to %s: %q", seq, step, kind, old.Key(), old.NodeGroup, cur.NodeGroup, reason)
			}
			if kind == 2 {
				// Scaling down removes the highest indices only.
				for _, old := range prev {
					if _, ok := now[old.Key()]; !ok && old.Model != scaled {
						for _, m := range next.Models {
							if m.Name == old.Model && old.Index < m.Replicas {
								t.Fatalf("seq %d step %d: %s vanished though the model still has %d replicas", seq, step, old.Key(), m.Replicas)
							}
						}
					}
				}
			}
			req, res = next, got
			req.Previous = nil
		}
	}
}

func TestStabilityAddingModelMovesNothing(t *testing.T) {
	req := Request{
		NodeGroups: []NodeGroup{
			group(t, "h100", "aws/p5.48xlarge", 4),
			group(t, "l40s", "aws/g6e.12xlarge", 4),
		},
		Models: []ModelDemand{demand(t, "llama8", "llama-3.1-8b", "bf16", 8192, 16, 6)},
	}
	first := mustPlan(t, req)
	req.Previous = first.Replicas
	req.Models = append(req.Models, demand(t, "mixtral", "mixtral-8x7b", "bf16", 8192, 8, 2))
	second := mustPlan(t, req)
	if len(second.Moves) != 0 {
		t.Errorf("adding a model moved %d replicas", len(second.Moves))
	}
	for _, r := range first.Replicas {
		found := false
		for _, s := range second.Replicas {
			found = found || (s.Key() == r.Key() && SamePlace(r, s))
		}
		if !found {
			t.Errorf("%s changed place", r.Key())
		}
	}
}

func TestRebalanceBoundedByMaxMoves(t *testing.T) {
	// Fill an expensive group first (the cheap one has no room), then give
	// the cheap one room and rebalance with a budget of two moves.
	cheap := group(t, "cheap", "gcp/g2-standard-96", 0)
	dear := group(t, "dear", "aws/g6.48xlarge", 2)
	req := Request{NodeGroups: []NodeGroup{cheap, dear},
		Models: []ModelDemand{demand(t, "m", "qwen2.5-7b", "bf16", 4096, 4, 12)}}
	first := mustPlan(t, req)
	req.Previous = first.Replicas
	req.NodeGroups[0].MaxNodes = 2
	stay := mustPlan(t, req)
	if len(stay.Moves) != 0 || stay.CostPerHour != first.CostPerHour {
		t.Fatalf("without rebalance nothing may move: %d moves", len(stay.Moves))
	}
	req.Rebalance, req.MaxMoves = true, 4
	moved := mustPlan(t, req)
	if n := countMoved(req.Previous, moved); n > 4 || n == 0 {
		t.Errorf("rebalance moved %d replicas, want 1..4", n)
	}
	if moved.CostPerHour >= first.CostPerHour {
		t.Errorf("rebalance did not lower the cost: %.2f → %.2f", first.CostPerHour, moved.CostPerHour)
	}
	checkInvariants(t, req, moved)
}

// countMoved counts previous replicas that exist in r at another place.
func countMoved(prev []Replica, r *Result) int {
	now := map[string]Replica{}
	for _, rep := range r.Replicas {
		now[rep.Key()] = rep
	}
	n := 0
	for _, old := range prev {
		if cur, ok := now[old.Key()]; ok && !SamePlace(old, cur) {
			n++
		}
	}
	return n
}
