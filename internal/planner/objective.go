package planner

// objective is what the strategy minimises, the one scoring rule of the
// planner: assignment, local search, the spot spread, rebalance and the
// report all compare plans with it.
//
// A plan's score is lexicographic. First, under the spread strategy only,
// the imbalance of every model over its domains, Σ replicas² per domain (an
// even spread is the least; moving a replica from a fuller to an emptier
// domain always lowers it). Then the cost: under cost and spread, the
// groups' price × nodes plus the surcharges of replicas placed by this plan,
// nodes breaking ties; under binpack, the nodes, cost breaking ties.
type objective struct {
	strategy         Strategy
	binpack, spreads bool // the strategy, compared once
}

func newObjective(s Strategy) objective {
	return objective{strategy: s, binpack: s == StrategyBinpack, spreads: s == StrategySpread}
}

// score is an objective value, or a change of one.
type score struct {
	spread int
	cost   float64
}

// scoreEpsilon is the least cost difference that counts: below it, sums
// of prices in a different order may differ.
const scoreEpsilon = 1e-9

// nodeTieBreak is what one node adds to the cost objective: above
// scoreEpsilon, so that a plan opening a node it does not need (on a group
// priced at 0, or at equal cost) is never taken for an equal one, and far
// below any price that matters.
const nodeTieBreak = 1e-6

// improvement is the bar a change must pass to count as one: lower the
// cost by more than rounding, or the imbalance.
var improvement = score{cost: -scoreEpsilon}

func (a score) plus(b score) score { return score{a.spread + b.spread, a.cost + b.cost} }

// less is the strict lexicographic order of scores.
func (a score) less(b score) bool {
	if a.spread != b.spread {
		return a.spread < b.spread
	}
	return a.cost < b.cost
}

// exceeds reports whether a is higher than b by more than rounding.
func (a score) exceeds(b score) bool {
	if a.spread != b.spread {
		return a.spread > b.spread
	}
	return a.cost > b.cost+scoreEpsilon
}

// group is the objective of one group at n nodes.
func (o objective) group(g *NodeGroup, n int) float64 {
	cost := g.CostAt(n)
	if o.binpack {
		return float64(n) + cost*1e-9
	}
	return cost + float64(n)*nodeTieBreak
}

// surcharge is the objective of model md's surcharge for one replica at
// option opt of group g: the surcharge per node the replica spans; under
// binpack a cost that only breaks ties.
func (o objective) surcharge(md ModelDemand, g NodeGroup, opt option) float64 {
	perHour := md.Surcharge[g.Name] * float64(replicaNodes(opt.tensor, opt.pipeline, g.GPUsPerNode))
	if o.binpack {
		return perHour * 1e-9
	}
	return perHour
}

// perReplica is the objective of one replica at option opt once the
// group's nodes are full: its share of a node (under a mixed MIG layout,
// of the node's instances that hold it).
func (o objective) perReplica(g *NodeGroup, opt option) float64 {
	share := float64(opt.gpus()) / float64(g.GPUsPerNode)
	if g.Partitioned() {
		share = 1 / float64(max(1, g.InstancesPerNode(opt.unit)))
	}
	if o.binpack {
		return share
	}
	return g.PricePerHour * share
}

// change is the objective's change by the trial changes of s.
func (o objective) change(s *assignment) score {
	var d score
	// Σ before − each after in turn, negated: the sums in one order, so
	// that equal changes score equal.
	gain := 0.0
	for i, ch := range s.trial {
		if firstOfGroup(s.trial, i) {
			gain += o.group(&s.groups[ch.group], s.nodes.count[ch.group])
		}
	}
	for i, ch := range s.trial {
		if firstOfGroup(s.trial, i) {
			gain -= o.group(&s.groups[ch.group], s.trialNodesOf(ch.group))
		}
	}
	d.cost = -gain
	for _, ch := range s.trial {
		d.cost += float64(ch.delta) * ch.surcharge
	}
	if o.spreads {
		d.spread = s.spread.imbalanceChange(s)
	}
	return d
}

// firstOfGroup reports whether steps[i] is the first to name its group.
func firstOfGroup(steps []step, i int) bool {
	for _, e := range steps[:i] {
		if e.group == steps[i].group {
			return false
		}
	}
	return true
}

// of is the objective of the whole assignment.
func (o objective) of(s *assignment) score {
	var total score
	for gi, n := range s.nodes.count {
		total.cost += o.group(&s.groups[gi], n)
	}
	for mi, counts := range s.count {
		for oi, c := range counts {
			total.cost += float64(c) * s.opts[mi][oi].surcharge
		}
	}
	if o.spreads {
		total.spread = s.spread.imbalance()
	}
	return total
}

// ofResult is the objective of a finished plan: the same terms as of, read
// from its groups and replicas. A replica where req.Previous had it has
// paid its surcharge already.
func (o objective) ofResult(req Request, res *Result) score {
	var total score
	groups, models := req.GroupsByName(), req.ModelsByName()
	for _, gr := range res.Groups {
		g := groups[gr.Name]
		total.cost += o.group(&g, gr.Nodes)
	}
	prev := map[string]Replica{}
	for _, r := range req.Previous {
		prev[r.Key()] = r
	}
	perDomain := map[string]map[string]int{}
	for _, r := range res.Replicas {
		g, md := groups[r.NodeGroup], models[r.Model]
		if old, ok := prev[r.Key()]; len(md.Surcharge) > 0 && (!ok || !SamePlace(old, r)) {
			total.cost += o.surcharge(md, g, option{tensor: r.TensorParallel, pipeline: r.PipelineParallel})
		}
		if kind := domainKindOf(md, o.strategy); o.spreads && kind != "" {
			if perDomain[md.Name] == nil {
				perDomain[md.Name] = map[string]int{}
			}
			perDomain[md.Name][g.Domain(kind)]++
		}
	}
	for _, byDomain := range perDomain {
		for _, c := range byDomain {
			total.spread += c * c
		}
	}
	return total
}
