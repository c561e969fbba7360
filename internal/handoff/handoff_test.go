package handoff

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

func TestObjectName(t *testing.T) {
	for _, tc := range []struct{ parts []string }{
		{[]string{"prod", "llama-8b", "0"}}, {[]string{"Prod", "Llama_8B", "12"}}, {[]string{"a", "b.c", "1"}},
		{[]string{strings.Repeat("x", 80), "m", "3"}}, {[]string{"-", "_", "0"}}, {[]string{"2024-prod", "m", "0"}}, {[]string{""}},
	} {
		name := ObjectName(tc.parts...)
		if errs := validation.IsDNS1035Label(name); len(errs) > 0 || len(name) > maxObjectName {
			t.Errorf("ObjectName(%q) = %q: %v", tc.parts, name, errs)
		}
	}
	if got := ObjectName("prod", "llama-8b", "0"); got != "prod-llama-8b-0" {
		t.Errorf("a valid name should stay readable, got %q", got)
	}
	// Pools and models whose dashes would make the joined names equal stay
	// apart, across pools.
	if a, b := ObjectName("a-b", "c", "0"), ObjectName("a", "b-c", "0"); a == b {
		t.Errorf("pool a-b / model c and pool a / model b-c both named %q", a)
	}
	names := map[string][2]string{}
	rng0 := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		pick := func() string {
			b := make([]byte, 1+rng0.IntN(4))
			for i := range b {
				b[i] = "ab-"[rng0.IntN(3)]
			}
			return string(b)
		}
		pool, model := pick(), pick()
		name := ObjectName(pool, model, "0")
		if other, ok := names[name]; ok && other != [2]string{pool, model} {
			t.Fatalf("%v and %v both map to %q", other, [2]string{pool, model}, name)
		}
		names[name] = [2]string{pool, model}
	}
	// Names that differ only in what sanitising removes stay apart.
	seen := map[string]string{}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := "aA-_.9"
	for range 5000 {
		b := make([]byte, 1+rng.IntN(6))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		raw := string(b)
		name := ObjectName("p", raw, "0")
		if errs := validation.IsDNS1035Label(name); len(errs) > 0 {
			t.Fatalf("ObjectName(%q) = %q: %v", raw, name, errs)
		}
		if other, ok := seen[name]; ok && other != raw {
			t.Fatalf("%q and %q both map to %q", other, raw, name)
		}
		seen[name] = raw
	}
}

var h100 = memory.GPU{VisibleBytes: 79 << 30, Utilization: 0.9, Model: "H100-80GB"}

// testEngineModel is Llama-3.1-8B as the engine runs it.
func testEngineModel(t *testing.T, p memory.Precision, kv memory.KVPrecision, ctx, conc int) Model {
	t.Helper()
	cm, err := catalog.LookupModel("llama-3.1-8b")
	if err != nil {
		t.Fatal(err)
	}
	est, err := memory.New(memory.Request{Arch: cm.Architecture, Precision: p, KVPrecision: kv, ContextTokens: ctx, Concurrency: conc})
	if err != nil {
		t.Fatal(err)
	}
	return Model{Name: "m", Source: "org/m", Estimate: est}
}

// The engine is told every setting the estimate assumed.
func TestEngineArgsCarryTheEstimatesSettings(t *testing.T) {
	r := planner.Replica{TensorParallel: 1, PipelineParallel: 1, Stages: []planner.Stage{{Node: 0, GPUs: []int{0}}}}
	m := testEngineModel(t, memory.BF16, memory.KVAuto, 8192, 16)
	args := EngineArgs(m, r, h100, 8000)
	pg := m.PerGPU(h100, 1, 1)
	if got := argValue(args, "--max-num-batched-tokens"); got != "8192" {
		t.Errorf("--max-num-batched-tokens %q, want the V1 default on an H100, 8192", got)
	}
	if !slices.Contains(args, "--enable-chunked-prefill") {
		t.Errorf("chunked prefill not passed: %v", args)
	}
	if got, want := argValue(args, "--kv-cache-memory-bytes"), strconv.FormatInt(pg.KVBytes, 10); got != want {
		t.Errorf("--kv-cache-memory-bytes %q, want the plan's KV per GPU %s", got, want)
	}
	v0, err := memory.LookupEngine("0.6.6")
	if err != nil {
		t.Fatal(err)
	}
	est, err := memory.New(memory.Request{Arch: m.Arch, Precision: memory.BF16, ContextTokens: 8192, Concurrency: 16,
		Engine: v0, EnforceEager: true})
	if err != nil {
		t.Fatal(err)
	}
	m.Estimate = est
	args = EngineArgs(m, r, h100, 8000)
	if !slices.Contains(args, "--enable-chunked-prefill=false") || !slices.Contains(args, "--enforce-eager") ||
		slices.Contains(args, "--kv-cache-memory-bytes") {
		t.Errorf("V0, eager: %v", args)
	}
}

