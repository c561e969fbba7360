// Package provider adapts the planner to Terraform: schemas, plan-time
// computation, diagnostics and logging. It makes no decisions of its own;
// every figure comes from internal/planner.
package provider

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/limits"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// The interfaces the provider implements, checked by the compiler.
var (
	_ provider.Provider              = (*mcllmProvider)(nil)
	_ provider.ProviderWithFunctions = (*mcllmProvider)(nil)
)

// Address is the provider's registry address.
const Address = "registry.terraform.io/mcllm/mcllm"

// Config is the provider configuration every data source, resource and
// function works with.
type Config struct {
	// Utilization is the default gpu_memory_utilization.
	Utilization float64
	// PriceOverrides maps "<cloud>/<instance_type>" to USD per hour.
	PriceOverrides map[string]float64
	// EgressOverrides maps "<cloud>/<transfer kind>" to USD per GB.
	EgressOverrides map[string]float64
}

// DefaultConfig is the configuration of an empty provider block.
func DefaultConfig() *Config {
	return &Config{Utilization: memory.DefaultUtilization, PriceOverrides: map[string]float64{}, EgressOverrides: map[string]float64{}}
}

// EgressPrice is the USD per GB a cloud charges for a kind of transfer
// leaving it: nothing within a region, else the override when one is
// configured, else the catalog's default; ok is false when neither is known.
func (c *Config) EgressPrice(cloud, kind string) (float64, bool) {
	if kind == catalog.TransferNone {
		return 0, true
	}
	if p, found := c.EgressOverrides[cloud+"/"+kind]; found {
		return p, true
	}
	p, ok := catalog.LookupEgressPrice(cloud, kind)
	return p.USDPerGB, ok
}

// Price returns the hourly price of an instance type: the override when one
// is configured, else the catalog's list price; ok is false when neither is
// known.
func (c *Config) Price(t catalog.InstanceType) (price float64, source string, ok bool) {
	if p, found := c.PriceOverrides[t.Key()]; found {
		return p, "override", true
	}
	if t.PriceUSDPerHour != nil {
		return *t.PriceUSDPerHour, "catalog", true
	}
	return 0, "unknown", false
}

type mcllmProvider struct {
	version string
	// configured is the last configuration, for the resources the
	// protocol server serves itself (NewProtocol6).
	mu         sync.Mutex
	configured *Config
}

// config is the provider's configuration, or the default before Configure.
func (p *mcllmProvider) config() *Config {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.configured == nil {
		return DefaultConfig()
	}
	return p.configured
}

// New returns a constructor of the provider, as providerserver expects.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &mcllmProvider{version: version} }
}

type providerModel struct {
	GPUMemoryUtilization types.Float64 `tfsdk:"gpu_memory_utilization"`
	PriceOverrides       types.Map     `tfsdk:"price_overrides"`
	EgressPrices         types.Map     `tfsdk:"egress_prices"`
}

func (p *mcllmProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "mcllm"
	resp.Version = p.version
}

func (p *mcllmProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The mcllm provider plans where LLM inference runs across clouds: it packs model memory " +
			"onto GPU node groups at plan time. It needs no cloud credentials; every figure comes from its built-in " +
			"catalogs of GPU instance types and model architectures.",
		Attributes: map[string]schema.Attribute{
			"gpu_memory_utilization": schema.Float64Attribute{
				Optional: true,
				MarkdownDescription: "Share of each GPU's runtime-visible memory a serving engine may use for weights, " +
					"activations and KV cache, as vLLM's `--gpu-memory-utilization`. Greater than 0 and at most 1, with at most four " +
					"decimals (placement entries carry the budget it gives in whole bytes); defaults to `0.9`.",
			},
			"price_overrides": schema.MapAttribute{
				Optional:    true,
				ElementType: types.Float64Type,
				MarkdownDescription: withLimit("Hourly prices in USD that replace the catalog's on-demand list prices, keyed "+
					"`<cloud>/<instance_type>` (for example `aws/p5.48xlarge`). Use it for negotiated prices, reserved "+
					"capacity (0 for capacity already paid for), or instance types the catalog has no price for. Prices are USD per node-hour.", limits.PricePerHour),
			},
			"egress_prices": schema.MapAttribute{
				Optional:    true,
				ElementType: types.Float64Type,
				MarkdownDescription: "Data transfer prices in USD per GB that replace the defaults, keyed `<cloud>/internet` " +
					"(leaving the cloud, to the internet or another cloud) or `<cloud>/inter_region` (between two regions of " +
					"the cloud); the source cloud pays. They price the one-time pull of a model's weights from its " +
					"`weights_source`. Defaults, first paid tier from North America: " + egressDefaultsText() +
					"; Google Cloud's inter-region price has no default. " + limits.EgressPrice.Doc(),
			},
		},
	}
}

func (p *mcllmProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cfg, diags := buildConfig(ctx, m)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	tflog.Debug(ctx, "configured mcllm provider", map[string]any{
		"gpu_memory_utilization": cfg.Utilization,
		"price_overrides":        len(cfg.PriceOverrides),
	})
	resp.DataSourceData = cfg
	resp.ResourceData = cfg
	p.mu.Lock()
	p.configured = cfg
	p.mu.Unlock()
}

