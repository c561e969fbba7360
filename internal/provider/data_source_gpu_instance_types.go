package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/analysis"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
)

// The interfaces the data source implements, checked by the compiler.
var (
	_ datasource.DataSource                   = (*gpuInstanceTypesDataSource)(nil)
	_ datasource.DataSourceWithConfigure      = (*gpuInstanceTypesDataSource)(nil)
	_ datasource.DataSourceWithValidateConfig = (*gpuInstanceTypesDataSource)(nil)
)

type gpuInstanceTypesDataSource struct {
	cfg *Config
}

func newGPUInstanceTypesDataSource() datasource.DataSource { return &gpuInstanceTypesDataSource{} }

type gpuInstanceTypesModel struct {
	Cloud          types.String                 `tfsdk:"cloud"`
	GPUModel       types.String                 `tfsdk:"gpu_model"`
	MinGPUMemoryGB types.Float64                `tfsdk:"min_gpu_memory_gb"`
	MinGPUs        types.Int64                  `tfsdk:"min_gpus"`
	Region         types.String                 `tfsdk:"region"`
	Interconnect   types.String                 `tfsdk:"interconnect"`
	InstanceTypes  map[string]instanceTypeModel `tfsdk:"instance_types"`
}

type instanceTypeModel struct {
	Cloud               string   `tfsdk:"cloud"`
	Name                string   `tfsdk:"name"`
	GPUModel            string   `tfsdk:"gpu_model"`
	GPUs                int64    `tfsdk:"gpus"`
	GPUMemoryGB         float64  `tfsdk:"gpu_memory_gb"`
	GPUMemoryAPIGiB     float64  `tfsdk:"gpu_memory_api_gib"`
	VisibleMemoryGiB    float64  `tfsdk:"visible_memory_gib"`
	VisibleMemorySource string   `tfsdk:"visible_memory_source"`
	UsableMemoryGiB     float64  `tfsdk:"usable_memory_gib"`
	Interconnect        string   `tfsdk:"interconnect"`
	InterconnectGBps    float64  `tfsdk:"interconnect_gbps"`
	NetworkGbps         float64  `tfsdk:"network_gbps"`
	NetworkFabric       string   `tfsdk:"network_fabric"`
	VCPUs               int64    `tfsdk:"vcpus"`
	QuotaFamily         string   `tfsdk:"quota_family"`
	HostMemoryGiB       float64  `tfsdk:"host_memory_gib"`
	PriceUSDPerHour     *float64 `tfsdk:"price_usd_per_hour"`
	PriceSource         string   `tfsdk:"price_source"`
	PriceRegion         *string  `tfsdk:"price_region"`
	PriceDate           *string  `tfsdk:"price_date"`
	Regions             []string `tfsdk:"regions"`
}

func (d *gpuInstanceTypesDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_gpu_instance_types"
}

var interconnects = []string{catalog.InterconnectNVSwitch, catalog.InterconnectNVLink, catalog.InterconnectInfinity, catalog.InterconnectPCIe, catalog.InterconnectNone}

