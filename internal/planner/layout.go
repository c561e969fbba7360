package planner

import (
	"fmt"
	"math"
)

// Choosing a layout: a group that offers several sharings (NodeGroup.
// Layouts, such as the MIG layouts a user allows) takes one for all its
// nodes. The planner plans the pool with each layout of one group in turn,
// the other groups at their choice so far (their first until chosen), and
// keeps the layout that places most replicas at the highest priority where
// counts differ, then costs least, then moves fewest, the earlier on a tie:
// one pass over the groups, Σ layouts plans, bounded by counts, not clocks.

func hasLayouts(groups []NodeGroup) bool {
	for _, g := range groups {
		if len(g.Layouts) > 0 {
			return true
		}
	}
	return false
}

// withLayout is group g with layout l settled; replicas of the last plan
// stay on it only when l is the layout they ran on, or none is known.
func withLayout(g NodeGroup, l Layout) NodeGroup {
	for _, p := range g.Layouts {
		if p.Previous && layoutName(p) != layoutName(l) {
			g.relaid = fmt.Sprintf("node group %q changes from layout %s to %s: its GPUs are partitioned again", g.Name, layoutName(p), layoutName(l))
		}
	}
	g.Layouts = nil
	return g.Shared(l.Sharing, l.MIGBytes)
}

func layoutName(l Layout) string {
	switch {
	case l.Sharing.MIGLayout != "":
		return l.Sharing.MIGLayout
	case l.Sharing.MIGProfile != "":
		return "all-" + l.Sharing.MIGProfile
	case l.Sharing.Fractional:
		return fmt.Sprintf("blocks of 1/%d", l.Sharing.PerGPU)
	}
	return fmt.Sprintf("%d engines per GPU", l.Sharing.PerGPU)
}

func chooseLayouts(req Request) (*Result, error) {
	base := req.NodeGroups
	for i, g := range base {
		if g.Sharing != nil && len(g.Layouts) > 0 {
			return nil, &InvalidError{Problems: []*InputError{{Kind: "node_group", Name: g.Name, Index: i, Field: "gpu_sharing",
				Msg: "sets both a sharing and layouts to choose from; set one"}}}
		}
	}
	groups := make([]NodeGroup, len(base))
	for i, g := range base {
		groups[i] = g
		if len(g.Layouts) > 0 {
			groups[i] = withLayout(g, g.Layouts[0])
		}
	}
	var best *Result
	for gi, g := range base {
		if len(g.Layouts) == 0 {
			continue
		}
		best = nil
		chosen := 0
		for li, l := range g.Layouts {
			trial := req
			trial.NodeGroups = append([]NodeGroup(nil), groups...)
			trial.NodeGroups[gi] = withLayout(g, l)
			res, err := planOne(trial)
			if err != nil {
				return nil, err
			}
			if best == nil || plansBetter(trial, res, best) {
				best, chosen = res, li
			}
		}
		groups[gi] = withLayout(g, g.Layouts[chosen])
	}
	for i := range groups {
		groups[i].relaid = "" // what the next plan starts from
	}
	best.NodeGroups = groups
	return best, nil
}

// plansBetter reports whether plan a beats plan b of the same demand: more
// replicas placed at the highest priority where counts differ, then a lower
// cost, then fewer moves.
func plansBetter(req Request, a, b *Result) bool {
	switch {
	case placesMore(req, a, b):
		return true
	case placesMore(req, b, a):
		return false
	case math.Abs(a.CostPerHour-b.CostPerHour) > 1e-9:
		return a.CostPerHour < b.CostPerHour
	}
	return len(a.Moves) < len(b.Moves)
}
