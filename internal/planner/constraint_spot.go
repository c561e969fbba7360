package planner

import "fmt"

// spotFloor keeps a model's on-demand floor: at most Replicas −
// OnDemandFloor of its replicas run on spot node groups.
type spotFloor struct {
	limit   []int  // per model: the most replicas on spot
	onSpot  []int  // per model: replicas on spot, kept and new
	bounded []bool // per model: it has a floor at all
}

// filterFloor names the spot floor in explanations.
const filterFloor = "on_demand_floor"

func newSpotFloor(models []ModelDemand) *spotFloor {
	f := &spotFloor{limit: make([]int, len(models)), onSpot: make([]int, len(models)), bounded: make([]bool, len(models))}
	for mi, m := range models {
		f.limit[mi], f.bounded[mi] = m.Replicas-m.OnDemandFloor, m.OnDemandFloor > 0
	}
	return f
}

func isSpot(g *NodeGroup) bool { return g.CapacityType == CapacitySpot }

func (f *spotFloor) refuses(s *assignment) string {
	for _, ch := range s.trial {
		if ch.delta <= 0 || !f.bounded[ch.mi] || !isSpot(&s.groups[ch.group]) {
			continue // only a model with a floor, gaining spot replicas, can break it
		}
		d := 0
		for _, e := range s.trial {
			if e.mi == ch.mi && isSpot(&s.groups[e.group]) {
				d += e.delta
			}
		}
		if d > 0 && f.onSpot[ch.mi]+d > f.limit[ch.mi] {
			return filterFloor
		}
	}
	return ""
}

func (f *spotFloor) record(s *assignment, ch change) {
	if isSpot(&s.groups[s.opts[ch.mi][ch.oi].group]) {
		f.onSpot[ch.mi] += ch.delta
	}
}

func (f *spotFloor) keeps(s *assignment, mi, oi int, _ Replica) string {
	if g := &s.groups[s.opts[mi][oi].group]; isSpot(g) && f.onSpot[mi] >= f.limit[mi] {
		return fmt.Sprintf("its on-demand floor of %d replicas leaves no room on spot node group %q", s.models[mi].OnDemandFloor, g.Name)
	}
	return ""
}

func (f *spotFloor) explain(s *assignment, mi, _ int) (string, []string) {
	if !s.refusedBy(mi, filterFloor) {
		return "", nil
	}
	md := s.models[mi]
	return "", []string{fmt.Sprintf("add on-demand capacity: %d replicas of %q must run on on-demand node groups", md.OnDemandFloor, md.Name)}
}