func (d *gpuInstanceTypesDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The built-in catalog of GPU instance types on AWS, Azure and GCP, filtered. Every filter is " +
			"optional; with none, the whole catalog is returned. Prices are on-demand Linux list prices of the whole " +
			"instance in a reference region on a reference date, or a `price_overrides` entry of the provider; a price " +
			"no source lists stays null rather than being guessed.",
		Attributes: map[string]schema.Attribute{
			"cloud": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Only instance types of this cloud: `aws`, `azure` or `gcp`.",
				Validators:          []validator.String{stringvalidator.OneOf(catalog.CloudAWS, catalog.CloudAzure, catalog.CloudGCP)},
			},
			"gpu_model": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Only instance types with this GPU model, one of " + backtickList(catalog.GPUModelNames()) + ".",
			},
			"min_gpu_memory_gb": schema.Float64Attribute{
				Optional:            true,
				MarkdownDescription: "Only GPUs with at least this much memory per GPU, in the vendor's decimal GB (80 for an H100 80GB).",
				Validators:          []validator.Float64{float64validator.AtLeast(0)},
			},
			"min_gpus": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "Only instance types with at least this many GPUs per node.",
				Validators:          []validator.Int64{int64validator.AtLeast(1)},
			},
			"region": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Only instance types recorded in this region (for example `us-east-1`, `eastus`, " +
					"`us-central1`). Region lists record where the sources saw a type, not a promise of capacity.",
			},
			"interconnect": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Only instance types whose GPUs are linked this way: " + backtickList(interconnects) + ".",
				Validators:          []validator.String{stringvalidator.OneOf(interconnects...)},
			},
			"instance_types": schema.MapNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The matching instance types, keyed `<cloud>/<instance_type>`.",
				NestedObject:        schema.NestedAttributeObject{Attributes: instanceTypeAttributes()},
			},
		},
	}
}

func instanceTypeAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"cloud":                 dsString("Cloud: `aws`, `azure` or `gcp`."),
		"name":                  dsString("The cloud's name of the instance type."),
		"gpu_model":             dsString("Canonical GPU model name."),
		"gpus":                  dsInteger("GPUs per node."),
		"gpu_memory_gb":         dsNumber("Vendor memory per GPU in decimal GB."),
		"gpu_memory_api_gib":    dsNumber("Memory per GPU as the cloud API reports it, in GiB."),
		"visible_memory_gib":    dsNumber("Memory per GPU a serving runtime sees (CUDA's total), in GiB; the base of `usable_memory_gib`."),
		"visible_memory_source": dsString("`measured` when a serving-engine log of this GPU class gave `visible_memory_gib`, `derived` when it was scaled from the API figure by the measured ratio of the 80 GB class."),
		"usable_memory_gib":     dsNumber("`visible_memory_gib` × the provider's `gpu_memory_utilization`: the budget for weights, activations and KV cache per GPU."),
		"interconnect":          dsString("How the node's GPUs are linked: `nvswitch`, `nvlink`, `infinityfabric`, `pcie`, or `none` for one GPU."),
		"interconnect_gbps":     dsNumber("GPU-to-GPU bandwidth per GPU in GB/s; 0 when the sources give no figure."),
		"network_gbps":          dsNumber("Node network bandwidth in Gbit/s (InfiniBand / EFA total where present); 0 when unknown."),
		"network_fabric": dsString("Node-to-node fabric: `efa`, `infiniband`, `tcpx` (GPUDirect-TCPX/TCPXO), `roce` or `ethernet`. " +
			"Every fabric but `ethernet` lets a replica's pipeline stages span nodes (a node group's `fast_network`)."),
		"vcpus": dsInteger("Virtual CPUs."),
		"quota_family": dsString("The quota the type counts against in its region, as an inference pool's `quotas[*].family` names it: " +
			"the AWS instance-family class (`P`, `G and VT`; counted in vCPUs), the Azure VM family (counted in vCPUs), the GCP GPU " +
			"metric (`NVIDIA_H100_GPUS`; counted in GPUs)."),
		"host_memory_gib":    dsNumber("Host memory in GiB."),
		"price_usd_per_hour": dsNumber("On-demand price of the whole instance in USD per hour; null when unknown."),
		"price_source":       dsString("`catalog`, `override` (from the provider's `price_overrides`) or `unknown`."),
		"price_region":       dsString("Region the catalog price was listed for; null for overrides and unknown prices."),
		"price_date":         dsString("Date of the catalog price snapshot (YYYY-MM-DD, or `unknown` when the source carries none); null for overrides and unknown prices."),
		"regions": schema.ListAttribute{
			Computed: true, ElementType: types.StringType,
			MarkdownDescription: "Regions the sources list the type in, sorted.",
		},
	}
}

