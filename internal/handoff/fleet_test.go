package handoff

import (
	"strings"
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// testGroup builds a node group from a catalog instance type "cloud/type".
func testGroup(t testing.TB, name, key string, maxNodes int, capacity string, taints ...Taint) Group {
	t.Helper()
	cloud, inst, _ := strings.Cut(key, "/")
	it, err := catalog.LookupInstanceType(cloud, inst)
	if err != nil {
		t.Fatal(err)
	}
	price := 1.0
	if it.PriceUSDPerHour != nil {
		price = *it.PriceUSDPerHour
	}
	region := "somewhere"
	if len(it.Regions) > 0 {
		region = it.Regions[0]
	}
	return Group{
		NodeGroup: planner.NodeGroup{
			Name: name, Cloud: it.Cloud, Region: region, GPUModel: it.GPUModel, GPUsPerNode: it.GPUs,
			GPUMemoryBytes: memory.GPUFromGiB(it.VisibleMemoryGiB, 0.9).VisibleBytes, Utilization: 0.9,
			PricePerHour: price, MaxNodes: maxNodes, CapacityType: capacity, Labels: map[string]string{"team": "ml"},
			FastNetwork: it.FastNetwork(),
		},
		InstanceType: it.Name, Taints: taints,
	}
}

type testModel struct {
	name, catalogID string
	precision       memory.Precision
	kv              memory.KVPrecision
	ctx, conc, reps int
}

// testFleet plans models on groups and returns the fleet to render.
func testFleet(t testing.TB, groups []Group, models []testModel, previous []planner.Replica) Fleet {
	t.Helper()
	req := planner.Request{Previous: previous}
	f := Fleet{Pool: "prod", Groups: map[string]Group{}, Models: map[string]Model{}, Sizes: map[string]int{},
		Kubernetes: &Kubernetes{Namespace: "serving", Image: "vllm/vllm-openai:v0.10.0", ROCmImage: "vllm/vllm-openai-rocm:v0.10.0",
			Port: DefaultPort, HFTokenSecret: "hf"}}
	for _, g := range groups {
		req.NodeGroups = append(req.NodeGroups, g.NodeGroup)
		f.Groups[g.Name] = g
	}
	for _, m := range models {
		cm, err := catalog.LookupModel(m.catalogID)
		if err != nil {
			t.Fatal(err)
		}
		est, err := memory.New(memory.Request{Arch: cm.Architecture, Precision: m.precision, KVPrecision: m.kv,
			ContextTokens: m.ctx, Concurrency: m.conc})
		if err != nil {
			t.Fatal(err)
		}
		// On a fleet with shared GPUs every model of the fixture may share.
		req.Models = append(req.Models, planner.ModelDemand{Name: m.name, Memory: est, Replicas: m.reps, ShareGPU: anyShared(groups)})
		f.Models[m.name] = Model{Name: m.name, Source: cm.HFRepo, CheckpointBytes: est.WeightBytes, Estimate: est}
	}
	res, err := planner.Plan(req)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Unplaced) > 0 {
		t.Fatalf("unplaced: %+v", res.Unplaced)
	}
	f.Replicas = res.Replicas
	for _, g := range res.Groups {
		f.Sizes[g.Name] = g.Nodes
	}
	return f
}

var gpuTaint = Taint{Key: "dedicated", Value: "llm", Effect: EffectNoSchedule}

// threeClouds is a fleet on AWS, GCP and Azure with a model of each shape:
// one GPU, tensor parallel on one node, and pipeline stages across nodes.
func threeClouds(t testing.TB) ([]Group, []testModel) {
	groups := []Group{
		testGroup(t, "aws-h100", "aws/p5.48xlarge", 8, planner.CapacityOnDemand, gpuTaint),
		testGroup(t, "gcp-l4", "gcp/g2-standard-48", 10, planner.CapacitySpot, gpuTaint),
		testGroup(t, "azure-a100", "azure/Standard_ND96amsr_A100_v4", 4, planner.CapacityOnDemand),
		testGroup(t, "azure-a100-spot", "azure/Standard_ND96amsr_A100_v4", 1, planner.CapacitySpot),
	}
	models := []testModel{
		{"llama-8b", "llama-3.1-8b", memory.BF16, memory.KVAuto, 8192, 8, 4},
		{"llama-70b", "llama-3.1-70b", memory.FP8, memory.KVFP8, 8192, 16, 2},
		{"qwen-72b-awq", "qwen2.5-72b", memory.Int4, memory.KVAuto, 16384, 8, 2},
		{"llama-405b", "llama-3.1-405b", memory.BF16, memory.KVAuto, 8192, 4, 1},
	}
	return groups, models
}

func anyShared(groups []Group) bool {
	for _, g := range groups {
		if g.Sharing != nil {
			return true
		}
	}
	return false
}

// sharedClouds is a fleet of small models on a MIG-partitioned A100 group
// (one node of 28 1g.10gb instances), a time-sliced L4 group, which takes
// what the instances do not hold, and an L40S group in eighths, where the
// 8B model takes half of a GPU.
func sharedClouds(t testing.TB) ([]Group, []testModel) {
	mig := testGroup(t, "azure-a100-mig", "azure/Standard_NC96ads_A100_v4", 1, planner.CapacityOnDemand)
	p, err := catalog.LookupMIGProfile(mig.GPUModel, "1g.10gb")
	if err != nil {
		t.Fatal(err)
	}
	mig.NodeGroup = mig.Shared(planner.GPUSharing{MIGProfile: p.Profile, PerGPU: p.PerGPU}, int64(p.MemoryGiB*memory.GiB))
	ts := testGroup(t, "aws-l4-ts", "aws/g6.xlarge", 4, planner.CapacityOnDemand)
	ts.NodeGroup = ts.Shared(planner.GPUSharing{PerGPU: 2}, 0)
	frac := testGroup(t, "aws-l40s-frac", "aws/g6e.xlarge", 2, planner.CapacityOnDemand)
	frac.NodeGroup = frac.Shared(planner.GPUSharing{PerGPU: 8, Fractional: true}, 0)
	return []Group{mig, ts, frac}, []testModel{
		{"tiny", "qwen3-0.6b", memory.BF16, memory.KVAuto, 4096, 4, 26}, // one node of 28 instances, and more
		{"phi", "phi-3-mini-4k", memory.FP8, memory.KVAuto, 4096, 2, 3},
		{"llama", "llama-3.1-8b", memory.BF16, memory.KVAuto, 4096, 4, 2}, // half an L40S: no MIG instance or L4 share holds it
	}
}
