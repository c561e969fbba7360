package bench

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

func testGroup(t *testing.T, name, key string, minNodes, maxNodes int) planner.NodeGroup {
	t.Helper()
	cloud, inst, _ := strings.Cut(key, "/")
	it, err := catalog.LookupInstanceType(cloud, inst)
	if err != nil {
		t.Fatal(err)
	}
	return planner.NodeGroup{
		Name: name, Cloud: it.Cloud, Region: "r", GPUModel: it.GPUModel, GPUsPerNode: it.GPUs,
		GPUMemoryBytes: memory.GPUFromGiB(it.VisibleMemoryGiB, utilization).VisibleBytes, Utilization: utilization,
		PricePerHour: *it.PriceUSDPerHour, MinNodes: minNodes, MaxNodes: maxNodes, CapacityType: planner.CapacityOnDemand,
	}
}

func testDemand(t *testing.T, name, model string, replicas int) planner.ModelDemand {
	t.Helper()
	m, err := catalog.LookupModel(model)
	if err != nil {
		t.Fatal(err)
	}
	est, err := memory.New(memory.Request{Arch: m.Architecture, Precision: memory.BF16, ContextTokens: 4096, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	return planner.ModelDemand{Name: name, Memory: est, Replicas: replicas}
}

// tailRequest: 9 one-GPU replicas; one 8×L4 node plus one 1×L4 node is
// optimal when the 1×L4 group holds at most 4 nodes.
func tailRequest(t *testing.T) planner.Request {
	return planner.Request{
		NodeGroups: []planner.NodeGroup{
			testGroup(t, "g2-8", "gcp/g2-standard-96", 0, 10),
			testGroup(t, "g6-1", "aws/g6.xlarge", 0, 4),
		},
		Models: []planner.ModelDemand{testDemand(t, "small", "qwen2.5-7b", 9)},
	}
}

func TestGenerateIsDeterministicAndFeasible(t *testing.T) {
	for _, spec := range append(QualitySpecs()[:6], StabilitySpec(3)) {
		a, err := Generate("t", "a", spec)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Generate("t", "a", spec)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a.Req, b.Req) {
			t.Fatalf("seed %d: two generations differ", spec.Seed)
		}
		if probs := planner.Validate(a.Req); len(probs) > 0 {
			t.Fatalf("seed %d: invalid request: %v", spec.Seed, probs[0])
		}
		if a.Replicas() != spec.Replicas {
			t.Errorf("seed %d: %d replicas, want %d", spec.Seed, a.Replicas(), spec.Replicas)
		}
		shapes := Shapes(a.Req)
		if failed := reserve(a.Req, shapes); failed >= 0 {
			t.Errorf("seed %d: model %s cannot be reserved", spec.Seed, a.Req.Models[failed].Name)
		}
		cloudSet, types := map[string]bool{}, map[string]bool{}
		for _, g := range a.Req.NodeGroups {
			cloudSet[g.Cloud] = true
			types[fmt.Sprintf("%s/%s/%d/%g", g.Cloud, g.GPUModel, g.GPUsPerNode, g.PricePerHour)] = true
		}
		if len(cloudSet) < 3 || len(types) < 6 {
			t.Errorf("seed %d: %d clouds, %d instance types", spec.Seed, len(cloudSet), len(types))
		}
	}
}

func TestFFDOpensCheapestInstanceFirst(t *testing.T) {
	req := tailRequest(t)
	f := FFD(req, Shapes(req))
	// Four 1×L4 nodes (the cheapest instance) fill up, then one 8×L4 node
	// opens and takes the other five.
	want := 4*0.8048 + 8.00333
	if f.Unplaced != 0 || math.Abs(f.Cost-want) > 1e-6 || f.Nodes[0] != 1 || f.Nodes[1] != 4 {
		t.Fatalf("FFD %+v, want cost %.4f on 1 + 4 nodes", f, want)
	}
}

func TestCheckPlacementRejectsSharedGPU(t *testing.T) {
	req := tailRequest(t)
	res, err := planner.Plan(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckPlacement(req, res); err != nil {
		t.Fatalf("planner result rejected: %v", err)
	}
	a, b := -1, -1
	for i, r := range res.Replicas {
		if r.NodeGroup != res.Replicas[0].NodeGroup {
			continue
		}
		if a < 0 {
			a = i
		} else if b < 0 {
			b = i
		}
	}
	if b < 0 {
		t.Skip("no two replicas on one group")
	}
	res.Replicas[b].Stages = res.Replicas[a].Stages
	if err := CheckPlacement(req, res); err == nil || !strings.Contains(err.Error(), "used twice") {
		t.Fatalf("shared GPU accepted: %v", err)
	}
}

func cbcOrSkip(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("cbc")
	if err != nil {
		if os.Getenv("MCLLM_REQUIRE_CBC") == "1" {
			t.Fatalf("cbc not found on PATH and MCLLM_REQUIRE_CBC=1: %v", err)
		}
		t.Skip("cbc not on PATH (install coinor-cbc, or set MCLLM_REQUIRE_CBC=1 to make this a failure)")
	}
	return path
}

func TestExactModelOnAKnownCase(t *testing.T) {
	s := Solver{Path: cbcOrSkip(t), TimeLimit: 10 * time.Second}
	req := tailRequest(t)
	shapes := Shapes(req)
	m, err := s.Solve(req, shapes, false)
	if err != nil {
		t.Fatal(err)
	}
	want := 8.00333 + 0.8048
	if !m.Optimal || math.Abs(m.Cost-want) > 1e-6 {
		t.Fatalf("MILP %s cost %.5f, want optimal %.5f", m.Status, m.Cost, want)
	}
	if err := verifySolution(req, shapes, m); err != nil {
		t.Fatal(err)
	}
	lp, err := s.Solve(req, shapes, true)
	if err != nil || !lp.Optimal || lp.Cost > want+1e-9 {
		t.Fatalf("LP bound %+v, %v", lp, err)
	}

	// A spread across two clouds with a cap of 1 per cloud on 2 replicas:
	// one replica per cloud.
	req.Models[0].Replicas = 2
	req.Models[0].Spread = planner.Spread{Across: planner.SpreadCloud, MinDomains: 2, MaxShare: 0.5}
	m, err = s.Solve(req, Shapes(req), false)
	if err != nil {
		t.Fatal(err)
	}
	if want := 8.00333 + 0.8048; !m.Optimal || math.Abs(m.Cost-want) > 1e-6 {
		t.Fatalf("spread MILP %s cost %.5f, want %.5f", m.Status, m.Cost, want)
	}
}

// The summary blames the planner only for its own failures: unplaced
// replicas are "incomplete", a rejected placement or exact solution is an
// error, and only clean rows enter the quality mean and the FFD comparison.
func TestSummarizeAttributesFailures(t *testing.T) {
	f, i := func(x float64) *float64 { return &x }, func(x int) *int { return &x }
	rows := []Row{
		{Suite: "quality", Case: "ok", PlannerCost: f(10), OptimalCost: f(10), FFDCost: f(11), PlannerUnplaced: i(0), FFDUnplaced: i(0)},
		{Suite: "quality", Case: "bad-placement", PlannerCost: f(9), OptimalCost: f(10), FFDCost: f(8), PlannerUnplaced: i(0), FFDUnplaced: i(0),
			Error: "placement: shared GPU"},
		{Suite: "quality", Case: "bad-milp", PlannerCost: f(12), FFDCost: f(13), PlannerUnplaced: i(0), FFDUnplaced: i(0),
			MILPError: "realized cost differs"},
		{Suite: "quality", Case: "short", PlannerCost: f(5), OptimalCost: f(6), PlannerUnplaced: i(2), FFDUnplaced: i(0)},
	}
	s := Summarize(rows)
	if len(s.Incomplete) != 1 || s.Incomplete[0] != "quality/short (2 unplaced)" {
		t.Errorf("incomplete %v", s.Incomplete)
	}
	if len(s.Errors) != 2 {
		t.Errorf("errors %v", s.Errors)
	}
	if s.Quality.Solved != 1 || s.Quality.MeanRatio != 1 {
		t.Errorf("quality mean over %d cases: %v", s.Quality.Solved, s.Quality.MeanRatio)
	}
	if s.FFDCompared != 2 || len(s.WorseThanFFD) != 0 {
		t.Errorf("FFD compared %d, worse %v", s.FFDCompared, s.WorseThanFFD)
	}
}

// The checker enforces the constraints itself: a model barred from the cloud
// its replica sits on is rejected, whatever the planner's filters say.
func TestCheckPlacementRejectsForbiddenCloud(t *testing.T) {
	req := tailRequest(t)
	res, err := planner.Plan(req)
	if err != nil || len(res.Replicas) == 0 {
		t.Fatal(err)
	}
	r := res.Replicas[0]
	for i := range req.Models {
		if req.Models[i].Name == r.Model {
			req.Models[i].Clouds = []string{"nowhere"}
		}
	}
	if err := CheckPlacement(req, res); err == nil || !strings.Contains(err.Error(), "not in [nowhere]") {
		t.Fatalf("forbidden cloud accepted: %v", err)
	}
}
