// Package sharing turns the catalog's MIG profiles and mixed MIG layouts
// into the planner's GPU sharings: one rule for the provider's node groups,
// the stored-plan path of the manifests function, and the bench.
package sharing

import (
	"math"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// MIG is the layout a MIG name gives GPUs of gpuModel: a mixed layout
// such as all-balanced, or a profile's uniform layout all-<profile>. The
// error names what the GPU model has.
func MIG(gpuModel, name string) (planner.Layout, error) {
	if l, ok := catalog.LookupMIGLayout(gpuModel, name); ok {
		return Mixed(l), nil
	}
	p, err := catalog.LookupMIGProfile(gpuModel, name)
	if err != nil {
		return planner.Layout{}, err
	}
	return Uniform(p), nil
}

// Uniform is the layout all-<profile>: every share one instance of p.
func Uniform(p catalog.MIGProfile) planner.Layout {
	return planner.Layout{Sharing: planner.GPUSharing{MIGProfile: p.Profile, PerGPU: p.PerGPU}, MIGBytes: bytesOf(p)}
}

// Mixed is a mixed layout: the GPU's 8 memory slices are the shares, and
// each instance a block of them that one replica takes whole.
func Mixed(l catalog.MIGLayout) planner.Layout {
	s := planner.GPUSharing{MIGLayout: l.Name, PerGPU: 8}
	for _, in := range l.Instances {
		s.Instances = append(s.Instances, planner.MIGInstance{Profile: in.Profile.Profile, Offset: in.Offset,
			Slots: in.Profile.MemorySlices, Bytes: bytesOf(in.Profile)})
	}
	return planner.Layout{Sharing: s}
}

// bytesOf is the memory a process sees in an instance of p.
func bytesOf(p catalog.MIGProfile) int64 { return int64(math.Round(p.MemoryGiB * memory.GiB)) }
