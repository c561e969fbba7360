package planner

import (
	"math"
	"strings"
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// migLayouts are the uniform layouts of profiles on g's GPU, in order.
func migLayouts(t testing.TB, g NodeGroup, profiles ...string) []Layout {
	t.Helper()
	var out []Layout
	for _, name := range profiles {
		p, err := catalog.LookupMIGProfile(g.GPUModel, name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Layout{Sharing: GPUSharing{MIGProfile: p.Profile, PerGPU: p.PerGPU}, MIGBytes: int64(math.Round(p.MemoryGiB * memory.GiB))})
	}
	return out
}

// Given the layouts a user allows, the planner takes the one that plans
// best: 1g.10gb instances for 0.6B models (a node holds 28), 3g.40gb when a
// model needs more than 20 GB; the plan equals the one with that layout
// fixed, and the result reports it.
func TestLayoutChoice(t *testing.T) {
	g := group(t, "a100", "azure/Standard_NC96ads_A100_v4", 4)
	g.Layouts = migLayouts(t, g, "3g.40gb", "2g.20gb", "1g.10gb")
	tiny := smallModels(t, 14)[:1]
	tiny[0].Replicas = 20
	cases := []struct {
		models []ModelDemand
		want   string
	}{
		{tiny, "1g.10gb"},
		{[]ModelDemand{func() ModelDemand {
			m := demand(t, "llama", "llama-3.1-8b", memory.BF16, 8192, 8, 4)
			m.ShareGPU = true
			return m
		}()}, "3g.40gb"},
	}
	for _, c := range cases {
		req := Request{NodeGroups: []NodeGroup{g}, Models: c.models}
		res := mustPlan(t, req)
		if len(res.NodeGroups) != 1 || res.NodeGroups[0].Sharing == nil || res.NodeGroups[0].Sharing.MIGProfile != c.want {
			t.Fatalf("%s: chose %+v", c.models[0].Name, res.NodeGroups[0].Sharing)
		}
		fixed := req
		fixed.NodeGroups = res.NodeGroups
		checkInvariants(t, fixed, res)
		again := mustPlan(t, fixed)
		if again.CostPerHour != res.CostPerHour || len(again.Replicas) != len(res.Replicas) {
			t.Errorf("%s: the chosen layout planned alone costs %.2f, the choice %.2f", c.models[0].Name, again.CostPerHour, res.CostPerHour)
		}
		for _, l := range g.Layouts {
			alt := req
			alt.NodeGroups = []NodeGroup{withLayout(g, l)}
			if other := mustPlan(t, alt); plansBetter(alt, other, res) {
				t.Errorf("%s: layout %s plans better (%.2f) than the choice %s (%.2f)", c.models[0].Name, l.Sharing.MIGProfile, other.CostPerHour, c.want, res.CostPerHour)
			}
		}
	}
}

// The layout of the last plan is kept when it is offered and no other is
// better; a layout change moves the group's replicas, saying why.
func TestLayoutChangeMovesReplicas(t *testing.T) {
	g := group(t, "a100", "azure/Standard_NC96ads_A100_v4", 4)
	g.Layouts = migLayouts(t, g, "1g.10gb", "3g.40gb")
	m := smallModels(t, 1)[0]
	m.Replicas = 2
	req := Request{NodeGroups: []NodeGroup{g}, Models: []ModelDemand{m}}
	first := mustPlan(t, req)
	if first.NodeGroups[0].Sharing.MIGProfile != "1g.10gb" {
		t.Fatalf("chose %s", first.NodeGroups[0].Sharing.MIGProfile)
	}
	// Previous on 3g.40gb, say: the same cost either way, so the group
	// keeps its layout and its replicas.
	prev := req
	prev.NodeGroups = []NodeGroup{withLayout(g, g.Layouts[1])}
	onThree := mustPlan(t, prev)
	next := req
	next.NodeGroups = []NodeGroup{g}
	next.NodeGroups[0].Layouts = append([]Layout(nil), g.Layouts...)
	next.NodeGroups[0].Layouts[1].Previous = true
	next.Previous = onThree.Replicas
	res := mustPlan(t, next)
	if res.NodeGroups[0].Sharing.MIGProfile != "3g.40gb" || len(res.Moves) != 0 {
		t.Errorf("kept layout %s with moves %+v", res.NodeGroups[0].Sharing.MIGProfile, res.Moves)
	}
	// A model that needs more than a 3g.40gb instance no longer fits; on
	// 1g.10gb, the tiny replicas move with the reason.
	relaid := withLayout(next.NodeGroups[0], next.NodeGroups[0].Layouts[0])
	if !strings.Contains(relaid.relaid, `changes from layout all-3g.40gb to all-1g.10gb`) {
		t.Errorf("reason %q", relaid.relaid)
	}
	alt := next
	alt.NodeGroups = []NodeGroup{relaid}
	moved := mustPlan(t, alt)
	if len(moved.Moves) != 2 || !strings.Contains(moved.Moves[0].Reason, "partitioned again") {
		t.Errorf("moves %+v", moved.Moves)
	}
}

func TestLayoutAndSharingBoth(t *testing.T) {
	g := migA100(t, "a100", "1g.10gb", 2)
	g.Layouts = migLayouts(t, g, "3g.40gb")
	_, err := Plan(Request{NodeGroups: []NodeGroup{g}, Models: smallModels(t, 1)})
	if err == nil || !strings.Contains(err.Error(), "sets both a sharing and layouts") {
		t.Errorf("err %v", err)
	}
}
