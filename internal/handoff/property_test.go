package handoff

import (
	"fmt"
	"math/rand/v2"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	lwsv1 "sigs.k8s.io/lws/api/leaderworkerset/v1"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// randomFleet plans a random fleet: catalog instance types on the three
// clouds, catalog models at random precisions; what does not fit is left out.
func randomFleet(t testing.TB, rng *rand.Rand) Fleet {
	types := catalog.InstanceTypes()
	models := catalog.Models()
	precisions := []memory.Precision{memory.BF16, memory.FP8, memory.Int8, memory.Int4, memory.Int4GPTQ}
	req := planner.Request{}
	f := Fleet{Pool: "p", Groups: map[string]Group{}, Models: map[string]Model{}, Sizes: map[string]int{},
		Kubernetes: &Kubernetes{Namespace: DefaultNamespace, Port: DefaultPort}}
	for i := range 1 + rng.IntN(5) {
		it := types[rng.IntN(len(types))]
		capacity := planner.CapacityOnDemand
		if rng.IntN(3) == 0 {
			capacity = planner.CapacitySpot
		}
		g := testGroup(t, fmt.Sprintf("g%d", i), it.Cloud+"/"+it.Name, 1+rng.IntN(4), capacity)
		if rng.IntN(2) == 0 {
			g.Taints = []Taint{{Key: "k", Value: "v", Effect: TaintEffects()[rng.IntN(3)]}}
		}
		req.NodeGroups = append(req.NodeGroups, g.NodeGroup)
		f.Groups[g.Name] = g
	}
	for i := range 1 + rng.IntN(5) {
		cm := models[rng.IntN(len(models))]
		p := precisions[rng.IntN(len(precisions))]
		est, err := memory.New(memory.Request{Arch: cm.Architecture, Precision: p, ContextTokens: min(1024<<rng.IntN(4), cm.MaxContext), Concurrency: 1 + rng.IntN(16)})
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("m%d", i)
		req.Models = append(req.Models, planner.ModelDemand{Name: name, Memory: est, Replicas: 1 + rng.IntN(4)})
		f.Models[name] = Model{Name: name, Source: cm.HFRepo, Estimate: est}
	}
	res, err := planner.Plan(req)
	if err != nil {
		t.Fatal(err)
	}
	f.Replicas = res.Replicas
	for _, g := range res.Groups {
		f.Sizes[g.Name] = g.Nodes
	}
	return f
}

// Over many random fleets, every manifest decodes strictly and runs its
// replica exactly as placed.
func TestRandomFleetsRenderFaithfully(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	lws := 0
	for range 300 {
		f := randomFleet(t, rng)
		out, err := Render(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range f.Replicas {
			w := out.Workloads[r.Key()]
			checkArgs(t, f, r, w.EngineArgs)
			switch obj := decode(t, w.YAML).(type) {
			case *appsv1.Deployment:
				if MultiNode(r) {
					t.Fatalf("%s spans nodes but renders as a Deployment", r.Key())
				}
				checkPod(t, f, r, obj.Spec.Template.Spec, r.TensorParallel*r.PipelineParallel)
			case *lwsv1.LeaderWorkerSet:
				lws++
				if !MultiNode(r) || int(*obj.Spec.LeaderWorkerTemplate.Size) != r.PipelineParallel {
					t.Fatalf("%s: LeaderWorkerSet of %d pods for %d stages", r.Key(), *obj.Spec.LeaderWorkerTemplate.Size, r.PipelineParallel)
				}
				checkPod(t, f, r, obj.Spec.LeaderWorkerTemplate.WorkerTemplate.Spec, r.TensorParallel)
			}
		}
		for name, g := range out.NodeGroups {
			if g.DesiredSize != f.Sizes[name] {
				t.Fatalf("%s: desired %d, planned %d", name, g.DesiredSize, f.Sizes[name])
			}
		}
	}
	if lws == 0 {
		t.Fatal("random fleets should include replicas across nodes")
	}
}
