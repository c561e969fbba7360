package planner

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// group builds a node group from a catalog instance type.
func group(t testing.TB, name, key string, maxNodes int) NodeGroup {
	t.Helper()
	cloud, inst, _ := strings.Cut(key, "/")
	it, err := catalog.LookupInstanceType(cloud, inst)
	if err != nil {
		t.Fatal(err)
	}
	price := 0.0
	if it.PriceUSDPerHour != nil {
		price = *it.PriceUSDPerHour
	}
	region := ""
	if len(it.Regions) > 0 {
		region = it.Regions[0]
	}
	return NodeGroup{
		Name: name, Cloud: it.Cloud, Region: region, GPUModel: it.GPUModel, GPUsPerNode: it.GPUs,
		GPUMemoryBytes: memory.GPUFromGiB(it.VisibleMemoryGiB, 0.9).VisibleBytes, Utilization: 0.9,
		PricePerHour: price, MaxNodes: maxNodes, CapacityType: CapacityOnDemand, FastNetwork: it.FastNetwork(),
	}
}

func demand(t testing.TB, name, model string, p memory.Precision, ctx, conc, replicas int) ModelDemand {
	t.Helper()
	m, err := catalog.LookupModel(model)
	if err != nil {
		t.Fatal(err)
	}
	est, err := memory.New(memory.Request{Arch: m.Architecture, Precision: p, ContextTokens: ctx, Concurrency: conc})
	if err != nil {
		t.Fatal(err)
	}
	return ModelDemand{Name: name, Memory: est, Replicas: replicas}
}

