package handoff

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	lwsv1 "sigs.k8s.io/lws/api/leaderworkerset/v1"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// Kinds of workload.
const (
	KindDeployment      = "Deployment"
	KindLeaderWorkerSet = "LeaderWorkerSet"
)

// GPU resources the device plugins advertise: NVIDIA's, and AMD's for
// AMD GPUs (MI300X).
const (
	GPUResource    corev1.ResourceName = "nvidia.com/gpu"
	AMDGPUResource corev1.ResourceName = "amd.com/gpu"
)

// gpuResource is the resource a pod of shares GPUs (or shares) of a
// group's nodes requests: a MIG instance under the device plugin's mixed
// strategy (catalog.MIGProfile.Resource) — under a mixed layout the
// instance of that many memory slices the replica was bound to — AMD's
// for a catalog AMD GPU, NVIDIA's otherwise (custom GPUs and time-sliced
// shares included: the device plugin's time-slicing advertises each share
// as one nvidia.com/gpu).
func gpuResource(g Group, shares int) corev1.ResourceName {
	switch {
	case g.Partitioned():
		if in, ok := g.MIGInstanceFor(shares); ok {
			return corev1.ResourceName(catalog.MIGProfile{Profile: in.Profile}.Resource())
		}
	case g.Sharing != nil && g.Sharing.MIGProfile != "":
		return corev1.ResourceName(catalog.MIGProfile{Profile: g.Sharing.MIGProfile}.Resource())
	}
	return gpuTaintKey(g)
}

// gpuTaintKey is the device's own resource name, which clusters taint GPU
// nodes with (GKE: nvidia.com/gpu=present:NoSchedule), MIG or not.
func gpuTaintKey(g Group) corev1.ResourceName {
	if m, err := catalog.LookupGPUModel(g.GPUModel); err == nil && m.Vendor == "amd" {
		return AMDGPUResource
	}
	return GPUResource
}

// Kubernetes holds the settings of the rendered workloads.
type Kubernetes struct {
	Namespace string
	// Image is the vLLM OpenAI server image; ROCmImage the one for AMD GPUs.
	// Empty, each model runs DefaultImage of its release.
	Image, ROCmImage string
	Port             int
	// HFTokenSecret, when set, names a Secret whose key HF_TOKEN the engine
	// reads to download gated models.
	HFTokenSecret string
	// CreateNamespace asks for the Namespace object on each cluster.
	CreateNamespace bool
}

// NewNamespace is the namespace of the rendered objects, for a cluster that
// does not have it yet.
func NewNamespace(k Kubernetes, pool string) *corev1.Namespace {
	return &corev1.Namespace{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: k.Namespace,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "mcllm", LabelPool: pool}},
	}
}

// Defaults of Kubernetes settings.
const (
	DefaultNamespace = "default"
	DefaultPort      = 8000
)

// DefaultImage is vLLM's own image of the release a model's estimate
// follows, pinned to it: vllm/vllm-openai:v<release> (for v0.31.0, CUDA 13.0,
// which needs an NVIDIA driver of 580 or newer; vLLM also publishes
// -cu129 tags for older drivers), and vllm/vllm-openai-rocm:v<release> for
// AMD GPUs.
func DefaultImage(release string, amd bool) string {
	if amd {
		return "vllm/vllm-openai-rocm:v" + release
	}
	return "vllm/vllm-openai:v" + release
}

// image is the image a model's pods on g run: the pool's, or the default of
// the model's release.
func image(k Kubernetes, g Group, m Model) string {
	amd := gpuTaintKey(g) == AMDGPUResource
	switch {
	case amd && k.ROCmImage != "":
		return k.ROCmImage
	case !amd && k.Image != "":
		return k.Image
	}
	release := memory.DefaultEngineVersion
	if m.Engine != nil {
		release = m.Engine.Version
	}
	return DefaultImage(release, amd)
}

// serveCommand is vLLM's server command line for a model: vllm serve with
// the model positional, as every release's CLI takes it, followed by the
// engine arguments (without their --model).
func serveCommand(m Model, args []string) (command, rest []string) {
	for i := 0; i < len(args); i++ {
		if args[i] == "--model" && i+1 < len(args) {
			i++
			continue
		}
		rest = append(rest, args[i])
	}
	return []string{"vllm", "serve", m.Source}, rest
}

