package planner

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// randomRequest builds a small random but valid request: a few node groups
// from the catalog (random regions, labels, limits) and a few models with
// random precision, context, replicas and constraints.
func randomRequest(t testing.TB, rng *rand.Rand) Request {
	types := catalog.InstanceTypes()
	models := catalog.Models()
	clouds := []string{"aws", "azure", "gcp"}
	req := Request{Strategy: []Strategy{StrategyCost, StrategyBinpack, StrategySpread}[rng.IntN(3)]}
	for i := range 1 + rng.IntN(6) {
		it := types[rng.IntN(len(types))]
		maxNodes := rng.IntN(6)
		g := NodeGroup{
			Name: fmt.Sprintf("g%d", i), Cloud: it.Cloud, Region: fmt.Sprintf("r%d", rng.IntN(3)),
			GPUModel: it.GPUModel, GPUsPerNode: it.GPUs,
			GPUMemoryBytes: memory.GPUFromGiB(it.VisibleMemoryGiB, 1).VisibleBytes,
			Utilization:    []float64{0.8, 0.9, 0.95}[rng.IntN(3)],
			PricePerHour:   float64(1+rng.IntN(100)) / 4,
			MinNodes:       rng.IntN(maxNodes + 1), MaxNodes: maxNodes,
			CapacityType: []string{CapacityOnDemand, CapacitySpot}[rng.IntN(2)], Confidential: rng.IntN(4) == 0,
			Labels:      map[string]string{"tier": []string{"a", "b"}[rng.IntN(2)]},
			FastNetwork: it.FastNetwork(),
		}
		req.NodeGroups = append(req.NodeGroups, g)
	}
	for i := range 1 + rng.IntN(5) {
		cm := models[rng.IntN(len(models))]
		prec := []memory.Precision{memory.BF16, memory.FP8, memory.Int4}[rng.IntN(3)]
		est, err := memory.New(memory.Request{Arch: cm.Architecture, Precision: prec,
			ContextTokens: min(cm.MaxContext, 512<<rng.IntN(5)), Concurrency: 1 + rng.IntN(16)})
		if err != nil {
			t.Fatal(err)
		}
		m := ModelDemand{Name: fmt.Sprintf("m%d", i), Memory: est, Replicas: rng.IntN(9), Priority: rng.IntN(3),
			PipelineOverAnyNetwork: i%3 == 2}
		if rng.IntN(3) == 0 {
			m.OnDemandFloor = rng.IntN(m.Replicas + 1)
		}
		switch rng.IntN(6) {
		case 0:
			m.Isolation.Dedicated = true
		case 1, 2:
			m.Isolation.Tenant = []string{"red", "blue"}[rng.IntN(2)]
		}
		switch rng.IntN(9) {
		case 7:
			if m.Replicas > 1 {
				m.MinReplicasOnFailure = FailureTolerance{Cloud: 1 + rng.IntN(m.Replicas-1)}
			}
		case 0:
			m.Clouds = []string{clouds[rng.IntN(3)]}
		case 1:
			m.Regions = []string{"r0", "r1"}
		case 2:
			m.Labels = map[string]string{"tier": "a"}
		case 3:
			m.Confidential = true
		case 4:
			m.Spread = Spread{Across: SpreadCloud, MinDomains: min(2, m.Replicas), MaxShare: 0.67}
		case 5:
			m.Spread = Spread{Across: SpreadNode}
		case 6:
			if degrees := est.ValidTensorParallel(8); len(degrees) > 0 {
				m.TensorParallel = degrees[rng.IntN(len(degrees))]
			}
		}
		if rng.IntN(4) == 0 {
			m.Surcharge = map[string]float64{}
			for _, g := range req.NodeGroups {
				m.Surcharge[g.Name] = float64(rng.IntN(3)) * 2.5
			}
		}
		req.Models = append(req.Models, m)
	}
	return req
}

