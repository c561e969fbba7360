package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Cloud names the clouds the catalog knows. Custom node groups use CloudCustom.
const (
	CloudAWS    = "aws"
	CloudAzure  = "azure"
	CloudGCP    = "gcp"
	CloudCustom = "custom"
)

// Clouds lists the cloud names a node group or a constraint may use.
func Clouds() []string { return []string{CloudAWS, CloudAzure, CloudGCP, CloudCustom} }

// UnknownCloudError says why a name is not a cloud; "" when it is one.
func UnknownCloudError(name string) string {
	for _, c := range Clouds() {
		if c == name {
			return ""
		}
	}
	return fmt.Sprintf("%q is not one of \"aws\", \"azure\", \"gcp\", \"custom\".", name)
}

// Interconnect kinds between the GPUs of one node. A tensor-parallel group
// moves activations over this link at every layer, so it matters for speed,
// never for memory.
const (
	InterconnectNVSwitch = "nvswitch"       // all-to-all NVLink through NVSwitch chips
	InterconnectNVLink   = "nvlink"         // NVLink without a switch (bridges or a direct mesh)
	InterconnectInfinity = "infinityfabric" // AMD Infinity Fabric
	InterconnectPCIe     = "pcie"           // GPUs talk over PCIe only
	InterconnectNone     = "none"           // a single GPU: nothing to interconnect
)

// Network fabrics between nodes. A pipeline stage hands its activations to
// the next over this network at every step, so a pipeline across nodes
// belongs on an OS-bypass fabric; plain Ethernet (TCP through the host)
// adds latency to every token. Each row's fabric follows its network_notes
// and their sources: EFA (AWS, SRD with OS bypass), InfiniBand (Azure ND
// families, GPUDirect RDMA), GPUDirect-TCPX / TCPXO (GCP A3 High and A3
// Mega, Google Cloud's "GPUDirect-TCPX" documentation), RoCE (GCP A3 Ultra
// and A4 with their RDMA GPU NICs).
const (
	FabricEFA        = "efa"
	FabricInfiniBand = "infiniband"
	FabricTCPX       = "tcpx"
	FabricRoCE       = "roce"
	FabricEthernet   = "ethernet"
)

// FastNetwork reports whether the type's fabric suits pipeline stages
// across nodes: every fabric but plain Ethernet.
func (t InstanceType) FastNetwork() bool { return t.NetworkFabric != FabricEthernet }

// Sources of the runtime-visible memory figure of a GPU.
const (
	// VisibleMeasured: the figure a serving runtime printed for this GPU
	// class (vLLM's total_gpu_memory, i.e. torch.cuda.mem_get_info()).
	VisibleMeasured = "measured"
	// VisibleDerived: no log was found for this GPU; the figure is the
	// API memory scaled by the measured ratio of the 80 GB class
	// (79.14 / 80.0), see DerivedVisibleRatio.
	VisibleDerived = "derived"
)

// DerivedVisibleRatio is the share of the API-reported memory that a runtime
// sees on an HBM GPU, measured on the 80 GB class (79.14 GiB of 80 GiB, the
// lowest of four vLLM logs). Used only where no measurement exists.
const DerivedVisibleRatio = 79.14 / 80.0