// multiNodeScript is the helper the vLLM images of releases before its own
// multi-node mode ship to form a Ray cluster across a LeaderWorkerSet's pods
// (kubernetes-sigs/lws docs/examples/vllm/GPU/lws.yaml).
const multiNodeScript = "/vllm-workspace/examples/online_serving/multi-node-serving.sh"

// Workload is the Kubernetes object that runs one replica.
type Workload struct {
	Kind, Name, Namespace string
	EngineArgs            []string
	// GPUsPerPod is the nvidia.com/gpu limit of each pod; Pods the pods the
	// replica runs as.
	GPUsPerPod, Pods int
	Object           runtime.Object
}

// NewWorkload renders one replica: a Deployment of one pod when the replica
// fits a node, a LeaderWorkerSet of one pod per pipeline stage when its
// stages span nodes. Pods are pinned to the replica's node group by the
// node-group label and tolerate the group's taints.
func NewWorkload(k Kubernetes, pool string, g Group, m Model, r planner.Replica) Workload {
	name := ObjectName(pool, m.Name, strconv.Itoa(r.Index))
	w := Workload{Name: name, Namespace: k.Namespace, EngineArgs: EngineArgs(m, r, g.ReplicaGPU(r), k.Port)}
	labels := map[string]string{
		"app.kubernetes.io/name": "vllm", "app.kubernetes.io/instance": name, "app.kubernetes.io/managed-by": "mcllm",
		LabelPool: pool, LabelModel: m.Name, LabelReplica: strconv.Itoa(r.Index),
	}
	meta := metav1.ObjectMeta{Name: name, Namespace: k.Namespace, Labels: labels,
		Annotations: map[string]string{AnnotationPlacement: placementNote(r)}}
	podLabels := withRole(labels, RoleServe)

	command, args := serveCommand(m, w.EngineArgs)
	if !MultiNode(r) {
		w.Kind, w.Pods, w.GPUsPerPod = KindDeployment, 1, r.TensorParallel*r.PipelineParallel
		if (g.Fractional() || g.Partitioned()) && len(r.Stages) == 1 { // the shares of the engine's block
			w.GPUsPerPod = len(r.Stages[0].GPUs)
		}
		pod := podSpec(pool, g, m, w.GPUsPerPod, container(k, g, m, w.GPUsPerPod, command, args, true))
		podMeta := metav1.ObjectMeta{Labels: podLabels}
		if fraction, ok := kaiGPUFraction(g, w.GPUsPerPod); ok {
			pod.SchedulerName = KAISchedulerName
			podMeta.Annotations = map[string]string{AnnotationGPUFraction: fraction}
		}
		w.Object = &appsv1.Deployment{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: KindDeployment},
			ObjectMeta: meta,
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr(int32(1)),
				Selector: &metav1.LabelSelector{MatchLabels: selectorLabels(labels)},
				// The GPUs are the plan's: a new pod can only start once the
				// old one has given them back.
				Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
				Template: corev1.PodTemplateSpec{ObjectMeta: podMeta, Spec: pod},
			},
		}
		return w
	}

	w.Kind, w.Pods, w.GPUsPerPod = KindLeaderWorkerSet, r.PipelineParallel, r.TensorParallel
	var leaderC, workerC corev1.Container
	if nativeMultiNode(m) {
		// vLLM's own multi-node mode: every pod runs vllm serve; the leader
		// (node rank 0) serves the API, the others run headless workers
		// that join its rendezvous. LeaderWorkerSet gives each pod its index
		// and the leader's stable address.
		leaderC = container(k, g, m, w.GPUsPerPod, command,
			append(slices.Clone(args), "--node-rank", "0", "--master-addr", "$(LWS_LEADER_ADDRESS)"), true)
		workerC = container(k, g, m, w.GPUsPerPod, command,
			append(slices.Clone(args), "--node-rank", "$(LWS_WORKER_INDEX)", "--master-addr", "$(LWS_LEADER_ADDRESS)", "--headless"), false)
		for _, c := range []*corev1.Container{&leaderC, &workerC} {
			// The address each node's workers announce to the others.
			c.Env = append(c.Env, corev1.EnvVar{Name: "VLLM_HOST_IP", ValueFrom: &corev1.EnvVarSource{
				FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}})
		}
	} else {
		// Releases before vLLM's own multi-node mode: a Ray cluster formed by
		// the helper script their images ship (LeaderWorkerSet's vLLM example).
		leaderCmd := []string{"sh", "-c", fmt.Sprintf("bash %s leader --ray_cluster_size=$(LWS_GROUP_SIZE); exec %s %s",
			multiNodeScript, strings.Join(command, " "), shellJoin(args))}
		workerCmd := []string{"sh", "-c", fmt.Sprintf("bash %s worker --ray_address=$(LWS_LEADER_ADDRESS)", multiNodeScript)}
		leaderC = container(k, g, m, w.GPUsPerPod, leaderCmd, nil, true)
		workerC = container(k, g, m, w.GPUsPerPod, workerCmd, nil, false)
	}
	leader := podSpec(pool, g, m, w.GPUsPerPod, leaderC)
	worker := podSpec(pool, g, m, w.GPUsPerPod, workerC)
	w.Object = &lwsv1.LeaderWorkerSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: lwsv1.GroupVersion.String(), Kind: KindLeaderWorkerSet},
		ObjectMeta: meta,
		Spec: lwsv1.LeaderWorkerSetSpec{
			Replicas: ptr(int32(1)),
			LeaderWorkerTemplate: lwsv1.LeaderWorkerTemplate{
				Size:           ptr(int32(w.Pods)),
				RestartPolicy:  lwsv1.RecreateGroupOnPodRestart,
				LeaderTemplate: &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: podLabels}, Spec: leader},
				WorkerTemplate: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: worker},
			},
			RolloutStrategy: lwsv1.RolloutStrategy{Type: lwsv1.RollingUpdateStrategyType},
			StartupPolicy:   lwsv1.LeaderCreatedStartupPolicy,
		},
	}
	return w
}

