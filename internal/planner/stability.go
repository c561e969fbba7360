package planner

import (
	"fmt"
	"sort"
)

// keepPrevious binds every replica of the previous plan whose place is still
// feasible, exactly where it was, and records why the others must move.
// Replicas of removed models and replicas above a model's new count are
// dropped. What is left to place goes to p.pending, lowest index first.
func (p *plan) keepPrevious() {
	m := len(p.models)
	p.kept = make([][]Replica, m)
	p.pending = make([][]int, m)
	p.domains = make([]map[string]int, m)
	p.spot = make([]int, m)
	p.failed = make([]map[int]string, m)
	modelIdx := map[string]int{}
	for mi, md := range p.models {
		modelIdx[md.Name] = mi
		p.domains[mi] = map[string]int{}
		p.failed[mi] = map[int]string{}
	}
	groupIdx := map[string]int{}
	for gi, g := range p.groups {
		groupIdx[g.Name] = gi
	}

	prev := append([]Replica(nil), p.req.Previous...)
	sort.Slice(prev, func(i, j int) bool {
		if prev[i].Model != prev[j].Model {
			return prev[i].Model < prev[j].Model
		}
		return prev[i].Index < prev[j].Index
	})
	keptIdx := make([]map[int]bool, m)
	for mi := range keptIdx {
		keptIdx[mi] = map[int]bool{}
	}
	for _, r := range prev {
		mi, ok := modelIdx[r.Model]
		if !ok || r.Index < 0 || r.Index >= p.models[mi].Replicas || keptIdx[mi][r.Index] {
			continue
		}
		if p.released[r.Key()] {
			p.failed[mi][r.Index] = "rebalance"
			continue
		}
		kept, reason := p.keep(mi, r, groupIdx)
		if reason != "" {
			p.failed[mi][r.Index] = reason
			p.log.Debug("previous placement no longer feasible", "replica", r.Key(), "reason", reason)
			continue
		}
		keptIdx[mi][r.Index] = true
		p.kept[mi] = append(p.kept[mi], kept)
	}
	for mi, md := range p.models {
		for i := 0; i < md.Replicas; i++ {
			if !keptIdx[mi][i] {
				p.pending[mi] = append(p.pending[mi], i)
			}
		}
	}
}

// keep checks one previous replica against today's request and binds it.
// It returns the replica as it stays, or why it cannot.
func (p *plan) keep(mi int, r Replica, groupIdx map[string]int) (Replica, string) {
	md := p.models[mi]
	gi, ok := groupIdx[r.NodeGroup]
	if !ok {
		return r, fmt.Sprintf("node group %q no longer exists", r.NodeGroup)
	}
	g := p.groups[gi]
	feasible := false
	for _, o := range p.opts[mi] {
		feasible = feasible || o.group == gi
	}
	if !feasible {
		return r, fmt.Sprintf("node group %q no longer passes the model's constraints or memory", g.Name)
	}
	if (md.TensorParallel > 0 && r.TensorParallel != md.TensorParallel) ||
		(md.PipelineParallel > 0 && r.PipelineParallel != md.PipelineParallel) {
		return r, "the model now fixes other parallel degrees"
	}
	if r.TensorParallel < 1 || r.PipelineParallel < 1 || len(r.Stages) != r.PipelineParallel ||
		md.Memory.CheckTensorParallel(r.TensorParallel) != nil || md.Memory.CheckPipelineParallel(r.PipelineParallel) != nil {
		return r, "its parallel degrees are no longer valid for the model"
	}
	need := md.Memory.PerGPU(g.GPU(), r.TensorParallel, r.PipelineParallel)
	if !need.Fits {
		return r, fmt.Sprintf("it no longer fits the GPU memory of node group %q", g.Name)
	}
	dom := p.domainFor(mi, gi)
	if p.domainKind(mi) != "" && p.domains[mi][dom] >= p.cap(mi) {
		return r, fmt.Sprintf("the spread allows no more replicas in %s %q", p.domainKind(mi), dom)
	}
	if g.CapacityType == CapacitySpot && p.spotRoom(mi) <= 0 {
		return r, fmt.Sprintf("its on-demand floor of %d replicas leaves no room on spot node group %q", md.OnDemandFloor, g.Name)
	}
	a := p.allocs[gi]
	for _, s := range r.Stages {
		if len(s.GPUs) != r.TensorParallel {
			return r, "its stages do not match its tensor parallel degree"
		}
		if md.Spread.Across == SpreadNode && s.Node < len(a.nodes) && a.nodes[s.Node].models[mi] {
			return r, "another replica of the model holds its node"
		}
	}
	if !a.takeAll(r.Stages, mi, p.classOf[mi]) {
		return r, fmt.Sprintf("its GPUs are taken, beyond max_nodes of node group %q, or on a node of another isolation class", g.Name)
	}
	p.domains[mi][dom]++
	if g.CapacityType == CapacitySpot {
		p.spot[mi]++
	}
	kept := r
	kept.MemoryPerGPU = need.NeedBytes
	kept.Stages = cloneStages(r.Stages)
	return kept, ""
}

func (p *plan) domainFor(mi, gi int) string { return domainOf(p.groups[gi], p.domainKind(mi)) }

func cloneStages(s []Stage) []Stage {
	out := make([]Stage, len(s))
	for i, st := range s {
		out[i] = Stage{Node: st.Node, GPUs: append([]int(nil), st.GPUs...)}
	}
	return out
}

// takeAll binds every stage or none.
func (a *groupAlloc) takeAll(stages []Stage, model, class int) bool {
	for i, s := range stages {
		if !a.take(s.Node, s.GPUs, model, class) {
			for _, done := range stages[:i] {
				a.release(done)
			}
			return false
		}
	}
	return true
}

func (a *groupAlloc) release(s Stage) {
	n := &a.nodes[s.Node]
	for _, g := range s.GPUs {
		n.free |= 1 << g
	}
	if n.free == fullMask(a.gpusPerNode) {
		n.class, n.models = -1, nil
	}
}
