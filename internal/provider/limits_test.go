package provider

import (
	"math"
	"strings"
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/limits"
)

// Issue 12: autoscaled replicas are monotone in the target load up to the
// limit, where 1e14 and 1e15 gave 100,000 and 1.
func TestAutoscaledReplicasMonotone(t *testing.T) {
	prev := int64(0)
	for _, target := range []float64{0, 0.5, 1, 1.5, 99_999, 100_000, 100_001, 1e9, 1e14, 1e15, limits.Load.Max, math.MaxFloat64} {
		for _, per := range []float64{1, 1e-300} {
			if per != 1 && target == 0 {
				continue
			}
			n := autoscaledReplicas(target, per, 1, limits.Replicas.Max)
			if n < 1 || n > limits.Replicas.Max {
				t.Fatalf("target %g per %g: %d replicas", target, per, n)
			}
			if per == 1 {
				if n < prev {
					t.Errorf("target %g: %d replicas, fewer than %d for a smaller target", target, n, prev)
				}
				prev = n
			} else if n != limits.Replicas.Max {
				t.Errorf("target %g per %g: %d replicas, want the limit", target, per, n)
			}
		}
	}
	if got := autoscaledReplicas(1e15, 1, 1, 100); got != 100 {
		t.Errorf("max_replicas 100: got %d", got)
	}
	if got := autoscaledReplicas(0, 1, 3, 100); got != 3 {
		t.Errorf("min_replicas 3: got %d", got)
	}
}

// Every description of a limited attribute states its range: the text the
// docs are generated from.
func TestLimitsStatedInDescriptions(t *testing.T) {
	attrs := nodeGroupAttributes()
	for name, l := range map[string]interface{ Doc() string }{"max_nodes": limits.NodesPerGroup, "min_nodes": limits.MinNodes,
		"price_per_hour": limits.PricePerHour} {
		if d := attrs[name].GetMarkdownDescription(); !strings.Contains(d, l.Doc()) {
			t.Errorf("%s: %q lacks %q", name, d, l.Doc())
		}
	}
	demand := demandAttributes(modeInput)
	for name, l := range map[string]limits.Int{"replicas": limits.Replicas, "tensor_parallel": limits.TensorParallel,
		"pipeline_parallel": limits.PipelineParallel, "max_context_tokens": limits.ContextTokens,
		"max_concurrent_sequences": limits.Concurrency, "priority": limits.Priority} {
		if d := demand[name].GetMarkdownDescription(); !strings.Contains(d, l.Doc()) {
			t.Errorf("%s: %q lacks %q", name, d, l.Doc())
		}
	}
}