func mustPlan(t testing.TB, req Request) *Result {
	t.Helper()
	res, err := Plan(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestPlanChoosesDegreePerGroup(t *testing.T) {
	req := Request{
		NodeGroups: []NodeGroup{group(t, "h200", "aws/p5en.48xlarge", 4)},
		Models:     []ModelDemand{demand(t, "llama70", "llama-3.1-70b", memory.BF16, 8192, 16, 3)},
	}
	res := mustPlan(t, req)
	if len(res.Replicas) != 3 || len(res.Unplaced) != 0 {
		t.Fatalf("placed %d, unplaced %v", len(res.Replicas), res.Unplaced)
	}
	for _, r := range res.Replicas {
		if r.TensorParallel != 2 || r.PipelineParallel != 1 {
			t.Errorf("%s at t%d p%d on H200, want t2 p1", r.Key(), r.TensorParallel, r.PipelineParallel)
		}
	}
	if res.Groups[0].Nodes != 1 {
		t.Errorf("3 × 2 GPUs need 1 node of 8, got %d", res.Groups[0].Nodes)
	}

	req.NodeGroups = []NodeGroup{group(t, "a100-40", "aws/p4d.24xlarge", 4)}
	res = mustPlan(t, req)
	if len(res.Replicas) != 3 {
		t.Fatalf("%d of 3 replicas placed on A100-40GB: %+v", len(res.Replicas), res.Unplaced)
	}
	for _, r := range res.Replicas {
		if r.TensorParallel != 4 && r.TensorParallel != 8 {
			t.Errorf("%s at t%d on A100-40GB, want 4 or 8", r.Key(), r.TensorParallel)
		}
	}
}

func TestPlanPrefersCheaperPerReplica(t *testing.T) {
	req := Request{
		NodeGroups: []NodeGroup{
			group(t, "g6-1", "aws/g6.xlarge", 100),      // 1×L4, 0.80/h
			group(t, "g2-8", "gcp/g2-standard-96", 100), // 8×L4, 8.00/h — 1.00 per GPU
			group(t, "g6-8", "aws/g6.48xlarge", 100),    // 8×L4, 13.35/h
		},
		Models: []ModelDemand{demand(t, "small", "qwen2.5-7b", memory.BF16, 4096, 4, 10)},
	}
	res := mustPlan(t, req)
	if res.CostPerHour > 10*0.8048+1e-6 {
		t.Errorf("cost %.2f, want 10 × g6.xlarge = 8.05", res.CostPerHour)
	}
}

func TestPlanFillsTailWithCheaperGroup(t *testing.T) {
	// 9 single-GPU replicas: one full 8-GPU node (1.00/GPU) plus one 1-GPU
	// node beats two 8-GPU nodes.
	req := Request{
		NodeGroups: []NodeGroup{
			group(t, "g2-8", "gcp/g2-standard-96", 100),
			group(t, "g6-1", "aws/g6.xlarge", 100),
		},
		Models: []ModelDemand{demand(t, "small", "qwen2.5-7b", memory.BF16, 4096, 4, 9)},
	}
	res := mustPlan(t, req)
	want := 8.00333 + 0.8048
	if res.CostPerHour > want+1e-3 {
		t.Errorf("cost %.4f, want %.4f (one g2-standard-96 + one g6.xlarge)", res.CostPerHour, want)
	}
}

func TestPlanExplainsUnplaced(t *testing.T) {
	req := Request{
		NodeGroups: []NodeGroup{
			group(t, "l4", "aws/g6.xlarge", 1), // 1×L4 nodes: too small even with 16 pipeline stages
			group(t, "h100", "gcp/a3-highgpu-8g", 6),
		},
		Models: []ModelDemand{demand(t, "big", "llama-3.1-405b", memory.BF16, 8192, 16, 3)},
	}
	req.Models[0].Clouds = []string{"aws"}
	res := mustPlan(t, req)
	if len(res.Unplaced) != 1 {
		t.Fatalf("unplaced %+v", res.Unplaced)
	}
	u := res.Unplaced[0]
	for _, want := range []string{"0/2 node groups", "1 excluded by cloud", "1 excluded by memory per GPU", "GiB short"} {
		if !strings.Contains(u.Reason, want) {
			t.Errorf("reason %q lacks %q", u.Reason, want)
		}
	}
	if len(u.Remedies) == 0 || !strings.Contains(strings.Join(u.Remedies, "; "), `allow cloud "gcp"`) {
		t.Errorf("remedies %v should offer allowing gcp", u.Remedies)
	}
}

func TestPlanCapacityRemedy(t *testing.T) {
	req := Request{
		NodeGroups: []NodeGroup{group(t, "h100", "aws/p5.48xlarge", 1)},
		Models:     []ModelDemand{demand(t, "m", "llama-3.1-8b", memory.BF16, 8192, 8, 12)},
	}
	res := mustPlan(t, req)
	if len(res.Unplaced) != 1 || len(res.Unplaced[0].Replicas) != 4 {
		t.Fatalf("want 4 unplaced, got %+v", res.Unplaced)
	}
	if got := res.Unplaced[0].Remedies[0]; got != `raise max_nodes of node group "h100" to 2` {
		t.Errorf("remedy %q", got)
	}
}

func TestPlanRejectsBadInput(t *testing.T) {
	ok := group(t, "g", "aws/p5.48xlarge", 2)
	m := demand(t, "m", "llama-3.1-8b", memory.BF16, 4096, 1, 1)
	for name, tc := range map[string]struct {
		mutate func(*Request)
		field  string
	}{
		"zero GPUs":          {func(r *Request) { r.NodeGroups[0].GPUsPerNode = 0 }, "gpu.count"},
		"65 GPUs":            {func(r *Request) { r.NodeGroups[0].GPUsPerNode = 65 }, "gpu.count"},
		"negative memory":    {func(r *Request) { r.NodeGroups[0].GPUMemoryBytes = -1 }, "gpu.memory_gib"},
		"memory above 1 TiB": {func(r *Request) { r.NodeGroups[0].GPUMemoryBytes = 1<<40 + 1 }, "gpu.memory_gib"},
		"price above limit":  {func(r *Request) { r.NodeGroups[0].PricePerHour = 10_001 }, "price_per_hour"},
		"price NaN":          {func(r *Request) { r.NodeGroups[0].PricePerHour = math.NaN() }, "price_per_hour"},
		"max nodes above":    {func(r *Request) { r.NodeGroups[0].MaxNodes = 100_001 }, "max_nodes"},
		"replicas above":     {func(r *Request) { r.Models[0].Replicas = 100_001 }, "replicas"},
		"priority above":     {func(r *Request) { r.Models[0].Priority = 1_000_001 }, "priority"},
		"pipeline above":     {func(r *Request) { r.Models[0].PipelineParallel = 1025 }, "pipeline_parallel"},
		"tp above":           {func(r *Request) { r.Models[0].TensorParallel = 128 }, "tensor_parallel"},
		"no node groups":     {func(r *Request) { r.NodeGroups = nil }, "node_groups"},
		"too many replicas in the pool": {func(r *Request) {
			for i := range 11 {
				mi := r.Models[0]
				mi.Name, mi.Replicas = fmt.Sprint("m", i), 100_000
				r.Models = append(r.Models, mi)
			}
		}, "model_shards"},
		"min above max":     {func(r *Request) { r.NodeGroups[0].MinNodes = 3 }, "min_nodes"},
		"duplicate group":   {func(r *Request) { r.NodeGroups = append(r.NodeGroups, r.NodeGroups[0]) }, "name"},
		"duplicate model":   {func(r *Request) { r.Models = append(r.Models, r.Models[0]) }, "name"},
		"negative replicas": {func(r *Request) { r.Models[0].Replicas = -1 }, "replicas"},
		"bad strategy":      {func(r *Request) { r.Strategy = "fastest" }, "strategy"},
		"bad tp":            {func(r *Request) { r.Models[0].TensorParallel = 3 }, "tensor_parallel"},
		"min domains":       {func(r *Request) { r.Models[0].Spread = Spread{Across: "cloud", MinDomains: 2} }, "spread.min_domains"},
		"utilization":       {func(r *Request) { r.NodeGroups[0].Utilization = 1.5 }, "gpu_memory_utilization"},
		"nil memory":        {func(r *Request) { r.Models[0].Memory = nil }, "memory"},
		"slash in name":     {func(r *Request) { r.Models[0].Name = "a/b" }, "name"},
	} {
		t.Run(name, func(t *testing.T) {
			req := Request{NodeGroups: []NodeGroup{ok}, Models: []ModelDemand{m}}
			tc.mutate(&req)
			_, err := Plan(req)
			var inv *InvalidError
			if !errors.As(err, &inv) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not an InvalidError", err)
			}
			found := false
			for _, p := range inv.Problems {
				found = found || p.Field == tc.field
			}
			if !found {
				t.Errorf("no problem on %s in %v", tc.field, err)
			}
		})
	}
}

func TestPlanMinReplicasOnFailure(t *testing.T) {
	fleet := []NodeGroup{
		group(t, "aws", "aws/p5.48xlarge", 2),
		group(t, "gcp", "gcp/a3-highgpu-8g", 2),
		group(t, "azure", "azure/Standard_ND96amsr_A100_v4", 2),
	}
	m := demand(t, "llama70", "llama-3.1-70b", "bf16", 8192, 16, 4)
	m.MinReplicasOnFailure = FailureTolerance{Cloud: 2}
	res := mustPlan(t, Request{NodeGroups: fleet, Models: []ModelDemand{m}})
	if len(res.Unplaced) != 0 {
		t.Fatalf("unplaced: %+v", res.Unplaced)
	}
	cloudOf := map[string]string{}
	for _, g := range fleet {
		cloudOf[g.Name] = g.Cloud
	}
	perCloud := map[string]int{}
	for _, r := range res.Replicas {
		perCloud[cloudOf[r.NodeGroup]]++
	}
	for cloud, n := range perCloud {
		if n > 2 {
			t.Errorf("%d replicas in %s: losing it would leave %d < 2", n, cloud, 4-n)
		}
	}

	// Azure and GCP cut to nothing: no placement can keep 2 replicas
	// after losing AWS, and the explanation says so.
	fleet[1].MaxNodes, fleet[2].MaxNodes = 0, 0
	res = mustPlan(t, Request{NodeGroups: fleet, Models: []ModelDemand{m}})
	if len(res.Unplaced) != 1 || !strings.Contains(res.Unplaced[0].Reason, "excluded by min_replicas_on_failure") {
		t.Fatalf("want the failure constraint named, got %+v", res.Unplaced)
	}
	if !strings.Contains(strings.Join(res.Unplaced[0].Remedies, ";"), "add a node group in another cloud") {
		t.Errorf("remedies %v", res.Unplaced[0].Remedies)
	}
}

func TestPlanOnDemandFloor(t *testing.T) {
	spot := group(t, "spot", "gcp/g2-standard-96", 4)
	spot.CapacityType, spot.PricePerHour = CapacitySpot, 2.4
	onDemand := group(t, "od", "aws/g6.xlarge", 8) // 1×L4 at 0.80/h
	m := demand(t, "qwen", "qwen2.5-7b", "bf16", 4096, 4, 6)
	m.OnDemandFloor = 2
	res := mustPlan(t, Request{NodeGroups: []NodeGroup{spot, onDemand}, Models: []ModelDemand{m}})
	on := 0
	for _, r := range res.Replicas {
		if r.NodeGroup == "od" {
			on++
		}
	}
	if on != 2 || len(res.Replicas) != 6 {
		t.Errorf("%d of %d replicas on on-demand, want exactly the floor of 2 (spot is cheaper)", on, len(res.Replicas))
	}
	// Without on-demand capacity the floor cannot be met, and says so.
	onDemand.MaxNodes = 0
	res = mustPlan(t, Request{NodeGroups: []NodeGroup{spot, onDemand}, Models: []ModelDemand{m}})
	if len(res.Unplaced) != 1 || !strings.Contains(res.Unplaced[0].Reason, "excluded by on_demand_floor") ||
		!strings.Contains(strings.Join(res.Unplaced[0].Remedies, ";"), "add on-demand capacity") {
		t.Errorf("unplaced %+v", res.Unplaced)
	}
}

func TestPlanIsolation(t *testing.T) {
	h100 := group(t, "h100", "aws/p5.48xlarge", 4)
	a := demand(t, "a", "llama-3.1-8b", "bf16", 4096, 4, 2)
	b := demand(t, "b", "qwen2.5-7b", "bf16", 4096, 4, 2)
	c := demand(t, "c", "mistral-7b-v0.3", "bf16", 4096, 4, 2)
	// Unisolated, the six single-GPU replicas share one node.
	res := mustPlan(t, Request{NodeGroups: []NodeGroup{h100}, Models: []ModelDemand{a, b, c}})
	if res.Groups[0].Nodes != 1 {
		t.Fatalf("shared: %d nodes, want 1", res.Groups[0].Nodes)
	}
	// a dedicated, b and c of different tenants: three nodes.
	a.Isolation.Dedicated = true
	b.Isolation.Tenant, c.Isolation.Tenant = "red", "blue"
	req := Request{NodeGroups: []NodeGroup{h100}, Models: []ModelDemand{a, b, c}}
	res = mustPlan(t, req)
	checkInvariants(t, req, res)
	if res.Groups[0].Nodes != 3 {
		t.Errorf("isolated: %d nodes, want 3", res.Groups[0].Nodes)
	}
	// Same tenant: b and c share again.
	c.Isolation.Tenant = "red"
	req.Models = []ModelDemand{a, b, c}
	if res = mustPlan(t, req); res.Groups[0].Nodes != 2 {
		t.Errorf("one tenant: %d nodes, want 2", res.Groups[0].Nodes)
	}
}

func TestPlanSpotSpreadOverTwoGroups(t *testing.T) {
	a := group(t, "spot-a", "gcp/g2-standard-96", 2)
	b := group(t, "spot-b", "aws/g6.48xlarge", 2)
	a.CapacityType, b.CapacityType = CapacitySpot, CapacitySpot
	a.PricePerHour, b.PricePerHour = 2.4, 4.0
	m := demand(t, "qwen", "qwen2.5-7b", "bf16", 4096, 4, 4)
	spread := func(b NodeGroup) map[string]int {
		res := mustPlan(t, Request{NodeGroups: []NodeGroup{a, b}, Models: []ModelDemand{m}})
		used := map[string]int{}
		for _, r := range res.Replicas {
			used[r.NodeGroup]++
		}
		return used
	}
	// A node of each group paid for already (min_nodes): the replicas fill
	// one, and one of them moves to the other.
	paid := b
	paid.MinNodes = 1
	a.MinNodes = 1
	if used := spread(paid); len(used) != 2 {
		t.Errorf("spot replicas on %v, want two spot groups when the second costs nothing more", used)
	}
	// Opening a node for the spread alone costs more: issue 14.
	a.MinNodes = 0
	if used := spread(b); len(used) != 1 {
		t.Errorf("spot replicas on %v: a node opened only to spread them", used)
	}
}

// A surcharge (such as the amortised transfer of weights) steers new
// replicas to the group without it when node prices tie, and never moves a
// replica that is already placed.
func TestSurchargeSteersNewReplicas(t *testing.T) {
	near := group(t, "near", "aws/p5.48xlarge", 2)
	far := group(t, "far", "aws/p5.48xlarge", 2)
	far.Region = "us-west-2"
	m := demand(t, "llama", "llama-3.1-8b", memory.BF16, 4096, 8, 4)
	for _, strategy := range []Strategy{StrategyCost, StrategyBinpack, StrategySpread} {
		for _, expensive := range []string{"near", "far"} {
			m.Surcharge = map[string]float64{expensive: 3.5}
			res := mustPlan(t, Request{NodeGroups: []NodeGroup{near, far}, Models: []ModelDemand{m}, Strategy: strategy})
			for _, r := range res.Replicas {
				if r.NodeGroup == expensive {
					t.Errorf("%s: %s placed on %s, which carries the surcharge", strategy, r.Key(), expensive)
				}
			}
			// Kept replicas stay, surcharge or not.
			m.Surcharge = map[string]float64{res.Replicas[0].NodeGroup: 100}
			again := mustPlan(t, Request{NodeGroups: []NodeGroup{near, far}, Models: []ModelDemand{m}, Strategy: strategy, Previous: res.Replicas})
			if len(again.Moves) > 0 {
				t.Errorf("%s: kept replicas moved: %+v", strategy, again.Moves)
			}
		}
	}
	m.Surcharge = map[string]float64{"near": -1}
	if _, err := Plan(Request{NodeGroups: []NodeGroup{near}, Models: []ModelDemand{m}}); err == nil || !strings.Contains(err.Error(), "surcharge") {
		t.Errorf("a negative surcharge should be rejected, got %v", err)
	}
}

func TestNextDeltaWalksDeltas(t *testing.T) {
	for n := 1; n < 70; n++ {
		var got []int
		for d := 1; d <= n; d = nextDelta(d, n) {
			got = append(got, d)
		}
		if fmt.Sprint(got) != fmt.Sprint(deltas(n)) {
			t.Fatalf("n=%d: %v, deltas %v", n, got, deltas(n))
		}
	}
}

// An empty node that min_nodes keeps (and pays for) serves isolated models
// too, as binding allows: a dedicated model fits a group of exactly one
// node, and uses a paid empty node before opening another group.
func TestIsolatedModelsUseEmptyMinNodes(t *testing.T) {
	for _, iso := range []Isolation{{Dedicated: true}, {Tenant: "red"}} {
		one := group(t, "h100", "aws/p5.48xlarge", 1)
		one.MinNodes = 1
		m := demand(t, "llama", "llama-3.1-8b", memory.BF16, 4096, 8, 2)
		m.Isolation = iso
		res := mustPlan(t, Request{NodeGroups: []NodeGroup{one}, Models: []ModelDemand{m}})
		if len(res.Replicas) != 2 || len(res.Unplaced) != 0 {
			t.Errorf("%+v: %d placed, unplaced %+v", iso, len(res.Replicas), res.Unplaced)
		}
		cheap := group(t, "l4", "gcp/g2-standard-8", 4)
		res = mustPlan(t, Request{NodeGroups: []NodeGroup{one, cheap}, Models: []ModelDemand{m}})
		for _, r := range res.Replicas {
			if r.NodeGroup != "h100" {
				t.Errorf("%+v: %s opens %s although the paid h100 node is empty", iso, r.Key(), r.NodeGroup)
			}
		}
	}
}

// Issue 14: inside a pipeline the tensor degree may stay below the node's
// GPU count when that needs fewer GPUs — a 405B bf16 replica fits 12 H100
// as t4 × p3 where t8 × p2 takes 16 — and among equal GPU counts the
// fewest stages win.
func TestPipelineTakesTheFewestGPUs(t *testing.T) {
	req := Request{
		NodeGroups: []NodeGroup{group(t, "h100", "aws/p5.48xlarge", 4)},
		Models:     []ModelDemand{demand(t, "big", "llama-3.1-405b", memory.BF16, 4096, 4, 1)},
	}
	res := mustPlan(t, req)
	if len(res.Replicas) != 1 {
		t.Fatalf("unplaced %+v", res.Unplaced)
	}
	r := res.Replicas[0]
	est := req.Models[0].Memory
	gpu := req.NodeGroups[0].GPU()
	got := r.TensorParallel * r.PipelineParallel
	for _, tp := range est.ValidTensorParallel(8) {
		for p := 1; p <= maxPipelineStages; p++ {
			if n := tp * p; est.PerGPU(gpu, tp, p).Fits && (n < got || n == got && p < r.PipelineParallel) {
				t.Errorf("t%d × p%d (%d GPUs) fits, chosen t%d × p%d", tp, p, n, r.TensorParallel, r.PipelineParallel)
			}
		}
	}
	if got >= 16 {
		t.Errorf("chosen t%d × p%d takes %d GPUs", r.TensorParallel, r.PipelineParallel, got)
	}
	t.Logf("405B bf16 on H100: t%d × p%d", r.TensorParallel, r.PipelineParallel)
}

// Issue 14: pipeline stages span nodes only over a fast fabric, or where
// the model allows any network; the explanation names the filter and the
// remedy, and the remedy works.
func TestPipelineAcrossNodesNeedsAFastNetwork(t *testing.T) {
	slow := group(t, "l4", "aws/g6.xlarge", 16) // one L4, up to 10 Gbps Ethernet
	if slow.FastNetwork {
		t.Fatal("g6.xlarge should be plain Ethernet in the catalog")
	}
	m := demand(t, "big", "llama-3.1-70b", memory.BF16, 4096, 4, 1)
	u := unplacedOf(t, Request{NodeGroups: []NodeGroup{slow}, Models: []ModelDemand{m}})
	if !strings.Contains(u.Reason, "1 excluded by pipeline across nodes without a fast network") {
		t.Errorf("reason %q", u.Reason)
	}
	if all := strings.Join(u.Remedies, "; "); !strings.Contains(all, "set constraints.pipeline_over_any_network") {
		t.Errorf("remedies %q", all)
	}
	m.PipelineOverAnyNetwork = true
	res := mustPlan(t, Request{NodeGroups: []NodeGroup{slow}, Models: []ModelDemand{m}})
	if len(res.Replicas) != 1 || res.Replicas[0].PipelineParallel < 2 {
		t.Fatalf("allowed, the 70B model should run as a pipeline over L4 nodes: %+v %+v", res.Replicas, res.Unplaced)
	}
	// A fabric the catalog marks fast (EFA) carries the same pipeline.
	fast := group(t, "l4x4", "aws/g6.12xlarge", 4)
	if !fast.FastNetwork {
		t.Fatal("g6.12xlarge should have EFA in the catalog")
	}
	m.PipelineOverAnyNetwork = false
	res = mustPlan(t, Request{NodeGroups: []NodeGroup{fast}, Models: []ModelDemand{m}})
	if len(res.Replicas) != 1 {
		t.Fatalf("the 70B model should span EFA nodes: %+v", res.Unplaced)
	}
}

// Issue 14: a replica the greedy leaves unplaced (a higher-priority model
// took the only group it runs on, though that model fits elsewhere) is
// placed by repair, which moves the other model's replica out of the way.
func TestRepairMakesRoomForAnUnplacedReplica(t *testing.T) {
	cheap := group(t, "l4", "aws/g6.xlarge", 1)
	dear := group(t, "h100", "aws/p5.48xlarge", 1)
	first := demand(t, "first", "llama-3.1-8b", memory.BF16, 4096, 1, 1)
	first.Priority = 1
	onlyL4 := demand(t, "only-l4", "llama-3.1-8b", memory.BF16, 4096, 1, 1)
	onlyL4.GPUModels = []string{cheap.GPUModel}
	req := Request{NodeGroups: []NodeGroup{cheap, dear}, Models: []ModelDemand{first, onlyL4}}

	s := fixedAssignment(t, req)
	unplaced := s.assign(s.pending)
	if n := len(unplaced[1]) + len(unplaced[0]); n != 1 {
		t.Fatalf("the greedy should leave one replica unplaced, left %d", n)
	}
	if left := s.repair(unplaced); len(left[0])+len(left[1]) != 0 {
		t.Fatalf("repair left %v unplaced", left)
	}

	res := mustPlan(t, req)
	if len(res.Unplaced) != 0 {
		t.Fatalf("unplaced: %+v", res.Unplaced)
	}
	for _, r := range res.Replicas {
		if want := map[string]string{"first": "h100", "only-l4": "l4"}[r.Model]; r.NodeGroup != want {
			t.Errorf("%s on %s, want %s", r.Key(), r.NodeGroup, want)
		}
	}
}

// Issue 14: at one priority the shortage falls on the dearer replicas. On
// five to six single-L4 nodes, three 2-node pipelines fill six nodes where
// two of them and a 1-GPU replica of another model, the same three
// replicas, fill the five the group pays for anyway; exchange makes the
// trade the greedy's order (largest replicas first) missed.
func TestExchangeTradesForACheaperReplicaOfTheSamePriority(t *testing.T) {
	l4 := group(t, "l4", "aws/g6.xlarge", 6)
	l4.MinNodes = 5
	wide := demand(t, "wide", "llama-3.1-8b", memory.BF16, 4096, 1, 3)
	wide.TensorParallel, wide.PipelineParallel, wide.PipelineOverAnyNetwork = 1, 2, true
	small := demand(t, "small", "llama-3.1-8b", memory.BF16, 4096, 1, 1)
	small.TensorParallel = 1
	req := Request{NodeGroups: []NodeGroup{l4}, Models: []ModelDemand{wide, small}}

	s := fixedAssignment(t, req)
	unplaced := s.assign(s.pending)
	wi, wo := opt(t, s, "wide", "l4")
	si, _ := opt(t, s, "small", "l4")
	if s.count[wi][wo] != 3 || len(unplaced[si]) != 1 {
		t.Fatalf("the greedy should place the three pipelines and leave small out: counts %v, unplaced %v", s.count, unplaced)
	}
	before := s.obj.of(s)
	if !s.exchange(unplaced) {
		t.Fatal("exchange made no trade")
	}
	if len(unplaced[wi]) != 1 || unplaced[wi][0] != 2 || len(unplaced[si]) != 0 {
		t.Errorf("the last pipeline should give way to small: unplaced %v", unplaced)
	}
	if after := s.obj.of(s); !after.less(before) || s.nodes.count[0] != 5 {
		t.Errorf("the trade should save a node: %+v → %+v, %d nodes", before, after, s.nodes.count[0])
	}
	res := mustPlan(t, req)
	if res.UnplacedReplicas() != 1 || res.Groups[0].Nodes != 5 {
		t.Errorf("plan: %d unplaced on %d nodes, want 1 on 5", res.UnplacedReplicas(), res.Groups[0].Nodes)
	}
}

// A replica of a higher priority left unplaced takes the room a lower one
// holds, whatever the cost: placing more of a higher priority comes first.
func TestExchangeGivesAHigherPriorityTheRoomALowerOneHolds(t *testing.T) {
	l4 := group(t, "l4", "aws/g6.xlarge", 1)
	high := demand(t, "high", "llama-3.1-8b", memory.BF16, 4096, 1, 1)
	high.Priority = 2
	low := demand(t, "low", "llama-3.1-8b", memory.BF16, 4096, 1, 1)
	s := fixedAssignment(t, Request{NodeGroups: []NodeGroup{l4}, Models: []ModelDemand{high, low}})
	li, lo := opt(t, s, "low", "l4")
	hi, _ := opt(t, s, "high", "l4")
	s.apply(change{li, lo, 1}) // as if the search had moved it there
	unplaced := make([][]int, len(s.models))
	unplaced[hi] = []int{0}
	if !s.exchange(unplaced) || len(unplaced[hi]) != 0 || !slices.Equal(unplaced[li], []int{0}) {
		t.Errorf("high should take low's node: unplaced %v", unplaced)
	}
}

// One 8-GPU replica fills the only node where eight 1-GPU replicas of its
// priority would run: a one-for-one trade gains nothing, but taking it out
// places eight for one.
func TestExchangeTradesOneLargeReplicaForSeveral(t *testing.T) {
	h100 := group(t, "h100", "aws/p5.48xlarge", 1)
	large := demand(t, "large", "llama-3.1-70b", memory.BF16, 4096, 1, 1)
	large.TensorParallel = 8
	small := demand(t, "small", "llama-3.1-8b", memory.BF16, 4096, 1, 8)
	small.TensorParallel = 1
	s := fixedAssignment(t, Request{NodeGroups: []NodeGroup{h100}, Models: []ModelDemand{large, small}})
	li, lo := opt(t, s, "large", "h100")
	si, _ := opt(t, s, "small", "h100")
	s.apply(change{li, lo, 1}) // as the greedy places the widest first
	unplaced := make([][]int, len(s.models))
	unplaced[si] = []int{0, 1, 2, 3, 4, 5, 6, 7}
	if !s.exchange(unplaced) || len(unplaced[si]) != 0 || !slices.Equal(unplaced[li], []int{0}) {
		t.Errorf("the eight small replicas should take the large one's node: unplaced %v", unplaced)
	}
	res := mustPlan(t, Request{NodeGroups: []NodeGroup{h100}, Models: []ModelDemand{large, small}})
	if len(res.Replicas) != 8 || len(res.Unplaced) != 1 || res.Unplaced[0].Model != "large" {
		t.Errorf("plan: %d placed, unplaced %+v; want the 8 small ones placed", len(res.Replicas), res.Unplaced)
	}
}