// NewService is the ClusterIP Service in front of a model's serving pods on
// one cluster. Its name ends in "-svc", which no workload's (nor the
// headless Service LeaderWorkerSet makes for one) does.
func NewService(k Kubernetes, pool, model string) *corev1.Service {
	name := ObjectName(pool, model, "svc")
	labels := map[string]string{"app.kubernetes.io/name": "vllm", "app.kubernetes.io/managed-by": "mcllm", LabelPool: pool, LabelModel: model}
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: k.Namespace, Labels: labels},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: withRole(map[string]string{LabelPool: pool, LabelModel: model}, RoleServe),
			Ports: []corev1.ServicePort{{Name: "http", Port: int32(k.Port), TargetPort: intstr.FromString("http"),
				Protocol: corev1.ProtocolTCP}},
		},
	}
}

// Where a pod keeps what it downloads: the Hugging Face cache (HF_HOME) of
// the image's root user, on an emptyDir the size of the checkpoint.
const modelCachePath = "/root/.cache/huggingface"

// shmBytes sizes /dev/shm: the engine's workers exchange tensors through
// shared memory (vLLM's Docker guide: --ipc=host or a large --shm-size); a
// memory-backed emptyDir counts against the pod's memory, so it takes a
// tenth of the pod's memory request, at most 16 GiB.
func shmBytes(share podShare) int64 { return min(16*gib, share.MemoryBytes/10/gib*gib) }

// NewDisruptionBudget keeps all but one of a model's pods on one cluster
// running through voluntary disruptions (node upgrades, drains, scale-down):
// a drain evicts one replica's pods at a time, never the whole model.
func NewDisruptionBudget(k Kubernetes, pool, model string) *policyv1.PodDisruptionBudget {
	name := ObjectName(pool, model, "pdb")
	labels := map[string]string{"app.kubernetes.io/name": "vllm", "app.kubernetes.io/managed-by": "mcllm", LabelPool: pool, LabelModel: model}
	one := intstr.FromInt32(1)
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: k.Namespace, Labels: labels},
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: &one,
			Selector:       &metav1.LabelSelector{MatchLabels: map[string]string{LabelPool: pool, LabelModel: model}},
		},
	}
}

