package planner

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// maxPreemptTrials bounds the re-plans one preemption tries while it looks
// for the fewest kept replicas to move.
const maxPreemptTrials = 48

// preempt makes room for demand that replicas kept from the previous plan
// block. When a fresh plan (no previous placement) places more — by
// priority, highest first — than the stable one, it releases the kept
// replicas that could be in the way (those on node groups where a blocked
// model has an option, and the blocked models' own), checks that
// re-planning with them free places what the fresh plan does, and then
// shrinks that set by trial (delta debugging) to a minimal one: kube's
// preemption picks the fewest victims the same way, except that here a
// victim moves instead of stopping. The result moves at most max_moves
// replicas whose place was still feasible, each listed with the replicas
// it made room for. When more moves than max_moves are needed, nothing
// moves and each blocked model's explanation says how many would.
//
// It returns the plan and the replicas it released (for a rebalance to go
// on from).
func preempt(req Request, current *Result) (*Result, map[string]moveCause) {
	fresh := req
	fresh.Previous = nil
	if !placesMore(req, settle(fresh, run(fresh, nil)), current) {
		return current, nil
	}
	cands := blockingReplicas(req, current)
	cause := moveCause{MovePreemption, preemptReason(current)}
	release := func(keys []string) map[string]moveCause {
		out := make(map[string]moveCause, len(keys))
		for _, k := range keys {
			out[k] = cause
		}
		return out
	}
	// The replicas in the way first; when freeing them is not enough (the
	// greedy may need room elsewhere for what it displaces), every kept one.
	var set []string
	var best *Result
	trials := 0
	for _, try := range [][]string{cands, keptReplicas(req, current, nil)} {
		if len(try) == 0 || (set != nil && len(try) == len(set)) {
			continue
		}
		r := settle(req, run(req, release(try)))
		trials++
		if placesMore(req, r, current) && placesAll(r, current) {
			set, best = try, r
			break
		}
		set = try
	}
	if best == nil {
		return current, nil
	}
	for chunk := max(1, len(set)/2); trials < maxPreemptTrials; chunk = max(1, chunk/2) {
		for i := 0; i < len(set) && trials < maxPreemptTrials; {
			end := min(len(set), i+chunk)
			trial := slices.Concat(set[:i], set[end:])
			r := settle(req, run(req, release(trial)))
			trials++
			if !placesMore(req, best, r) && placesAll(r, current) {
				set, best = trial, r
				continue
			}
			i = end
		}
		if chunk == 1 {
			break
		}
	}
	released := release(set)
	moved := releasedMoves(req.Previous, best, released)
	req.Logger.Debug("preemption", "released", len(set), "moved", moved, "max_moves", req.MaxMoves, "trials", trials)
	if moved > req.MaxMoves {
		return withPreemptRemedy(current, best, moved, req.MaxMoves), nil
	}
	return best, released
}

// placesMore reports whether a places more replicas than b at the highest
// priority where their counts differ.
func placesMore(req Request, a, b *Result) bool {
	prio := make(map[string]int, len(req.Models))
	for _, m := range req.Models {
		prio[m.Name] = m.Priority
	}
	count := func(r *Result) map[int]int {
		out := map[int]int{}
		for _, rep := range r.Replicas {
			out[prio[rep.Model]]++
		}
		return out
	}
	return comparePerPriority(count(a), count(b)) > 0
}

// comparePerPriority compares two counts per priority from the highest
// priority down: the sign of a − b at the first priority where they differ,
// 0 when they never do. It is how plans are ranked by what they place.
func comparePerPriority(a, b map[int]int) int {
	levels := slices.Collect(maps.Keys(a))
	for p := range b {
		if _, ok := a[p]; !ok {
			levels = append(levels, p)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(levels)))
	for _, p := range levels {
		switch {
		case a[p] > b[p]:
			return 1
		case a[p] < b[p]:
			return -1
		}
	}
	return 0
}

// blockingReplicas lists, by key, the replicas of r still where the
// previous plan put them that may stand in the way of an unplaced model:
// those on a node group where the model has an option, and the model's own
// (they hold its spread and spot caps).
func blockingReplicas(req Request, r *Result) []string {
	s := newAssignment(req, nil)
	s.filter()
	blocked := map[string]bool{}
	groups := map[string]bool{}
	for _, u := range r.Unplaced {
		blocked[u.Model] = true
	}
	for mi, md := range s.models {
		if !blocked[md.Name] {
			continue
		}
		for _, o := range s.opts[mi] {
			groups[s.groups[o.group].Name] = true
		}
	}
	return keptReplicas(req, r, func(rep Replica) bool { return groups[rep.NodeGroup] || blocked[rep.Model] })
}

// keptReplicas lists, by key, the replicas of r still where the previous
// plan put them, those that match when match is set.
func keptReplicas(req Request, r *Result, match func(Replica) bool) []string {
	prev := make(map[string]Replica, len(req.Previous))
	for _, p := range req.Previous {
		prev[p.Key()] = p
	}
	var out []string
	for _, rep := range r.Replicas {
		if p, ok := prev[rep.Key()]; ok && SamePlace(p, rep) && (match == nil || match(rep)) {
			out = append(out, rep.Key())
		}
	}
	sort.Strings(out)
	return out
}

// releasedMoves counts the released replicas that r places elsewhere than
// the previous plan did: the moves a rebalance or a preemption chose, as
// opposed to those a lost place forced.
func releasedMoves(prev []Replica, r *Result, released map[string]moveCause) int {
	now := make(map[string]Replica, len(r.Replicas))
	for _, rep := range r.Replicas {
		now[rep.Key()] = rep
	}
	n := 0
	for _, old := range prev {
		if _, ok := released[old.Key()]; !ok {
			continue
		}
		if cur, ok := now[old.Key()]; ok && !SamePlace(old, cur) {
			n++
		}
	}
	return n
}

// preemptReason is the reason a preempted replica's move gives: the
// replicas it makes room for.
func preemptReason(current *Result) string {
	var names []string
	for _, u := range current.Unplaced {
		for _, i := range u.Replicas {
			names = append(names, replicaKey(u.Model, i))
		}
	}
	const most = 4
	list := strings.Join(names[:min(most, len(names))], ", ")
	if len(names) > most {
		list += fmt.Sprintf(" and %d more", len(names)-most)
	}
	return "preempted: moved to make room for " + list + ", which no place fits while the replicas kept from the last plan stay"
}

// withPreemptRemedy adds, to each model that the preempting plan places
// more of, the move budget that would place it.
func withPreemptRemedy(current, preempting *Result, moves, budget int) *Result {
	placed := map[string]int{}
	for _, rep := range preempting.Replicas {
		placed[rep.Model]++
	}
	had := map[string]int{}
	for _, rep := range current.Replicas {
		had[rep.Model]++
	}
	out := *current
	out.Unplaced = slices.Clone(current.Unplaced)
	for i, u := range out.Unplaced {
		if placed[u.Model] <= had[u.Model] {
			continue
		}
		u.Remedies = append(slices.Clone(u.Remedies), fmt.Sprintf(
			"moving %d replica(s) kept from the last plan makes room for %d more: set max_moves to at least %d (it is %d)",
			moves, placed[u.Model]-had[u.Model], moves, budget))
		u.MovesNeeded = moves
		out.Unplaced[i] = u
	}
	return &out
}
