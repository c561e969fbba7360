package planner

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// vCPU quotas as AWS counts them: p5.48xlarge has 192 vCPUs, g6e.12xlarge
// 48 (catalog rows).
func quotaFleet(t *testing.T, limit int) Request {
	return Request{
		NodeGroups: []NodeGroup{
			group(t, "l40s", "aws/g6e.12xlarge", 10),
			group(t, "g6-8", "aws/g6.48xlarge", 10),
		},
		Models: []ModelDemand{demand(t, "m", "llama-3.1-8b", memory.BF16, 8192, 8, 12)},
		Quotas: []Quota{{Name: "aws/us-east-1/G", Unit: "vCPUs", Limit: limit, PerNode: map[string]int{"l40s": 48, "g6-8": 192}}},
	}
}

func quotaUsed(res *Result, q Quota) int {
	used := 0
	for _, g := range res.Groups {
		used += g.Nodes * q.PerNode[g.Name]
	}
	return used
}

func TestQuotaBoundsGroupsTogether(t *testing.T) {
	free := mustPlan(t, quotaFleet(t, 1_000_000))
	req := quotaFleet(t, 96) // two 4-GPU nodes of 48 vCPUs: 8 of the 12 replicas
	req.NodeGroups = append(req.NodeGroups, group(t, "h100", "aws/p5.48xlarge", 4))
	res := mustPlan(t, req)
	checkInvariants(t, req, res)
	if used := quotaUsed(res, req.Quotas[0]); used > 96 {
		t.Fatalf("quota used %d > 96", used)
	}
	if res.UnplacedReplicas() != 0 {
		t.Fatalf("the unquoted group should take the rest: %+v", res.Unplaced)
	}
	if res.CostPerHour <= free.CostPerHour {
		t.Errorf("a binding quota cannot make the plan cheaper: %.3f vs %.3f", res.CostPerHour, free.CostPerHour)
	}
}

func TestQuotaExplainsAndNamesTheRaise(t *testing.T) {
	req := quotaFleet(t, 96)
	res := mustPlan(t, req)
	checkInvariants(t, req, res)
	if len(res.Unplaced) != 1 {
		t.Fatalf("want the replicas over the quota unplaced, got %+v", res.Unplaced)
	}
	u := res.Unplaced[0]
	if len(u.Replicas) != 4 {
		t.Fatalf("96 vCPUs hold two 4-GPU nodes (8 replicas); unplaced %v", u.Replicas)
	}
	for _, want := range []string{"excluded by quota", `quota "aws/us-east-1/G" counts 96 of its 96 vCPUs`} {
		if !strings.Contains(u.Reason, want) {
			t.Errorf("reason %q lacks %q", u.Reason, want)
		}
	}
	// The cheapest way: one more g6e.12xlarge (48 vCPUs) for the 4 missing.
	want := `raise quota "aws/us-east-1/G" to 144 vCPUs (node group "l40s" then holds the 4 missing replicas)`
	if !contains(u.Remedies, want) {
		t.Errorf("remedies %q lack %q", u.Remedies, want)
	}
	// The raise it names is enough.
	req.Quotas[0].Limit = 144
	if again := mustPlan(t, req); again.UnplacedReplicas() != 0 {
		t.Errorf("with the raise, still unplaced: %+v", again.Unplaced)
	}
}

func contains(xs []string, x string) bool {
	for _, e := range xs {
		if e == x {
			return true
		}
	}
	return false
}

func TestQuotaMovesKeptReplicasWhenLowered(t *testing.T) {
	req := quotaFleet(t, 1_000_000)
	req.NodeGroups = append(req.NodeGroups, group(t, "h100", "aws/p5.48xlarge", 4))
	first := mustPlan(t, req)
	req.Previous = first.Replicas
	req.Quotas[0].Limit = 48
	res := mustPlan(t, req)
	checkInvariants(t, req, res)
	if used := quotaUsed(res, req.Quotas[0]); used > 48 {
		t.Fatalf("quota used %d > 48 after lowering", used)
	}
	forced := 0
	for _, m := range res.Moves {
		if m.Kind == MoveForced {
			forced++
		}
	}
	if forced == 0 || res.UnplacedReplicas() != 0 {
		t.Errorf("lowering the quota should force moves onto h100: %d forced, unplaced %+v", forced, res.Unplaced)
	}
}

