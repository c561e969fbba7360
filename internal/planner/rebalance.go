package planner

import "sort"

// rebalance improves a plan by moving at most req.MaxMoves replicas that
// could have stayed. It tries, group by group, to empty the highest node
// (so the group shrinks) or the whole group, re-planning with those replicas
// released, and keeps a trial only when the objective strictly improves.
func rebalance(req Request, base *plan, current *Result) *Result {
	released := map[string]bool{}
	moves := 0
	score := func(r *Result) float64 { return scoreOf(req.Strategy, base.groups, r) }
	best := current
	for round := 0; round < len(base.groups)*4 && moves < req.MaxMoves; round++ {
		improved := false
		for _, cand := range releaseCandidates(best) {
			if moves+len(cand) > req.MaxMoves {
				continue
			}
			trial := map[string]bool{}
			for k := range released {
				trial[k] = true
			}
			for _, k := range cand {
				trial[k] = true
			}
			r := newPlan(req, trial).run()
			if len(r.Unplaced) > len(best.Unplaced) {
				continue
			}
			n := countMoved(req.Previous, r)
			if n <= req.MaxMoves && score(r) < score(best)-1e-9 {
				best, released, moves, improved = r, trial, n, true
				break
			}
		}
		if !improved {
			break
		}
	}
	req.Logger.Debug("rebalance finished", "moves", moves, "cost_per_hour", best.CostPerHour)
	return best
}

// releaseCandidates lists sets of replicas worth freeing: those on each
// group's highest node, then each group's all.
func releaseCandidates(r *Result) [][]string {
	lastNode := map[string]int{}
	for _, rep := range r.Replicas {
		for _, s := range rep.Stages {
			lastNode[rep.NodeGroup] = max(lastNode[rep.NodeGroup], s.Node)
		}
	}
	onLast := map[string][]string{}
	all := map[string][]string{}
	for _, rep := range r.Replicas {
		all[rep.NodeGroup] = append(all[rep.NodeGroup], rep.Key())
		for _, s := range rep.Stages {
			if s.Node == lastNode[rep.NodeGroup] {
				onLast[rep.NodeGroup] = append(onLast[rep.NodeGroup], rep.Key())
				break
			}
		}
	}
	groups := make([]string, 0, len(all))
	for g := range all {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	var out [][]string
	for _, g := range groups {
		out = append(out, onLast[g])
	}
	for _, g := range groups {
		if len(all[g]) > len(onLast[g]) {
			out = append(out, all[g])
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) < len(out[j]) })
	return out
}

// countMoved counts previous replicas that exist in r at another place.
func countMoved(prev []Replica, r *Result) int {
	now := map[string]Replica{}
	for _, rep := range r.Replicas {
		now[rep.Key()] = rep
	}
	n := 0
	for _, old := range prev {
		if cur, ok := now[old.Key()]; ok && !samePlace(old, cur) {
			n++
		}
	}
	return n
}

func samePlace(a, b Replica) bool {
	if a.NodeGroup != b.NodeGroup || a.TensorParallel != b.TensorParallel || a.PipelineParallel != b.PipelineParallel || len(a.Stages) != len(b.Stages) {
		return false
	}
	for i := range a.Stages {
		if a.Stages[i].Node != b.Stages[i].Node || len(a.Stages[i].GPUs) != len(b.Stages[i].GPUs) {
			return false
		}
		for j := range a.Stages[i].GPUs {
			if a.Stages[i].GPUs[j] != b.Stages[i].GPUs[j] {
				return false
			}
		}
	}
	return true
}

// scoreOf is the strategy's objective of a finished plan.
func scoreOf(s Strategy, groups []NodeGroup, r *Result) float64 {
	nodes := 0
	for _, g := range r.Groups {
		nodes += g.Nodes
	}
	if s == StrategyBinpack {
		return float64(nodes) + r.CostPerHour*1e-9
	}
	return r.CostPerHour + float64(nodes)*1e-9
}
