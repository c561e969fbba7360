package handoff

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
)

// Taint effects, as Kubernetes spells them.
const (
	EffectNoSchedule       = "NoSchedule"
	EffectPreferNoSchedule = "PreferNoSchedule"
	EffectNoExecute        = "NoExecute"
)

// TaintEffects lists the valid taint effects.
func TaintEffects() []string {
	return []string{EffectNoExecute, EffectNoSchedule, EffectPreferNoSchedule}
}

// Taint keeps pods off a node group unless they tolerate it.
type Taint struct {
	Key, Value, Effect string
}

// TaintError says why a taint is invalid; "" when it is valid.
func TaintError(t Taint) string {
	if !slices.Contains(TaintEffects(), t.Effect) {
		return fmt.Sprintf("effect %q is not one of %s", t.Effect, strings.Join(TaintEffects(), ", "))
	}
	return LabelError(t.Key, t.Value)
}

// Group is a node group as the hand-off sees it: the planner's view plus the
// instance type and taints, which the planner does not need.
type Group struct {
	planner.NodeGroup
	// InstanceType is the cloud's instance type; "" for a custom GPU spec.
	InstanceType string
	Taints       []Taint
}

// NodeGroupSpec is one node group as the cloud's node-group resources take
// it. DesiredSize is what the placement needs; MinSize equals it, so that an
// autoscaler never removes a node the placement uses; MaxSize is the group's
// max_nodes, room to grow.
type NodeGroupSpec struct {
	Cloud, Region, InstanceType, GPUModel, CapacityType string
	GPUsPerNode                                         int
	DesiredSize, MinSize, MaxSize                       int
	// Labels are the group's labels plus the pool and node-group labels the
	// workloads select on.
	Labels map[string]string
	Taints []Taint
	// DiskGiB is the disk each node needs (NodeDiskBytes), in GiB.
	DiskGiB int
	// MIGProfile (a profile, or a mixed layout: all-balanced),
	// EnginesPerGPU and MaxEnginesPerGPU are the group's GPU sharing (""
	// and 0 for whole GPUs): what a pod requests, and how the nodes are
	// labelled.
	MIGProfile       string
	EnginesPerGPU    int
	MaxEnginesPerGPU int
	// At most one of these is set, for the group's cloud.
	EKS *EKSNodeGroup
	GKE *GKENodePool
	AKS *AKSNodePool
}

// EKSNodeGroup holds the values of an EKS managed node group (or an
// autoscaling group) that differ from the generic spelling.
type EKSNodeGroup struct {
	InstanceTypes []string
	// CapacityType is ON_DEMAND or SPOT.
	CapacityType string
	// Taints use EKS's effect names: NO_SCHEDULE, PREFER_NO_SCHEDULE, NO_EXECUTE.
	Taints []Taint
	// DiskSize is disk_size in GiB (a launch template's root volume takes
	// the same size).
	DiskSize int
}

// GKENodePool holds the values of a GKE node pool (or a managed instance
// group).
type GKENodePool struct {
	MachineType string
	Spot        bool
	// AcceleratorType is the Compute Engine accelerator name, "" when the
	// machine type is not one the hand-off knows.
	AcceleratorType  string
	AcceleratorCount int
	// Taints use GKE's effect names, as EKS does.
	Taints []Taint
	// DiskSizeGB is node_config.disk_size_gb; DiskType node_config.disk_type.
	DiskSizeGB int
	DiskType   string
}

// AKSNodePool holds the values of an AKS node pool (or a VM scale set).
type AKSNodePool struct {
	VMSize string
	// Priority is Regular or Spot; EvictionPolicy is Delete for Spot.
	Priority, EvictionPolicy string
	// NodeTaints are "key=value:Effect" strings.
	NodeTaints []string
	// OSDiskSizeGB is os_disk_size_gb.
	OSDiskSizeGB int
}

// gkeAccelerators maps GCP accelerator-optimised machine families to their
// accelerator type, as the Compute Engine accelerator names spell them
// (Google Cloud's AcceleratorType reference: NVIDIA_H100_80GB,
// NVIDIA_H100_MEGA_80GB, NVIDIA_H200_141GB, NVIDIA_B200, NVIDIA_A100_80GB,
// NVIDIA_TESLA_A100, NVIDIA_L4).
var gkeAccelerators = map[string]string{
	"a3-highgpu":  "nvidia-h100-80gb",
	"a3-megagpu":  "nvidia-h100-mega-80gb",
	"a3-ultragpu": "nvidia-h200-141gb",
	"a4-highgpu":  "nvidia-b200",
	"a2-ultragpu": "nvidia-a100-80gb",
	"a2-highgpu":  "nvidia-tesla-a100",
	"g2-standard": "nvidia-l4",
}

// gkeHyperdiskOnly are the machine families whose boot disk must be a
// Hyperdisk (Google Cloud's accelerator-optimized machine family: A4 and A3
// Ultra support Hyperdisk only); the others take pd-balanced.
var gkeHyperdiskOnly = map[string]bool{"a3-ultragpu": true, "a4-highgpu": true}

func gkeFamily(machineType string) string {
	if i := strings.LastIndexByte(machineType, '-'); i > 0 {
		return machineType[:i]
	}
	return machineType
}

func gkeDiskType(machineType string) string {
	if gkeHyperdiskOnly[gkeFamily(machineType)] {
		return "hyperdisk-balanced"
	}
	return "pd-balanced"
}

