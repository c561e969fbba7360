package planner

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// migA100 is a group of 4×A100-80GB nodes in the uniform layout of profile.
func migA100(t testing.TB, name, profile string, maxNodes int) NodeGroup {
	t.Helper()
	g := group(t, name, "azure/Standard_NC96ads_A100_v4", maxNodes)
	p, err := catalog.LookupMIGProfile(g.GPUModel, profile)
	if err != nil {
		t.Fatal(err)
	}
	return g.Shared(GPUSharing{MIGProfile: p.Profile, PerGPU: p.PerGPU}, int64(math.Round(p.MemoryGiB*memory.GiB)))
}

func smallModels(t testing.TB, n int) []ModelDemand {
	var out []ModelDemand
	for i := range n {
		pick := []struct {
			model string
			p     memory.Precision
		}{{"qwen3-0.6b", memory.BF16}, {"phi-3-mini-4k", memory.BF16}, {"qwen2.5-7b", memory.Int4}}[i%3]
		m := demand(t, fmt.Sprintf("small-%02d", i), pick.model, pick.p, 4096, 2, 1)
		m.ShareGPU = true
		out = append(out, m)
	}
	return out
}

// Fourteen 0.6-7B replicas on 4×A100-80GB nodes: on whole GPUs they take
// 14 GPUs (4 nodes); as 1g.10gb / 2g.20gb MIG instances (7 or 3 per GPU)
// far fewer. Every replica on a share runs at t1 × p1.
func TestSharingMIGPacksSmallModels(t *testing.T) {
	models := smallModels(t, 14)
	whole := mustPlan(t, Request{NodeGroups: []NodeGroup{group(t, "a100", "azure/Standard_NC96ads_A100_v4", 8)}, Models: models})
	req := Request{NodeGroups: []NodeGroup{
		migA100(t, "a100-1g", "1g.10gb", 8),
		migA100(t, "a100-2g", "2g.20gb", 8),
	}, Models: models}
	shared := mustPlan(t, req)
	checkInvariants(t, req, shared)
	if whole.UnplacedReplicas() != 0 || shared.UnplacedReplicas() != 0 {
		t.Fatalf("unplaced: whole %+v, shared %+v", whole.Unplaced, shared.Unplaced)
	}
	if shared.CostPerHour >= whole.CostPerHour {
		t.Errorf("sharing costs %.2f, whole GPUs %.2f", shared.CostPerHour, whole.CostPerHour)
	}
	for _, r := range shared.Replicas {
		if r.TensorParallel != 1 || r.PipelineParallel != 1 {
			t.Errorf("%s at t%d p%d on a share", r.Key(), r.TensorParallel, r.PipelineParallel)
		}
	}
}

func TestSharingNeedsTheModelsConsent(t *testing.T) {
	m := demand(t, "m", "qwen3-0.6b", memory.BF16, 4096, 2, 2)
	res := mustPlan(t, Request{NodeGroups: []NodeGroup{migA100(t, "mig", "1g.10gb", 2)}, Models: []ModelDemand{m}})
	if len(res.Unplaced) != 1 || !strings.Contains(res.Unplaced[0].Reason, "1 excluded by "+filterShared) {
		t.Fatalf("unplaced %+v", res.Unplaced)
	}
	if !strings.Contains(strings.Join(res.Unplaced[0].Remedies, "; "), "set constraints.share_gpu") {
		t.Errorf("remedies %v", res.Unplaced[0].Remedies)
	}
}

// Time-slicing three engines on one GPU: each gets a third of the
// utilization, floored to four decimals, and together they stay within it.
func TestSharingTimeSlicedUtilization(t *testing.T) {
	g := group(t, "l40s", "aws/g6e.xlarge", 2).Shared(GPUSharing{PerGPU: 3}, 0)
	gpu := g.GPU()
	if gpu.Utilization != 0.3 || gpu.Shares != 3 || g.GPUsPerNode != 3 {
		t.Fatalf("GPU %+v, shares per node %d", gpu, g.GPUsPerNode)
	}
	models := smallModels(t, 6)
	req := Request{NodeGroups: []NodeGroup{g}, Models: models}
	res := mustPlan(t, req)
	checkInvariants(t, req, res)
	if res.UnplacedReplicas() != 0 || res.Groups[0].Nodes != 2 {
		t.Errorf("6 small replicas on 3 shares per node: %d nodes, unplaced %+v", res.Groups[0].Nodes, res.Unplaced)
	}
}

// Time-slicing keeps the engines of a GPU within the utilization it had.
func TestSharingTimeSlicedWithinTheGPU(t *testing.T) {
	for _, u := range []float64{0.9, 0.95, 0.8575, 1} {
		for n := 2; n <= 16; n++ {
			g := NodeGroup{GPUsPerNode: 1, Utilization: u}.Shared(GPUSharing{PerGPU: n}, 0)
			if sum := float64(n) * g.Utilization; sum > u+1e-12 || memory.CheckUtilization(g.Utilization) != nil {
				t.Errorf("u %v, %d engines: %v each (%v in all)", u, n, g.Utilization, sum)
			}
		}
	}
}

