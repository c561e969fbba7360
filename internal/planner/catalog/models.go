package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/limits"
)

// MLP kinds.
const (
	MLPGated = "gated" // SwiGLU / GeGLU: gate, up and down projections
	MLPPlain = "plain" // up and down projections (GELU)
)

// Norm kinds.
const (
	NormRMS   = "rmsnorm"   // weight only
	NormLayer = "layernorm" // weight and bias
)

// Architecture holds the fields of a model's config.json that decide its
// memory: the parameter count (weights) and the bytes of KV cache per token.
type Architecture struct {
	Layers       int `json:"layers"`
	Hidden       int `json:"hidden_size"`
	Heads        int `json:"attention_heads"`
	KVHeads      int `json:"kv_heads"`
	HeadDim      int `json:"head_dim"`
	Vocab        int `json:"vocab_size"`
	Intermediate int `json:"intermediate_size"`
	// MaxContext is max_position_embeddings (the longest context served).
	MaxContext     int    `json:"max_context"`
	TiedEmbeddings bool   `json:"tied_embeddings"`
	MLP            string `json:"mlp"`
	Norm           string `json:"norm"`
	NormsPerLayer  int    `json:"norms_per_layer"`
	// AttentionBias: q, k and v projections carry a bias (Qwen2).
	AttentionBias bool `json:"attention_bias"`
	// SlidingWindow is the window of the sliding-window layers, 0 if none.
	// The estimator reserves full-length KV for all layers, as vLLM does
	// without its hybrid allocator.
	SlidingWindow int `json:"sliding_window,omitempty"`

	// Mixture of experts: Experts routed experts per MoE layer, of which
	// ActiveExperts serve each token; SharedExperts always run. The first
	// DenseLayers layers use a dense MLP of Intermediate width.
	Experts         int `json:"experts,omitempty"`
	ActiveExperts   int `json:"active_experts,omitempty"`
	SharedExperts   int `json:"shared_experts,omitempty"`
	MoEIntermediate int `json:"moe_intermediate_size,omitempty"`
	DenseLayers     int `json:"dense_layers,omitempty"`

	// Multi-head latent attention (DeepSeek-V2/V3). KVLoRARank > 0 turns it on.
	QLoRARank     int `json:"q_lora_rank,omitempty"`
	KVLoRARank    int `json:"kv_lora_rank,omitempty"`
	QKNopeHeadDim int `json:"qk_nope_head_dim,omitempty"`
	QKRopeHeadDim int `json:"qk_rope_head_dim,omitempty"`
	VHeadDim      int `json:"v_head_dim,omitempty"`
}

// Model is a catalog entry: an architecture plus where its figures come from.
type Model struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	HFRepo string `json:"hf_repo"`
	Architecture
	// PublishedParams is the total parameter count its publisher states;
	// Params() must agree within 1%.
	PublishedParams       float64 `json:"published_params"`
	PublishedActiveParams float64 `json:"published_active_params,omitempty"`
	// CheckpointPrecision is the precision HFRepo stores its weights at
	// (a memory precision name); "" is 16-bit.
	CheckpointPrecision string `json:"checkpoint_precision,omitempty"`
	Source              string `json:"source"`
	Notes               string `json:"notes,omitempty"`
}

// IsMoE reports whether the model routes tokens to experts.
func (a Architecture) IsMoE() bool { return a.Experts > 0 }

// IsMLA reports whether the model uses multi-head latent attention.
func (a Architecture) IsMLA() bool { return a.KVLoRARank > 0 }

// ParamBreakdown splits a model's parameters by where they live, which
// decides how they quantize and how tensor / pipeline parallelism splits them.
type ParamBreakdown struct {
	Embedding int64 // input token embedding
	LMHead    int64 // output projection; 0 when tied to the embedding
	// Linear is the weight of every quantizable linear layer (attention
	// projections, MLP and expert matrices), all layers.
	Linear int64
	// KVProjection is the part of Linear that projects K and V; it is
	// replicated, not split, when tensor parallelism exceeds the KV heads.
	KVProjection int64
	// Replicated is the part of Linear every tensor-parallel rank holds
	// whole: MLA's down-projections q_a_proj and kv_a_proj_with_mqa, which
	// vLLM builds as ReplicatedLinear (vllm/model_executor/models/
	// deepseek_v2.py, DeepseekV2MLAAttention).
	Replicated int64
	// Other is norms, biases and MoE routers: small, kept in 16 bits.
	Other int64
	// Active is the parameters one token runs through (all of them for a
	// dense model; shared parts plus the active experts for MoE).
	Active int64
}

