package handoff

import (
	"fmt"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
)

// Fleet is a planned pool: what the hand-off renders from.
type Fleet struct {
	Pool     string
	Groups   map[string]Group
	Models   map[string]Model
	Replicas []planner.Replica
	Sizes    map[string]int
	// Kubernetes, when set, asks for workloads and services.
	Kubernetes *Kubernetes
}

// Manifest is one rendered Kubernetes object and where it belongs.
type Manifest struct {
	Workload
	Model, Cloud, Region, NodeGroup string
	YAML                            string
}

// Rendered is everything the hand-off produces for a fleet.
type Rendered struct {
	NodeGroups map[string]NodeGroupSpec
	// Workloads are keyed like the placement, "<model>/<replica>", so a
	// replica that stays keeps a byte-identical manifest.
	Workloads map[string]Manifest
	// Services are keyed "<cloud>/<region>/<model>": one per model on each
	// region's cluster.
	Services map[string]Manifest
	// DisruptionBudgets are keyed like Services: one PodDisruptionBudget per
	// model on each region's cluster.
	DisruptionBudgets map[string]Manifest
	// Namespaces are keyed "<cloud>/<region>", one per cluster with
	// workloads, when Kubernetes.CreateNamespace asks for them.
	Namespaces map[string]Manifest
	// Workloads and Services stay empty without Fleet.Kubernetes; a model
	// without a Source has neither.
}

// Render renders a fleet. It fails only if an object cannot be encoded.
func Render(f Fleet) (Rendered, error) {
	out := Rendered{NodeGroups: map[string]NodeGroupSpec{}, Workloads: map[string]Manifest{}, Services: map[string]Manifest{},
		DisruptionBudgets: map[string]Manifest{}, Namespaces: map[string]Manifest{}}
	disks := NodeDiskBytes(f)
	for name, g := range f.Groups {
		out.NodeGroups[name] = NodeGroupSpecFor(f.Pool, g, f.Sizes[name], disks[name])
	}
	if f.Kubernetes == nil {
		return out, nil
	}
	for _, r := range f.Replicas {
		m, g := f.Models[r.Model], f.Groups[r.NodeGroup]
		if m.Source == "" {
			continue // nothing the engine can load: no workload
		}
		w := NewWorkload(*f.Kubernetes, f.Pool, g, m, r)
		text, err := EncodeYAML(w.Object)
		if err != nil {
			return Rendered{}, fmt.Errorf("encoding the workload of %s: %w", r.Key(), err)
		}
		out.Workloads[r.Key()] = Manifest{Workload: w, Model: r.Model, Cloud: g.Cloud, Region: g.Region, NodeGroup: g.Name, YAML: text}
		if cluster := g.Cloud + "/" + g.Region; f.Kubernetes.CreateNamespace && out.Namespaces[cluster].YAML == "" {
			ns := NewNamespace(*f.Kubernetes, f.Pool)
			if text, err = EncodeYAML(ns); err != nil {
				return Rendered{}, fmt.Errorf("encoding the namespace of %s: %w", cluster, err)
			}
			out.Namespaces[cluster] = Manifest{Workload: Workload{Kind: "Namespace", Name: ns.Name, Object: ns},
				Cloud: g.Cloud, Region: g.Region, YAML: text}
		}
		key := g.Cloud + "/" + g.Region + "/" + r.Model
		if _, done := out.Services[key]; done {
			continue
		}
		svc := NewService(*f.Kubernetes, f.Pool, r.Model)
		text, err = EncodeYAML(svc)
		if err != nil {
			return Rendered{}, fmt.Errorf("encoding the service of %s: %w", key, err)
		}
		out.Services[key] = Manifest{Workload: Workload{Kind: "Service", Name: svc.Name, Namespace: svc.Namespace, Object: svc},
			Model: r.Model, Cloud: g.Cloud, Region: g.Region, YAML: text}
		pdb := NewDisruptionBudget(*f.Kubernetes, f.Pool, r.Model)
		if text, err = EncodeYAML(pdb); err != nil {
			return Rendered{}, fmt.Errorf("encoding the disruption budget of %s: %w", key, err)
		}
		out.DisruptionBudgets[key] = Manifest{Workload: Workload{Kind: "PodDisruptionBudget", Name: pdb.Name, Namespace: pdb.Namespace, Object: pdb},
			Model: r.Model, Cloud: g.Cloud, Region: g.Region, YAML: text}
	}
	return out, nil
}
