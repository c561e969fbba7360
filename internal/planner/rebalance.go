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
		trials := 0
		for _, cand := range releaseCandidates(req.Strategy, base.groups, best) {
			if moves+len(cand) > req.MaxMoves {
				continue
			}
			if trials++; trials > maxRebalanceTrials {
				break
			}
			trial := map[string]bool{}
			for k := range released {
				trial[k] = true
			}
			for _, k := range cand {
				trial[k] = true
			}
			// A trial settles like any plan, and may not leave out a
			// replica the plan it would replace places.
			r := settle(req, newPlan(req, trial).run())
			if !placesAll(r, best) {
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

// placesAll reports whether r places every replica that base places.
func placesAll(r, base *Result) bool {
	placed := make(map[string]bool, len(r.Replicas))
	for _, rep := range r.Replicas {
		placed[rep.Key()] = true
	}
	for _, rep := range base.Replicas {
		if !placed[rep.Key()] {
			return false
		}
	}
	return true
}

// maxRebalanceTrials bounds the re-plans one rebalance round tries.
const maxRebalanceTrials = 64

// releaseCandidates lists sets of replicas worth freeing, smallest first:
// under the spread strategy, one replica of each model from its fullest
// cloud; then the replicas on each group's highest node (freeing it shrinks
// the group); then each group's all.
func releaseCandidates(s Strategy, groups []NodeGroup, r *Result) [][]string {
	var out [][]string
	if s == StrategySpread {
		out = append(out, fullestCloudReplicas(groups, r)...)
	}
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
	names := make([]string, 0, len(all))
	for g := range all {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		out = append(out, onLast[g])
	}
	for _, g := range names {
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
		if cur, ok := now[old.Key()]; ok && !SamePlace(old, cur) {
			n++
		}
	}
	return n
}

// SamePlace reports whether two replicas run in the same place: node group,
// degrees, and every stage's node and GPUs.
func SamePlace(a, b Replica) bool {
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
	switch s {
	case StrategyBinpack:
		return float64(nodes) + r.CostPerHour*1e-9
	case StrategySpread:
		// Lexicographic: the replicas in each model's fullest cloud first.
		cloud := map[string]string{}
		for _, g := range groups {
			cloud[g.Name] = g.Cloud
		}
		perCloud := map[string]map[string]int{}
		for _, rep := range r.Replicas {
			if perCloud[rep.Model] == nil {
				perCloud[rep.Model] = map[string]int{}
			}
			perCloud[rep.Model][cloud[rep.NodeGroup]]++
		}
		worst := 0
		for _, byCloud := range perCloud {
			most := 0
			for _, c := range byCloud {
				most = max(most, c)
			}
			worst += most
		}
		return float64(worst)*1e6 + r.CostPerHour
	}
	return r.CostPerHour + float64(nodes)*1e-9
}

// fullestCloudReplicas names, per model spread unevenly over clouds, its
// highest-numbered replica in its fullest cloud.
func fullestCloudReplicas(groups []NodeGroup, r *Result) [][]string {
	cloud := map[string]string{}
	for _, g := range groups {
		cloud[g.Name] = g.Cloud
	}
	count := map[string]map[string]int{}
	last := map[string]map[string]Replica{}
	for _, rep := range r.Replicas {
		c := cloud[rep.NodeGroup]
		if count[rep.Model] == nil {
			count[rep.Model], last[rep.Model] = map[string]int{}, map[string]Replica{}
		}
		count[rep.Model][c]++
		last[rep.Model][c] = rep
	}
	models := make([]string, 0, len(count))
	for m := range count {
		models = append(models, m)
	}
	sort.Strings(models)
	var out [][]string
	for _, m := range models {
		fullest, most := "", 0
		clouds := make([]string, 0, len(count[m]))
		for c := range count[m] {
			clouds = append(clouds, c)
		}
		sort.Strings(clouds)
		for _, c := range clouds {
			if count[m][c] > most {
				fullest, most = c, count[m][c]
			}
		}
		if most > 1 {
			out = append(out, []string{last[m][fullest].Key()})
		}
	}
	return out
}
