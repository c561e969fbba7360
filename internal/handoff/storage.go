package handoff

const gib = 1 << 30

// What a node's disk holds besides model weights.
const (
	// OSDiskBytes is the operating system, the kubelet and the system
	// images: EKS's own default node disk (aws_eks_node_group disk_size,
	// 20 GiB), which holds a node without an engine.
	OSDiskBytes = 20 * gib
	// ImageDiskBytes is the engine image on the node: vllm/vllm-openai is
	// 28.6 GB unpacked (vllm-project/vllm PR #22377, December 2025) and about
	// 12 GB of compressed layers (vllm-project/vllm#27154), which containerd
	// keeps in its content store beside the unpacked snapshot.
	ImageDiskBytes = 40 * gib
)

// ModelCacheBytes is the model cache one pod needs: the checkpoint it
// downloads, plus a tenth for the Hub client's partial files and the
// tokenizer and config files beside the weights, in whole GiB. Every pod of
// a multi-node replica downloads the whole checkpoint (the Hub client fetches
// every weight file; each rank then loads its own layers).
func ModelCacheBytes(m Model) int64 {
	return (m.CheckpointBytes*11/10 + gib - 1) / gib * gib
}

// NodeDiskBytes is, per node group, the disk its fullest node needs: the
// OS, the engine image and the model cache of every pod the placement puts
// on it. A group whose nodes hold no replica needs the OS and image only.
func NodeDiskBytes(f Fleet) map[string]int64 {
	perNode := map[string]map[int]int64{}
	for _, r := range f.Replicas {
		m, ok := f.Models[r.Model]
		if !ok || m.Source == "" {
			continue
		}
		nodes := perNode[r.NodeGroup]
		if nodes == nil {
			nodes = map[int]int64{}
			perNode[r.NodeGroup] = nodes
		}
		for _, s := range r.Stages {
			nodes[s.Node] += ModelCacheBytes(m)
		}
	}
	out := make(map[string]int64, len(f.Groups))
	for name := range f.Groups {
		var fullest int64
		for _, b := range perNode[name] {
			fullest = max(fullest, b)
		}
		out[name] = OSDiskBytes + ImageDiskBytes + fullest
	}
	return out
}

// MaxNodeDiskGiB is the largest node disk a cloud's node-group resource
// takes, 0 where none is known (custom hardware): EBS gp3 volumes up to
// 16 TiB (Amazon EBS volume types), Compute Engine persistent disks and
// Hyperdisk Balanced up to 64 TiB (Compute Engine disk limits), AKS OS disks
// up to 2,048 GiB (az aks nodepool add --node-osdisk-size).
func MaxNodeDiskGiB(cloud string) int {
	switch cloud {
	case "aws":
		return 16 * 1024
	case "gcp":
		return 64 * 1024
	case "azure":
		return 2048
	}
	return 0
}

// diskGiB is a byte count in whole GiB, rounded up.
func diskGiB(b int64) int { return int((b + gib - 1) / gib) }

// podShare is the part of a node one pod of gpus GPUs may ask for: its share
// of the node's allocatable CPU and memory, by GPUs.
type podShare struct {
	MilliCPU    int64
	MemoryBytes int64
}

// shareOf is a pod's share of a node of vcpus and hostMemoryGiB.
func shareOf(g Group, vcpus int, hostMemoryGiB float64, gpus int) podShare {
	frac := float64(gpus) / float64(g.GPUsPerNode)
	cpu := float64(allocatableMilliCPU(vcpus)) * frac
	mem := float64(allocatableMemoryBytes(hostMemoryGiB)) * frac
	return podShare{MilliCPU: int64(cpu), MemoryBytes: int64(mem) / (1 << 20) * (1 << 20)}
}

// allocatableMilliCPU is what a node of vcpus leaves to pods after the
// kubelet's reservation: 6 % of the first core, 1 % of the second, 0.5 % of
// the next two and 0.25 % of the rest (GKE's documented reservation, "Node
// allocatable resources"; the EKS AMI's bootstrap computes the same).
func allocatableMilliCPU(vcpus int) int64 {
	m := int64(vcpus) * 1000
	reserved := 0.06*1000 + 0.01*1000*float64(min(max(vcpus-1, 0), 1)) +
		0.005*1000*float64(min(max(vcpus-2, 0), 2)) + 0.0025*1000*float64(max(vcpus-4, 0))
	return m - int64(reserved+0.999)
}

// allocatableMemoryBytes is what a node of memGiB leaves to pods: GKE's
// reservation of 25 % of the first 4 GiB, 20 % of the next 4, 10 % of the
// next 8, 6 % of the next 112 and 2 % above 128 GiB, and its 100 MiB
// eviction threshold ("Node allocatable resources").
func allocatableMemoryBytes(memGiB float64) int64 {
	tiers := []struct{ upTo, rate float64 }{{4, 0.25}, {8, 0.20}, {16, 0.10}, {128, 0.06}, {1e9, 0.02}}
	reserved, below := 0.0, 0.0
	for _, t := range tiers {
		if memGiB > below {
			reserved += (min(memGiB, t.upTo) - below) * t.rate
		}
		below = t.upTo
	}
	return int64((memGiB-reserved)*gib) - 100<<20
}