// Total is the full parameter count.
func (p ParamBreakdown) Total() int64 { return p.Embedding + p.LMHead + p.Linear + p.Other }

// Params computes the parameter breakdown from the architecture fields.
func (a Architecture) Params() ParamBreakdown {
	h := int64(a.Hidden)
	normSize := h
	if a.Norm == NormLayer {
		normSize = 2 * h
	}
	mlpMatrices := int64(3)
	if a.MLP == MLPPlain {
		mlpMatrices = 2
	}

	var p ParamBreakdown
	p.Embedding = int64(a.Vocab) * h
	if !a.TiedEmbeddings {
		p.LMHead = int64(a.Vocab) * h
	}
	p.Other = normSize // final norm

	var attnLinear, attnKV, attnOther, attnReplicated int64
	heads := int64(a.Heads)
	if a.IsMLA() {
		qHead := int64(a.QKNopeHeadDim + a.QKRopeHeadDim)
		attnReplicated = h * int64(a.KVLoRARank+a.QKRopeHeadDim)
		if a.QLoRARank > 0 {
			attnReplicated += h * int64(a.QLoRARank)
			attnLinear += h*int64(a.QLoRARank) + int64(a.QLoRARank)*heads*qHead
			attnOther += int64(a.QLoRARank) // q_a_layernorm
		} else {
			attnLinear += h * heads * qHead
		}
		attnKV = h*int64(a.KVLoRARank+a.QKRopeHeadDim) + int64(a.KVLoRARank)*heads*int64(a.QKNopeHeadDim+a.VHeadDim)
		attnLinear += attnKV
		attnOther += int64(a.KVLoRARank) // kv_a_layernorm
		attnLinear += heads * int64(a.VHeadDim) * h
	} else {
		q := h * heads * int64(a.HeadDim)
		attnKV = 2 * h * int64(a.KVHeads) * int64(a.HeadDim)
		attnLinear = q + attnKV + heads*int64(a.HeadDim)*h
		if a.AttentionBias {
			attnOther += heads*int64(a.HeadDim) + 2*int64(a.KVHeads)*int64(a.HeadDim)
		}
	}
	layerNorms := int64(a.NormsPerLayer) * normSize

	denseMLP := mlpMatrices * h * int64(a.Intermediate)
	expertMLP := mlpMatrices * h * int64(a.MoEIntermediate)
	layers := int64(a.Layers)
	denseLayers := layers
	if a.IsMoE() {
		denseLayers = int64(a.DenseLayers)
	}
	moeLayers := layers - denseLayers

	p.Linear = layers*attnLinear + denseLayers*denseMLP + moeLayers*int64(a.Experts+a.SharedExperts)*expertMLP
	p.KVProjection = layers * attnKV
	p.Replicated = layers * attnReplicated
	router := h * int64(a.Experts)
	p.Other += layers*(attnOther+layerNorms) + moeLayers*router

	p.Active = p.Embedding + p.LMHead + p.Other + layers*attnLinear + denseLayers*denseMLP +
		moeLayers*int64(a.ActiveExperts+a.SharedExperts)*expertMLP
	return p
}

// LimitedField is an architecture field with its documented range.
type LimitedField struct {
	Limit limits.Int
	Value int
}

// LimitedFields are the fields a custom architecture sets, each with its
// range in the limits table (positive values are checked above).
func (a Architecture) LimitedFields() []LimitedField {
	return []LimitedField{
		{limits.Layers, a.Layers}, {limits.HiddenSize, a.Hidden}, {limits.AttentionHeads, a.Heads},
		{limits.KVHeads, a.KVHeads}, {limits.HeadDim, a.HeadDim}, {limits.VocabSize, a.Vocab},
		{limits.IntermediateSize, a.Intermediate}, {limits.ArchContext, a.MaxContext}, {limits.Experts, a.Experts},
		{limits.ActiveExperts, a.ActiveExperts}, {limits.MoEIntermediate, a.MoEIntermediate},
	}
}

