package planner

import (
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// Tests per stage over a fixed assignment, as Nomad tests each iterator
// from a static source: the request is filtered and sized, nothing is
// assigned, and each test applies the changes it needs.

// fixedAssignment builds the state the assignment stage starts from.
func fixedAssignment(t *testing.T, req Request) *assignment {
	t.Helper()
	if problems := Validate(req); len(problems) > 0 {
		t.Fatalf("invalid request: %v", problems)
	}
	if req.Strategy == "" {
		req.Strategy = StrategyCost
	}
	req.Logger = hclog.NewNullLogger()
	s := newAssignment(req, nil)
	s.filter()
	s.keepPrevious()
	s.startPacking()
	return s
}

// opt is model name's option on group name.
func opt(t *testing.T, s *assignment, model, group string) (int, int) {
	t.Helper()
	for mi, m := range s.models {
		if m.Name == model {
			if oi := s.optionOn(mi, s.groupIndex(group)); oi >= 0 {
				return mi, oi
			}
			t.Fatalf("model %s has no option on %s", model, group)
		}
	}
	t.Fatalf("no model %s", model)
	return 0, 0
}

// blocker is what refuses changes, "" when nothing does.
func blocker(s *assignment, changes ...change) string {
	_, why := s.try(changes...)
	return why
}

// smallModel is a model one GPU of any catalog group holds.
func smallModel(t *testing.T, name string, replicas int) ModelDemand {
	return demand(t, name, "llama-3.1-8b", memory.BF16, 4096, 4, replicas)
}

func near(a, b score) bool {
	return a.spread == b.spread && a.cost > b.cost-1e-8 && a.cost < b.cost+1e-8
}

func TestStageFilterCountsExclusions(t *testing.T) {
	aws := group(t, "aws-h100", "aws/p5.48xlarge", 2)
	gcp := group(t, "gcp-h100", "gcp/a3-highgpu-8g", 2)
	l4 := group(t, "aws-l4", "aws/g6.xlarge", 2)
	big := demand(t, "big", "llama-3.1-70b", memory.BF16, 8192, 8, 1)
	big.Clouds = []string{"aws"}
	big.TensorParallel, big.PipelineParallel = 1, 1
	s := fixedAssignment(t, Request{NodeGroups: []NodeGroup{aws, gcp, l4}, Models: []ModelDemand{big}})
	if len(s.opts[0]) != 0 {
		t.Fatalf("a 70B bf16 at tensor_parallel 1 fits nowhere, got options %+v", s.opts[0])
	}
	got := map[string]int{}
	for k, c := range s.reports[0].counts {
		got[k] = c.Groups
	}
	if got[filterCloud] != 1 || got[filterMemory] != 2 {
		t.Errorf("exclusions %v, want 1 cloud and 2 memory per GPU", got)
	}
}

func TestStageCapacityRefusesBeyondMaxNodes(t *testing.T) {
	g := group(t, "h100", "aws/p5.48xlarge", 1)
	m := smallModel(t, "m", 9)
	m.TensorParallel = 1
	s := fixedAssignment(t, Request{NodeGroups: []NodeGroup{g}, Models: []ModelDemand{m}})
	mi, oi := opt(t, s, "m", "h100")
	for i := range 8 {
		if why := blocker(s, change{mi, oi, 1}); why != "" {
			t.Fatalf("replica %d refused by %s on a node with free GPUs", i, why)
		}
		s.apply(change{mi, oi, 1})
	}
	if s.nodes.count[0] != 1 {
		t.Errorf("8 single-GPU replicas need 1 node, counted %d", s.nodes.count[0])
	}
	if why := blocker(s, change{mi, oi, 1}); why != filterMaxNodes {
		t.Errorf("a ninth replica beyond max_nodes 1: blocker %q", why)
	}
	s.blocked[mi] = s.refusals(mi)
	_, remedies := s.capacity.explain(s, mi, 1)
	if len(remedies) != 1 || remedies[0] != `raise max_nodes of node group "h100" to 2` {
		t.Errorf("remedies %q", remedies)
	}
}

func TestStageSpreadCapsAndMinDomains(t *testing.T) {
	aws := group(t, "aws", "aws/p5.48xlarge", 4)
	gcp := group(t, "gcp", "gcp/a3-highgpu-8g", 4)
	m := smallModel(t, "m", 4)
	m.Spread = Spread{Across: SpreadCloud, MinDomains: 2, MaxShare: 0.5}
	s := fixedAssignment(t, Request{NodeGroups: []NodeGroup{aws, gcp}, Models: []ModelDemand{m}})
	mi, onAWS := opt(t, s, "m", "aws")
	_, onGCP := opt(t, s, "m", "gcp")
	s.apply(change{mi, onAWS, 1})
	if why := blocker(s, change{mi, onAWS, 1}); why != filterSpread {
		t.Errorf("a second replica in the only cloud before min_domains 2 are covered: blocker %q", why)
	}
	if why := blocker(s, change{mi, onGCP, 1}); why != "" {
		t.Errorf("a replica opening the second cloud refused by %q", why)
	}
	s.apply(change{mi, onGCP, 1}, change{mi, onAWS, 1})
	if why := blocker(s, change{mi, onAWS, 1}); why != filterSpread {
		t.Errorf("a third of 4 replicas in one cloud at max_share 0.5: blocker %q", why)
	}
	if m := move(mi, onGCP, onAWS, 1); blocker(s, m[:]...) != filterSpread {
		t.Error("a move emptying gcp below min_domains was allowed")
	}

	// A failure tolerance names its own filter.
	m.Spread = Spread{}
	m.MinReplicasOnFailure = FailureTolerance{Cloud: 2}
	s = fixedAssignment(t, Request{NodeGroups: []NodeGroup{aws, gcp}, Models: []ModelDemand{m}})
	s.apply(change{mi, onAWS, 2})
	if why := blocker(s, change{mi, onAWS, 1}); why != filterFailure {
		t.Errorf("a third replica in aws while 2 of 4 must survive its loss: blocker %q", why)
	}
	s.blocked[mi] = s.refusals(mi)
	detail, remedies := s.spread.explain(s, mi, 1)
	if !strings.Contains(detail, `cloud "aws" already hold 2 replicas each`) || len(remedies) != 1 ||
		!strings.Contains(remedies[0], "add a node group in another cloud") {
		t.Errorf("detail %q, remedies %q", detail, remedies)
	}
}

func TestStageSpotFloor(t *testing.T) {
	spot := group(t, "spot", "aws/p5.48xlarge", 2)
	spot.CapacityType = CapacitySpot
	m := smallModel(t, "m", 3)
	m.OnDemandFloor = 1
	s := fixedAssignment(t, Request{NodeGroups: []NodeGroup{spot}, Models: []ModelDemand{m}})
	mi, oi := opt(t, s, "m", "spot")
	if why := blocker(s, change{mi, oi, 2}); why != "" {
		t.Errorf("2 of 3 replicas on spot with a floor of 1 refused by %q", why)
	}
	if why := blocker(s, change{mi, oi, 3}); why != filterFloor {
		t.Errorf("3 of 3 on spot with a floor of 1: blocker %q", why)
	}
	s.apply(change{mi, oi, 2})
	s.blocked[mi] = s.refusals(mi)
	if _, remedies := s.spot.explain(s, mi, 1); len(remedies) != 1 || !strings.Contains(remedies[0], "add on-demand capacity") {
		t.Errorf("remedies %q", remedies)
	}
}

func TestStageExclusivityAndIsolationRaiseNodeCounts(t *testing.T) {
	g := group(t, "h100", "aws/p5.48xlarge", 4)
	apart := smallModel(t, "apart", 3)
	apart.TensorParallel = 1
	apart.Spread = Spread{Across: SpreadNode}
	alone := smallModel(t, "alone", 1)
	alone.TensorParallel = 1
	alone.Isolation = Isolation{Dedicated: true}
	s := fixedAssignment(t, Request{NodeGroups: []NodeGroup{g}, Models: []ModelDemand{apart, alone}})
	ai, ao := opt(t, s, "apart", "h100")
	di, do := opt(t, s, "alone", "h100")
	s.apply(change{ai, ao, 3})
	if s.nodes.count[0] != 3 {
		t.Errorf("3 replicas spread across node need 3 nodes, counted %d", s.nodes.count[0])
	}
	if why := blocker(s, change{ai, ao, 2}); why != filterMaxNodes {
		t.Errorf("5 replicas spread across node on 4 nodes: blocker %q", why)
	}
	d, why := s.try(change{di, do, 1})
	if n := s.nodesWith(0, change{di, do, 1}); why != "" || n != 4 {
		t.Errorf("a dedicated model beside them needs a 4th node: blocker %q, %d nodes", why, n)
	}
	if !near(d, score{0, g.PricePerHour + nodeTieBreak}) {
		t.Errorf("opening a node changes the objective by %+v, want its price %g and the node's tie-break", d, g.PricePerHour)
	}
}

// A replica spread across node that spans nodes keeps all of them: two
// pipelines of nine 2-GPU stages on 8-GPU nodes need 3 nodes each, 6 in
// all, though their 36 GPUs fill 5 — binding gives no two replicas a node,
// and a count of 5 let the search keep a replica binding then dropped.
func TestStageExclusivityCountsEveryNodeAPipelineSpans(t *testing.T) {
	g := group(t, "h100", "aws/p5.48xlarge", 8)
	apart := smallModel(t, "apart", 2)
	apart.TensorParallel, apart.PipelineParallel = 2, 9
	apart.Spread = Spread{Across: SpreadNode}
	req := Request{NodeGroups: []NodeGroup{g}, Models: []ModelDemand{apart}}
	s := fixedAssignment(t, req)
	ai, ao := opt(t, s, "apart", "h100")
	s.apply(change{ai, ao, 2})
	if s.nodes.count[0] != 6 {
		t.Errorf("2 replicas of 3 nodes each spread across node: counted %d nodes, want 6", s.nodes.count[0])
	}
	g.MaxNodes = 5
	res := mustPlan(t, Request{NodeGroups: []NodeGroup{g}, Models: []ModelDemand{apart}})
	if len(res.Replicas) != 1 || res.UnplacedReplicas() != 1 || res.Groups[0].Nodes != 3 {
		t.Errorf("on 5 nodes one replica fits, on 3 of them: %d placed, %d unplaced, %+v", len(res.Replicas), res.UnplacedReplicas(), res.Groups)
	}
}

func TestExclusiveNodes(t *testing.T) {
	for _, c := range []struct {
		name             string
		replicas         int
		unit, units, gpu int
		stages           sizeCounts // all new stages, the exclusive ones included
		want             int
	}{
		{"one 1-GPU replica per node", 3, 1, 1, 4, sizeCounts{3}, 3},
		{"beside them a 4-GPU replica opens a node", 3, 1, 1, 4, sizeCounts{3, 0, 1}, 4},
		{"beside them 2-GPU stages fill the gaps", 3, 1, 1, 4, sizeCounts{3, 3}, 3},
		{"pipelines of 9 stages keep 3 nodes each", 2, 2, 9, 8, sizeCounts{0, 18}, 6},
		{"their last nodes hold 1-GPU stages", 2, 2, 9, 8, sizeCounts{12, 18}, 6},
		{"a pipeline filling its nodes", 2, 2, 8, 8, sizeCounts{0, 16}, 4},
		{"6-GPU nodes keep 1+2+2 beside one GPU", 1, 1, 1, 6, sizeCounts{2, 2}, 1},
		{"but no 4-GPU block beside it", 1, 1, 1, 6, sizeCounts{1, 0, 1}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := c.stages
			if got := exclusiveNodes(c.replicas, &option{unit: c.unit, units: c.units}, &st, &groupBase{fresh: alignedBlocks(c.gpu)}); got != c.want {
				t.Errorf("got %d nodes, want %d", got, c.want)
			}
		})
	}
}

