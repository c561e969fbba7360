package memory

import "testing"

// A placement entry's usable bytes give back the utilization they were made
// from, for every four-decimal utilization and GPU sizes from 1 GiB to 1 TiB;
// more decimals are refused.
func TestUtilizationRoundTrip(t *testing.T) {
	for u := 1; u <= 10000; u++ {
		util := float64(u) / 1e4
		if err := CheckUtilization(util); err != nil {
			t.Fatalf("%g: %v", util, err)
		}
		for _, visible := range []int64{1 << 30, 22_000_000_000, 84_975_927_951, 191_000_000_000, 1 << 40} {
			g := GPU{VisibleBytes: visible, Utilization: util}
			if back := UtilizationOf(visible, g.UsableBytes()); back != util {
				t.Fatalf("utilization %g of %d bytes came back as %g", util, visible, back)
			}
		}
	}
	for _, bad := range []float64{0.91234, 0.33333, 1.0 / 3} {
		if CheckUtilization(bad) == nil {
			t.Errorf("utilization %g: want an error for more than four decimals", bad)
		}
	}
}