// Validate checks that the architecture is complete and self-consistent.
// Errors name the config field at fault.
func (a Architecture) Validate() error {
	var problems []string
	positive := func(name string, v int) {
		if v <= 0 {
			problems = append(problems, fmt.Sprintf("%s must be positive, got %d", name, v))
		}
	}
	positive("layers", a.Layers)
	positive("hidden_size", a.Hidden)
	positive("attention_heads", a.Heads)
	positive("kv_heads", a.KVHeads)
	positive("vocab_size", a.Vocab)
	positive("max_context", a.MaxContext)
	if !a.IsMLA() {
		positive("head_dim", a.HeadDim)
	}
	if !a.IsMoE() || a.DenseLayers > 0 {
		positive("intermediate_size", a.Intermediate)
	}
	for _, f := range a.LimitedFields() {
		if p := f.Limit.Check(int64(f.Value)); p != "" && f.Value > 0 {
			problems = append(problems, p)
		}
	}
	if a.KVHeads > 0 && a.Heads > 0 && a.Heads%a.KVHeads != 0 {
		problems = append(problems, fmt.Sprintf("attention_heads (%d) must be a multiple of kv_heads (%d)", a.Heads, a.KVHeads))
	}
	switch a.MLP {
	case MLPGated, MLPPlain:
	default:
		problems = append(problems, fmt.Sprintf("mlp %q is not gated or plain", a.MLP))
	}
	switch a.Norm {
	case NormRMS, NormLayer:
	default:
		problems = append(problems, fmt.Sprintf("norm %q is not rmsnorm or layernorm", a.Norm))
	}
	if a.NormsPerLayer < 0 {
		problems = append(problems, "norms_per_layer must not be negative")
	}
	if a.IsMoE() {
		positive("active_experts", a.ActiveExperts)
		positive("moe_intermediate_size", a.MoEIntermediate)
		if a.ActiveExperts > a.Experts {
			problems = append(problems, fmt.Sprintf("active_experts (%d) exceeds experts (%d)", a.ActiveExperts, a.Experts))
		}
		if a.DenseLayers < 0 || a.DenseLayers >= a.Layers {
			problems = append(problems, fmt.Sprintf("dense_layers (%d) must be in 0..layers-1", a.DenseLayers))
		}
	} else if a.ActiveExperts != 0 || a.SharedExperts != 0 || a.MoEIntermediate != 0 || a.DenseLayers != 0 {
		problems = append(problems, "expert fields set on a model without experts")
	}
	if a.IsMLA() {
		positive("qk_nope_head_dim", a.QKNopeHeadDim)
		positive("qk_rope_head_dim", a.QKRopeHeadDim)
		positive("v_head_dim", a.VHeadDim)
	}
	if a.SlidingWindow < 0 {
		problems = append(problems, "sliding_window must not be negative")
	}
	if len(problems) == 0 {
		// The fields are in range, so the count fits int64.
		if p := limits.Parameters.Check(a.Params().Total()); p != "" {
			problems = append(problems, "the model's "+p)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

//go:embed data/models.json
var modelsJSON []byte

var models = mustLoadModels(modelsJSON)

// Models returns every catalog model sorted by id.
func Models() []Model {
	out := make([]Model, len(models))
	copy(out, models)
	return out
}

// ModelIDs returns the catalog model ids, sorted.
func ModelIDs() []string {
	ids := make([]string, len(models))
	for i, m := range models {
		ids[i] = m.ID
	}
	return ids
}

// LookupModel finds a catalog model by id (case-insensitive). When there is
// none, the error names the nearest ids.
func LookupModel(id string) (Model, error) {
	for _, m := range models {
		if strings.EqualFold(m.ID, id) {
			return m, nil
		}
	}
	return Model{}, &NotFoundError{Kind: "model", Name: id, Suggestions: Nearest(id, ModelIDs(), 3)}
}

func mustLoadModels(data []byte) []Model {
	ms, err := ParseModels(data)
	if err != nil {
		panic("catalog: embedded models.json is invalid: " + err.Error())
	}
	return ms
}

// ParseModels decodes and validates a model table.
func ParseModels(data []byte) ([]Model, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var rows []Model
	if err := dec.Decode(&rows); err != nil {
		return nil, fmt.Errorf("decoding models: %w", err)
	}
	seen := map[string]bool{}
	for i, m := range rows {
		if m.ID == "" || m.ID != strings.ToLower(m.ID) {
			return nil, fmt.Errorf("model row %d: id %q must be non-empty lower case", i, m.ID)
		}
		if seen[m.ID] {
			return nil, fmt.Errorf("model row %d: duplicate id %s", i, m.ID)
		}
		seen[m.ID] = true
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("model %s: %w", m.ID, err)
		}
		if m.PublishedParams <= 0 || m.Source == "" {
			return nil, fmt.Errorf("model %s: published_params and source are required", m.ID)
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
	return rows, nil
}