// withRandomSharing turns some MIG-capable groups of a random fleet into
// uniform MIG layouts and some others into time-sliced groups, and lets
// some models share; it returns each group's utilization before sharing.
func withRandomSharing(rng *rand.Rand, req Request) (Request, map[string]float64) {
	req.NodeGroups = append([]NodeGroup(nil), req.NodeGroups...)
	whole := map[string]float64{}
	for i, g := range req.NodeGroups {
		whole[g.Name] = g.Utilization
		mixed := catalog.MIGLayouts(g.GPUModel)
		switch profiles := catalog.MIGProfiles(g.GPUModel); {
		case len(profiles) > 1 && rng.IntN(8) == 0: // two layouts to choose from
			for _, k := range rng.Perm(len(profiles))[:2] {
				p := profiles[k]
				g.Layouts = append(g.Layouts, Layout{Sharing: GPUSharing{MIGProfile: p.Profile, PerGPU: p.PerGPU}, MIGBytes: int64(math.Round(p.MemoryGiB * memory.GiB))})
			}
			if len(mixed) > 0 && rng.IntN(2) == 0 {
				g.Layouts = append(g.Layouts, Layout{Sharing: balancedSharing(mixed[0])})
			}
			req.NodeGroups[i] = g
		case len(mixed) > 0 && rng.IntN(3) == 0:
			req.NodeGroups[i] = g.Shared(balancedSharing(mixed[0]), 0)
		case len(profiles) > 0 && rng.IntN(2) == 0:
			p := profiles[rng.IntN(len(profiles))]
			req.NodeGroups[i] = g.Shared(GPUSharing{MIGProfile: p.Profile, PerGPU: p.PerGPU}, int64(math.Round(p.MemoryGiB*memory.GiB)))
		case rng.IntN(4) == 0 && g.GPUsPerNode <= 16:
			req.NodeGroups[i] = g.Shared(GPUSharing{PerGPU: 2 + rng.IntN(3)}, 0)
		case rng.IntN(3) == 0 && g.GPUsPerNode <= 8:
			per := 2 << rng.IntN(3) // 2, 4 or 8 slots per GPU
			req.NodeGroups[i] = g.Shared(GPUSharing{PerGPU: per, Fractional: true}, 0)
		}
	}
	req.Models = append([]ModelDemand(nil), req.Models...)
	for i := range req.Models {
		req.Models[i].ShareGPU = rng.IntN(2) == 0
		if req.Models[i].ShareGPU && rng.IntN(4) == 0 {
			req.Models[i].GPUMemoryFraction = float64(1+rng.IntN(9)) / 10
		}
	}
	return req, whole
}

// No GPU or slice is over-committed: each share holds at most one
// replica (checkInvariants), every replica on a share runs at t1 × p1 of a
// model that allows sharing and fits the share's memory, the engines of
// one time-sliced GPU stay within its utilization, and every MIG layout
// fits the GPU's 7 compute and 8 memory slices.
func TestPropertySharingNeverOverCommits(t *testing.T) {
	n := 2_000
	if testing.Short() {
		n = 500
	}
	rng := rand.New(rand.NewPCG(15, 3))
	onShares, onMixed := 0, 0
	for i := range n {
		req, whole := withRandomSharing(rng, randomRequest(t, rng))
		res, err := Plan(req)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		req.NodeGroups = res.NodeGroups // the layouts chosen
		checkInvariants(t, req, res)
		groups, models := req.GroupsByName(), req.ModelsByName()
		perGPU := map[string]float64{} // time-sliced: group/node/physical GPU → Σ utilization
		for _, r := range res.Replicas {
			g := groups[r.NodeGroup]
			if g.Sharing == nil {
				continue
			}
			onShares++
			if g.Partitioned() {
				onMixed++
			}
			if r.TensorParallel != 1 || r.PipelineParallel != 1 || !models[r.Model].ShareGPU {
				t.Errorf("case %d: %s on shared %s at t%d p%d (share_gpu %v)", i, r.Key(), g.Name, r.TensorParallel, r.PipelineParallel, models[r.Model].ShareGPU)
			}
			gpu := g.ReplicaGPU(r)
			if f := models[r.Model].GPUMemoryFraction; g.TimeSliced() && gpu.Utilization < f {
				t.Errorf("case %d: %s's engine gets %.4f of its GPU, below its fraction %.4f", i, r.Key(), gpu.Utilization, f)
			}
			if g.TimeSliced() {
				slots := r.Stages[0].GPUs
				first, last := slots[0]/g.Sharing.PerGPU, slots[len(slots)-1]/g.Sharing.PerGPU
				if first != last {
					t.Errorf("case %d: %s's block %v spans physical GPUs %d to %d", i, r.Key(), slots, first, last)
				}
				key := fmt.Sprintf("%s/%d/%d", g.Name, r.Stages[0].Node, first)
				perGPU[key] += gpu.Utilization
			} else if g.Partitioned() {
				if _, ok := catalog.LookupMIGLayout(g.GPUModel, g.Sharing.MIGLayout); !ok || checkInstances(*g.Sharing) != "" {
					t.Errorf("case %d: invalid MIG layout %s on %s", i, g.Sharing.MIGLayout, g.GPUModel)
				}
			} else if p, err := catalog.LookupMIGProfile(g.GPUModel, g.Sharing.MIGProfile); err != nil ||
				p.PerGPU*p.ComputeSlices > 7 || p.PerGPU*p.MemorySlices > 8 {
				t.Errorf("case %d: invalid MIG layout %s on %s", i, g.Sharing.MIGProfile, g.GPUModel)
			}
		}
		checkPartitioned(t, req, res)
		for key, u := range perGPU {
			if name := strings.Split(key, "/")[0]; u > whole[name]+1e-9 {
				t.Errorf("case %d: engines on time-sliced GPU %s use %.4f of it, above the group's %.4f", i, key, u, whole[name])
			}
		}
		if t.Failed() {
			t.Fatalf("case %d failed", i)
		}
	}
	t.Logf("%d instances; %d replicas on shares, %d on mixed MIG layouts", n, onShares, onMixed)
	if onMixed == 0 {
		t.Error("no replica ran on a mixed MIG layout")
	}
	if onShares == 0 {
		t.Error("no replica ran on a share: the generator tests nothing")
	}
}