// checkInvariants asserts what every plan must satisfy, whatever the input.
func checkInvariants(t testing.TB, req Request, res *Result) {
	t.Helper()
	groups, models := req.GroupsByName(), req.ModelsByName()
	sizes := map[string]int{}
	cost := 0.0
	for _, gr := range res.Groups {
		g := groups[gr.Name]
		if gr.Nodes < g.MinNodes || gr.Nodes > g.MaxNodes {
			t.Errorf("group %s: %d nodes outside [%d, %d]", g.Name, gr.Nodes, g.MinNodes, g.MaxNodes)
		}
		sizes[gr.Name] = gr.Nodes
		cost += gr.CostPerHour
	}
	if d := cost - res.CostPerHour; d > 1e-6 || d < -1e-6 {
		t.Errorf("total cost %.4f != sum of groups %.4f", res.CostPerHour, cost)
	}
	for _, q := range req.Quotas {
		used := 0
		for name, per := range q.PerNode {
			used += sizes[name] * per
		}
		if used > q.Limit {
			t.Errorf("quota %s: %d %s used, over its limit of %d", q.Name, used, q.Unit, q.Limit)
		}
	}
	used := map[string]string{} // "group/node/gpu" → replica
	seen := map[string]bool{}
	perDomain := map[string]map[string]int{}
	nodesOf := map[string]map[string]string{} // model → node → replica
	for _, r := range res.Replicas {
		g, ok := groups[r.NodeGroup]
		m, okm := models[r.Model]
		if !ok || !okm {
			t.Fatalf("replica %s on unknown group or model", r.Key())
		}
		if seen[r.Key()] || r.Index < 0 || r.Index >= m.Replicas {
			t.Errorf("replica %s duplicated or out of range", r.Key())
		}
		seen[r.Key()] = true
		need := m.Memory.PerGPU(g.ReplicaGPU(r), r.TensorParallel, r.PipelineParallel)
		if !need.Fits || need.NeedBytes != r.MemoryPerGPU {
			t.Errorf("%s: memory %d does not match the estimate %d (fits %v)", r.Key(), r.MemoryPerGPU, need.NeedBytes, need.Fits)
		}
		if !allowed(m.Clouds, g.Cloud) || !allowed(m.Regions, g.Region) || !allowed(m.GPUModels, g.GPUModel) ||
			!hasLabels(g.Labels, m.Labels) || (m.Confidential && !g.Confidential) {
			t.Errorf("%s violates its constraints on %s", r.Key(), g.Name)
		}
		if m.TensorParallel > 0 && r.TensorParallel != m.TensorParallel {
			t.Errorf("%s at t%d, model fixes t%d", r.Key(), r.TensorParallel, m.TensorParallel)
		}
		if len(r.Stages) != r.PipelineParallel {
			t.Errorf("%s: %d stages for p%d", r.Key(), len(r.Stages), r.PipelineParallel)
		}
		// Stages span nodes only over a fast network or where the model
		// allows any; elsewhere they fill one node.
		stageNodes := map[int]bool{}
		for _, s := range r.Stages {
			stageNodes[s.Node] = true
		}
		want := replicaNodes(r.TensorParallel, r.PipelineParallel, g.GPUsPerNode)
		if spanAny := g.FastNetwork || m.PipelineOverAnyNetwork; len(stageNodes) < want || (!spanAny && len(stageNodes) != want) {
			t.Errorf("%s: t%d p%d stages on %d nodes of %d GPUs, want %d", r.Key(), r.TensorParallel, r.PipelineParallel, len(stageNodes), g.GPUsPerNode, want)
		}
		if len(stageNodes) > 1 && !g.FastNetwork && !m.PipelineOverAnyNetwork {
			t.Errorf("%s: stages span %d nodes of %s, whose network is not fast", r.Key(), len(stageNodes), g.Name)
		}
		for _, s := range r.Stages {
			width := r.TensorParallel
			if g.Fractional() || g.Partitioned() { // a block of slots, whatever its width
				width = len(s.GPUs)
			}
			if s.Node < 0 || s.Node >= sizes[g.Name] || len(s.GPUs) != width || width == 0 {
				t.Errorf("%s: stage on node %d of %d with %d GPUs", r.Key(), s.Node, sizes[g.Name], len(s.GPUs))
			}
			for _, gpu := range s.GPUs {
				k := fmt.Sprintf("%s/%d/%d", g.Name, s.Node, gpu)
				if gpu < 0 || gpu >= g.GPUsPerNode {
					t.Errorf("%s: GPU %d outside node of %d", r.Key(), gpu, g.GPUsPerNode)
				}
				if other, dup := used[k]; dup {
					t.Errorf("GPU %s holds both %s and %s", k, other, r.Key())
				}
				used[k] = r.Key()
			}
			if m.Spread.Across == SpreadNode {
				nk := fmt.Sprintf("%s/%d", g.Name, s.Node)
				if nodesOf[m.Name] == nil {
					nodesOf[m.Name] = map[string]string{}
				}
				// A replica's own stages may share a node; two
				// replicas may not.
				if other, ok := nodesOf[m.Name][nk]; ok && other != r.Key() {
					t.Errorf("%s shares node %s with %s (spread across node)", r.Key(), nk, other)
				}
				nodesOf[m.Name][nk] = r.Key()
			}
		}
		if a := capKind(m); a != "" {
			if perDomain[m.Name] == nil {
				perDomain[m.Name] = map[string]int{}
			}
			perDomain[m.Name][g.Domain(a)]++
		}
	}
	// Isolation: the models on a node are all of one tenant (or none), and
	// a dedicated model is alone on its nodes.
	onNode := map[string]map[string]bool{}
	for _, r := range res.Replicas {
		for _, st := range r.Stages {
			k := fmt.Sprintf("%s/%d", r.NodeGroup, st.Node)
			if onNode[k] == nil {
				onNode[k] = map[string]bool{}
			}
			onNode[k][r.Model] = true
		}
	}
	for node, ms := range onNode {
		tenants := map[string]bool{}
		for name := range ms {
			m := models[name]
			if m.Isolation.Dedicated && len(ms) > 1 {
				t.Errorf("dedicated model %s shares node %s with %v", name, node, ms)
			}
			tenants[m.Isolation.Tenant] = true
		}
		if len(tenants) > 1 {
			t.Errorf("node %s mixes tenants %v", node, tenants)
		}
	}
	spot := map[string]int{}
	for _, r := range res.Replicas {
		if groups[r.NodeGroup].CapacityType == CapacitySpot {
			spot[r.Model]++
		}
	}
	for _, m := range req.Models {
		if spot[m.Name] > m.Replicas-m.OnDemandFloor {
			t.Errorf("%s: %d replicas on spot, on-demand floor %d of %d", m.Name, spot[m.Name], m.OnDemandFloor, m.Replicas)
		}
	}
	unplaced := map[string]bool{}
	for _, u := range res.Unplaced {
		if u.Reason == "" {
			t.Errorf("model %s unplaced without a reason", u.Model)
		}
		for _, i := range u.Replicas {
			k := replicaKey(u.Model, i)
			if seen[k] || unplaced[k] {
				t.Errorf("%s both placed and unplaced, or unplaced twice", k)
			}
			unplaced[k] = true
		}
	}
	for _, m := range req.Models {
		for i := 0; i < m.Replicas; i++ {
			if k := replicaKey(m.Name, i); !seen[k] && !unplaced[k] {
				t.Errorf("replica %s silently dropped", k)
			}
		}
		if d := perDomain[m.Name]; d != nil {
			for dom, c := range d {
				if c > shareCap(m, capKind(m)) {
					t.Errorf("%s: %d replicas in %s, cap %d", m.Name, c, dom, shareCap(m, capKind(m)))
				}
			}
			// While a model has replicas enough to cover min_domains, it
			// covers them, short of room or not (the search never lets a
			// new replica in, nor one out, that leaves fewer).
			placed := 0
			for _, c := range d {
				placed += c
			}
			if capKind(m) == m.Spread.Across && len(d) < min(m.Spread.MinDomains, placed) && (len(req.Previous) == 0 || !anyUnplaced(res, m.Name)) {
				t.Errorf("%s: %d replicas in %d domains, min_domains %d", m.Name, placed, len(d), m.Spread.MinDomains)
			}
		}
	}
}

