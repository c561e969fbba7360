package catalog

import (
	"strings"
	"testing"
)

// all-balanced on an A100-80GB is two 1g.10gb, one 2g.20gb and one
// 3g.40gb (the GPU Operator's config map gives the counts), placed
// smallest first: 1g at slices 0 and 1, 2g at 2, 3g at 4. A row the GPU
// cannot hold is refused when the catalog loads.
func TestMIGLayoutsFitTheGPU(t *testing.T) {
	for name, instances := range map[string]map[string]int{
		"memory slices over 8":  {"3g.40gb": 2, "2g.20gb": 1},
		"compute slices over 7": {"2g.20gb": 3, "1g.10gb": 2},
		"unknown profile":       {"1g.11gb": 2},
		"a single instance":     {"3g.40gb": 1},
	} {
		if _, err := buildLayout(migLayoutRow{GPUModel: "A100-80GB", Layout: "all-x", Instances: instances, Source: "test"}); err == nil {
			t.Errorf("%s: accepted", name)
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
