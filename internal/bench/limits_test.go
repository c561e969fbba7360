package bench

import (
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
)

// The benchmark's largest fleets stay within the input limits the provider
// enforces (internal/planner/limits): the limits must not refuse what the
// benchmark measures.
func TestScaleFleetsWithinLimits(t *testing.T) {
	for _, s := range ScaleSpecs() {
		c, err := Generate("scale", s.Name, s.Spec)
		if err != nil {
			t.Fatal(err)
		}
		if problems := planner.Validate(c.Req); len(problems) > 0 {
			t.Errorf("%s (%d models, %d groups): %v", s.Name, len(c.Req.Models), len(c.Req.NodeGroups), problems)
		}
	}
}