// InstanceType is one GPU machine type of one cloud.
type InstanceType struct {
	Cloud string `json:"cloud"`
	Name  string `json:"name"`
	// GPUModel is the canonical GPU name (see GPUModels), e.g. "H100-80GB".
	GPUModel string `json:"gpu_model"`
	GPUs     int    `json:"gpus"`
	// VendorMemoryGB is the marketing memory per GPU in decimal GB.
	VendorMemoryGB float64 `json:"vendor_memory_gb"`
	// APIMemoryGiB is the per-GPU memory the cloud API reports, in GiB.
	APIMemoryGiB float64 `json:"api_memory_gib"`
	// VisibleMemoryGiB is what a serving runtime sees per GPU, in GiB; the
	// estimator multiplies it by gpu_memory_utilization.
	VisibleMemoryGiB    float64 `json:"visible_memory_gib"`
	VisibleMemorySource string  `json:"visible_memory_source"`
	Interconnect        string  `json:"interconnect"`
	// InterconnectGBps is the per-GPU GPU-to-GPU bandwidth in GB/s; 0 when
	// not published.
	InterconnectGBps float64 `json:"interconnect_gbps"`
	// NetworkGbps is the node's network bandwidth in Gbit/s.
	NetworkGbps  float64 `json:"network_gbps"`
	NetworkNotes string  `json:"network_notes"`
	// NetworkFabric is the node-to-node fabric (Fabric*).
	NetworkFabric string `json:"network_fabric"`
	VCPUs         int    `json:"vcpus"`
	// QuotaFamily is the quota the type counts against in its region: the
	// AWS instance-family class ("P", "G and VT"), the Azure VM family
	// quota as `az vm list-usage` names it, the GCP GPU quota metric
	// ("NVIDIA_H100_GPUS"). QuotaSource cites it.
	QuotaFamily   string  `json:"quota_family"`
	QuotaSource   string  `json:"quota_source"`
	HostMemoryGiB float64 `json:"host_memory_gib"`
	// PriceUSDPerHour is the on-demand Linux list price of the whole
	// instance in PriceRegion on PriceDate; nil when no source lists one.
	PriceUSDPerHour *float64 `json:"price_usd_per_hour"`
	PriceRegion     string   `json:"price_region"`
	PriceDate       string   `json:"price_date"`
	// Regions are the regions the sources list the type in. The list is a
	// record of what was seen, not a promise of capacity.
	Regions []string `json:"regions"`
	Source  string   `json:"source"`
}

// Quota units: what a cloud's regional GPU quotas count. AWS counts the
// vCPUs of running instances per instance-family class ("Running On-Demand
// P instances", EC2 User Guide, "On-Demand Instance quotas"), Azure the
// vCPUs per VM family (Azure docs, "Check vCPU quotas"), GCP the GPUs per
// GPU type (Compute Engine docs, "GPU quota").
const (
	QuotaVCPUs = "vcpus"
	QuotaGPUs  = "gpus"
)

// QuotaUnit is what the cloud's quotas count for its types.
func QuotaUnit(cloud string) string {
	if cloud == CloudGCP {
		return QuotaGPUs
	}
	return QuotaVCPUs
}

// QuotaCount is what one node of the type counts in unit.
func (t InstanceType) QuotaCount(unit string) int {
	if unit == QuotaGPUs {
		return t.GPUs
	}
	return t.VCPUs
}

// QuotaFamilies lists the quota families the catalog's types of a cloud
// count against, sorted.
func QuotaFamilies(cloud string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range instanceTypes {
		if t.Cloud == cloud && !seen[t.QuotaFamily] {
			seen[t.QuotaFamily] = true
			out = append(out, t.QuotaFamily)
		}
	}
	sort.Strings(out)
	return out
}

// PriceDateUnknown marks a price whose source snapshot carries no date.
const PriceDateUnknown = "unknown"

// Key is the catalog key "<cloud>/<name>".
func (t InstanceType) Key() string { return t.Cloud + "/" + t.Name }

// HasPrice reports whether the catalog knows an on-demand price.
func (t InstanceType) HasPrice() bool { return t.PriceUSDPerHour != nil }

// InRegion reports whether the type is recorded in region.
func (t InstanceType) InRegion(region string) bool {
	for _, r := range t.Regions {
		if r == region {
			return true
		}
	}
	return false
}

//go:embed data/instance_types.json
var instanceTypesJSON []byte

var instanceTypes = mustLoadInstanceTypes(instanceTypesJSON)

// InstanceTypes returns every instance type, sorted by key. The slice is a
// copy; callers may keep it.
func InstanceTypes() []InstanceType {
	out := make([]InstanceType, len(instanceTypes))
	copy(out, instanceTypes)
	return out
}

// LookupInstanceType finds an instance type by cloud and name. When there is
// none, the error names the nearest valid keys.
func LookupInstanceType(cloud, name string) (InstanceType, error) {
	key := cloud + "/" + name
	for _, t := range instanceTypes {
		if t.Key() == key {
			return t, nil
		}
	}
	keys := make([]string, len(instanceTypes))
	for i, t := range instanceTypes {
		keys[i] = t.Key()
	}
	return InstanceType{}, &NotFoundError{Kind: "instance type", Name: key, Suggestions: Nearest(key, keys, 3)}
}

func mustLoadInstanceTypes(data []byte) []InstanceType {
	types, err := ParseInstanceTypes(data)
	if err != nil {
		panic("catalog: embedded instance_types.json is invalid: " + err.Error())
	}
	return types
}

