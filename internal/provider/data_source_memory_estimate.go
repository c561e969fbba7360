package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/limits"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// The interfaces the data source implements, checked by the compiler.
var (
	_ datasource.DataSource              = (*memoryEstimateDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*memoryEstimateDataSource)(nil)
)

type memoryEstimateDataSource struct {
	cfg *Config
}

func newMemoryEstimateDataSource() datasource.DataSource { return &memoryEstimateDataSource{} }

type memoryEstimateModel struct {
	Model                  types.String    `tfsdk:"model"`
	Precision              types.String    `tfsdk:"precision"`
	KVCachePrecision       types.String    `tfsdk:"kv_cache_precision"`
	MaxContextTokens       types.Int64     `tfsdk:"max_context_tokens"`
	MaxConcurrentSequences types.Int64     `tfsdk:"max_concurrent_sequences"`
	InstanceType           types.String    `tfsdk:"instance_type"`
	GPUMemoryUtilization   types.Float64   `tfsdk:"gpu_memory_utilization"`
	TensorParallel         types.Int64     `tfsdk:"tensor_parallel"`
	PipelineParallel       types.Int64     `tfsdk:"pipeline_parallel"`
	Engine                 types.Object    `tfsdk:"engine"`
	Estimate               *estimateOutput `tfsdk:"estimate"`
}

func (d *memoryEstimateDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_memory_estimate"
}

func (d *memoryEstimateDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Estimates the GPU memory a catalog model needs when served by vLLM: weights at a precision, " +
			"KV cache for a context length and concurrency, and, for an instance type, the per-GPU need at every valid " +
			"tensor-parallel degree with how many KV tokens fit. The same figures as the `estimate_memory` function, for " +
			"CLIs without provider functions.",
		Attributes: map[string]schema.Attribute{
			"model": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Catalog model id, for example `llama-3.1-70b` (see the `mcllm_model` data source).",
			},
			"precision": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Weight precision: " + backtickList(memory.Precisions()) + ". `int4` is AWQ with group size 128.",
			},
			"kv_cache_precision": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "KV cache precision: " + backtickList(memory.KVPrecisions()) + ". Defaults to `auto` (the activation dtype).",
			},
			"max_context_tokens": schema.Int64Attribute{
				Required:            true,
				MarkdownDescription: withLimit("Longest sequence served, prompt plus output (vLLM `--max-model-len`). At most the model's context.", limits.ContextTokens),
			},
			"max_concurrent_sequences": schema.Int64Attribute{
				Required:            true,
				MarkdownDescription: withLimit("Sequences held in the KV cache at once at full context (vLLM `--max-num-seqs`).", limits.Concurrency),
			},
			"instance_type": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "`<cloud>/<instance_type>` to size against, for example `aws/p5.48xlarge`. Without it only model-level figures are returned.",
			},
			"gpu_memory_utilization": schema.Float64Attribute{
				Optional:            true,
				MarkdownDescription: "Overrides the provider's `gpu_memory_utilization` for this estimate.",
				Validators:          []validator.Float64{float64validator.Between(0, 1)},
			},
			"tensor_parallel": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: withLimit("Only this tensor-parallel degree; by default every valid degree is estimated.", limits.TensorParallel),
				Validators:          []validator.Int64{intLimit{limits.TensorParallel}},
			},
			"pipeline_parallel": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: withLimit("Pipeline-parallel degree; defaults to 1.", limits.PipelineParallel),
				Validators:          []validator.Int64{intLimit{limits.PipelineParallel}},
			},
			"engine": schema.SingleNestedAttribute{Optional: true,
				MarkdownDescription: "The vLLM release and scheduler settings the per-GPU figures follow, as a model shard's `engine` " +
					"takes them. Omitted: release `" + memory.DefaultEngineVersion + "` with its defaults.",
				Attributes: map[string]schema.Attribute{
					"version": schema.StringAttribute{Optional: true,
						MarkdownDescription: "vLLM release: " + backtickList(memory.EngineVersions()) + "."},
					"max_num_batched_tokens": schema.Int64Attribute{Optional: true,
						MarkdownDescription: withLimit("vLLM `--max-num-batched-tokens`; omitted, the release's default for the GPU.", limits.BatchedTokens)},
					"enable_chunked_prefill": schema.BoolAttribute{Optional: true,
						MarkdownDescription: "vLLM `--enable-chunked-prefill`; omitted, the release's default."},
					"enforce_eager": schema.BoolAttribute{Optional: true, MarkdownDescription: "vLLM `--enforce-eager`."},
					"max_loras": schema.Int64Attribute{Optional: true,
						MarkdownDescription: withLimit("LoRA adapters resident at once (vLLM `--max-loras`); omitted or 0, no LoRA.", limits.LoRAs)},
					"max_lora_rank": schema.Int64Attribute{Optional: true,
						MarkdownDescription: "vLLM `--max-lora-rank`; omitted, 16."},
				}},
			"estimate": schema.SingleNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The estimate; the same object `provider::mcllm::estimate_memory` returns.",
				Attributes:          estimateOutputAttributes(),
			},
		},
	}
}

func (d *memoryEstimateDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.cfg = configFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *memoryEstimateDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m memoryEstimateModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cfg := d.cfg
	if cfg == nil {
		cfg = DefaultConfig()
	}
	in := estimateInput{
		Model: m.Model.ValueString(), Precision: m.Precision.ValueString(), KVPrecision: m.KVCachePrecision.ValueString(),
		Context: m.MaxContextTokens.ValueInt64(), Concurrency: m.MaxConcurrentSequences.ValueInt64(),
		InstanceKey: m.InstanceType.ValueString(), Utilization: cfg.Utilization,
		TensorParallel: m.TensorParallel.ValueInt64(), PipelineParallel: m.PipelineParallel.ValueInt64(),
	}
	var settings memory.Request
	if !readEngineSettings(m.Engine, &settings, path.Root("engine"), &resp.Diagnostics) {
		return
	}
	in.Engine, in.MaxNumBatchedTokens, in.ChunkedPrefill, in.EnforceEager =
		settings.Engine, settings.MaxNumBatchedTokens, settings.ChunkedPrefill, settings.EnforceEager
	in.MaxLoRAs, in.MaxLoRARank = settings.MaxLoRAs, settings.MaxLoRARank
	if !m.GPUMemoryUtilization.IsNull() {
		in.Utilization = m.GPUMemoryUtilization.ValueFloat64()
	}
	if !m.TensorParallel.IsNull() && in.TensorParallel == 0 {
		resp.Diagnostics.AddAttributeError(path.Root("tensor_parallel"), "Invalid tensor parallel degree", "tensor_parallel must be at least 1.")
		return
	}
	out, ierr := computeEstimate(in)
	if ierr != nil {
		at := path.Root(ierr.Field)
		switch ierr.Field {
		case memory.FieldArchitecture, "":
			at = path.Root("model")
		case memory.FieldMaxBatchedTokens, memory.FieldMaxLoRAs, memory.FieldMaxLoRARank:
			at = path.Root("engine").AtName(ierr.Field)
		}
		resp.Diagnostics.AddAttributeError(at, ierr.Summary, ierr.Detail)
		return
	}
	m.Estimate = &out
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