func TestStageObjective(t *testing.T) {
	aws := group(t, "aws", "aws/p5.48xlarge", 4)
	gcp := group(t, "gcp", "gcp/a3-highgpu-8g", 4)
	m := smallModel(t, "m", 4)
	m.TensorParallel = 1
	m.Surcharge = map[string]float64{"gcp": 2.5}
	for _, tc := range []struct {
		strategy      Strategy
		first, second score // one replica on aws, then one more on aws
		toGCP         score // then one opening gcp instead
	}{
		// Under cost and spread a node adds nodeTieBreak to its price.
		{StrategyCost, score{0, aws.PricePerHour + nodeTieBreak}, score{0, 0}, score{0, gcp.PricePerHour + 2.5 + nodeTieBreak}},
		{StrategyBinpack, score{0, 1 + aws.PricePerHour*1e-9}, score{0, 0}, score{0, 1 + (gcp.PricePerHour+2.5)*1e-9}},
		// Spread: Σ replicas² per cloud goes 0 → 1; a second in aws adds
		// 3 (1 → 4), a first in gcp 1.
		{StrategySpread, score{1, aws.PricePerHour + nodeTieBreak}, score{3, 0}, score{1, gcp.PricePerHour + 2.5 + nodeTieBreak}},
	} {
		s := fixedAssignment(t, Request{NodeGroups: []NodeGroup{aws, gcp}, Models: []ModelDemand{m}, Strategy: tc.strategy})
		mi, onAWS := opt(t, s, "m", "aws")
		_, onGCP := opt(t, s, "m", "gcp")
		if d, _ := s.try(change{mi, onAWS, 1}); !near(d, tc.first) {
			t.Errorf("%s: first replica %+v, want %+v", tc.strategy, d, tc.first)
		}
		s.apply(change{mi, onAWS, 1})
		if d, _ := s.try(change{mi, onAWS, 1}); !near(d, tc.second) {
			t.Errorf("%s: second replica on the open node %+v, want %+v", tc.strategy, d, tc.second)
		}
		if d, _ := s.try(change{mi, onGCP, 1}); !near(d, tc.toGCP) {
			t.Errorf("%s: a replica opening gcp %+v, want %+v", tc.strategy, d, tc.toGCP)
		}
		// The objective of the whole assignment is the sum of its changes.
		if total := s.obj.of(s); !near(total, tc.first) {
			t.Errorf("%s: objective %+v after the first replica, want %+v", tc.strategy, total, tc.first)
		}
	}
}

