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
	// MemoryBandwidthGBps is the vendor's peak memory bandwidth in GB/s,
	// which bounds decode speed (see memory.DecodeTokensPerSecond).
	MemoryBandwidthGBps float64
	// BandwidthSource names where that figure comes from.
	BandwidthSource string
}

var gpuModels = map[string]GPUModel{
	"A10": {Name: "A10", Vendor: "nvidia", MemoryGB: 24, Memory: "GDDR6",
		MemoryBandwidthGBps: 600, BandwidthSource: "NVIDIA A10 specifications: GPU memory bandwidth 600 GB/s"},
	"A10G": {Name: "A10G", Vendor: "nvidia", MemoryGB: 24, Memory: "GDDR6",
		MemoryBandwidthGBps: 600, BandwidthSource: "assumed equal to the A10: neither NVIDIA nor AWS publishes the A10G's bandwidth"},
	"L4": {Name: "L4", Vendor: "nvidia", MemoryGB: 24, Memory: "GDDR6",
		MemoryBandwidthGBps: 300, BandwidthSource: "NVIDIA L4 product page: GPU memory bandwidth 300 GB/s"},
	"L40S": {Name: "L40S", Vendor: "nvidia", MemoryGB: 48, Memory: "GDDR6",
		MemoryBandwidthGBps: 864, BandwidthSource: "NVIDIA L40S product page: memory bandwidth 864 GB/s"},
	"A100-40GB": {Name: "A100-40GB", Vendor: "nvidia", MemoryGB: 40, Memory: "HBM2",
		MemoryBandwidthGBps: 1555, BandwidthSource: "NVIDIA A100 datasheet, SXM 40GB: 1,555 GB/s"},
	"A100-80GB": {Name: "A100-80GB", Vendor: "nvidia", MemoryGB: 80, Memory: "HBM2e",
		MemoryBandwidthGBps: 2039, BandwidthSource: "NVIDIA A100 datasheet, SXM 80GB: 2,039 GB/s"},
	"H100-80GB": {Name: "H100-80GB", Vendor: "nvidia", MemoryGB: 80, Memory: "HBM3",
		MemoryBandwidthGBps: 3350, BandwidthSource: "NVIDIA H100 datasheet, H100 SXM: 3.35 TB/s"},
	"H100-NVL": {Name: "H100-NVL", Vendor: "nvidia", MemoryGB: 94, Memory: "HBM3",
		MemoryBandwidthGBps: 3900, BandwidthSource: "NVIDIA H100 datasheet, H100 NVL: 3.9 TB/s"},
	"H200": {Name: "H200", Vendor: "nvidia", MemoryGB: 141, Memory: "HBM3e",
		MemoryBandwidthGBps: 4800, BandwidthSource: "NVIDIA H200 datasheet, H200 SXM: 4.8 TB/s"},
	"B200": {Name: "B200", Vendor: "nvidia", MemoryGB: 180, Memory: "HBM3e",
		MemoryBandwidthGBps: 7700, BandwidthSource: "NVIDIA HGX B200 specifications, 180 GB HBM3e: 7.7 TB/s (8 TB/s in other NVIDIA documents)"},
	"MI300X": {Name: "MI300X", Vendor: "amd", MemoryGB: 192, Memory: "HBM3",
		MemoryBandwidthGBps: 5300, BandwidthSource: "AMD Instinct MI300X data sheet: 5.3 TB/s"},
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

// SharesGPUs reports whether a cluster can hand one GPU of the model to
// several pods as time-slicing replicas or memory blocks: NVIDIA's device
// plugin advertises time-slicing replicas and KAI Scheduler shares NVIDIA
// GPUs, while AMD's device plugin advertises whole amd.com/gpu devices only
// (ROCm/k8s-device-plugin README). An unknown model is not refused here.
func SharesGPUs(model string) bool {
	m, ok := gpuModels[model]
	return !ok || m.Vendor != "amd"
}
