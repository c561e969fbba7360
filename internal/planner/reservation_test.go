package planner

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

func TestReservationFilledFirst(t *testing.T) {
	h100 := group(t, "h100", "aws/p5.4xlarge", 4) // 6.88/h, 1 GPU
	h100.Reserved, h100.ReservedPrice = 2, 4
	l4 := group(t, "l4", "aws/g6.xlarge", 4) // 0.8048/h, 1 GPU
	m := demand(t, "m", "llama-3.1-8b", memory.BF16, 4096, 4, 3)
	m.TensorParallel = 1
	req := Request{NodeGroups: []NodeGroup{h100, l4}, Models: []ModelDemand{m}}
	res := mustPlan(t, req)
	checkInvariants(t, req, res)
	nodes := map[string]int{}
	for _, g := range res.Groups {
		nodes[g.Name] = g.Nodes
	}
	if nodes["h100"] != 2 || nodes["l4"] != 1 {
		t.Errorf("nodes %v: want both reserved H100 nodes used and one L4 bought", nodes)
	}
	if want := 2*4 + 0.8048; math.Abs(res.CostPerHour-want) > 1e-9 {
		t.Errorf("cost %.4f, want %.4f (reserved nodes at their committed price)", res.CostPerHour, want)
	}
	// No demand: the reservation is still paid.
	req.Models[0].Replicas = 0
	if res := mustPlan(t, req); res.CostPerHour != 8 {
		t.Errorf("idle reservation costs %.4f, want 8", res.CostPerHour)
	}
}

func TestReservationRejectsBadInput(t *testing.T) {
	g := group(t, "g", "aws/p5.4xlarge", 2)
	for _, c := range []struct {
		reserved int
		price    float64
		field    string
	}{{3, 1, "reservation.nodes"}, {-1, 1, "reservation.nodes"}, {1, -2, "reservation.price_per_hour"}} {
		bad := g
		bad.Reserved, bad.ReservedPrice = c.reserved, c.price
		problems := Validate(Request{NodeGroups: []NodeGroup{bad}})
		if len(problems) != 1 || problems[0].Field != c.field {
			t.Errorf("reserved %d at %v: problems %v, want one on %s", c.reserved, c.price, problems, c.field)
		}
	}
}

// withRandomReservations reserves up to max_nodes of half the groups at
// 40-100 % of their price (committed-use discounts run to about 55 % off;
// a capacity reservation bills at the on-demand price).
func withRandomReservations(rng *rand.Rand, req Request) Request {
	req.NodeGroups = append([]NodeGroup(nil), req.NodeGroups...)
	for i := range req.NodeGroups {
		g := &req.NodeGroups[i]
		if rng.IntN(2) == 0 && g.MaxNodes > 0 {
			g.Reserved = 1 + rng.IntN(g.MaxNodes)
			g.ReservedPrice = math.Round(g.PricePerHour*(0.4+0.6*rng.Float64())*1e4) / 1e4
		}
	}
	return req
}

// Reservations are used before paid capacity: no replica whose leaving
// would shrink a paid group by a node stays there while a reserved node of
// a group it runs on is idle, unless a constraint of its model could refuse
// the move; and within a group, a paid node exists only once every
// reserved node holds a replica.
func TestPropertyReservationsUsedFirst(t *testing.T) {
	n := 2_000
	if testing.Short() {
		n = 500
	}
	rng := rand.New(rand.NewPCG(15, 2))
	idleSeen := 0
	for i := range n {
		req := withRandomReservations(rng, randomRequest(t, rng))
		res, err := Plan(req)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		checkInvariants(t, req, res)
		groups, models := req.GroupsByName(), req.ModelsByName()
		nodes, holds := map[string]int{}, map[string]map[int][]Replica{}
		for _, g := range res.Groups {
			nodes[g.Name] = g.Nodes
		}
		for _, r := range res.Replicas {
			if holds[r.NodeGroup] == nil {
				holds[r.NodeGroup] = map[int][]Replica{}
			}
			for _, st := range r.Stages {
				holds[r.NodeGroup][st.Node] = append(holds[r.NodeGroup][st.Node], r)
			}
		}
		for name, g := range groups {
			if math.Abs(g.CostAt(nodes[name])-costOf(res, name)) > 1e-9 {
				t.Errorf("case %d: group %s reports %.4f, CostAt %.4f", i, name, costOf(res, name), g.CostAt(nodes[name]))
			}
			paidInUse := false
			for node := g.Reserved; node < nodes[name]; node++ {
				paidInUse = paidInUse || len(holds[name][node]) > 0
			}
			if paidInUse {
				for node := range g.Reserved {
					if len(holds[name][node]) == 0 {
						t.Errorf("case %d: group %s pays for %d nodes beyond its %d reserved while reserved node %d is empty: %+v min %d", i, name, nodes[name]-g.Reserved, g.Reserved, node, holds[name], g.MinNodes)
					}
				}
			}
		}
		for name, g := range groups {
			top := nodes[name] - 1
			if top < max(g.Reserved, g.MinNodes) || g.PricePerHour == 0 || len(holds[name][top]) != 1 {
				continue // no paid node whose one replica's leaving shrinks the group
			}
			r := holds[name][top][0]
			m := models[r.Model]
			if len(r.Stages) > 1 || constrained(m) {
				continue
			}
			for other, h := range groups {
				if other == name || nodes[other] >= h.Reserved {
					continue
				}
				idleSeen++
				if s, ok := ReplicaShape(m, h); ok && s.GPUs() <= h.GPUsPerNode && h.Confidential == g.Confidential {
					t.Errorf("case %d: %s stays on paid node %d of %s (%.2f/h) while reserved nodes of %s idle and fit it at t%d×p%d",
						i, r.Key(), top, name, g.PricePerHour, other, s.TensorParallel, s.PipelineParallel)
				}
			}
		}
		if t.Failed() {
			t.Fatalf("case %d failed", i)
		}
	}
	t.Logf("%d instances; %d (replica, idle reserved group) pairs checked", n, idleSeen)
}

// constrained reports whether a model has any constraint that may refuse a
// move between groups (beyond what ReplicaShape checks).
func constrained(m ModelDemand) bool {
	return m.Spread.Across != "" || m.OnDemandFloor > 0 || m.MinReplicasOnFailure != (FailureTolerance{}) ||
		m.Isolation != (Isolation{}) || len(m.Surcharge) > 0
}

func costOf(res *Result, group string) float64 {
	for _, g := range res.Groups {
		if g.Name == group {
			return g.CostPerHour
		}
	}
	return 0
}