func TestStageUndoRestoresEveryState(t *testing.T) {
	aws := group(t, "aws", "aws/p5.48xlarge", 4)
	spot := group(t, "spot", "gcp/a3-highgpu-8g", 4)
	spot.CapacityType = CapacitySpot
	m := smallModel(t, "m", 6)
	m.Spread = Spread{Across: SpreadCloud, MaxShare: 0.67}
	m.OnDemandFloor = 2
	s := fixedAssignment(t, Request{NodeGroups: []NodeGroup{aws, spot}, Models: []ModelDemand{m}})
	mi, a := opt(t, s, "m", "aws")
	_, b := opt(t, s, "m", "spot")
	s.apply(change{mi, a, 3})
	before := s.obj.of(s)
	nodes := append([]int(nil), s.nodes.count...)
	spread := append([]int(nil), s.spread.counts[mi]...)
	onSpot := s.spot.onSpot[mi]
	mark := s.mark()
	s.apply(change{mi, a, -1}, change{mi, b, 3})
	s.undo(mark)
	if after := s.obj.of(s); after != before || s.spot.onSpot[mi] != onSpot {
		t.Errorf("undo left objective %+v (was %+v), spot %d (was %d)", after, before, s.spot.onSpot[mi], onSpot)
	}
	for i := range nodes {
		if s.nodes.count[i] != nodes[i] {
			t.Errorf("undo left node counts %v, was %v", s.nodes.count, nodes)
		}
	}
	for i := range spread {
		if s.spread.counts[mi][i] != spread[i] {
			t.Errorf("undo left domain counts %v, was %v", s.spread.counts[mi], spread)
		}
	}
}

