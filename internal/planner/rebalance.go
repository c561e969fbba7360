package planner

import (
	"maps"
	"slices"
	"sort"
)

// rebalance improves a plan by moving at most req.MaxMoves replicas that
// could have stayed. It tries, group by group, to empty the highest node
// (so the group shrinks) or the whole group, re-planning with those replicas
// released, and keeps a trial only when the objective — the search's own,
// surcharges of the replicas it moves included — strictly improves.
func rebalance(req Request, current *Result, released map[string]moveCause) *Result {
	moves := releasedMoves(req.Previous, current, released)
	obj := newObjective(req.Strategy)
	best, bestScore := current, obj.ofResult(req, current)
	for round := 0; round < len(req.NodeGroups)*4 && moves < req.MaxMoves; round++ {
		improved := false
		trials := 0
		for _, cand := range releaseCandidates(req, best) {
			if moves+len(cand) > req.MaxMoves {
				continue
			}
			if trials++; trials > maxRebalanceTrials {
				break
			}
			trial := maps.Clone(released)
			if trial == nil {
				trial = map[string]moveCause{}
			}
			for _, k := range cand {
				if _, ok := trial[k]; !ok {
					trial[k] = moveCause{MoveRebalance, "rebalance"}
				}
			}
			// A trial settles like any plan, and may not leave out a
			// replica the plan it would replace places.
			r := settle(req, run(req, trial))
			if !placesAll(r, best) {
				continue
			}
			n := releasedMoves(req.Previous, r, trial)
			if sc := obj.ofResult(req, r); n <= req.MaxMoves && bestScore.exceeds(sc) {
				best, bestScore, released, moves, improved = r, sc, trial, n, true
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
// domain; then the replicas on each group's highest node (freeing it
// shrinks the group); then each group's all.
func releaseCandidates(req Request, r *Result) [][]string {
	var out [][]string
	if req.Strategy == StrategySpread {
		out = append(out, fullestDomainReplicas(req, r)...)
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

// fullestDomainReplicas names, per model spread unevenly, its
// highest-numbered replica in its fullest domain.
func fullestDomainReplicas(req Request, r *Result) [][]string {
	groups := req.GroupsByName()
	kinds := map[string]string{}
	for _, m := range req.Models {
		kinds[m.Name] = domainKindOf(m, req.Strategy)
	}
	count := map[string]map[string]int{}
	last := map[string]map[string]Replica{}
	for _, rep := range r.Replicas {
		d := groups[rep.NodeGroup].Domain(kinds[rep.Model])
		if count[rep.Model] == nil {
			count[rep.Model], last[rep.Model] = map[string]int{}, map[string]Replica{}
		}
		count[rep.Model][d]++
		last[rep.Model][d] = rep
	}
	var out [][]string
	for _, m := range slices.Sorted(maps.Keys(count)) {
		fullest, most := "", 0
		for _, d := range slices.Sorted(maps.Keys(count[m])) {
			if count[m][d] > most {
				fullest, most = d, count[m][d]
			}
		}
		if most > 1 {
			out = append(out, []string{last[m][fullest].Key()})
		}
	}
	return out
}
