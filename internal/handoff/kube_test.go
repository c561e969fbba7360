package handoff

import (
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/klog/v2"
	lwsv1 "sigs.k8s.io/lws/api/leaderworkerset/v1"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

func isAMD(g Group) bool {
	m, err := catalog.LookupGPUModel(g.GPUModel)
	return err == nil && m.Vendor == "amd"
}

func decode(t testing.TB, text string) runtime.Object {
	t.Helper()
	obj, err := DecodeStrict(text)
	if err != nil {
		t.Fatalf("strict decode: %v\n%s", err, text)
	}
	return obj
}

func TestStrictDecoderRejectsUnknownFields(t *testing.T) {
	_, err := DecodeStrict("apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  portz: []\n")
	if err == nil || !runtime.IsStrictDecodingError(err) {
		t.Fatalf("want a strict decoding error, got %v", err)
	}
}

// gpuLimit reads the GPU limit a pod on g must carry: AMD's resource for a
// GPU the catalog lists as AMD's, NVIDIA's otherwise.
func gpuLimit(t testing.TB, g Group, c corev1.Container) int {
	t.Helper()
	resource := corev1.ResourceName("nvidia.com/gpu")
	if isAMD(g) {
		resource = "amd.com/gpu"
	}
	if len(c.Resources.Limits) != 1 {
		t.Errorf("limits %v: want the GPUs only", c.Resources.Limits)
	}
	lim, req := c.Resources.Limits[resource], c.Resources.Requests[resource]
	if lim.Cmp(req) != 0 {
		t.Errorf("GPU limit %s differs from request %s", lim.String(), req.String())
	}
	return int(lim.Value())
}

func checkPod(t testing.TB, f Fleet, r planner.Replica, spec corev1.PodSpec, wantGPUs int) {
	t.Helper()
	g := f.Groups[r.NodeGroup]
	want := map[string]string{LabelPool: f.Pool, LabelNodeGroup: r.NodeGroup}
	if !maps.Equal(spec.NodeSelector, want) {
		t.Errorf("%s: node selector %v, want %v", r.Key(), spec.NodeSelector, want)
	}
	// The selector must match the labels the node group hand-off puts on
	// its nodes.
	nodeLabels := NodeLabels(f.Pool, g)
	for k, v := range spec.NodeSelector {
		if nodeLabels[k] != v {
			t.Errorf("%s: selector %s=%s not on the group's nodes %v", r.Key(), k, v, nodeLabels)
		}
	}
	taints := slices.Clone(g.Taints)
	if g.Cloud == "azure" && g.CapacityType == planner.CapacitySpot {
		taints = append(taints, Taint{Key: AKSSpotTaint, Value: "spot", Effect: EffectNoSchedule})
	}
	for _, taint := range taints {
		tolerated := slices.ContainsFunc(spec.Tolerations, func(tol corev1.Toleration) bool {
			return tol.ToleratesTaint(klog.Background(), &corev1.Taint{Key: taint.Key, Value: taint.Value, Effect: corev1.TaintEffect(taint.Effect)}, false)
		})
		if !tolerated {
			t.Errorf("%s: taint %+v not tolerated", r.Key(), taint)
		}
	}
	if got := gpuLimit(t, g, spec.Containers[0]); got != wantGPUs {
		t.Errorf("%s: %d GPUs per pod, want %d", r.Key(), got, wantGPUs)
	}
	wantImage := map[bool]string{false: f.Kubernetes.Image, true: f.Kubernetes.ROCmImage}[isAMD(g)]
	if wantImage == "" { // the pinned image of the model's release
		wantImage = DefaultImage(memory.DefaultEngineVersion, isAMD(g))
	}
	if spec.Containers[0].Image != wantImage {
		t.Errorf("%s: image %q, want %q", r.Key(), spec.Containers[0].Image, wantImage)
	}
}

// argValue returns the value following flag in args.
func argValue(args []string, flag string) string {
	i := slices.Index(args, flag)
	if i < 0 || i+1 >= len(args) {
		return ""
	}
	return args[i+1]
}

func withoutModel(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == "--model" {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

func checkArgs(t testing.TB, f Fleet, r planner.Replica, args []string) {
	t.Helper()
	m := f.Models[r.Model]
	for flag, want := range map[string]string{
		"--model": m.Source, "--served-model-name": m.Name,
		"--tensor-parallel-size": strconv.Itoa(r.TensorParallel), "--pipeline-parallel-size": strconv.Itoa(r.PipelineParallel),
		"--gpu-memory-utilization": strconv.FormatFloat(f.Groups[r.NodeGroup].Utilization, 'f', -1, 64),
		"--max-model-len":          strconv.Itoa(m.ContextTokens), "--max-num-seqs": strconv.Itoa(m.Concurrency),
		"--port": strconv.Itoa(f.Kubernetes.Port),
	} {
		if got := argValue(args, flag); got != want {
			t.Errorf("%s: %s %q, want %q (args %v)", r.Key(), flag, got, want, args)
		}
	}
}

func TestRenderedManifestsMatchThePlacement(t *testing.T) {
	groups, models := threeClouds(t)
	f := testFleet(t, groups, models, nil)
	out, err := Render(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Workloads) != len(f.Replicas) {
		t.Fatalf("%d workloads for %d replicas", len(out.Workloads), len(f.Replicas))
	}
	kinds := map[string]int{}
	for _, r := range f.Replicas {
		w, ok := out.Workloads[r.Key()]
		if !ok {
			t.Fatalf("no workload for %s", r.Key())
		}
		if w.NodeGroup != r.NodeGroup || w.Cloud != f.Groups[r.NodeGroup].Cloud {
			t.Errorf("%s: workload says %s on %s", r.Key(), w.NodeGroup, w.Cloud)
		}
		checkArgs(t, f, r, w.EngineArgs)
		kinds[w.Kind]++
		switch obj := decode(t, w.YAML).(type) {
		case *appsv1.Deployment:
			if w.Kind != KindDeployment || MultiNode(r) {
				t.Errorf("%s: a Deployment for kind %s", r.Key(), w.Kind)
			}
			if *obj.Spec.Replicas != 1 || obj.Namespace != "serving" || obj.Name != w.Name {
				t.Errorf("%s: replicas %d, namespace %q, name %q", r.Key(), *obj.Spec.Replicas, obj.Namespace, obj.Name)
			}
			checkPod(t, f, r, obj.Spec.Template.Spec, r.TensorParallel*r.PipelineParallel)
			c := obj.Spec.Template.Spec.Containers[0]
			if !slices.Equal(c.Command, []string{"vllm", "serve", f.Models[r.Model].Source}) || !slices.Equal(c.Args, withoutModel(w.EngineArgs)) {
				t.Errorf("%s: container runs %v %v, want vllm serve <model> %v", r.Key(), c.Command, c.Args, w.EngineArgs)
			}
			for k, v := range obj.Spec.Selector.MatchLabels {
				if obj.Spec.Template.Labels[k] != v {
					t.Errorf("%s: selector %s=%s does not match the template", r.Key(), k, v)
				}
			}
		case *lwsv1.LeaderWorkerSet:
			if w.Kind != KindLeaderWorkerSet || !MultiNode(r) {
				t.Errorf("%s: a LeaderWorkerSet for kind %s", r.Key(), w.Kind)
			}
			lwt := obj.Spec.LeaderWorkerTemplate
			if int(*lwt.Size) != r.PipelineParallel {
				t.Errorf("%s: group size %d, want %d stages", r.Key(), *lwt.Size, r.PipelineParallel)
			}
			checkPod(t, f, r, lwt.LeaderTemplate.Spec, r.TensorParallel)
			checkPod(t, f, r, lwt.WorkerTemplate.Spec, r.TensorParallel)
			// vLLM's own multi-node mode on the default release: no Ray.
			leader, worker := lwt.LeaderTemplate.Spec.Containers[0], lwt.WorkerTemplate.Spec.Containers[0]
			if strings.Contains(strings.ToLower(w.YAML), "ray") || argValue(w.EngineArgs, "--distributed-executor-backend") != "mp" ||
				argValue(w.EngineArgs, "--nnodes") != strconv.Itoa(r.PipelineParallel) {
				t.Errorf("%s: engine args %v, want mp over %d nodes and no Ray", r.Key(), w.EngineArgs, r.PipelineParallel)
			}
			if argValue(leader.Args, "--node-rank") != "0" || argValue(worker.Args, "--node-rank") != "$(LWS_WORKER_INDEX)" ||
				argValue(worker.Args, "--master-addr") != "$(LWS_LEADER_ADDRESS)" || !slices.Contains(worker.Args, "--headless") ||
				slices.Contains(leader.Args, "--headless") || worker.StartupProbe != nil {
				t.Errorf("%s: leader %v, worker %v: want rank 0 serving, workers headless at their index", r.Key(), leader.Args, worker.Args)
			}
		default:
			t.Fatalf("%s: unexpected %T", r.Key(), obj)
		}
	}
	if kinds[KindDeployment] == 0 || kinds[KindLeaderWorkerSet] == 0 {
		t.Fatalf("fixture should render both kinds, got %v", kinds)
	}
	for key, s := range out.Services {
		svc := decode(t, s.YAML).(*corev1.Service)
		parts := strings.Split(key, "/")
		if svc.Spec.Selector[LabelModel] != parts[2] || svc.Spec.Selector[LabelRole] != RoleServe || s.Cloud != parts[0] || s.Region != parts[1] {
			t.Errorf("service %s selects %v", key, svc.Spec.Selector)
		}
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	groups, models := threeClouds(t)
	f := testFleet(t, groups, models, nil)
	a, err := Render(f)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		b, err := Render(f)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatal("the same fleet renders differently")
		}
	}
}

// A placement change changes the manifests of the replicas that moved, and
// no other.
func TestPlacementChangeTouchesOnlyMovedReplicas(t *testing.T) {
	groups, models := threeClouds(t)
	before := testFleet(t, groups, models, nil)
	// Lose the Azure spot group and add a model: moved and new replicas change.
	groups2 := append(slices.Clone(groups[:3]), testGroup(t, "aws-h100b", "aws/p5.48xlarge", 4, planner.CapacityOnDemand))
	models2 := append(slices.Clone(models), testModel{"mistral", "mistral-7b-v0.3", "bf16", "auto", 4096, 4, 2})
	after := testFleet(t, groups2, models2, before.Replicas)
	a, err := Render(before)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Render(after)
	if err != nil {
		t.Fatal(err)
	}
	prev := map[string]planner.Replica{}
	for _, r := range before.Replicas {
		prev[r.Key()] = r
	}
	moved := 0
	for _, r := range after.Replicas {
		old, existed := prev[r.Key()]
		same := existed && planner.SamePlace(old, r)
		if !same {
			moved++
		}
		if changed := a.Workloads[r.Key()].YAML != b.Workloads[r.Key()].YAML; changed == same {
			t.Errorf("%s: manifest changed=%v but place same=%v", r.Key(), changed, same)
		}
	}
	if moved == 0 || moved == len(after.Replicas) {
		t.Fatalf("fixture should move some replicas and keep others, moved %d of %d", moved, len(after.Replicas))
	}
}
