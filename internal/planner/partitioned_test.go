package planner

import (
	"math"
	"strings"
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// balanced is group g under the GPU Operator's mixed layout all-balanced.
func balanced(t testing.TB, g NodeGroup) NodeGroup {
	t.Helper()
	l, ok := catalog.LookupMIGLayout(g.GPUModel, "all-balanced")
	if !ok {
		t.Fatalf("%s has no all-balanced layout", g.GPUModel)
	}
	return g.Shared(balancedSharing(l), 0)
}

func balancedSharing(l catalog.MIGLayout) GPUSharing {
	s := GPUSharing{MIGLayout: l.Name, PerGPU: 8}
	for _, in := range l.Instances {
		s.Instances = append(s.Instances, MIGInstance{Profile: in.Profile.Profile, Offset: in.Offset,
			Slots: in.Profile.MemorySlices, Bytes: int64(math.Round(in.Profile.MemoryGiB * memory.GiB))})
	}
	return s
}

// On 4×A100-80GB nodes under all-balanced a node has 8 1g.10gb, 4 2g.20gb
// and 4 3g.40gb instances. A replica takes the smallest free instance that
// holds it, whole: 0.6B replicas fill the 1g instances and then the larger
// ones before another node opens, a 14B bf16 needs a 3g, and the node
// count is what binding gives.
func TestPartitionedTakesWholeInstances(t *testing.T) {
	for _, c := range []struct {
		name        string
		tiny, large int
		wantNodes   int
	}{
		{"eight tiny fill the 1g instances", 8, 0, 1},
		{"the ninth takes a 2g", 9, 0, 1},
		{"sixteen fill the node", 16, 0, 1},
		{"the seventeenth opens a node", 17, 0, 2},
		{"four 14B fill the 3g instances", 0, 4, 1},
		{"a fifth 14B opens a node", 0, 5, 2},
		{"four 14B beside twelve tiny", 12, 4, 1},
		{"four 14B beside thirteen tiny", 13, 4, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := balanced(t, group(t, "mig", "azure/Standard_NC96ads_A100_v4", 4))
			var models []ModelDemand
			if c.tiny > 0 {
				m := demand(t, "tiny", "qwen3-0.6b", memory.BF16, 4096, 2, c.tiny)
				m.ShareGPU = true
				models = append(models, m)
			}
			if c.large > 0 {
				m := demand(t, "large", "qwen2.5-14b", memory.BF16, 4096, 2, c.large)
				m.ShareGPU = true
				models = append(models, m)
			}
			req := Request{NodeGroups: []NodeGroup{g}, Models: models}
			res := mustPlan(t, req)
			checkInvariants(t, req, res)
			checkPartitioned(t, req, res)
			if res.UnplacedReplicas() != 0 || res.Groups[0].Nodes != c.wantNodes {
				t.Fatalf("%d nodes, unplaced %+v; want %d nodes", res.Groups[0].Nodes, res.Unplaced, c.wantNodes)
			}
			for _, r := range res.Replicas {
				if r.Model == "large" && len(r.Stages[0].GPUs) != 4 {
					t.Errorf("%s takes %d memory slices, want the 3g.40gb's 4", r.Key(), len(r.Stages[0].GPUs))
				}
			}
			if c.large == 0 && c.tiny <= 8 {
				for _, r := range res.Replicas {
					if len(r.Stages[0].GPUs) != 1 {
						t.Errorf("%s on %d slices while 1g instances are free", r.Key(), len(r.Stages[0].GPUs))
					}
				}
			}
		})
	}
}

// checkPartitioned checks every replica on a group under a mixed MIG
// layout: one stage on exactly one instance of the layout, whose memory
// holds the replica (the engine runs in the instance it was bound to).
func checkPartitioned(t testing.TB, req Request, res *Result) {
	t.Helper()
	groups, models := req.GroupsByName(), req.ModelsByName()
	for _, r := range res.Replicas {
		g := groups[r.NodeGroup]
		if !g.Partitioned() {
			continue
		}
		if len(r.Stages) != 1 || !newGroupAlloc(g).isInstance(r.Stages[0].GPUs) {
			t.Errorf("%s on %s: stages %+v are not one instance of %s", r.Key(), g.Name, r.Stages, g.Sharing.MIGLayout)
			continue
		}
		if need := models[r.Model].Memory.PerGPU(g.ReplicaGPU(r), 1, 1); !need.Fits {
			t.Errorf("%s does not fit the instance it is bound to (%d bytes)", r.Key(), g.ReplicaGPU(r).VisibleBytes)
		}
	}
}

