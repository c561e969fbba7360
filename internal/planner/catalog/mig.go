package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
)

// MIGProfile is one Multi-Instance GPU profile of a GPU model, as NVIDIA's
// MIG user guide lists them ("Supported MIG Profiles"): its compute slices
// of 7, memory slices of 8, how many a GPU holds in the uniform layout
// "all-<profile>" of the GPU Operator's default mig-parted config, and the
// memory a process sees in it (nvidia-smi mig -lgip, or NVIDIA's NVML mock
// built from real devices where no dump was found). Profiles whose memory
// no source shows are left out; so are the +me (media) variants. Mixed
// layouts are MIGLayout.
type MIGProfile struct {
	GPUModel      string  `json:"gpu_model"`
	Profile       string  `json:"profile"`
	ComputeSlices int     `json:"compute_slices"`
	MemorySlices  int     `json:"memory_slices"`
	PerGPU        int     `json:"per_gpu"`
	MemoryGiB     float64 `json:"memory_gib"`
	Source        string  `json:"source"`
}

// Layout is the mig-parted config that partitions every GPU of a node into
// this profile: the value of the node label nvidia.com/mig.config
// (NVIDIA/gpu-operator assets/state-mig-manager/0400_configmap.yaml).
func (p MIGProfile) Layout() string { return "all-" + p.Profile }

// Resource is the extended resource a pod requests for one instance under
// the device plugin's mixed MIG strategy (NVIDIA/k8s-device-plugin
// internal/rm/rm.go: "mig-" + the profile).
func (p MIGProfile) Resource() string { return "nvidia.com/mig-" + p.Profile }

//go:embed data/mig_profiles.json
var migJSON []byte

var migProfiles = mustLoadMIG(migJSON)

//go:embed data/mig_layouts.json
var migLayoutJSON []byte

var migLayouts = mustLoadMIGLayouts(migLayoutJSON)

func mustLoadMIG(data []byte) []MIGProfile {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var rows []MIGProfile
	if err := dec.Decode(&rows); err != nil {
		panic("catalog: embedded mig_profiles.json is invalid: " + err.Error())
	}
	seen := map[string]bool{}
	for i, r := range rows {
		key := r.GPUModel + "/" + r.Profile
		_, known := gpuModels[r.GPUModel]
		// A GPU has 7 compute and 8 memory slices (A100 to B200); the
		// instances of a uniform layout fit both.
		if !known || seen[key] || r.PerGPU < 1 || r.PerGPU*r.ComputeSlices > 7 || r.PerGPU*r.MemorySlices > 8 ||
			r.MemoryGiB <= 0 || r.Source == "" {
			panic(fmt.Sprintf("catalog: mig_profiles.json row %d (%s) is invalid", i, key))
		}
		seen[key] = true
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].GPUModel != rows[j].GPUModel {
			return rows[i].GPUModel < rows[j].GPUModel
		}
		return rows[i].MemorySlices*8+rows[i].ComputeSlices < rows[j].MemorySlices*8+rows[j].ComputeSlices
	})
	return rows
}

// MIGProfiles lists the profiles of a GPU model, smallest first; none for
// a GPU without MIG (or not in the table).
func MIGProfiles(gpuModel string) []MIGProfile {
	var out []MIGProfile
	for _, p := range migProfiles {
		if p.GPUModel == gpuModel {
			out = append(out, p)
		}
	}
	return out
}

// LookupMIGProfile finds a profile of a GPU model; the error names the
// profiles the model has.
func LookupMIGProfile(gpuModel, profile string) (MIGProfile, error) {
	names := []string{}
	for _, p := range MIGProfiles(gpuModel) {
		if p.Profile == profile {
			return p, nil
		}
		names = append(names, p.Profile)
	}
	for _, l := range MIGLayouts(gpuModel) { // where a mixed layout is taken too
		names = append(names, l.Name)
	}
	if len(names) == 0 {
		return MIGProfile{}, fmt.Errorf("%s has no MIG profiles mcllm knows: MIG runs on A100, H100, H200 and B200 GPUs", gpuModel)
	}
	return MIGProfile{}, &NotFoundError{Kind: "MIG profile of " + gpuModel, Name: profile, Suggestions: Nearest(profile, names, 3)}
}