// podSpec is the spec of a pod of shares GPUs (or GPU shares) of g.
func podSpec(pool string, g Group, m Model, shares int, c corev1.Container) corev1.PodSpec {
	shm := &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}
	if share, ok := nodeShare(g, shares); ok {
		shm.SizeLimit = resource.NewQuantity(shmBytes(share), resource.BinarySI)
	}
	return corev1.PodSpec{
		NodeSelector: map[string]string{LabelPool: pool, LabelNodeGroup: g.Name},
		Tolerations:  tolerations(g),
		Containers:   []corev1.Container{c},
		Volumes: []corev1.Volume{
			{Name: "dshm", VolumeSource: corev1.VolumeSource{EmptyDir: shm}},
			{Name: "model-cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{
				SizeLimit: resource.NewQuantity(ModelCacheBytes(m), resource.BinarySI)}}},
		},
	}
}

// nodeShare is a pod's share of one of g's nodes, for catalog instance
// types (the catalog knows their vCPUs and host memory).
func nodeShare(g Group, gpus int) (podShare, bool) {
	it, err := catalog.LookupInstanceType(g.Cloud, g.InstanceType)
	if g.InstanceType == "" || err != nil || g.GPUsPerNode < 1 {
		return podShare{}, false
	}
	return shareOf(g, it.VCPUs, it.HostMemoryGiB, gpus), true
}

// KAI Scheduler's GPU sharing (kai-scheduler/KAI-Scheduler v0.17,
// pkg/common/constants/constants.go: DefaultSchedulerName, GpuFraction;
// docs/gpu-sharing/README.md): a pod of that scheduler annotated with a
// fraction in (0, 1) gets a part of one GPU; the scheduler fits fractions
// of a GPU within its memory, and its binder gives the container that GPU
// (NVIDIA_VISIBLE_DEVICES). Such a pod must not request nvidia.com/gpu
// (pkg/binder/plugins/gpusharing/gpu-request/gpu_request_validator.go).
const (
	KAISchedulerName      = "kai-scheduler"
	AnnotationGPUFraction = "gpu-fraction"
)

// kaiGPUFraction is the gpu-fraction a pod of shares of a Fractional
// group asks: its block's part of the GPU, exact in decimal since the
// shares per GPU are a power of two; false for whole GPUs, which a pod
// requests as nvidia.com/gpu, as KAI's validator wants.
func kaiGPUFraction(g Group, shares int) (string, bool) {
	if !g.Fractional() || shares >= g.Sharing.PerGPU {
		return "", false
	}
	return strconv.FormatFloat(float64(shares)/float64(g.Sharing.PerGPU), 'f', -1, 64), true
}

// devicePluginGPUs is what a pod of shares GPUs (or shares) of g requests of the
// device plugin: one GPU for a Fractional group's whole-GPU block, none
// for a smaller one (KAI gives it a part of one), one instance for the
// memory slices of a mixed MIG layout's instance, else shares.
func devicePluginGPUs(g Group, shares int) (int, bool) {
	switch {
	case g.Fractional():
		return 1, shares >= g.Sharing.PerGPU
	case g.Partitioned():
		return 1, true
	}
	return shares, true
}

// startupSeconds bounds how long a replica may take to start: pulling its
// checkpoint at an assumed 100 MB/s (a conservative single-stream rate from
// the Hub or a bucket; set a faster cache if it is too slow), then loading it,
// compiling and capturing CUDA graphs, 10 minutes (the corpus's logs show
// model loading alone up to 117 s for a 70B FP8 checkpoint and torch.compile
// with graph capture 30–90 s).
func startupSeconds(m Model) int32 {
	return int32(600 + m.CheckpointBytes/100e6)
}