// buildConfig validates the provider block. Unknown values are errors: every
// figure the provider computes is needed at plan time.
func buildConfig(ctx context.Context, m providerModel) (*Config, diag.Diagnostics) {
	var diags diag.Diagnostics
	cfg := DefaultConfig()
	if m.GPUMemoryUtilization.IsUnknown() {
		diags.AddAttributeError(path.Root("gpu_memory_utilization"), "Provider configuration not known at plan time",
			"gpu_memory_utilization must be known when planning, because placements are computed at plan time.")
	} else if !m.GPUMemoryUtilization.IsNull() {
		u := m.GPUMemoryUtilization.ValueFloat64()
		if err := memory.CheckUtilization(u); err != nil {
			diags.AddAttributeError(path.Root("gpu_memory_utilization"), "Invalid GPU memory utilization", fromMemoryError(err).Detail)
		}
		cfg.Utilization = u
	}
	diags.Append(priceMap(ctx, m.PriceOverrides, "price_overrides", "price override", cfg.PriceOverrides,
		func(key string) error { _, err := lookupInstanceKey(key); return err },
		func(price float64) string {
			if p := limits.PricePerHour.Named("price_overrides").Check(price); p != "" {
				return "is out of range: " + p
			}
			return ""
		})...)
	diags.Append(priceMap(ctx, m.EgressPrices, "egress_prices", "egress price", cfg.EgressOverrides,
		func(key string) error {
			cloud, kind, _ := strings.Cut(key, "/")
			if catalog.UnknownCloudError(cloud) != "" || (kind != catalog.TransferInternet && kind != catalog.TransferInterRegion) {
				return fmt.Errorf("%q is not \"<cloud>/internet\" or \"<cloud>/inter_region\" with cloud one of aws, azure, gcp, custom", key)
			}
			return nil
		},
		func(price float64) string {
			if p := limits.EgressPrice.Check(price); p != "" {
				return "is out of range: " + p
			}
			return ""
		})...)
	return cfg, diags
}

// priceMap reads a provider map of prices into out: it must be known at
// plan time, every key must pass keyError and every price valid (which says
// what is wrong, "" when nothing is); errors sit on the entry's path.
func priceMap(ctx context.Context, m types.Map, attribute, what string, out map[string]float64,
	keyError func(string) error, valid func(float64) string) diag.Diagnostics {
	var diags diag.Diagnostics
	if m.IsUnknown() {
		diags.AddAttributeError(path.Root(attribute), "Provider configuration not known at plan time",
			attribute+" must be known when planning, because costs are computed at plan time.")
		return diags
	}
	prices := map[string]types.Float64{}
	diags.Append(m.ElementsAs(ctx, &prices, false)...)
	for _, key := range slices.Sorted(maps.Keys(prices)) {
		at := path.Root(attribute).AtMapKey(key)
		v := prices[key]
		if err := keyError(key); err != nil {
			diags.AddAttributeError(at, "Invalid "+what+" key", err.Error())
			continue
		}
		if v.IsNull() || v.IsUnknown() {
			diags.AddAttributeError(at, "Invalid "+what, fmt.Sprintf("The price of %q must be a known number.", key))
			continue
		}
		if problem := valid(v.ValueFloat64()); problem != "" {
			diags.AddAttributeError(at, "Invalid "+what, fmt.Sprintf("The price of %q %s.", key, problem))
			continue
		}
		out[key] = v.ValueFloat64()
	}
	return diags
}

// egressDefaultsText lists the default egress prices for the docs.
func egressDefaultsText() string {
	var parts []string
	for _, p := range catalog.EgressPrices() {
		date := "date unknown"
		if p.Date != catalog.PriceDateUnknown {
			date = "read " + p.Date
		}
		parts = append(parts, fmt.Sprintf("`%s` %.4g (%s; %s)", p.Key(), p.USDPerGB, p.Source, date))
	}
	return strings.Join(parts, ", ")
}

func (p *mcllmProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{newModelShardResource, newInferencePoolResource}
}

func (p *mcllmProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		newGPUInstanceTypesDataSource,
		newModelDataSource,
		newMemoryEstimateDataSource,
	}
}

func (p *mcllmProvider) Functions(context.Context) []func() function.Function {
	return []func() function.Function{newEstimateMemoryFunction, newEngineArgsFunction, newManifestsFunction}
}

// configFrom recovers the Config handed to a data source or resource;
// before configuration (validation) it is the default.
func configFrom(data any, diags *diag.Diagnostics) *Config {
	if data == nil {
		return DefaultConfig()
	}
	cfg, ok := data.(*Config)
	if !ok {
		diags.AddError("Unexpected provider data",
			fmt.Sprintf("Unexpected provider data of type %T; please report this issue to the provider developers.", data))
		return DefaultConfig()
	}
	return cfg
}
