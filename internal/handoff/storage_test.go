package handoff

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// Two 70B bf16 replicas on one p5 pull about 282 GB: the node's disk holds
// both checkpoints, the image and the OS, and each pod asks for its cache.
func TestDiskAndPodResources(t *testing.T) {
	groups := []Group{testGroup(t, "h100", "aws/p5.48xlarge", 1, planner.CapacityOnDemand)}
	f := testFleet(t, groups, []testModel{{"llama-70b", "llama-3.1-70b", memory.BF16, memory.KVAuto, 8192, 4, 2}}, nil)
	m := f.Models["llama-70b"]
	if gb := float64(m.CheckpointBytes) / 1e9; gb < 140 || gb > 142 {
		t.Fatalf("checkpoint %.1f GB, want the 141 GB of 16-bit weights", gb)
	}
	cache := ModelCacheBytes(m)
	if cache < m.CheckpointBytes*11/10 || cache%gib != 0 {
		t.Errorf("model cache %d: want whole GiB, a tenth above the checkpoint", cache)
	}
	out, err := Render(f)
	if err != nil {
		t.Fatal(err)
	}
	spec := out.NodeGroups["h100"]
	want := diskGiB(OSDiskBytes + ImageDiskBytes + 2*cache)
	if spec.DiskGiB != want || spec.EKS == nil || spec.EKS.DiskSize != want {
		t.Errorf("disk %d GiB (EKS %+v), want %d: OS, image and both replicas' caches", spec.DiskGiB, spec.EKS, want)
	}
	for key, w := range out.Workloads {
		d := w.Object.(*appsv1.Deployment)
		c := d.Spec.Template.Spec.Containers[0]
		eph := c.Resources.Requests[corev1.ResourceEphemeralStorage]
		if eph.Value() != cache {
			t.Errorf("%s: ephemeral-storage request %s, want the cache %d", key, eph.String(), cache)
		}
		cpu, mem := c.Resources.Requests[corev1.ResourceCPU], c.Resources.Requests[corev1.ResourceMemory]
		// Four of eight GPUs: about half of 192 vCPUs and 2 TiB, less the
		// kubelet's reservation.
		if cpu.MilliValue() < 90_000 || cpu.MilliValue() > 96_000 || mem.Value() < 900*gib || mem.Value() > 1024*gib {
			t.Errorf("%s: requests cpu %s memory %s, want about half the node", key, cpu.String(), mem.String())
		}
		if c.StartupProbe == nil || c.LivenessProbe == nil || c.ReadinessProbe == nil ||
			c.StartupProbe.HTTPGet == nil || c.StartupProbe.HTTPGet.Path != "/health" {
			t.Errorf("%s: want startup, readiness and liveness probes on /health", key)
		}
		if got := c.StartupProbe.FailureThreshold * c.StartupProbe.PeriodSeconds; got < 600+int32(m.CheckpointBytes/100e6) {
			t.Errorf("%s: start-up window %d s is shorter than pulling and loading the checkpoint", key, got)
		}
		var cacheVol, shm *corev1.EmptyDirVolumeSource
		for _, v := range d.Spec.Template.Spec.Volumes {
			switch v.Name {
			case "model-cache":
				cacheVol = v.EmptyDir
			case "dshm":
				shm = v.EmptyDir
			}
		}
		if cacheVol == nil || cacheVol.SizeLimit == nil || cacheVol.SizeLimit.Value() != cache {
			t.Errorf("%s: model cache volume %+v, want an emptyDir of %d bytes", key, cacheVol, cache)
		}
		if shm == nil || shm.SizeLimit == nil || shm.SizeLimit.Value() <= 0 || shm.SizeLimit.Value() > 16*gib {
			t.Errorf("%s: /dev/shm %+v, want a sized memory emptyDir", key, shm)
		}
	}
}

// Kubelet reservations as GKE documents them.
func TestAllocatable(t *testing.T) {
	if got := allocatableMilliCPU(4); got != 4000-60-10-10 {
		t.Errorf("4 vCPUs: %d m allocatable, want 3920", got)
	}
	// 16 GiB: 25 % of 4 + 20 % of 4 + 10 % of 8 = 2.6 GiB, and 100 MiB.
	if got, want := allocatableMemoryBytes(16), int64(134*gib/10)-100<<20; got != want {
		t.Errorf("16 GiB: %d allocatable, want %d", got, want)
	}
}

func TestGKEDiskType(t *testing.T) {
	for machine, want := range map[string]string{"a3-ultragpu-8g": "hyperdisk-balanced", "a4-highgpu-8g": "hyperdisk-balanced",
		"a3-highgpu-8g": "pd-balanced", "g2-standard-48": "pd-balanced"} {
		if got := gkeDiskType(machine); got != want {
			t.Errorf("%s: %s, want %s", machine, got, want)
		}
	}
}

// One PodDisruptionBudget per model and cluster, selecting all its pods.
func TestDisruptionBudgets(t *testing.T) {
	groups, models := threeClouds(t)
	f := testFleet(t, groups, models, nil)
	out, err := Render(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.DisruptionBudgets) != len(out.Services) {
		t.Fatalf("%d budgets for %d services: want one per model and cluster", len(out.DisruptionBudgets), len(out.Services))
	}
	for key, m := range out.DisruptionBudgets {
		pdb := decode(t, m.YAML).(*policyv1.PodDisruptionBudget)
		if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 ||
			pdb.Spec.Selector.MatchLabels[LabelModel] != m.Model || pdb.Spec.Selector.MatchLabels[LabelPool] != f.Pool {
			t.Errorf("%s: %+v, want maxUnavailable 1 over the model's pods", key, pdb.Spec)
		}
	}
}

// With CreateNamespace, one Namespace per cluster that runs workloads.
func TestNamespaces(t *testing.T) {
	groups, models := threeClouds(t)
	f := testFleet(t, groups, models, nil)
	out, err := Render(f)
	if err != nil || len(out.Namespaces) != 0 {
		t.Fatalf("namespaces %v without asking (%v)", out.Namespaces, err)
	}
	f.Kubernetes.CreateNamespace = true
	if out, err = Render(f); err != nil {
		t.Fatal(err)
	}
	clusters := map[string]bool{}
	for _, w := range out.Workloads {
		clusters[w.Cloud+"/"+w.Region] = true
	}
	if len(out.Namespaces) != len(clusters) {
		t.Fatalf("%d namespaces for %d clusters", len(out.Namespaces), len(clusters))
	}
	for key, m := range out.Namespaces {
		if ns := decode(t, m.YAML).(*corev1.Namespace); ns.Name != f.Kubernetes.Namespace {
			t.Errorf("%s: namespace %q, want %q", key, ns.Name, f.Kubernetes.Namespace)
		}
	}
}

// Node disk limits per cloud, none for custom hardware.
func TestMaxNodeDiskGiB(t *testing.T) {
	for cloud, want := range map[string]int{"aws": 16384, "gcp": 65536, "azure": 2048, "custom": 0} {
		if got := MaxNodeDiskGiB(cloud); got != want {
			t.Errorf("%s: %d GiB, want %d", cloud, got, want)
		}
	}
}
