package planner

import (
	"math"
	"testing"
)

// TestNoisePricesStayWithinAmplitudeAndRestore: every group's prices are
// scaled within ±amplitude, the same seed draws the same factors, other
// seeds others, and restore gives back the exact prices.
func TestNoisePricesStayWithinAmplitudeAndRestore(t *testing.T) {
	req := Request{NodeGroups: []NodeGroup{
		group(t, "a", "aws/p5.48xlarge", 4),
		group(t, "b", "gcp/g2-standard-48", 4),
		group(t, "c", "azure/Standard_NC24ads_A100_v4", 4),
	}}
	req.NodeGroups[1].Reserved, req.NodeGroups[1].ReservedPrice = 1, 2.5
	prices := func(s *assignment) []float64 {
		var out []float64
		for _, g := range s.groups {
			out = append(out, g.PricePerHour, g.ReservedPrice)
		}
		return out
	}
	s := newAssignment(req, nil)
	want := prices(s)
	restore := s.noisePrices(7, 0.5)
	noisy := prices(s)
	for i, p := range noisy {
		if want[i] == 0 {
			if p != 0 {
				t.Errorf("price %d: 0 became %g", i, p)
			}
			continue
		}
		if f := p / want[i]; f < 0.5 || f > 1.5 {
			t.Errorf("price %d scaled by %g, outside ±0.5", i, f)
		}
	}
	restore()
	for i, p := range prices(s) {
		if p != want[i] {
			t.Errorf("price %d restored as %g, want %g", i, p, want[i])
		}
	}
	again := newAssignment(req, nil)
	again.noisePrices(7, 0.5)
	other := newAssignment(req, nil)
	other.noisePrices(8, 0.5)
	same, differs := true, false
	for i, p := range prices(again) {
		same = same && p == noisy[i]
		differs = differs || math.Abs(prices(other)[i]-p) > 1e-12
	}
	if !same || !differs {
		t.Errorf("seed 7 drew the same factors again: %v; seed 8 drew others: %v", same, differs)
	}
}
