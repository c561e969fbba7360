package limits

import (
	"math"
	"strings"
	"testing"
)

// The sums the package comment promises: at every bound at once, the
// figures derived from the inputs stay within int64 (bytes, cents).
func TestLimitsKeepArithmeticInRange(t *testing.T) {
	const maxInt64 = float64(math.MaxInt64)
	for name, v := range map[string]float64{
		// A group's GPU memory: the planner sums bytes per group.
		"GPU bytes of the largest group": GPUMemoryGiB.Max * GiB * float64(GPUsPerNode.Max) * float64(NodesPerGroup.Max),
		// A fleet's monthly cost in cents (730 hours a month).
		"monthly cents of the dearest fleet": PricePerHour.Max * float64(NodesPerGroup.Max) * float64(NodeGroups.Max) * 730 * 100,
		// A replica's weights at 4 bytes per parameter and its KV cache.
		"bytes of the largest replica": float64(Parameters.Max)*4 + float64(ReplicaBytes.Max),
		// KV tokens: sequences × context.
		"KV tokens of one replica": float64(Concurrency.Max) * float64(ContextTokens.Max),
	} {
		if !(v < maxInt64) {
			t.Errorf("%s: %g does not fit int64", name, v)
		}
	}
	// The parameter count of an architecture at every field's bound, by
	// the largest term (the experts' MLPs), fits int64, so the computed
	// count is checked against Parameters before anything overflows.
	experts := float64(Layers.Max) * float64(Experts.Max) * 3 * float64(HiddenSize.Max) * float64(MoEIntermediate.Max)
	if !(experts*2 < maxInt64) {
		t.Errorf("expert parameters at the bounds: %g", experts)
	}
}

func TestCheckAndDoc(t *testing.T) {
	l := Int{Name: "max_nodes", Min: 0, Max: 100_000, What: "the most nodes one node group may have"}
	if got := l.Check(100_001); got != "max_nodes must be between 0 and 100,000 (the most nodes one node group may have), got 100,001" {
		t.Errorf("Check: %q", got)
	}
	if l.Check(0) != "" || l.Check(100_000) != "" || l.Check(-1) == "" {
		t.Error("the bounds are inclusive")
	}
	if got := l.Doc(); got != "From 0 to 100,000." {
		t.Errorf("Doc: %q", got)
	}
	f := Float{Name: "load_per_replica", Min: 0, Max: 1e15, MinExclusive: true, What: "w"}
	if f.Check(0) == "" || f.Check(math.NaN()) == "" || f.Check(math.Inf(1)) == "" || f.Check(1e15) != "" || f.Check(1e-300) != "" {
		t.Error("Float bounds")
	}
	if got := f.Doc(); got != "Greater than 0 and at most 1,000,000,000,000,000." {
		t.Errorf("Doc: %q", got)
	}
	if got := (Int{Name: "p", Min: -1_000_000, Max: 5, What: "w"}).Check(-1_000_001); !strings.Contains(got, "between -1,000,000 and 5") ||
		!strings.Contains(got, "got -1,000,001") {
		t.Errorf("negative grouping: %q", got)
	}
}