func TestQuotaRejectsBadInput(t *testing.T) {
	base := quotaFleet(t, 96)
	base.NodeGroups[0].MinNodes = 3
	cases := []struct {
		name  string
		quota Quota
		field string
		msg   string
	}{
		{"negative", Quota{Name: "q", Unit: "vCPUs", Limit: -1, PerNode: map[string]int{"l40s": 48}}, "limit", "between 0 and"},
		{"unknown group", Quota{Name: "q", Unit: "vCPUs", Limit: 10, PerNode: map[string]int{"nope": 48}}, "node_groups", `"nope"`},
		{"zero per node", Quota{Name: "q", Unit: "vCPUs", Limit: 10, PerNode: map[string]int{"l40s": 0}}, "node_groups.per_node", "between 1 and"},
		{"min_nodes over", Quota{Name: "q", Unit: "vCPUs", Limit: 96, PerNode: map[string]int{"l40s": 48}}, "limit", "count 144 vCPUs, over the limit of 96"},
		{"empty name", Quota{Unit: "GPUs", Limit: 1, PerNode: map[string]int{"l40s": 4}}, "name", "must not be empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := base
			req.Quotas = []Quota{c.quota}
			problems := Validate(req)
			if len(problems) != 1 || problems[0].Kind != "quota" || problems[0].Field != c.field || problems[0].Index != 0 ||
				!strings.Contains(problems[0].Msg, c.msg) {
				t.Fatalf("problems %v, want one on quota %s containing %q", problems, c.field, c.msg)
			}
			if _, err := Plan(req); err == nil {
				t.Fatal("Plan accepted it")
			}
		})
	}
}

// withRandomQuotas adds up to three quotas over random groups, counting
// GPUs or (as AWS and Azure do) a node's vCPUs, with limits from below the
// groups' min_nodes-free floor to above their max_nodes.
func withRandomQuotas(rng *rand.Rand, req Request) Request {
	for qi := range rng.IntN(4) {
		q := Quota{Name: fmt.Sprintf("q%d", qi), Unit: "GPUs", PerNode: map[string]int{}}
		vcpus := rng.IntN(2) == 0
		if vcpus {
			q.Unit = "vCPUs"
		}
		floor, ceiling := 0, 0
		for _, g := range req.NodeGroups {
			if rng.IntN(2) == 0 {
				continue
			}
			per := g.GPUsPerNode
			if vcpus {
				per *= 12 + 12*rng.IntN(2)
			}
			q.PerNode[g.Name] = per
			floor += g.MinNodes * per
			ceiling += g.MaxNodes * per
		}
		q.Limit = floor + rng.IntN(ceiling-floor+1)
		req.Quotas = append(req.Quotas, q)
	}
	return req
}

func TestPropertyQuotasNeverExceeded(t *testing.T) {
	n := 3_000
	if testing.Short() {
		n = 1_000
	}
	rng := rand.New(rand.NewPCG(15, 1))
	bound := 0
	for i := range n {
		req := withRandomQuotas(rng, randomRequest(t, rng))
		res, err := Plan(req)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		checkInvariants(t, req, res) // quotas included
		for _, u := range res.Unplaced {
			if strings.Contains(u.Reason, "excluded by quota") {
				bound++
			}
		}
		perm := shuffled(rng, req)
		perm.Quotas = append([]Quota(nil), req.Quotas...)
		rng.Shuffle(len(perm.Quotas), func(a, b int) { perm.Quotas[a], perm.Quotas[b] = perm.Quotas[b], perm.Quotas[a] })
		if !reflect.DeepEqual(mustPlan(t, perm).Replicas, res.Replicas) {
			t.Fatalf("case %d: shuffled input changed the plan", i)
		}
		req.Previous = res.Replicas
		if again := mustPlan(t, req); len(again.Moves) != 0 || !reflect.DeepEqual(again.Replicas, res.Replicas) {
			t.Fatalf("case %d: unchanged input re-planned with %d moves", i, len(again.Moves))
		}
		if t.Failed() {
			t.Fatalf("case %d failed", i)
		}
	}
	t.Logf("%d instances; %d models left short by a quota", n, bound)
	if bound == 0 {
		t.Error("no instance was bound by a quota: the generator tests nothing")
	}
}
