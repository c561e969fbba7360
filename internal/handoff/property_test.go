package handoff

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	lwsv1 "sigs.k8s.io/lws/api/leaderworkerset/v1"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
	"github.com/mcllm/terraform-provider-mcllm/internal/sharing"
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
	return planned(t, req, f)
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

// randomSharedFleet plans a random fleet of small models on shared GPUs:
// each catalog group of NVIDIA GPUs (AMD's device plugin shares none), at
// most 8 a node, as a uniform or the mixed MIG layout where
// its GPU has MIG, else time-sliced by equal engines or in memory blocks.
func randomSharedFleet(t testing.TB, rng *rand.Rand) Fleet {
	var types []catalog.InstanceType
	for _, it := range catalog.InstanceTypes() {
		if m, err := catalog.LookupGPUModel(it.GPUModel); it.GPUs <= 8 && it.VisibleMemoryGiB >= 20 && err == nil && m.Vendor == "nvidia" {
			types = append(types, it)
		}
	}
	small := []string{"qwen3-0.6b", "phi-3-mini-4k", "qwen2.5-7b", "llama-3.1-8b"}
	req := planner.Request{}
	f := Fleet{Pool: "p", Groups: map[string]Group{}, Models: map[string]Model{}, Sizes: map[string]int{},
		Kubernetes: &Kubernetes{Namespace: DefaultNamespace, Port: DefaultPort}}
	for i := range 1 + rng.IntN(4) {
		it := types[rng.IntN(len(types))]
		g := testGroup(t, fmt.Sprintf("g%d", i), it.Cloud+"/"+it.Name, 1+rng.IntN(3), planner.CapacityOnDemand)
		mixed := catalog.MIGLayouts(g.GPUModel)
		switch profiles := catalog.MIGProfiles(g.GPUModel); {
		case len(mixed) > 0 && rng.IntN(3) == 0:
			l := sharing.Mixed(mixed[0])
			g.NodeGroup = g.Shared(l.Sharing, 0)
		case len(profiles) > 0 && rng.IntN(2) == 0:
			p := profiles[rng.IntN(len(profiles))]
			g.NodeGroup = g.Shared(planner.GPUSharing{MIGProfile: p.Profile, PerGPU: p.PerGPU}, int64(p.MemoryGiB*memory.GiB))
		case rng.IntN(2) == 0:
			g.NodeGroup = g.Shared(planner.GPUSharing{PerGPU: 2 + rng.IntN(3)}, 0)
		default:
			g.NodeGroup = g.Shared(planner.GPUSharing{PerGPU: 2 << rng.IntN(3), Fractional: true}, 0)
		}
		req.NodeGroups = append(req.NodeGroups, g.NodeGroup)
		f.Groups[g.Name] = g
	}
	for i := range 1 + rng.IntN(5) {
		cm, err := catalog.LookupModel(small[rng.IntN(len(small))])
		if err != nil {
			t.Fatal(err)
		}
		p := []memory.Precision{memory.BF16, memory.FP8, memory.Int4}[rng.IntN(3)]
		est, err := memory.New(memory.Request{Arch: cm.Architecture, Precision: p, ContextTokens: 1024 << rng.IntN(3), Concurrency: 1 + rng.IntN(8)})
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("m%d", i)
		req.Models = append(req.Models, planner.ModelDemand{Name: name, Memory: est, Replicas: 1 + rng.IntN(6), ShareGPU: true})
		f.Models[name] = Model{Name: name, Source: cm.HFRepo, Estimate: est}
	}
	return planned(t, req, f)
}

// Over random shared fleets, each pod asks for its share as the cluster
// hands it out — one MIG instance, one time-sliced GPU, or KAI's
// gpu-fraction of its block with no device-plugin GPU — and each engine runs
// at the utilization its share was planned with.
func TestRandomSharedFleetsRenderFaithfully(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 15))
	kinds := map[string]int{}
	for range 200 {
		f := randomSharedFleet(t, rng)
		out, err := Render(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range f.Replicas {
			g := f.Groups[r.NodeGroup]
			w := out.Workloads[r.Key()]
			if got, want := argValue(w.EngineArgs, "--gpu-memory-utilization"), strconv.FormatFloat(g.ReplicaGPU(r).Utilization, 'f', -1, 64); got != want {
				t.Fatalf("%s on %s: --gpu-memory-utilization %s, planned %s", r.Key(), g.Name, got, want)
			}
			dep, ok := decode(t, w.YAML).(*appsv1.Deployment)
			if !ok {
				t.Fatalf("%s: a share runs one pod", r.Key())
			}
			pod := dep.Spec.Template
			c := pod.Spec.Containers[0]
			fraction, annotated := pod.Annotations[AnnotationGPUFraction]
			slots := len(r.Stages[0].GPUs)
			switch {
			case g.Partitioned():
				kinds["mixed mig"]++
				in := g.MIGInstanceOf(r)
				q := c.Resources.Limits[corev1.ResourceName("nvidia.com/mig-"+in)]
				if in == "" || q.Value() != 1 || len(c.Resources.Limits) != 1 || annotated {
					t.Fatalf("%s: mixed-layout pod on %d slices: limits %v, annotations %v", r.Key(), slots, c.Resources.Limits, pod.Annotations)
				}
			case g.Sharing.MIGProfile != "":
				kinds["mig"]++
				q := c.Resources.Limits[corev1.ResourceName("nvidia.com/mig-"+g.Sharing.MIGProfile)]
				if q.Value() != 1 || annotated {
					t.Fatalf("%s: MIG pod limits %v, annotations %v", r.Key(), c.Resources.Limits, pod.Annotations)
				}
			case g.Sharing.Fractional && slots < g.Sharing.PerGPU:
				kinds["block"]++
				want := strconv.FormatFloat(float64(slots)/float64(g.Sharing.PerGPU), 'f', -1, 64)
				if _, gpu := c.Resources.Limits[GPUResource]; gpu || fraction != want || pod.Spec.SchedulerName != KAISchedulerName {
					t.Fatalf("%s: block of %d/%d: limits %v, gpu-fraction %q (want %s), scheduler %q", r.Key(), slots, g.Sharing.PerGPU,
						c.Resources.Limits, fraction, want, pod.Spec.SchedulerName)
				}
			default:
				kinds["whole or time-sliced"]++
				q := c.Resources.Limits[GPUResource]
				if q.Value() != 1 || annotated {
					t.Fatalf("%s: limits %v, annotations %v", r.Key(), c.Resources.Limits, pod.Annotations)
				}
			}
		}
	}
	t.Logf("pods by share: %v", kinds)
	if kinds["mig"] == 0 || kinds["mixed mig"] == 0 || kinds["block"] == 0 || kinds["whole or time-sliced"] == 0 {
		t.Errorf("the fleets miss a kind of share: %v", kinds)
	}
}

// planned is fleet f with req planned: its replicas and node-group sizes.
func planned(t testing.TB, req planner.Request, f Fleet) Fleet {
	t.Helper()
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
