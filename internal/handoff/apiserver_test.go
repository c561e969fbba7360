package handoff

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/kubetest"
)

// applyAll dry-runs every object of a render against the server.
func applyAll(t testing.TB, s *kubetest.Server, label string, out Rendered) int {
	t.Helper()
	var keys []string
	all := map[string]Manifest{}
	for kind, set := range map[string]map[string]Manifest{"workload": out.Workloads, "service": out.Services, "pdb": out.DisruptionBudgets,
		"namespace": out.Namespaces} {
		for k, m := range set {
			all[kind+" "+k] = m
			keys = append(keys, kind+" "+k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := s.Apply(all[k].YAML, true); err != nil {
			t.Errorf("%s: %s: %v\n%s", label, k, err, all[k].YAML)
		}
	}
	return len(keys)
}

// Every object the hand-off renders is accepted by a real API server —
// Deployments, LeaderWorkerSets (through their CRD's schema), Services and
// PodDisruptionBudgets — for the three-cloud fixture, a fleet on shared GPUs,
// 100 random fleets and 20 random fleets on shared GPUs;
// and the server does reject a broken one.
func TestManifestsAcceptedByAPIServer(t *testing.T) {
	s := kubetest.StartWithLWS(t, "serving", "p")
	groups, models := threeClouds(t)
	f := testFleet(t, groups, models, nil)
	f.Kubernetes.CreateNamespace = true
	out, err := Render(f)
	if err != nil {
		t.Fatal(err)
	}
	n := applyAll(t, s, "three clouds", out)

	// Shared GPUs: pods request MIG instances and time-sliced GPUs, and
	// the node groups carry the labels the MIG manager and device plugin
	// read.
	sharedGroups, sharedModels := sharedClouds(t)
	shared := testFleet(t, sharedGroups, sharedModels, nil)
	sharedOut, err := Render(shared)
	if err != nil {
		t.Fatal(err)
	}
	n += applyAll(t, s, "shared GPUs", sharedOut)
	asks := map[string]bool{}
	for _, w := range sharedOut.Workloads {
		for _, r := range []string{"nvidia.com/mig-1g.10gb: \"1\"", "nvidia.com/gpu: \"1\""} {
			asks[r] = asks[r] || strings.Contains(w.YAML, r)
		}
	}
	if len(asks) != 2 || !asks["nvidia.com/mig-1g.10gb: \"1\""] || !asks["nvidia.com/gpu: \"1\""] {
		t.Errorf("shared fleet requests %v, want a MIG instance and a time-sliced GPU", asks)
	}
	if l := sharedOut.NodeGroups["azure-a100-mig"].Labels[LabelMIGConfig]; l != "all-1g.10gb" {
		t.Errorf("MIG group label %q", l)
	}
	if l := sharedOut.NodeGroups["aws-l4-ts"].Labels[LabelDevicePluginConfig]; l != "time-slicing-2" {
		t.Errorf("time-sliced group label %q", l)
	}
	// Engines at their own fractions go to KAI Scheduler, half an L40S
	// each, requesting no device-plugin GPU.
	fractional := 0
	for key, w := range sharedOut.Workloads {
		if w.NodeGroup != "aws-l40s-frac" {
			continue
		}
		fractional++
		if !strings.Contains(w.YAML, "gpu-fraction: \"0.5\"") || !strings.Contains(w.YAML, "schedulerName: kai-scheduler") ||
			strings.Contains(w.YAML, "nvidia.com/gpu: ") || !slices.Contains(w.EngineArgs, "0.45") {
			t.Errorf("%s on the fractional group:\n%s", key, w.YAML)
		}
	}
	if fractional != 2 {
		t.Errorf("%d workloads on the fractional group, want the 2 llama replicas", fractional)
	}

	rng := rand.New(rand.NewPCG(5, 17))
	for i := range 100 {
		out, err := Render(randomFleet(t, rng))
		if err != nil {
			t.Fatal(err)
		}
		n += applyAll(t, s, fmt.Sprintf("random fleet %d", i), out)
	}
	for i := range 20 {
		out, err := Render(randomSharedFleet(t, rng))
		if err != nil {
			t.Fatal(err)
		}
		n += applyAll(t, s, fmt.Sprintf("random shared fleet %d", i), out)
	}
	t.Logf("%d objects accepted by the API server (dry run)", n)

	var lws string
	for _, w := range out.Workloads {
		if w.Kind == KindLeaderWorkerSet {
			lws = w.YAML
			break
		}
	}
	for name, broken := range map[string]string{
		"unknown field":                            strings.Replace(out.Services[firstKey(out.Services)].YAML, "spec:\n", "spec:\n  portz: []\n", 1),
		"negative replicas":                        strings.Replace(out.Workloads[firstKey(out.Workloads)].YAML, "replicas: 1", "replicas: -1", 1),
		"LeaderWorkerSet field unknown to its CRD": strings.Replace(lws, "spec:\n", "spec:\n  leaderCount: 2\n", 1),
	} {
		if broken == "" {
			t.Fatalf("%s: the fixture lacks the object to break", name)
		}
		err := s.Apply(broken, true)
		if err == nil {
			t.Errorf("%s: the API server accepted a broken manifest:\n%s", name, broken)
			continue
		}
		t.Logf("%s: rejected: %v", name, err)
	}
}

func firstKey(m map[string]Manifest) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}
