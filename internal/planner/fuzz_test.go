package planner

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// FuzzPlan drives the planner's entry point with random requests whose
// first node group and first model take fuzzed, possibly invalid, values.
// The planner must return either a typed input error or a plan that keeps
// every invariant — never panic, never an internal error.
func FuzzPlan(f *testing.F) {
	f.Add(uint64(1), int8(8), int64(80<<30), int16(0), int16(4), int16(3), int8(0), int8(0), 0.9, 10.0, uint8(0))
	f.Add(uint64(2), int8(0), int64(-1), int16(3), int16(1), int16(-2), int8(3), int8(-1), 1.5, -1.0, uint8(9))
	f.Add(uint64(3), int8(64), int64(1), int16(0), int16(1000), int16(500), int8(64), int8(127), 0.01, 0.0, uint8(2))
	f.Fuzz(func(t *testing.T, seed uint64, gpus int8, mem int64, minNodes, maxNodes, replicas int16, tp, pp int8, util, price float64, spread uint8) {
		rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		req := randomRequest(t, rng)
		g := &req.NodeGroups[0]
		g.GPUsPerNode, g.GPUMemoryBytes, g.MinNodes, g.MaxNodes = int(gpus), mem, int(minNodes), int(maxNodes)
		g.Utilization, g.PricePerHour = util, price
		m := &req.Models[0]
		m.Replicas, m.TensorParallel, m.PipelineParallel = int(replicas), int(tp), int(pp)
		switch spread % 4 {
		case 1:
			m.Spread = Spread{Across: SpreadCloud, MinDomains: int(spread / 4), MaxShare: float64(spread%10) / 10}
		case 2:
			m.Spread = Spread{Across: SpreadNode}
		case 3:
			m.Spread = Spread{Across: "rack", MinDomains: -1}
		}
		if seed%4 == 0 { // memory blocks of fuzzed count (1 and 32 invalid) and a fuzzed fraction
			*g = g.Shared(GPUSharing{PerGPU: 1 << (spread % 6), Fractional: true}, 0)
			m.ShareGPU, m.GPUMemoryFraction = true, util/2
		}
		if seed%4 == 1 { // a mixed MIG layout with a fuzzed instance, maybe misaligned or overlapping
			sh := GPUSharing{MIGLayout: "all-balanced", PerGPU: 8, Instances: []MIGInstance{
				{Profile: "1g.10gb", Offset: 0, Slots: 1, Bytes: 10 << 30},
				{Profile: "2g.20gb", Offset: int(spread % 8), Slots: 1 << (spread % 4), Bytes: mem},
			}}
			*g = g.Shared(sh, 0)
			m.ShareGPU = true
		}
		res, err := Plan(req)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		checkInvariants(t, req, res)
		checkPartitioned(t, req, res)
	})
}