// MIGLayout is a mixed partition of every GPU of a node: a config of the
// GPU Operator's default mig-parted config map that gives each GPU
// instances of several profiles (all-balanced: two 1g, one 2g and one 3g).
// Its instances sit at the memory slices they occupy, smallest first from
// slice 0 (1g at 0 and 1, 2g at 2, 3g at 4 to 7, as nvidia-smi places
// them on an A100), so that each is an aligned power-of-two block of the
// GPU's 8 slices.
type MIGLayout struct {
	GPUModel  string
	Name      string // the value of the node label nvidia.com/mig.config
	Instances []MIGInstance
	Source    string
}

// MIGInstance is one instance of a MIGLayout: its profile, and the first of
// the Profile.MemorySlices memory slices it occupies on the GPU.
type MIGInstance struct {
	Profile MIGProfile
	Offset  int
}

type migLayoutRow struct {
	GPUModel  string         `json:"gpu_model"`
	Layout    string         `json:"layout"`
	Instances map[string]int `json:"instances"`
	Source    string         `json:"source"`
}

func mustLoadMIGLayouts(data []byte) []MIGLayout {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var rows []migLayoutRow
	if err := dec.Decode(&rows); err != nil {
		panic("catalog: embedded mig_layouts.json is invalid: " + err.Error())
	}
	out := make([]MIGLayout, 0, len(rows))
	for i, r := range rows {
		l, err := buildLayout(r)
		if err != nil {
			panic(fmt.Sprintf("catalog: mig_layouts.json row %d (%s/%s): %v", i, r.GPUModel, r.Layout, err))
		}
		out = append(out, l)
	}
	return out
}

// buildLayout places a row's instances smallest first at the lowest
// aligned free memory slices, and checks that they fit the GPU's 7 compute
// and 8 memory slices.
func buildLayout(r migLayoutRow) (MIGLayout, error) {
	l := MIGLayout{GPUModel: r.GPUModel, Name: r.Layout, Source: r.Source}
	if r.Source == "" || r.Layout == "" {
		return l, fmt.Errorf("no name or source")
	}
	var all []MIGProfile
	for name, n := range r.Instances {
		i := slices.IndexFunc(migProfiles, func(p MIGProfile) bool { return p.GPUModel == r.GPUModel && p.Profile == name })
		if i < 0 || n < 1 {
			return l, fmt.Errorf("instance %q × %d: not a profile of the GPU model", name, n)
		}
		p := migProfiles[i]
		for range n {
			all = append(all, p)
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].MemorySlices != all[j].MemorySlices {
			return all[i].MemorySlices < all[j].MemorySlices
		}
		return all[i].Profile < all[j].Profile
	})
	used, compute := uint8(0), 0
	for _, p := range all {
		size := p.MemorySlices
		if size&(size-1) != 0 {
			return l, fmt.Errorf("%s takes %d memory slices, not a power of two", p.Profile, size)
		}
		off := 0
		for ; off+size <= 8 && used&(uint8(1<<size-1)<<off) != 0; off += size {
		}
		if off+size > 8 {
			return l, fmt.Errorf("more than 8 memory slices")
		}
		used |= uint8(1<<size-1) << off
		compute += p.ComputeSlices
		l.Instances = append(l.Instances, MIGInstance{Profile: p, Offset: off})
	}
	if compute > 7 || len(l.Instances) < 2 {
		return l, fmt.Errorf("%d compute slices in %d instances", compute, len(l.Instances))
	}
	return l, nil
}

// MIGLayouts lists the mixed layouts of a GPU model.
func MIGLayouts(gpuModel string) []MIGLayout {
	var out []MIGLayout
	for _, l := range migLayouts {
		if l.GPUModel == gpuModel {
			out = append(out, l)
		}
	}
	return out
}

// LookupMIGLayout finds a mixed layout of a GPU model by its label value.
func LookupMIGLayout(gpuModel, name string) (MIGLayout, bool) {
	for _, l := range MIGLayouts(gpuModel) {
		if l.Name == name {
			return l, true
		}
	}
	return MIGLayout{}, false
}
