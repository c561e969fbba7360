package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// The interface the data source implements, checked by the compiler.
var _ datasource.DataSource = (*modelDataSource)(nil)

type modelDataSource struct{}

func newModelDataSource() datasource.DataSource { return &modelDataSource{} }

type modelDataModel struct {
	ID                    types.String `tfsdk:"id"`
	Name                  string       `tfsdk:"name"`
	HFRepo                string       `tfsdk:"hf_repo"`
	Layers                int64        `tfsdk:"layers"`
	HiddenSize            int64        `tfsdk:"hidden_size"`
	AttentionHeads        int64        `tfsdk:"attention_heads"`
	KVHeads               int64        `tfsdk:"kv_heads"`
	HeadDim               int64        `tfsdk:"head_dim"`
	VocabSize             int64        `tfsdk:"vocab_size"`
	IntermediateSize      int64        `tfsdk:"intermediate_size"`
	MaxContext            int64        `tfsdk:"max_context_tokens"`
	TiedEmbeddings        bool         `tfsdk:"tied_embeddings"`
	SlidingWindow         int64        `tfsdk:"sliding_window"`
	Experts               int64        `tfsdk:"experts"`
	ActiveExperts         int64        `tfsdk:"active_experts"`
	SharedExperts         int64        `tfsdk:"shared_experts"`
	MoEIntermediate       int64        `tfsdk:"moe_intermediate_size"`
	KVLoRARank            int64        `tfsdk:"kv_lora_rank"`
	QKRopeHeadDim         int64        `tfsdk:"qk_rope_head_dim"`
	Attention             string       `tfsdk:"attention"`
	Parameters            int64        `tfsdk:"parameters"`
	ActiveParameters      int64        `tfsdk:"active_parameters"`
	PublishedParameters   float64      `tfsdk:"published_parameters"`
	KVBytesPerToken       int64        `tfsdk:"kv_cache_bytes_per_token"`
	WeightsBytesBF16      int64        `tfsdk:"weights_bytes_bf16"`
	TensorParallelDegrees []int64      `tfsdk:"tensor_parallel_degrees"`
	Source                string       `tfsdk:"source"`
	Notes                 string       `tfsdk:"notes"`
}

func (d *modelDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_model"
}

func (d *modelDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Architecture facts of a model in the built-in catalog, read from its `config.json`, with the " +
			"parameter count computed from them (it matches the published total within 1%) and the KV cache per token.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Catalog id of the model, case-insensitive: " + backtickList(catalog.ModelIDs()) + ".",
			},
			"name":                     dsString("Display name."),
			"hf_repo":                  dsString("Hugging Face repository the configuration describes."),
			"layers":                   dsInteger("Transformer layers (`num_hidden_layers`)."),
			"hidden_size":              dsInteger("Hidden size."),
			"attention_heads":          dsInteger("Attention (query) heads."),
			"kv_heads":                 dsInteger("Key/value heads (equal to `attention_heads` for multi-head attention; for multi-head latent attention the query heads, as the config states)."),
			"head_dim":                 dsInteger("Dimension of one attention head; 0 for multi-head latent attention."),
			"vocab_size":               dsInteger("Vocabulary size."),
			"intermediate_size":        dsInteger("Width of the dense MLP."),
			"max_context_tokens":       dsInteger("Longest context the model serves (`max_position_embeddings`)."),
			"tied_embeddings":          schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether the output projection shares the input embedding's weights."},
			"sliding_window":           dsInteger("Window of the sliding-window attention layers; 0 when none. The estimator still reserves full-length KV for them, as vLLM does without its hybrid allocator."),
			"experts":                  dsInteger("Routed experts per MoE layer; 0 for dense models."),
			"active_experts":           dsInteger("Experts each token is routed to."),
			"shared_experts":           dsInteger("Experts every token runs through."),
			"moe_intermediate_size":    dsInteger("Width of one expert's MLP."),
			"kv_lora_rank":             dsInteger("Rank of the latent KV of multi-head latent attention; 0 otherwise."),
			"qk_rope_head_dim":         dsInteger("Rotary part of the query/key head under multi-head latent attention; 0 otherwise."),
			"attention":                dsString("`mha`, `gqa` or `mla`."),
			"parameters":               dsInteger("Total parameters computed from the architecture."),
			"active_parameters":        dsInteger("Parameters one token runs through (equal to `parameters` for dense models)."),
			"published_parameters":     schema.Float64Attribute{Computed: true, MarkdownDescription: "Total parameters its publisher states."},
			"kv_cache_bytes_per_token": dsInteger("KV cache of one token across all layers at 16-bit precision, for one replica."),
			"weights_bytes_bf16":       dsInteger("Weight memory at bf16, in bytes."),
			"tensor_parallel_degrees": schema.ListAttribute{
				Computed: true, ElementType: types.Int64Type,
				MarkdownDescription: "Tensor-parallel degrees up to 8 that the model's head counts allow at bf16.",
			},
			"source": dsString("Where the figures come from (source ids of the facts sheet)."),
			"notes":  dsString("Caveats about the figures."),
		},
	}
}

func (d *modelDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m modelDataModel
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("id"), &m.ID)...)
	if resp.Diagnostics.HasError() {
		return
	}
	model, err := catalog.LookupModel(m.ID.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("id"), "Unknown model", err.Error())
		return
	}
	a := model.Architecture
	params := a.Params()
	est, err := memory.New(memory.Request{Arch: a, Precision: memory.BF16, ContextTokens: 1, Concurrency: 1})
	if err != nil {
		resp.Diagnostics.AddError("Catalog model failed the estimator", err.Error())
		return
	}
	m = modelDataModel{
		ID: m.ID, Name: model.Name, HFRepo: model.HFRepo,
		Layers: int64(a.Layers), HiddenSize: int64(a.Hidden), AttentionHeads: int64(a.Heads), KVHeads: int64(a.KVHeads),
		HeadDim: int64(a.HeadDim), VocabSize: int64(a.Vocab), IntermediateSize: int64(a.Intermediate),
		MaxContext: int64(a.MaxContext), TiedEmbeddings: a.TiedEmbeddings, SlidingWindow: int64(a.SlidingWindow),
		Experts: int64(a.Experts), ActiveExperts: int64(a.ActiveExperts), SharedExperts: int64(a.SharedExperts),
		MoEIntermediate: int64(a.MoEIntermediate), KVLoRARank: int64(a.KVLoRARank), QKRopeHeadDim: int64(a.QKRopeHeadDim),
		Attention: attentionKind(a), Parameters: params.Total(), ActiveParameters: params.Active,
		PublishedParameters: model.PublishedParams, KVBytesPerToken: est.KVBytesPerToken, WeightsBytesBF16: est.WeightBytes,
		TensorParallelDegrees: ints64(est.ValidTensorParallel(8)), Source: model.Source, Notes: model.Notes,
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func attentionKind(a catalog.Architecture) string {
	switch {
	case a.IsMLA():
		return "mla"
	case a.KVHeads == a.Heads:
		return "mha"
	}
	return "gqa"
}

func ints64(xs []int) []int64 {
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = int64(x)
	}
	return out
}