func TestStageBindFillsLowestNodes(t *testing.T) {
	g := group(t, "h100", "aws/p5.48xlarge", 4)
	wide := smallModel(t, "wide", 1)
	wide.TensorParallel = 4
	thin := smallModel(t, "thin", 5)
	thin.TensorParallel = 1
	s := fixedAssignment(t, Request{NodeGroups: []NodeGroup{g}, Models: []ModelDemand{wide, thin}})
	wi, wo := opt(t, s, "wide", "h100")
	ti, to := opt(t, s, "thin", "h100")
	s.apply(change{wi, wo, 1}, change{ti, to, 5})
	if s.nodes.count[0] != 2 {
		t.Fatalf("4 + 5 GPUs on 8-GPU nodes: counted %d nodes", s.nodes.count[0])
	}
	res := s.bind(make([][]int, len(s.models)))
	if len(res.Unplaced) != 0 || len(res.Groups) != 1 || res.Groups[0].Nodes != 2 || res.Groups[0].UsedGPUs != 9 {
		t.Fatalf("bound %+v, unplaced %+v", res.Groups, res.Unplaced)
	}
	for _, r := range res.Replicas {
		if r.Model == "wide" && (r.Stages[0].Node != 0 || r.Stages[0].GPUs[0] != 0) {
			t.Errorf("the widest stage binds first, to node 0 GPU 0: %+v", r.Stages)
		}
	}
}