// A shard with LoRA slots enables them with the slots and rank the
// estimate sized its buffers for; without, no LoRA flag.
func TestEngineArgsLoRA(t *testing.T) {
	groups, models := threeClouds(t)
	f := testFleet(t, groups, models, nil)
	var m Model
	for _, name := range slices.Sorted(maps.Keys(f.Models)) {
		if !f.Models[name].Arch.IsMoE() {
			m = f.Models[name]
			break
		}
	}
	r := planner.Replica{TensorParallel: 1, PipelineParallel: 1, Stages: []planner.Stage{{Node: 0, GPUs: []int{0}}}}
	gpu := memory.GPU{VisibleBytes: 79 * memory.GiB, Utilization: 0.9}
	if args := EngineArgs(m, r, gpu, 8000); slices.Contains(args, "--enable-lora") {
		t.Fatalf("LoRA flags without LoRA: %v", args)
	}
	req := m.Request
	req.MaxLoRAs, req.MaxLoRARank = 6, 64
	est, err := memory.New(req)
	if err != nil {
		t.Fatal(err)
	}
	m.Estimate = est
	args := EngineArgs(m, r, gpu, 8000)
	if !slices.Contains(args, "--enable-lora") || argValue(args, "--max-loras") != "6" || argValue(args, "--max-lora-rank") != "64" {
		t.Errorf("LoRA flags: %v", args)
	}
}

func TestEngineArgsPerPrecision(t *testing.T) {
	r := planner.Replica{TensorParallel: 4, PipelineParallel: 1, Stages: []planner.Stage{{Node: 0, GPUs: []int{0, 1, 2, 3}}}}
	for _, tc := range []struct {
		p           memory.Precision
		kv          memory.KVPrecision
		dtype, q    string
		kvArg, note string
	}{
		{memory.BF16, memory.KVAuto, "bfloat16", "", "auto", ""},
		{memory.FP16, memory.KVFP16, "float16", "", "auto", ""},
		{memory.FP32, memory.KVAuto, "float32", "", "auto", ""},
		{memory.BF16, memory.KVFP8, "bfloat16", "", "fp8", ""},
		{memory.FP8, memory.KVAuto, "", "fp8", "auto", ""},
		// Pre-quantized checkpoints declare their method.
		{memory.Int8, memory.KVBF16, "", "", "auto", ""},
		{memory.Int4, memory.KVFP8, "", "", "fp8", ""},
		{memory.Int4AWQ, memory.KVFP16, "", "", "auto", ""},
		{memory.Int4GPTQ, memory.KVAuto, "", "", "auto", ""},
		{memory.BF16, memory.KVFP32, "bfloat16", "", "auto", "no fp32 KV cache"},
	} {
		m := testEngineModel(t, tc.p, tc.kv, 4096, 8)
		args := EngineArgs(m, r, h100, 8000)
		if got := argValue(args, "--dtype"); got != tc.dtype {
			t.Errorf("%s: --dtype %q, want %q", tc.p, got, tc.dtype)
		}
		if got := argValue(args, "--quantization"); got != tc.q {
			t.Errorf("%s: --quantization %q, want %q", tc.p, got, tc.q)
		}
		if got := argValue(args, "--kv-cache-dtype"); got != tc.kvArg {
			t.Errorf("%s/%s: --kv-cache-dtype %q, want %q", tc.p, tc.kv, got, tc.kvArg)
		}
		if _, note := KVCacheDtype(m); !strings.Contains(note, tc.note) || (tc.note == "") != (note == "") {
			t.Errorf("%s/%s: note %q, want one containing %q", tc.p, tc.kv, note, tc.note)
		}
		if slices.Contains(args, "--distributed-executor-backend") {
			t.Errorf("%s: a single-node replica needs no Ray", tc.p)
		}
	}
}

func TestMultiNode(t *testing.T) {
	st := func(nodes ...int) planner.Replica {
		r := planner.Replica{}
		for _, n := range nodes {
			r.Stages = append(r.Stages, planner.Stage{Node: n, GPUs: []int{0}})
		}
		return r
	}
	for _, tc := range []struct {
		r    planner.Replica
		want bool
	}{{st(0), false}, {st(2, 2), false}, {st(0, 1), true}, {st(1, 1, 3), true}, {st(), false}} {
		if got := MultiNode(tc.r); got != tc.want {
			t.Errorf("MultiNode(%v) = %v", tc.r.Stages, got)
		}
	}
}

