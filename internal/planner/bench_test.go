package planner

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// scaleRequest builds a fleet of 30 node groups (about 5,000 candidate
// nodes) and enough models to total the given replicas.
func scaleRequest(b testing.TB, replicas int) Request {
	rng := rand.New(rand.NewPCG(42, 42))
	keys := []string{"aws/p5.48xlarge", "aws/p5en.48xlarge", "aws/g6e.12xlarge", "aws/g6.xlarge",
		"gcp/a3-highgpu-8g", "gcp/g2-standard-96", "azure/Standard_ND96amsr_A100_v4", "azure/Standard_NC24ads_A100_v4",
		"gcp/a2-ultragpu-8g", "aws/g5.12xlarge"}
	var req Request
	for i := range 30 {
		g := group(b, fmt.Sprintf("g%02d", i), keys[i%len(keys)], 170)
		g.Region = fmt.Sprintf("region-%d", i/len(keys))
		req.NodeGroups = append(req.NodeGroups, g)
	}
	models := []string{"llama-3.1-8b", "qwen2.5-7b", "mistral-7b-v0.3", "qwen2.5-14b", "llama-3.1-70b", "mixtral-8x7b", "qwen2.5-32b", "gemma-2-9b"}
	for i := 0; replicas > 0; i++ {
		n := min(replicas, 5+rng.IntN(30))
		replicas -= n
		m := demand(b, fmt.Sprintf("m%04d", i), models[rng.IntN(len(models))], []memory.Precision{"bf16", "fp8", "int4"}[rng.IntN(3)], 2048<<rng.IntN(3), 1+rng.IntN(8), n)
		if rng.IntN(4) == 0 {
			m.Spread = Spread{Across: SpreadCloud, MinDomains: 2, MaxShare: 0.67}
		}
		req.Models = append(req.Models, m)
	}
	return req
}

func BenchmarkPlan(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		req := scaleRequest(b, n)
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Plan(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