// Issue 13: the rebalance scores a trial with the search's objective. The
// old scoreOf compared list prices only, so it accepted moving a replica
// whose weights were paid for on its group to a group 1 USD/h cheaper that
// charges 3 USD/h to bring them there — a trial the search itself refuses,
// since it never places a replica where price + surcharge is higher.
func TestRebalanceUsesTheSearchObjective(t *testing.T) {
	here := group(t, "here", "aws/p5.48xlarge", 1)
	here.PricePerHour = 10
	there := group(t, "there", "aws/p5.48xlarge", 1)
	there.PricePerHour = 9
	m := smallModel(t, "m", 1)
	m.TensorParallel = 8
	m.Surcharge = map[string]float64{"here": 5, "there": 3}
	prev := []Replica{{Model: "m", Index: 0, NodeGroup: "here", TensorParallel: 8, PipelineParallel: 1,
		Stages: []Stage{{Node: 0, GPUs: []int{0, 1, 2, 3, 4, 5, 6, 7}}}}}
	req := Request{NodeGroups: []NodeGroup{here, there}, Models: []ModelDemand{m}, Previous: prev, Rebalance: true, MaxMoves: 1}
	res := mustPlan(t, req)
	if len(res.Moves) != 0 || res.Replicas[0].NodeGroup != "here" {
		t.Fatalf("rebalance moved the replica: %+v", res.Moves)
	}
	// What the old rule said of the trial that moves it, and what the
	// objective says.
	moved := &Result{Replicas: []Replica{prev[0]}, CostPerHour: 9, Groups: []GroupResult{{Name: "here"}, {Name: "there", Nodes: 1}}}
	moved.Replicas[0].NodeGroup = "there"
	stayed := &Result{Replicas: prev, CostPerHour: 10, Groups: []GroupResult{{Name: "here", Nodes: 1}, {Name: "there"}}}
	legacy := func(r *Result) float64 { return r.CostPerHour + 1e-9 } // one node in each
	if !(legacy(moved) < legacy(stayed)) {
		t.Fatal("the old score should prefer the move")
	}
	obj := newObjective(StrategyCost)
	if !obj.ofResult(req, moved).exceeds(obj.ofResult(req, stayed)) {
		t.Errorf("the objective prefers the move: stay %+v, move %+v", obj.ofResult(req, stayed), obj.ofResult(req, moved))
	}

	// Spread by region counts regions, not clouds.
	east, west := group(t, "east", "aws/p5.48xlarge", 2), group(t, "west", "aws/p5.48xlarge", 2)
	west.Region = "us-west-2"
	r := smallModel(t, "r", 2)
	r.Spread = Spread{Across: SpreadRegion}
	one := func(group string, i int) Replica {
		return Replica{Model: "r", Index: i, NodeGroup: group, TensorParallel: 1, PipelineParallel: 1, Stages: []Stage{{GPUs: []int{i}}}}
	}
	spreadReq := Request{NodeGroups: []NodeGroup{east, west}, Models: []ModelDemand{r}, Strategy: StrategySpread}
	together := &Result{Replicas: []Replica{one("east", 0), one("east", 1)}}
	apart := &Result{Replicas: []Replica{one("east", 0), one("west", 1)}}
	sobj := newObjective(StrategySpread)
	if !sobj.ofResult(spreadReq, together).exceeds(sobj.ofResult(spreadReq, apart)) {
		t.Errorf("two regions should beat one under spread across region: %+v vs %+v", sobj.ofResult(spreadReq, apart), sobj.ofResult(spreadReq, together))
	}
}

