package catalog

import "sort"

// GPUModel describes one GPU model the catalog knows.
type GPUModel struct {
	Name   string // canonical name used in filters and constraints
	Vendor string // nvidia or amd
	// MemoryGB is the vendor's per-GPU memory in decimal GB.
	MemoryGB float64
	// Memory is the memory technology (HBM3, GDDR6, …).
	Memory string
}

var gpuModels = map[string]GPUModel{
	"A10":       {Name: "A10", Vendor: "nvidia", MemoryGB: 24, Memory: "GDDR6"},
	"A10G":      {Name: "A10G", Vendor: "nvidia", MemoryGB: 24, Memory: "GDDR6"},
	"L4":        {Name: "L4", Vendor: "nvidia", MemoryGB: 24, Memory: "GDDR6"},
	"L40S":      {Name: "L40S", Vendor: "nvidia", MemoryGB: 48, Memory: "GDDR6"},
	"A100-40GB": {Name: "A100-40GB", Vendor: "nvidia", MemoryGB: 40, Memory: "HBM2"},
	"A100-80GB": {Name: "A100-80GB", Vendor: "nvidia", MemoryGB: 80, Memory: "HBM2e"},
	"H100-80GB": {Name: "H100-80GB", Vendor: "nvidia", MemoryGB: 80, Memory: "HBM3"},
	"H100-NVL":  {Name: "H100-NVL", Vendor: "nvidia", MemoryGB: 94, Memory: "HBM3"},
	"H200":      {Name: "H200", Vendor: "nvidia", MemoryGB: 141, Memory: "HBM3e"},
	"B200":      {Name: "B200", Vendor: "nvidia", MemoryGB: 180, Memory: "HBM3e"},
	"MI300X":    {Name: "MI300X", Vendor: "amd", MemoryGB: 192, Memory: "HBM3"},
}

// GPUModels returns the known GPU models sorted by name.
func GPUModels() []GPUModel {
	out := make([]GPUModel, 0, len(gpuModels))
	for _, m := range gpuModels {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// GPUModelNames returns the canonical GPU model names, sorted.
func GPUModelNames() []string {
	models := GPUModels()
	names := make([]string, len(models))
	for i, m := range models {
		names[i] = m.Name
	}
	return names
}

// LookupGPUModel finds a GPU model by its canonical name.
func LookupGPUModel(name string) (GPUModel, error) {
	if m, ok := gpuModels[name]; ok {
		return m, nil
	}
	return GPUModel{}, &NotFoundError{Kind: "GPU model", Name: name, Suggestions: Nearest(name, GPUModelNames(), 3)}
}
