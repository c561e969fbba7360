package bench

import (
	"math"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
)

// modelCaps are the caps a model's placement keeps, written out here from
// the planner's documented rules rather than taken from it, so that the
// checker, the baseline and the exact model stay independent: the most
// replicas in one domain (a spread's max_share across clouds, or
// min_replicas_on_failure by cloud or by region) and on spot node groups
// (replicas − on_demand_floor).
type modelCaps struct {
	kind      string // planner.SpreadCloud, planner.SpreadRegion or "" for no cap
	perDomain int
	spot      int
}

func capsOf(m planner.ModelDemand) modelCaps {
	c := modelCaps{perDomain: math.MaxInt, spot: m.Replicas - m.OnDemandFloor}
	if m.Spread.Across == planner.SpreadCloud && m.Spread.MaxShare > 0 {
		c.kind, c.perDomain = planner.SpreadCloud, shareCap(m)
	}
	for _, f := range []struct {
		kind string
		n    int
	}{{planner.SpreadCloud, m.MinReplicasOnFailure.Cloud}, {planner.SpreadRegion, m.MinReplicasOnFailure.Region}} {
		if f.n > 0 {
			c.kind, c.perDomain = f.kind, min(c.perDomain, m.Replicas-f.n)
		}
	}
	if c.kind == "" && m.Spread.Across == planner.SpreadCloud {
		c.kind = planner.SpreadCloud // min_domains alone counts clouds
	}
	return c
}

// domainOf names a group's domain of a kind: its cloud, or cloud/region.
func domainOf(g planner.NodeGroup, kind string) string {
	if kind == planner.SpreadRegion {
		return g.Cloud + "/" + g.Region
	}
	return g.Cloud
}

// constrained reports whether a model has caps beyond its demand.
func (c modelCaps) constrained(m planner.ModelDemand) bool {
	return c.kind != "" || c.spot < m.Replicas
}
