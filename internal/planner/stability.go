package planner

import "fmt"

// keepPrevious binds every replica of the previous plan whose place is still
// feasible, exactly where it was, and records why the others must move.
// Replicas of removed models and replicas above a model's new count are
// dropped. What is left to place goes to s.pending, lowest index first.
func (s *assignment) keepPrevious() {
	m := len(s.models)
	s.kept = make([][]Replica, m)
	s.pending = make([][]int, m)
	s.failed = make([]map[int]moveCause, m)
	modelIdx := map[string]int{}
	for mi, md := range s.models {
		modelIdx[md.Name] = mi
		s.failed[mi] = map[int]moveCause{}
	}
	prev := append([]Replica(nil), s.req.Previous...)
	sortReplicas(prev)
	keptIdx := make([]map[int]bool, m)
	for mi := range keptIdx {
		keptIdx[mi] = map[int]bool{}
	}
	for _, r := range prev {
		mi, ok := modelIdx[r.Model]
		if !ok || r.Index < 0 || r.Index >= s.models[mi].Replicas || keptIdx[mi][r.Index] {
			continue
		}
		if cause, ok := s.released[r.Key()]; ok {
			s.failed[mi][r.Index] = cause
			continue
		}
		kept, reason := s.keep(mi, r)
		if reason != "" {
			s.failed[mi][r.Index] = moveCause{MoveForced, reason}
			s.log.Debug("previous placement no longer feasible", "replica", r.Key(), "reason", reason)
			continue
		}
		keptIdx[mi][r.Index] = true
		s.kept[mi] = append(s.kept[mi], kept)
	}
	for mi, md := range s.models {
		for i := 0; i < md.Replicas; i++ {
			if !keptIdx[mi][i] {
				s.pending[mi] = append(s.pending[mi], i)
			}
		}
	}
}

// keep checks one previous replica against today's request and binds it:
// first what the filters and the memory estimate say of its group and
// degrees, then every constraint. It returns the replica as it stays, or
// why it cannot.
func (s *assignment) keep(mi int, r Replica) (Replica, string) {
	md := s.models[mi]
	gi := s.groupIndex(r.NodeGroup)
	if gi < 0 {
		return r, fmt.Sprintf("node group %q no longer exists", r.NodeGroup)
	}
	g := s.groups[gi]
	if g.relaid != "" {
		return r, g.relaid
	}
	oi := s.optionOn(mi, gi)
	if oi < 0 {
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
	if g.Sharing != nil && (r.TensorParallel != 1 || r.PipelineParallel != 1) {
		return r, fmt.Sprintf("node group %q shares its GPUs, where a replica runs at tensor and pipeline degree 1", g.Name)
	}
	for _, st := range r.Stages {
		switch {
		case g.Fractional() && len(st.GPUs) != s.opts[mi][oi].unit:
			return r, fmt.Sprintf("its block of %d GPU memory slots is no longer the %d the model takes on node group %q", len(st.GPUs), s.opts[mi][oi].unit, g.Name)
		case g.Partitioned() && !s.allocs[gi].isInstance(st.GPUs):
			return r, fmt.Sprintf("its memory slots are not one MIG instance of node group %q's layout %s", g.Name, g.Sharing.MIGLayout)
		case !g.Fractional() && !g.Partitioned() && len(st.GPUs) != r.TensorParallel:
			return r, "its stages do not match its tensor parallel degree"
		}
	}
	need := md.Memory.PerGPU(g.ReplicaGPU(r), r.TensorParallel, r.PipelineParallel)
	if !need.Fits {
		return r, fmt.Sprintf("it no longer fits the GPU memory of node group %q", g.Name)
	}
	for _, c := range s.constraints {
		if why := c.keeps(s, mi, oi, r); why != "" {
			return r, why
		}
	}
	if !s.allocs[gi].takeAll(r.Stages, mi, s.isolation.classOf[mi]) {
		return r, fmt.Sprintf("its GPUs on node group %q are taken by another replica kept from the last plan", g.Name)
	}
	for _, c := range s.constraints {
		c.record(s, change{mi, oi, 1})
	}
	kept := r
	kept.MemoryPerGPU = need.NeedBytes
	kept.Stages = cloneStages(r.Stages)
	return kept, ""
}

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
				a.release(done, model)
			}
			return false
		}
	}
	return true
}

// release frees stage s of model: its GPUs, the model's mark on the node
// when no other stage of it is there, and the node's class when it is
// empty.
func (a *groupAlloc) release(s Stage, model int) {
	n := &a.nodes[s.Node]
	for _, g := range s.GPUs {
		n.free |= 1 << g
	}
	if n.models[model]--; n.models[model] <= 0 {
		delete(n.models, model)
	}
	if n.free == fullMask(a.gpusPerNode) {
		n.class, n.models = -1, nil
	}
	// Its blocks are free again: first fit may look at the node once more.
	for l := range a.cursor {
		a.cursor[l] = min(a.cursor[l], s.Node)
	}
}