func container(k Kubernetes, g Group, m Model, gpus int, command, args []string, serves bool) corev1.Container {
	limits := corev1.ResourceList{}
	if n, ok := devicePluginGPUs(g, gpus); ok {
		limits[gpuResource(g, gpus)] = *resource.NewQuantity(int64(n), resource.DecimalSI)
	}
	requests := limits.DeepCopy()
	// The model cache is the pod's ephemeral storage.
	requests[corev1.ResourceEphemeralStorage] = *resource.NewQuantity(ModelCacheBytes(m), resource.BinarySI)
	if share, ok := nodeShare(g, gpus); ok {
		// Guaranteed a share of the node by GPUs, never BestEffort: the
		// engine's host-side work (tokenising, scheduling, the CPU copies of
		// the weights while loading) needs it.
		requests[corev1.ResourceCPU] = *resource.NewMilliQuantity(share.MilliCPU, resource.DecimalSI)
		requests[corev1.ResourceMemory] = *resource.NewQuantity(share.MemoryBytes, resource.BinarySI)
	}
	c := corev1.Container{
		Name: "vllm", Image: image(k, g, m), Command: command, Args: args,
		Resources: corev1.ResourceRequirements{Limits: limits, Requests: requests},
		Env:       []corev1.EnvVar{{Name: "HF_HOME", Value: modelCachePath}},
		VolumeMounts: []corev1.VolumeMount{{Name: "dshm", MountPath: "/dev/shm"},
			{Name: "model-cache", MountPath: modelCachePath}},
	}
	if k.HFTokenSecret != "" {
		c.Env = append(c.Env, corev1.EnvVar{Name: "HF_TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: k.HFTokenSecret}, Key: "HF_TOKEN"}}})
	}
	if serves {
		// The OpenAI server answers /health with 200 once the engine runs and
		// with an error when the engine has died.
		health := corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/health", Port: intstr.FromString("http")}}
		c.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: int32(k.Port), Protocol: corev1.ProtocolTCP}}
		c.StartupProbe = &corev1.Probe{ProbeHandler: health, PeriodSeconds: 10, FailureThreshold: startupSeconds(m)/10 + 1}
		c.ReadinessProbe = &corev1.Probe{ProbeHandler: health, PeriodSeconds: 10}
		c.LivenessProbe = &corev1.Probe{ProbeHandler: health, PeriodSeconds: 10, FailureThreshold: 6, TimeoutSeconds: 5}
	}
	return c
}

// tolerations let pods onto GPU nodes (GKE and many clusters taint them with
// their GPU resource, nvidia.com/gpu), onto AKS spot nodes (which AKS taints
// with kubernetes.azure.com/scalesetpriority=spot) and onto the group's own
// taints.
func tolerations(g Group) []corev1.Toleration {
	out := []corev1.Toleration{{Key: string(gpuTaintKey(g)), Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
	if g.Cloud == catalog.CloudAzure && g.CapacityType == planner.CapacitySpot {
		out = append(out, corev1.Toleration{Key: AKSSpotTaint, Operator: corev1.TolerationOpEqual, Value: "spot", Effect: corev1.TaintEffectNoSchedule})
	}
	for _, t := range g.Taints {
		out = append(out, corev1.Toleration{Key: t.Key, Operator: corev1.TolerationOpEqual, Value: t.Value, Effect: corev1.TaintEffect(t.Effect)})
	}
	return out
}

// AKSSpotTaint is the taint key AKS puts on the nodes of spot node pools.
const AKSSpotTaint = "kubernetes.azure.com/scalesetpriority"

func selectorLabels(labels map[string]string) map[string]string {
	return map[string]string{LabelPool: labels[LabelPool], LabelModel: labels[LabelModel], LabelReplica: labels[LabelReplica]}
}

func withRole(labels map[string]string, role string) map[string]string {
	out := make(map[string]string, len(labels)+1)
	for k, v := range labels {
		out[k] = v
	}
	out[LabelRole] = role
	return out
}

// placementNote records the plan's place of a replica: its node group, and
// per stage the node and GPU indices, e.g. "h100/node-0:0,1;node-1:0,1".
func placementNote(r planner.Replica) string {
	stages := make([]string, len(r.Stages))
	for i, s := range r.Stages {
		gpus := make([]string, len(s.GPUs))
		for j, g := range s.GPUs {
			gpus[j] = strconv.Itoa(g)
		}
		stages[i] = fmt.Sprintf("node-%d:%s", s.Node, strings.Join(gpus, ","))
	}
	return r.NodeGroup + "/" + strings.Join(stages, ";")
}

// shellJoin quotes arguments for sh: each in single quotes unless it is
// plainly safe.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsFunc(a, unsafeInShell) {
			out[i] = a
			continue
		}
		out[i] = "'" + strings.ReplaceAll(a, "'", `'"'"'`) + "'"
	}
	return strings.Join(out, " ")
}

// unsafeInShell reports whether c needs quoting in a shell word.
func unsafeInShell(c rune) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.ContainsRune("-_./:=,", c):
		return false
	}
	return true
}

func ptr[T any](v T) *T { return &v }
