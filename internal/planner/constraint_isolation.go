package planner

import "fmt"

// isolationClasses keeps models apart on nodes. Models of one class may
// share nodes, models of different classes never do: class 0 is the shared
// class, then one per tenant and one per dedicated model, in model order.
// The occupancy model packs each class on nodes of its own and binding
// never mixes classes on a node, so no trial can break it: the constraint
// refuses nothing and only judges kept replicas.
type isolationClasses struct {
	classOf []int // per model
	classes int
}

func newIsolationClasses(models []ModelDemand) *isolationClasses {
	iso := &isolationClasses{classOf: make([]int, len(models)), classes: 1}
	tenants := map[string]int{}
	for mi, m := range models {
		switch {
		case m.Isolation.Dedicated:
			iso.classOf[mi] = iso.classes
			iso.classes++
		case m.Isolation.Tenant != "":
			c, ok := tenants[m.Isolation.Tenant]
			if !ok {
				c = iso.classes
				tenants[m.Isolation.Tenant] = c
				iso.classes++
			}
			iso.classOf[mi] = c
		}
	}
	return iso
}

func (*isolationClasses) refuses(*assignment) string { return "" }

func (*isolationClasses) record(*assignment, change) {}

func (iso *isolationClasses) keeps(s *assignment, mi, oi int, r Replica) string {
	a := s.allocs[s.opts[mi][oi].group]
	for _, st := range r.Stages {
		if st.Node >= 0 && st.Node < len(a.nodes) && a.nodes[st.Node].class >= 0 && a.nodes[st.Node].class != iso.classOf[mi] {
			return fmt.Sprintf("its node %d now holds models of another isolation class", st.Node)
		}
	}
	return ""
}

func (*isolationClasses) explain(*assignment, int, int) (string, []string) { return "", nil }
