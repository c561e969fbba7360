package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
)

// MIGProfile is one Multi-Instance GPU profile of a GPU model, as NVIDIA's
// MIG user guide lists them ("Supported MIG Profiles"): its compute slices
// of 7, memory slices of 8, how many a GPU holds in the uniform layout
// "all-<profile>" of the GPU Operator's default mig-parted config, and the
// memory a process sees in it (nvidia-smi mig -lgip, or NVIDIA's NVML mock
// built from real devices where no dump was found). Profiles whose memory
// no source shows are left out; so are the +me (media) variants and the
// mixed layouts such as all-balanced.
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
	if len(names) == 0 {
		return MIGProfile{}, fmt.Errorf("%s has no MIG profiles mcllm knows: MIG runs on A100, H100, H200 and B200 GPUs", gpuModel)
	}
	return MIGProfile{}, &NotFoundError{Kind: "MIG profile of " + gpuModel, Name: profile, Suggestions: Nearest(profile, names, 3)}
}