// Binding keeps to the node count the search priced. Bound largest first,
// blocks and pipeline stages fill whole nodes and leave replicas spread
// across node a node each, or a pipeline kept on the fewest nodes opens
// another; each case fails without the attempt it names (bindAttempts).
func TestBindKeepsToTheNodeCount(t *testing.T) {
	for _, c := range []struct {
		name, instance string
		fast           bool // the rule under test, whatever the catalog row says
		first          demandShape
		second         demandShape
		wantNodes      int
	}{
		// 22 + 4 GPUs of 32: bound after the pipelines, two of the spread
		// replicas find no node of their own (spread first).
		{"spread replicas beside two 11-stage pipelines", "aws/p5.48xlarge", true,
			demandShape{"pipe", 2, 1, 11, 1, false}, demandShape{"apart", 4, 1, 1, 0, true}, 4},
		// 8 + 4 GPUs on 4-GPU nodes: the 2-GPU replicas fill two nodes and
		// the spread ones open four more (spread first).
		{"2-GPU replicas beside spread ones", "aws/g6.12xlarge", false,
			demandShape{"pair", 4, 2, 1, 1, false}, demandShape{"apart", 4, 1, 1, 0, true}, 4},
		// 12 + 8 GPUs: the pipelines take the free halves of the spread
		// replicas' nodes (loose stages).
		{"3-stage pipelines beside spread 2-GPU replicas", "aws/g5.12xlarge", true,
			demandShape{"pipe", 2, 2, 3, 1, false}, demandShape{"apart", 4, 2, 1, 0, true}, 5},
		// 2 + 14 GPUs: the second pipeline takes what the first and the
		// 1-GPU replicas leave (loose stages, nothing spread).
		{"7-stage pipelines beside 1-GPU replicas", "aws/g5.12xlarge", true,
			demandShape{"one", 2, 1, 1, 1, false}, demandShape{"pipe", 2, 1, 7, 0, false}, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := group(t, "g", c.instance, 8)
			g.FastNetwork = c.fast
			req := Request{NodeGroups: []NodeGroup{g}, Models: []ModelDemand{c.first.demand(t), c.second.demand(t)}}
			res := mustPlan(t, req)
			checkInvariants(t, req, res)
			if res.UnplacedReplicas() != 0 || res.Groups[0].Nodes != c.wantNodes {
				t.Errorf("%d unplaced on %d nodes, want 0 on %d (%+v)", res.UnplacedReplicas(), res.Groups[0].Nodes, c.wantNodes, res.Unplaced)
			}
		})
	}
}

