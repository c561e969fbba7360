package planner

import (
	"strings"
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// fractionalGroup is group g with each GPU's memory split into per
// power-of-two slots that engines take blocks of.
func fractionalGroup(t testing.TB, name, key string, per, maxNodes int) NodeGroup {
	t.Helper()
	return group(t, name, key, maxNodes).Shared(GPUSharing{PerGPU: per, Fractional: true}, 0)
}

// A block's engine gets its part of the GPU's utilization, floored to four
// decimals, and its part of the memory above the budgets for CUDA graphs:
// blocks that fill a GPU stay within its utilization.
func TestFractionalEngineGPU(t *testing.T) {
	g := NodeGroup{GPUsPerNode: 1, GPUMemoryBytes: 80 * memory.GiB, Utilization: 0.9}.Shared(GPUSharing{PerGPU: 8, Fractional: true}, 0)
	for _, c := range []struct {
		slots  int
		util   float64
		shares int
	}{{1, 0.1125, 8}, {2, 0.225, 4}, {4, 0.45, 2}, {8, 0.9, 1}} {
		gpu := g.EngineGPU(c.slots)
		if gpu.Utilization != c.util || gpu.Shares != c.shares || memory.CheckUtilization(gpu.Utilization) != nil {
			t.Errorf("%d slots: %+v, want utilization %v and %d shares", c.slots, gpu, c.util, c.shares)
		}
	}
	if g.GPUsPerNode != 8 || g.PhysicalGPUs() != 1 || g.Utilization != 0.1125 {
		t.Errorf("group %+v", g)
	}
	for _, u := range []float64{0.9, 0.95, 0.8575, 1} {
		for per := 2; per <= 16; per *= 2 {
			g := NodeGroup{GPUsPerNode: 1, Utilization: u}.Shared(GPUSharing{PerGPU: per, Fractional: true}, 0)
			for k := 1; k <= per; k *= 2 {
				gpu := g.EngineGPU(k)
				if sum := float64(per/k) * gpu.Utilization; sum > u+1e-12 || memory.CheckUtilization(gpu.Utilization) != nil {
					t.Errorf("u %v, %d blocks of %d/%d: %v in all", u, per/k, k, per, sum)
				}
				if back := SlotUtilization(gpu.Utilization, k); back != g.Utilization {
					t.Errorf("u %v, %d/%d: slot utilization %v back from %v, want %v", u, k, per, back, gpu.Utilization, g.Utilization)
				}
			}
		}
	}
}

// Small models of different sizes on L40S GPUs split in eighths: each
// replica takes the smallest block that holds it, blocks stay inside one
// GPU, and the fleet costs less than on whole GPUs or on equal halves.
func TestFractionalBlocksFitEachModel(t *testing.T) {
	models := []ModelDemand{
		demand(t, "qwen-0.6b", "qwen3-0.6b", memory.BF16, 4096, 2, 4),
		demand(t, "phi-3", "phi-3-mini-4k", memory.BF16, 4096, 4, 3),
		demand(t, "qwen-7b", "qwen2.5-7b", memory.BF16, 8192, 8, 2),
	}
	for i := range models {
		models[i].ShareGPU = true
	}
	key := "aws/g6e.12xlarge" // 4 × L40S
	frac := fractionalGroup(t, "l40s-frac", key, 8, 6)
	req := Request{NodeGroups: []NodeGroup{frac}, Models: models}
	res := mustPlan(t, req)
	checkInvariants(t, req, res)
	if res.UnplacedReplicas() != 0 {
		t.Fatalf("unplaced %+v", res.Unplaced)
	}
	byModel := req.ModelsByName()
	blocks := map[string]int{}
	for _, r := range res.Replicas {
		k := len(r.Stages[0].GPUs)
		blocks[r.Model] = k
		if k&(k-1) != 0 || r.Stages[0].GPUs[0]%k != 0 {
			t.Errorf("%s: block %v is not an aligned power of two", r.Key(), r.Stages[0].GPUs)
		}
		m := byModel[r.Model]
		if !m.Memory.PerGPU(frac.EngineGPU(k), 1, 1).Fits || (k > 1 && m.Memory.PerGPU(frac.EngineGPU(k/2), 1, 1).Fits) {
			t.Errorf("%s: %d slots is not the smallest block that holds it", r.Key(), k)
		}
	}
	if blocks["qwen-0.6b"] >= blocks["qwen-7b"] {
		t.Errorf("blocks %v: the 0.6B takes no less than the 7B", blocks)
	}
	whole := mustPlan(t, Request{NodeGroups: []NodeGroup{group(t, "l40s", key, 6)}, Models: models})
	halves := mustPlan(t, Request{NodeGroups: []NodeGroup{group(t, "l40s-2", key, 6).Shared(GPUSharing{PerGPU: 2}, 0)}, Models: models})
	if res.CostPerHour > whole.CostPerHour || res.CostPerHour > halves.CostPerHour {
		t.Errorf("fractional %.2f, whole %.2f, equal halves %.2f", res.CostPerHour, whole.CostPerHour, halves.CostPerHour)
	}
	t.Logf("blocks %v; %.2f USD/h fractional, %.2f on whole GPUs, %.2f on halves", blocks, res.CostPerHour, whole.CostPerHour, halves.CostPerHour)
}

// A model's GPU memory fraction is a floor: on a fractional group its
// block grows to reach it; an equal share below it excludes the group,
// and the explanation says what fraction the share has.
func TestFractionalMemoryFraction(t *testing.T) {
	m := demand(t, "m", "qwen3-0.6b", memory.BF16, 4096, 2, 2)
	m.ShareGPU, m.GPUMemoryFraction = true, 0.3
	frac := fractionalGroup(t, "frac", "aws/g6e.xlarge", 8, 2) // 1 × L40S, 0.9 → 0.1125 a slot
	req := Request{NodeGroups: []NodeGroup{frac}, Models: []ModelDemand{m}}
	res := mustPlan(t, req)
	checkInvariants(t, req, res)
	for _, r := range res.Replicas {
		if k := len(r.Stages[0].GPUs); k != 4 || frac.ReplicaGPU(r).Utilization != 0.45 {
			t.Errorf("%s: %d slots at %v, want 4 slots at 0.45", r.Key(), k, frac.ReplicaGPU(r).Utilization)
		}
	}
	equal := group(t, "thirds", "aws/g6e.xlarge", 2).Shared(GPUSharing{PerGPU: 4}, 0) // 0.225 each
	res = mustPlan(t, Request{NodeGroups: []NodeGroup{equal}, Models: []ModelDemand{m}})
	if len(res.Unplaced) != 1 || !strings.Contains(res.Unplaced[0].Reason, "1 excluded by "+filterFraction) {
		t.Fatalf("unplaced %+v", res.Unplaced)
	}
	if !strings.Contains(strings.Join(res.Unplaced[0].Remedies, "; "), "lower constraints.gpu_memory_fraction to at most 0.225") {
		t.Errorf("remedies %v", res.Unplaced[0].Remedies)
	}
}

// A repeat plan keeps fractional replicas; a model that now needs another
// block moves, saying why.
func TestFractionalStability(t *testing.T) {
	m := demand(t, "m", "qwen3-0.6b", memory.BF16, 4096, 2, 3)
	m.ShareGPU = true
	req := Request{NodeGroups: []NodeGroup{fractionalGroup(t, "frac", "aws/g6e.xlarge", 8, 2)}, Models: []ModelDemand{m}}
	first := mustPlan(t, req)
	req.Previous = first.Replicas
	again := mustPlan(t, req)
	if len(again.Moves) != 0 {
		t.Fatalf("repeat plan moved %+v", again.Moves)
	}
	req.Models[0].GPUMemoryFraction = 0.4 // 4 slots, 0.45
	moved := mustPlan(t, req)
	checkInvariants(t, req, moved)
	if len(moved.Moves) != 3 || !strings.Contains(moved.Moves[0].Reason, "slots is no longer") {
		t.Errorf("moves %+v", moved.Moves)
	}
}

func TestFractionalValidation(t *testing.T) {
	m := demand(t, "m", "qwen3-0.6b", memory.BF16, 4096, 2, 1)
	for _, c := range []struct {
		fraction float64
		share    bool
		want     string
	}{
		{1.5, true, "must be greater than 0 and at most 1"},
		{-0.2, true, "must be greater than 0 and at most 1"},
		{0.33333, true, "at most four decimals"},
		{0.3, false, "needs constraints.share_gpu"},
	} {
		m.GPUMemoryFraction, m.ShareGPU = c.fraction, c.share
		errs := ValidateModel(m)
		if len(errs) != 1 || errs[0].Field != "constraints.gpu_memory_fraction" || !strings.Contains(errs[0].Msg, c.want) {
			t.Errorf("fraction %v share %v: %v", c.fraction, c.share, errs)
		}
	}
	g := group(t, "g", "aws/g6e.xlarge", 2).Shared(GPUSharing{PerGPU: 6, Fractional: true}, 0)
	errs := ValidateRequest(Request{NodeGroups: []NodeGroup{g}})
	if len(errs) != 1 || errs[0].Field != "gpu_sharing.max_engines_per_gpu" {
		t.Errorf("6 slots per GPU: %v", errs)
	}
}