func TestNodeGroupSpecPerCloud(t *testing.T) {
	taint := Taint{Key: "dedicated", Value: "llm", Effect: EffectPreferNoSchedule}
	aws := NodeGroupSpecFor("prod", testGroup(t, "h100", "aws/p5.48xlarge", 6, planner.CapacitySpot, taint), 3, OSDiskBytes+ImageDiskBytes)
	if aws.EKS == nil || aws.GKE != nil || aws.AKS != nil {
		t.Fatalf("aws: %+v", aws)
	}
	if aws.EKS.CapacityType != "SPOT" || !slices.Equal(aws.EKS.InstanceTypes, []string{"p5.48xlarge"}) ||
		aws.EKS.Taints[0].Effect != "PREFER_NO_SCHEDULE" {
		t.Errorf("eks: %+v", aws.EKS)
	}
	if aws.DesiredSize != 3 || aws.MinSize != 3 || aws.MaxSize != 6 {
		t.Errorf("sizes: %d %d %d", aws.DesiredSize, aws.MinSize, aws.MaxSize)
	}
	if aws.Labels[LabelPool] != "prod" || aws.Labels[LabelNodeGroup] != "h100" || aws.Labels["team"] != "ml" {
		t.Errorf("labels: %v", aws.Labels)
	}

	for machine, accel := range map[string]string{"a3-highgpu-8g": "nvidia-h100-80gb", "a3-megagpu-8g": "nvidia-h100-mega-80gb",
		"a2-highgpu-1g": "nvidia-tesla-a100", "a2-ultragpu-8g": "nvidia-a100-80gb", "g2-standard-48": "nvidia-l4",
		"a3-ultragpu-8g": "nvidia-h200-141gb", "a4-highgpu-8g": "nvidia-b200"} {
		gcp := NodeGroupSpecFor("prod", testGroup(t, "g", "gcp/"+machine, 2, planner.CapacityOnDemand, taint), 1, OSDiskBytes+ImageDiskBytes)
		if gcp.GKE == nil || gcp.GKE.AcceleratorType != accel || gcp.GKE.AcceleratorCount != gcp.GPUsPerNode || gcp.GKE.Spot {
			t.Errorf("gke %s: %+v", machine, gcp.GKE)
		}
	}

	az := NodeGroupSpecFor("prod", testGroup(t, "a100", "azure/Standard_ND96amsr_A100_v4", 2, planner.CapacitySpot, taint), 0, OSDiskBytes+ImageDiskBytes)
	if az.AKS == nil || az.AKS.Priority != "Spot" || az.AKS.EvictionPolicy != "Delete" || az.Labels[AKSSpotTaint] != "spot" ||
		!slices.Equal(az.AKS.NodeTaints, []string{"kubernetes.azure.com/scalesetpriority=spot:NoSchedule", "dedicated=llm:PreferNoSchedule"}) {
		t.Errorf("aks: %+v", az.AKS)
	}
	tols := tolerations(testGroup(t, "a100", "azure/Standard_ND96amsr_A100_v4", 2, planner.CapacitySpot))
	if !slices.ContainsFunc(tols, func(t corev1.Toleration) bool { return t.Key == AKSSpotTaint && t.Value == "spot" }) {
		t.Errorf("AKS spot nodes are tainted; tolerations %v", tols)
	}
	for _, cloud := range []string{"custom", "aws", "gcp", "azure"} {
		// Custom hardware names no cloud instance type: no node-group object.
		custom := NodeGroupSpecFor("prod", Group{NodeGroup: planner.NodeGroup{Name: "lab", Cloud: cloud, MaxNodes: 1}}, 1, OSDiskBytes+ImageDiskBytes)
		if custom.EKS != nil || custom.GKE != nil || custom.AKS != nil {
			t.Errorf("custom GPUs on %s: %+v", cloud, custom)
		}
	}
}

func TestShellJoinRoundTrips(t *testing.T) {
	args := []string{"--model", "org/m", "--served-model-name", "it's a \"name\" $(x)", ""}
	got := shellJoin(args)
	want := `--model org/m --served-model-name 'it'"'"'s a "name" $(x)' ''`
	if got != want {
		t.Errorf("shellJoin = %s, want %s", got, want)
	}
}

// AMD GPUs are asked for by AMD's resource name, with the ROCm image.
func TestAMDWorkloads(t *testing.T) {
	g := testGroup(t, "mi300x", "azure/Standard_ND96isr_MI300X_v5", 1, planner.CapacityOnDemand, Taint{Key: "k", Effect: EffectNoSchedule})
	k := Kubernetes{Namespace: "n", Image: "cuda", ROCmImage: "rocm", Port: 8000}
	r := planner.Replica{Model: "m", NodeGroup: "mi300x", TensorParallel: 2, PipelineParallel: 1, Stages: []planner.Stage{{Node: 0, GPUs: []int{0, 1}}}}
	w := NewWorkload(k, "p", g, testEngineModel(t, memory.BF16, memory.KVAuto, 1024, 1), r)
	text, err := EncodeYAML(w.Object)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := DecodeStrict(text)
	if err != nil {
		t.Fatal(err)
	}
	pod := obj.(*appsv1.Deployment).Spec.Template.Spec
	if q := pod.Containers[0].Resources.Limits[AMDGPUResource]; q.Value() != 2 || pod.Containers[0].Image != "rocm" {
		t.Errorf("AMD pod asks for %v with image %q", pod.Containers[0].Resources.Limits, pod.Containers[0].Image)
	}
	if pod.Tolerations[0].Key != string(AMDGPUResource) {
		t.Errorf("tolerations %v", pod.Tolerations)
	}
	if got := NodeGroupSpecFor("p", g, 1, OSDiskBytes+ImageDiskBytes).AKS.NodeTaints; !slices.Equal(got, []string{"k:NoSchedule"}) {
		t.Errorf("a taint without a value: %v", got)
	}
}