// demandShape is a replica shape of the 8B test model.
type demandShape struct {
	name                     string
	replicas, tensor, stages int
	priority                 int
	spread                   bool
}

func (d demandShape) demand(t *testing.T) ModelDemand {
	m := smallModel(t, d.name, d.replicas)
	m.TensorParallel, m.PipelineParallel, m.Priority = d.tensor, d.stages, d.priority
	if d.spread {
		m.Spread = Spread{Across: SpreadNode}
	}
	return m
}

// A stage released after a failed bind gives back more than its GPUs: the
// node loses the model's mark while another stage of the model stays, and
// first fit looks at the node again. Before, the mark stayed, so a replica
// spread across node skipped a node it could use, and the cursors passed
// over the freed block.
func TestReleaseGivesBackTheMarkAndTheBlock(t *testing.T) {
	a := newGroupAlloc(NodeGroup{GPUsPerNode: 4, MaxNodes: 2})
	const model, other, class = 0, 1, 0
	first, ok := a.place(2, model, class, true)
	if !ok || first.Node != 0 {
		t.Fatalf("first stage: %+v %v", first, ok)
	}
	second, ok := a.place(2, other, class, false)
	if !ok || second.Node != 0 {
		t.Fatalf("other model: %+v %v", second, ok)
	}
	if st, ok := a.place(2, other, class, false); !ok || st.Node != 1 { // node 0 is full: the cursor moves on
		t.Fatalf("third stage: %+v %v", st, ok)
	}
	a.release(first, model)
	if a.nodes[0].holds(model) {
		t.Errorf("node 0 still holds the model after its only stage was released")
	}
	if again, ok := a.place(2, other, class, false); !ok || again.Node != 0 {
		t.Errorf("first fit passes over the block freed on node 0: %+v %v", again, ok)
	}
	a.release(Stage{Node: 0, GPUs: []int{0, 1}}, other)
	if again, ok := a.place(2, model, class, true); !ok || again.Node != 0 {
		t.Errorf("spread across node skips node 0, which no longer holds the model: %+v %v", again, ok)
	}

	// Two stages of one model on a node: releasing one keeps the mark.
	b := newGroupAlloc(NodeGroup{GPUsPerNode: 4, MaxNodes: 1})
	s1, _ := b.place(1, model, class, false)
	if _, ok := b.place(1, model, class, false); !ok {
		t.Fatal("second stage")
	}
	b.release(s1, model)
	if !b.nodes[0].holds(model) {
		t.Errorf("node 0 lost the model's mark though one of its stages is still there")
	}
}

// Where every binding of a group drops as many replicas, the one kept drops
// the lowest priority: bound largest first, a 4-GPU block of a low-priority
// model leaves one of two high-priority replicas spread across node
// without a node of its own; bound spread first, the block is the one left
// out. (The search never counts this group within max_nodes; the state is
// set by hand to reach binding.)
func TestBindDropsTheLowestPriority(t *testing.T) {
	g := group(t, "g", "aws/g6.12xlarge", 2)
	low := demandShape{"low", 1, 4, 1, 0, false}.demand(t)
	high := demandShape{"high", 2, 1, 1, 5, true}.demand(t)
	s := fixedAssignment(t, Request{NodeGroups: []NodeGroup{g}, Models: []ModelDemand{low, high}})
	li, lo := opt(t, s, "low", "g")
	hi, ho := opt(t, s, "high", "g")
	s.apply(change{li, lo, 1}, change{hi, ho, 2})
	res := s.bind(make([][]int, len(s.models)))
	if len(res.Unplaced) != 1 || res.Unplaced[0].Model != "low" {
		t.Fatalf("unplaced %+v, want the low-priority replica", res.Unplaced)
	}
}
