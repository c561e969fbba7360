package planner

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// unplacedOf plans and returns the one model left out.
func unplacedOf(t *testing.T, req Request) Unplaced {
	t.Helper()
	res := mustPlan(t, req)
	if len(res.Unplaced) != 1 {
		t.Fatalf("unplaced %+v", res.Unplaced)
	}
	return res.Unplaced[0]
}

// Issue 12: fixed degrees that fit the memory but span more nodes than
// max_nodes are too few nodes, not memory, and the remedies work.
func TestPlanTooFewNodesForFixedDegrees(t *testing.T) {
	m := demand(t, "m", "llama-3.1-8b", memory.BF16, 4096, 4, 2)
	m.TensorParallel, m.PipelineParallel = 8, 4
	req := Request{NodeGroups: []NodeGroup{group(t, "h100", "aws/p5.48xlarge", 2)}, Models: []ModelDemand{m}}
	u := unplacedOf(t, req)
	if !strings.Contains(u.Reason, "1 excluded by nodes per replica above max_nodes") || strings.Contains(u.Reason, "memory per GPU") ||
		strings.Contains(u.Reason, "GiB short") {
		t.Errorf("reason %q", u.Reason)
	}
	all := strings.Join(u.Remedies, "; ")
	for _, want := range []string{`raise max_nodes of node group "h100" to 8 (a replica at tensor_parallel 8 × pipeline_parallel 4 spans 4 nodes)`,
		`use pipeline_parallel 1 (fits node group "h100")`} {
		if !strings.Contains(all, want) {
			t.Errorf("remedies %q lack %q", all, want)
		}
	}
	if strings.Contains(all, "tensor_parallel 1") {
		t.Errorf("remedies %q propose a tensor degree that changes nothing", all)
	}
	// Each remedy, applied, places every replica.
	fixed := req
	fixed.NodeGroups = []NodeGroup{group(t, "h100", "aws/p5.48xlarge", 8)}
	if res := mustPlan(t, fixed); len(res.Unplaced) != 0 {
		t.Errorf("max_nodes 8 leaves %+v", res.Unplaced)
	}
	fixed = req
	fixed.Models = []ModelDemand{m}
	fixed.Models[0].PipelineParallel = 1
	if res := mustPlan(t, fixed); len(res.Unplaced) != 0 {
		t.Errorf("pipeline_parallel 1 leaves %+v", res.Unplaced)
	}
}

// No remedy proposes a max_nodes beyond the limit a group may have.
func TestPlanRemediesWithinLimits(t *testing.T) {
	for name, m := range map[string]ModelDemand{
		"many replicas": demand(t, "m", "llama-3.1-405b", memory.BF16, 4096, 4, 70_000),
		"wide replicas": func() ModelDemand {
			m := demand(t, "m", "llama-3.1-8b", memory.BF16, 4096, 4, 1)
			m.TensorParallel, m.PipelineParallel = 8, 32
			return m
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			g := group(t, "h100", "aws/p5.48xlarge", 1)
			if name == "many replicas" {
				g.MaxNodes = maxNodesPerGroup
			}
			u := unplacedOf(t, Request{NodeGroups: []NodeGroup{g}, Models: []ModelDemand{m}})
			all := strings.Join(u.Remedies, "; ")
			if len(u.Remedies) == 0 {
				t.Fatalf("no remedy: %s", u.Reason)
			}
			for _, n := range regexp.MustCompile(`max_nodes of node group "h100" to (\d+)`).FindAllStringSubmatch(all, -1) {
				if v, _ := strconv.Atoi(n[1]); v > maxNodesPerGroup {
					t.Errorf("remedy proposes max_nodes %d: %s", v, all)
				}
			}
			if name == "many replicas" && !strings.Contains(all, "add node groups") {
				t.Errorf("remedies %q do not say what else would fit", all)
			}
		})
	}
}

// A spread remedy names only the spread settings the model sets.
func TestPlanSpreadRemedyNamesWhatIsSet(t *testing.T) {
	m := demand(t, "m", "llama-3.1-8b", memory.BF16, 4096, 4, 2)
	m.Spread = Spread{Across: SpreadCloud, MinDomains: 2}
	u := unplacedOf(t, Request{NodeGroups: []NodeGroup{group(t, "h100", "aws/p5.48xlarge", 2)}, Models: []ModelDemand{m}})
	all := strings.Join(u.Remedies, "; ")
	if strings.Contains(all, "max_share") || !strings.Contains(all, "add node groups in more cloud domains") {
		t.Errorf("remedies %q", all)
	}
	m.Spread = Spread{Across: SpreadCloud, MaxShare: 0.5}
	m.Replicas = 4
	u = unplacedOf(t, Request{NodeGroups: []NodeGroup{group(t, "h100", "aws/p5.48xlarge", 2)}, Models: []ModelDemand{m}})
	if all := strings.Join(u.Remedies, "; "); !strings.Contains(all, `raise spread.max_share of "m"`) {
		t.Errorf("remedies %q", all)
	}
}