func shuffled(rng *rand.Rand, req Request) Request {
	out := req
	out.NodeGroups = append([]NodeGroup(nil), req.NodeGroups...)
	out.Models = append([]ModelDemand(nil), req.Models...)
	out.Previous = append([]Replica(nil), req.Previous...)
	rng.Shuffle(len(out.NodeGroups), func(i, j int) { out.NodeGroups[i], out.NodeGroups[j] = out.NodeGroups[j], out.NodeGroups[i] })
	rng.Shuffle(len(out.Models), func(i, j int) { out.Models[i], out.Models[j] = out.Models[j], out.Models[i] })
	rng.Shuffle(len(out.Previous), func(i, j int) { out.Previous[i], out.Previous[j] = out.Previous[j], out.Previous[i] })
	return out
}

func encode(t testing.TB, res *Result) string {
	// The node groups as planned follow the request's order; a shuffled
	// request lists them in another.
	c := *res
	c.NodeGroups = slices.Clone(res.NodeGroups)
	slices.SortFunc(c.NodeGroups, func(a, b NodeGroup) int { return strings.Compare(a.Name, b.Name) })
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPropertyInvariants plans 10,000 random requests, each twice more in
// shuffled order and once again on top of its own result, and checks the
// invariants, determinism and stability of every plan.
func TestPropertyInvariants(t *testing.T) {
	n := 10_000
	if testing.Short() {
		n = 1_000
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		req := randomRequest(t, rng)
		res, err := Plan(req)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		checkInvariants(t, req, res)
		if got := encode(t, mustPlan(t, shuffled(rng, req))); got != encode(t, res) {
			t.Fatalf("case %d: shuffled input changed the plan", i)
		}
		// Re-planning on top of its own result moves nothing.
		req.Previous = res.Replicas
		again := mustPlan(t, shuffled(rng, req))
		checkInvariants(t, req, again)
		if len(again.Moves) != 0 || !reflect.DeepEqual(again.Replicas, res.Replicas) {
			t.Fatalf("case %d: unchanged input re-planned with %d moves: %s", i, len(again.Moves), diffReplicas(res.Replicas, again.Replicas))
		}
		if t.Failed() {
			t.Fatalf("case %d failed", i)
		}
	}
}

// capKind is the domain kind a model's caps count, independent of strategy.
func capKind(m ModelDemand) string {
	switch {
	case m.Spread.Across == SpreadCloud || m.Spread.Across == SpreadRegion:
		return m.Spread.Across
	case m.MinReplicasOnFailure.Cloud > 0:
		return SpreadCloud
	case m.MinReplicasOnFailure.Region > 0:
		return SpreadRegion
	}
	return ""
}

func anyUnplaced(res *Result, model string) bool {
	for _, u := range res.Unplaced {
		if u.Model == model {
			return true
		}
	}
	return false
}

func diffReplicas(a, b []Replica) string {
	am, bm := map[string]Replica{}, map[string]Replica{}
	for _, r := range a {
		am[r.Key()] = r
	}
	for _, r := range b {
		bm[r.Key()] = r
	}
	out := ""
	for k, r := range am {
		if o, ok := bm[k]; !ok || !reflect.DeepEqual(r, o) {
			out += fmt.Sprintf("\n  first  %+v\n  second %+v", r, o)
		}
	}
	for k, r := range bm {
		if _, ok := am[k]; !ok {
			out += fmt.Sprintf("\n  only second %+v", r)
		}
	}
	return out
}

// A rebalance keeps every invariant, moves at most max_moves replicas that
// could have stayed, never places fewer replicas, and never drops one that
// was running.
func TestPropertyRebalance(t *testing.T) {
	n := 2_000
	if testing.Short() {
		n = 300
	}
	rng := rand.New(rand.NewPCG(5, 8))
	for i := range n {
		req := randomRequest(t, rng)
		res := mustPlan(t, req)
		req.Previous, req.Rebalance, req.MaxMoves = res.Replicas, true, 1+rng.IntN(6)
		req.Strategy = []Strategy{StrategyCost, StrategyBinpack, StrategySpread}[rng.IntN(3)]
		again := mustPlan(t, req)
		checkInvariants(t, req, again)
		if again.UnplacedReplicas() > res.UnplacedReplicas() {
			t.Fatalf("case %d: rebalance left %d replicas unplaced, %d before", i, again.UnplacedReplicas(), res.UnplacedReplicas())
		}
		now := map[string]Replica{}
		for _, r := range again.Replicas {
			now[r.Key()] = r
		}
		moved := 0
		for _, r := range res.Replicas {
			n, ok := now[r.Key()]
			if !ok {
				t.Fatalf("case %d: rebalance dropped running replica %s", i, r.Key())
			}
			if n.NodeGroup != r.NodeGroup || fmt.Sprint(n.Stages) != fmt.Sprint(r.Stages) {
				moved++
			}
		}
		// Every previous place is still feasible: only the rebalance moves.
		if moved > req.MaxMoves {
			t.Fatalf("case %d: rebalance moved %d replicas, max_moves %d", i, moved, req.MaxMoves)
		}
		if t.Failed() {
			t.Fatalf("case %d failed", i)
		}
	}
}