func gkeAccelerator(machineType string) string { return gkeAccelerators[gkeFamily(machineType)] }

// NodeLabels are the labels a group's nodes carry: its own, plus the pool and
// node-group labels that workloads select on.
func NodeLabels(pool string, g Group) map[string]string {
	labels := maps.Clone(g.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelPool] = pool
	labels[LabelNodeGroup] = g.Name
	switch sh := g.Sharing; {
	case sh == nil:
	case sh.MIGLayout != "":
		// A mixed layout is named by its config: all-balanced.
		labels[LabelMIGConfig] = sh.MIGLayout
	case sh.MIGProfile != "":
		// The GPU Operator's MIG manager partitions each GPU by this label.
		labels[LabelMIGConfig] = catalog.MIGProfile{Profile: sh.MIGProfile}.Layout()
	case sh.Fractional:
		// KAI Scheduler shares the GPUs: the device plugin advertises them
		// whole, and no label selects anything.
	default:
		// The device plugin's named config with time-slicing replicas.
		labels[LabelDevicePluginConfig] = TimeSlicingConfig(sh.PerGPU)
	}
	return labels
}

// Node labels of shared GPUs: LabelMIGConfig selects the GPU Operator MIG
// manager's config (NVIDIA/gpu-operator assets/state-mig-manager
// 0400_configmap.yaml, "all-<profile>" or the mixed "all-balanced");
// LabelDevicePluginConfig selects
// one of the device plugin's named configs (NVIDIA/k8s-device-plugin
// README, "Updating Per-Node Configuration With a Node Label").
const (
	LabelMIGConfig          = "nvidia.com/mig.config"
	LabelDevicePluginConfig = "nvidia.com/device-plugin.config"
)

// TimeSlicingConfig names the device-plugin config a time-sliced group's
// nodes select: one with sharing.timeSlicing.resources [{name:
// nvidia.com/gpu, replicas: perGPU}], which the cluster's device-plugin
// config map must define under this name.
func TimeSlicingConfig(perGPU int) string { return fmt.Sprintf("time-slicing-%d", perGPU) }

// NodeGroupSpecFor is the hand-off of one node group scaled to size nodes
// of diskBytes each (NodeDiskBytes).
func NodeGroupSpecFor(pool string, g Group, size int, diskBytes int64) NodeGroupSpec {
	disk := diskGiB(diskBytes)
	spec := NodeGroupSpec{
		Cloud: g.Cloud, Region: g.Region, InstanceType: g.InstanceType, GPUModel: g.GPUModel,
		CapacityType: g.CapacityType, GPUsPerNode: g.PhysicalGPUs(),
		DesiredSize: size, MinSize: size, MaxSize: max(g.MaxNodes, size),
		Labels: NodeLabels(pool, g), Taints: slices.Clone(g.Taints), DiskGiB: disk,
	}
	switch sh := g.Sharing; {
	case sh == nil:
	case sh.MIGName() != "":
		spec.MIGProfile = sh.MIGName()
	case sh.Fractional:
		spec.MaxEnginesPerGPU = sh.PerGPU
	default:
		spec.EnginesPerGPU = sh.PerGPU
	}
	spot := g.CapacityType == planner.CapacitySpot
	if g.InstanceType == "" {
		return spec // custom hardware: no cloud node-group type to name
	}
	switch g.Cloud {
	case catalog.CloudAWS:
		spec.EKS = &EKSNodeGroup{InstanceTypes: []string{g.InstanceType}, CapacityType: "ON_DEMAND", Taints: upperSnakeEffects(g.Taints),
			DiskSize: disk}
		if spot {
			spec.EKS.CapacityType = "SPOT"
		}
	case catalog.CloudGCP:
		spec.GKE = &GKENodePool{MachineType: g.InstanceType, Spot: spot, AcceleratorType: gkeAccelerator(g.InstanceType),
			AcceleratorCount: g.PhysicalGPUs(), Taints: upperSnakeEffects(g.Taints), DiskSizeGB: disk, DiskType: gkeDiskType(g.InstanceType)}
	case catalog.CloudAzure:
		spec.AKS = &AKSNodePool{VMSize: g.InstanceType, Priority: "Regular", OSDiskSizeGB: disk}
		if spot {
			// AKS puts this label and taint on spot nodes; azurerm wants
			// them in the pool's configuration too, or it diffs forever.
			spec.AKS.Priority, spec.AKS.EvictionPolicy = "Spot", "Delete"
			spec.Labels[AKSSpotTaint] = "spot"
			spec.AKS.NodeTaints = append(spec.AKS.NodeTaints, AKSSpotTaint+"=spot:"+EffectNoSchedule)
		}
		for _, t := range g.Taints {
			kv := t.Key
			if t.Value != "" {
				kv += "=" + t.Value
			}
			spec.AKS.NodeTaints = append(spec.AKS.NodeTaints, kv+":"+t.Effect)
		}
	}
	return spec
}

// upperSnakeEffects spells taint effects as EKS and GKE do: NoSchedule →
// NO_SCHEDULE.
func upperSnakeEffects(ts []Taint) []Taint {
	out := make([]Taint, len(ts))
	for i, t := range ts {
		var b strings.Builder
		for j, c := range t.Effect {
			if j > 0 && c >= 'A' && c <= 'Z' {
				b.WriteByte('_')
			}
			b.WriteRune(c)
		}
		out[i] = Taint{Key: t.Key, Value: t.Value, Effect: strings.ToUpper(b.String())}
	}
	return out
}
