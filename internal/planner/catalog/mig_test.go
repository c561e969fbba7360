package catalog

import (
	"strings"
	"testing"
)

// Every mixed layout puts its instances on distinct aligned memory slices
// within the GPU's 8, and within its 7 compute slices; all-balanced on an
// A100-80GB is 1g.10gb at slices 0 and 1, 2g.20gb at 2, 3g.40gb at 4, as
// the GPU Operator's config map gives it.
func TestMIGLayoutsFitTheGPU(t *testing.T) {
	for _, l := range migLayouts {
		used, compute := 0, 0
		for _, in := range l.Instances {
			size := in.Profile.MemorySlices
			mask := (1<<size - 1) << in.Offset
			if in.Offset%size != 0 || in.Offset+size > 8 || used&mask != 0 || in.Profile.GPUModel != l.GPUModel {
				t.Errorf("%s %s: instance %s at %d overlaps or is misaligned", l.GPUModel, l.Name, in.Profile.Profile, in.Offset)
			}
			used |= mask
			compute += in.Profile.ComputeSlices
		}
		if compute > 7 {
			t.Errorf("%s %s: %d compute slices", l.GPUModel, l.Name, compute)
		}
	}
	l, ok := LookupMIGLayout("A100-80GB", "all-balanced")
	if !ok {
		t.Fatal("A100-80GB has no all-balanced layout")
	}
	want := []struct {
		profile string
		offset  int
	}{{"1g.10gb", 0}, {"1g.10gb", 1}, {"2g.20gb", 2}, {"3g.40gb", 4}}
	if len(l.Instances) != len(want) {
		t.Fatalf("instances %+v", l.Instances)
	}
	for i, w := range want {
		if l.Instances[i].Profile.Profile != w.profile || l.Instances[i].Offset != w.offset {
			t.Errorf("instance %d: %s at %d, want %s at %d", i, l.Instances[i].Profile.Profile, l.Instances[i].Offset, w.profile, w.offset)
		}
	}
	if _, ok := LookupMIGLayout("L4", "all-balanced"); ok {
		t.Error("L4 has no MIG")
	}
	if _, err := LookupMIGProfile("A100-80GB", "all-balancd"); err == nil || !strings.Contains(err.Error(), "all-balanced") {
		t.Errorf("a misspelt layout should suggest all-balanced: %v", err)
	}
}