// Under a mixed layout a repeat plan moves nothing, the replica on a 2g
// instance included; a replica of the last plan whose slices are not one
// instance (two 1g instances side by side) moves, and says why.
func TestPartitionedReplicasStay(t *testing.T) {
	g := balanced(t, group(t, "mig", "azure/Standard_NC96ads_A100_v4", 2))
	m := demand(t, "tiny", "qwen3-0.6b", memory.BF16, 4096, 2, 9)
	m.ShareGPU = true
	req := Request{NodeGroups: []NodeGroup{g}, Models: []ModelDemand{m}}
	first := mustPlan(t, req)
	req.Previous = first.Replicas
	again := mustPlan(t, req)
	checkPartitioned(t, req, again)
	if len(again.Moves) != 0 || !samePlacement(first, again) {
		t.Fatalf("a repeat plan moves %+v", again.Moves)
	}
	prev := append([]Replica(nil), first.Replicas...)
	for i := range prev {
		if prev[i].Index == 0 {
			prev[i].Stages = []Stage{{Node: prev[i].Stages[0].Node, GPUs: []int{0, 1}}}
		}
	}
	req.Previous = prev
	moved := mustPlan(t, req)
	if len(moved.Moves) != 1 || moved.Moves[0].Key != "tiny/0" || !strings.Contains(moved.Moves[0].Reason, "not one MIG instance") {
		t.Fatalf("moves %+v", moved.Moves)
	}
	checkPartitioned(t, req, moved)
}

func samePlacement(a, b *Result) bool {
	if len(a.Replicas) != len(b.Replicas) {
		return false
	}
	for i := range a.Replicas {
		if !SamePlace(a.Replicas[i], b.Replicas[i]) {
			return false
		}
	}
	return true
}

// A mixed layout whose instances overlap, are misaligned or have no memory
// is refused on the node group's mig_profile.
func TestPartitionedLayoutValidated(t *testing.T) {
	base := balanced(t, group(t, "mig", "azure/Standard_NC96ads_A100_v4", 2))
	for name, mutate := range map[string]func(*MIGInstance){
		"overlapping": func(in *MIGInstance) { in.Offset = 0 },
		"misaligned":  func(in *MIGInstance) { in.Offset = 3 },
		"no memory":   func(in *MIGInstance) { in.Bytes = 0 },
		"too large":   func(in *MIGInstance) { in.Slots = 16 },
	} {
		g := base
		sh := *g.Sharing
		sh.Instances = append([]MIGInstance(nil), sh.Instances...)
		mutate(&sh.Instances[2]) // the 2g at slice 2
		g.Sharing = &sh
		m := demand(t, "tiny", "qwen3-0.6b", memory.BF16, 4096, 2, 1)
		m.ShareGPU = true
		problems := Validate(Request{NodeGroups: []NodeGroup{g}, Models: []ModelDemand{m}})
		if len(problems) != 1 || problems[0].Field != "gpu_sharing.mig_profile" {
			t.Errorf("%s: problems %v", name, problems)
		}
	}
}

// The spread-across-node floor under a mixed layout: each spread replica
// takes one instance of a node of its own, and the rest of that node's
// instances stay for other stages, whole. 4×A100-80GB all-balanced nodes
// hold 8 1g, 4 2g and 4 3g instances.
func TestExclusiveNodesTakeWholeInstances(t *testing.T) {
	node := &groupBase{fresh: sizeCounts{8, 4, 4}, whole: true}
	for _, c := range []struct {
		name           string
		replicas, unit int
		stages         sizeCounts
		want           int
	}{
		{"three spread 3g replicas beside nine more", 3, 4, sizeCounts{2: 12}, 3},
		{"beside ten more", 3, 4, sizeCounts{2: 13}, 4},
		{"three spread 1g replicas beside all the rest", 3, 1, sizeCounts{0: 48}, 3},
		{"beside one more", 3, 1, sizeCounts{0: 49}, 4},
	} {
		st := c.stages
		if got := exclusiveNodes(c.replicas, &option{unit: c.unit, units: 1}, &st, node); got != c.want {
			t.Errorf("%s: %d nodes, want %d", c.name, got, c.want)
		}
	}
}

// A replica of the last plan at tensor degree 2 on a shared group moves:
// a share holds one engine at degree 1.
func TestPartitionedMovesAReplicaAtTensorTwo(t *testing.T) {
	g := balanced(t, group(t, "mig", "azure/Standard_NC96ads_A100_v4", 2))
	m := demand(t, "mid", "qwen2.5-14b", memory.BF16, 4096, 2, 1)
	m.ShareGPU = true
	req := Request{NodeGroups: []NodeGroup{g}, Models: []ModelDemand{m},
		Previous: []Replica{{Model: "mid", Index: 0, NodeGroup: "mig", TensorParallel: 2, PipelineParallel: 1, Stages: []Stage{{Node: 0, GPUs: []int{2, 3}}}}}}
	res := mustPlan(t, req)
	checkPartitioned(t, req, res)
	if len(res.Moves) != 1 || !strings.Contains(res.Moves[0].Reason, "tensor and pipeline degree 1") {
		t.Fatalf("moves %+v", res.Moves)
	}
}