func (d *gpuInstanceTypesDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.cfg = configFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *gpuInstanceTypesDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	var gpu types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("gpu_model"), &gpu)...)
	if gpu.IsNull() || gpu.IsUnknown() {
		return
	}
	if _, err := catalog.LookupGPUModel(gpu.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("gpu_model"), "Unknown GPU model", err.Error())
	}
}

func (d *gpuInstanceTypesDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m gpuInstanceTypesModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cfg := d.cfg
	if cfg == nil {
		cfg = DefaultConfig()
	}
	all := catalog.InstanceTypes()
	if m.Region.ValueString() != "" && !anyInRegion(all, m.Region.ValueString()) {
		resp.Diagnostics.AddAttributeWarning(path.Root("region"), "Region not in the catalog",
			fmt.Sprintf("No instance type of the catalog is recorded in region %q, so the result is empty. Known regions close to it: %s.",
				m.Region.ValueString(), strings.Join(catalog.Nearest(m.Region.ValueString(), knownRegions(all), 5), ", ")))
	}
	m.InstanceTypes = map[string]instanceTypeModel{}
	for _, t := range all {
		if !matches(t, m) {
			continue
		}
		m.InstanceTypes[t.Key()] = instanceTypeView(t, cfg)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func matches(t catalog.InstanceType, m gpuInstanceTypesModel) bool {
	switch {
	case !m.Cloud.IsNull() && t.Cloud != m.Cloud.ValueString():
	case !m.GPUModel.IsNull() && t.GPUModel != m.GPUModel.ValueString():
	case !m.MinGPUMemoryGB.IsNull() && t.VendorMemoryGB < m.MinGPUMemoryGB.ValueFloat64():
	case !m.MinGPUs.IsNull() && int64(t.GPUs) < m.MinGPUs.ValueInt64():
	case !m.Region.IsNull() && !t.InRegion(m.Region.ValueString()):
	case !m.Interconnect.IsNull() && t.Interconnect != m.Interconnect.ValueString():
	default:
		return true
	}
	return false
}

func instanceTypeView(t catalog.InstanceType, cfg *Config) instanceTypeModel {
	v := instanceTypeModel{
		Cloud: t.Cloud, Name: t.Name, GPUModel: t.GPUModel, GPUs: int64(t.GPUs),
		GPUMemoryGB: t.VendorMemoryGB, GPUMemoryAPIGiB: t.APIMemoryGiB,
		VisibleMemoryGiB: t.VisibleMemoryGiB, VisibleMemorySource: t.VisibleMemorySource,
		UsableMemoryGiB: analysis.Round(t.VisibleMemoryGiB*cfg.Utilization, 3),
		Interconnect:    t.Interconnect, InterconnectGBps: t.InterconnectGBps, NetworkGbps: t.NetworkGbps, NetworkFabric: t.NetworkFabric,
		VCPUs: int64(t.VCPUs), QuotaFamily: t.QuotaFamily, HostMemoryGiB: t.HostMemoryGiB,
		Regions: append([]string{}, t.Regions...),
	}
	price, source, ok := cfg.Price(t)
	v.PriceSource = source
	if ok {
		v.PriceUSDPerHour = &price
	}
	if source == "catalog" {
		region, date := t.PriceRegion, t.PriceDate
		v.PriceRegion, v.PriceDate = &region, &date
	}
	return v
}

func anyInRegion(types []catalog.InstanceType, region string) bool {
	for _, t := range types {
		if t.InRegion(region) {
			return true
		}
	}
	return false
}

func knownRegions(types []catalog.InstanceType) []string {
	seen := map[string]bool{}
	for _, t := range types {
		for _, r := range t.Regions {
			seen[r] = true
		}
	}
	out := make([]string, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

func backtickList(vals []string) string {
	quoted := make([]string, len(vals))
	for i, v := range vals {
		quoted[i] = "`" + v + "`"
	}
	return strings.Join(quoted, ", ")
}