// ParseInstanceTypes decodes and validates an instance-type table. Unknown
// fields, missing fields and out-of-range values are errors naming the row.
func ParseInstanceTypes(data []byte) ([]InstanceType, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var rows []InstanceType
	if err := dec.Decode(&rows); err != nil {
		return nil, fmt.Errorf("decoding instance types: %w", err)
	}
	seen := map[string]bool{}
	for i, r := range rows {
		if err := validateInstanceType(r); err != nil {
			return nil, fmt.Errorf("instance type row %d (%s): %w", i, r.Key(), err)
		}
		if seen[r.Key()] {
			return nil, fmt.Errorf("instance type row %d: duplicate key %s", i, r.Key())
		}
		seen[r.Key()] = true
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Key() < rows[j].Key() })
	return rows, nil
}

var (
	datePattern   = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	regionPattern = regexp.MustCompile(`^[a-z][a-z0-9-]*[a-z0-9]$`)
)

func validateInstanceType(r InstanceType) error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	switch r.Cloud {
	case CloudAWS, CloudAzure, CloudGCP:
	default:
		bad("cloud %q is not one of aws, azure, gcp", r.Cloud)
	}
	if strings.TrimSpace(r.Name) == "" {
		bad("name is empty")
	}
	if _, ok := gpuModels[r.GPUModel]; !ok {
		bad("gpu_model %q is not a known GPU model", r.GPUModel)
	}
	if r.GPUs < 1 || r.GPUs > 16 {
		bad("gpus %d is outside 1..16", r.GPUs)
	}
	if r.VendorMemoryGB <= 0 {
		bad("vendor_memory_gb must be positive")
	}
	if r.APIMemoryGiB <= 0 {
		bad("api_memory_gib must be positive")
	}
	if r.VisibleMemoryGiB <= 0 || r.VisibleMemoryGiB > r.APIMemoryGiB {
		bad("visible_memory_gib %.2f must be positive and at most api_memory_gib %.2f", r.VisibleMemoryGiB, r.APIMemoryGiB)
	}
	switch r.VisibleMemorySource {
	case VisibleMeasured, VisibleDerived:
	default:
		bad("visible_memory_source %q is not measured or derived", r.VisibleMemorySource)
	}
	switch r.Interconnect {
	case InterconnectNVSwitch, InterconnectNVLink, InterconnectInfinity, InterconnectPCIe:
		if r.GPUs == 1 {
			bad("interconnect %q on a single-GPU type; use none", r.Interconnect)
		}
	case InterconnectNone:
		if r.GPUs > 1 {
			bad("interconnect none on a %d-GPU type", r.GPUs)
		}
	default:
		bad("interconnect %q is not one of nvswitch, nvlink, infinityfabric, pcie, none", r.Interconnect)
	}
	switch r.NetworkFabric {
	case FabricEFA, FabricInfiniBand, FabricTCPX, FabricRoCE, FabricEthernet:
	default:
		bad("network_fabric %q is not one of efa, infiniband, tcpx, roce, ethernet", r.NetworkFabric)
	}
	if r.InterconnectGBps < 0 || r.NetworkGbps < 0 {
		bad("bandwidths must not be negative")
	}
	if r.VCPUs < 1 {
		bad("vcpus must be positive")
	}
	if strings.TrimSpace(r.QuotaFamily) == "" || strings.TrimSpace(r.QuotaSource) == "" {
		bad("quota_family and quota_source must be set")
	}
	if r.HostMemoryGiB <= 0 {
		bad("host_memory_gib must be positive")
	}
	if r.PriceUSDPerHour != nil {
		if *r.PriceUSDPerHour <= 0 {
			bad("price_usd_per_hour must be positive when set")
		}
		if r.PriceRegion == "" || (r.PriceDate != PriceDateUnknown && !datePattern.MatchString(r.PriceDate)) {
			bad("a price needs price_region and price_date (YYYY-MM-DD, or %q when the source has no date)", PriceDateUnknown)
		}
	} else if r.PriceRegion != "" || r.PriceDate != "" {
		bad("price_region / price_date given without a price")
	}
	for _, reg := range r.Regions {
		if !regionPattern.MatchString(reg) {
			bad("region %q is malformed", reg)
		}
	}
	if !sort.StringsAreSorted(r.Regions) {
		bad("regions must be sorted")
	}
	if r.Source == "" {
		bad("source is empty")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}
