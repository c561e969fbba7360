package planner

import "math/rand/v2"

// Price noise, a diversification of the multi-start search: a start that
// places and searches with every group's prices scaled by its own seeded
// factor lands in a local optimum the true prices would not lead to; a
// search at the true prices follows, and the start competes with the others
// on the true objective. The generator is seeded, so the plan stays
// deterministic.

// noisePrices scales each group's node and reserved prices by a factor
// drawn in [1-amplitude, 1+amplitude] from seed, and returns what restores
// them. Only the assignment's copy of the groups changes.
func (s *assignment) noisePrices(seed uint64, amplitude float64) (restore func()) {
	rng := rand.New(rand.NewPCG(seed, 0x6e6f697365))
	saved := make([][2]float64, len(s.groups))
	for gi := range s.groups {
		g := &s.groups[gi]
		saved[gi] = [2]float64{g.PricePerHour, g.ReservedPrice}
		f := 1 - amplitude + 2*amplitude*rng.Float64()
		g.PricePerHour *= f
		g.ReservedPrice *= f
	}
	return func() {
		for gi := range s.groups {
			s.groups[gi].PricePerHour, s.groups[gi].ReservedPrice = saved[gi][0], saved[gi][1]
		}
	}
}
