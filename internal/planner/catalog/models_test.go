package catalog

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestCatalogModelsParamsMatchPublished(t *testing.T) {
	ms := Models()
	if len(ms) < 16 {
		t.Fatalf("catalog has %d models, want at least 16", len(ms))
	}
	for _, m := range ms {
		t.Run(m.ID, func(t *testing.T) {
			p := m.Params()
			got := float64(p.Total())
			if rel := math.Abs(got-m.PublishedParams) / m.PublishedParams; rel > 0.01 {
				t.Errorf("computed %.3f B params, published %.3f B (%.2f%% off, limit 1%%)", got/1e9, m.PublishedParams/1e9, rel*100)
			}
			if m.PublishedActiveParams > 0 {
				active := float64(p.Active)
				if rel := math.Abs(active-m.PublishedActiveParams) / m.PublishedActiveParams; rel > 0.03 {
					t.Errorf("computed %.2f B active params, published %.2f B (%.2f%% off)", active/1e9, m.PublishedActiveParams/1e9, rel*100)
				}
			} else if p.Active != p.Total() {
				t.Errorf("dense model: active %d != total %d", p.Active, p.Total())
			}
			if p.KVProjection <= 0 || p.KVProjection >= p.Linear {
				t.Errorf("KV projection %d outside (0, linear %d)", p.KVProjection, p.Linear)
			}
		})
	}
}

// Exact counts for two configs checked by hand against the published
// safetensors totals, so that a change to the counting is noticed at once.
func TestParamsExact(t *testing.T) {
	for id, want := range map[string]int64{
		"llama-3.1-8b":  8_030_261_248,
		"llama-3.1-70b": 70_553_706_496,
	} {
		m, err := LookupModel(id)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Params().Total(); got != want {
			t.Errorf("%s: %d params, want %d", id, got, want)
		}
	}
}

func TestLookupModelSuggests(t *testing.T) {
	if _, err := LookupModel("LLAMA-3.1-70B"); err != nil {
		t.Errorf("case-insensitive look-up failed: %v", err)
	}
	for _, tc := range []struct{ in, want string }{
		{"llama-3.1-70", "llama-3.1-70b"},
		{"lama-3.1-8b", "llama-3.1-8b"},
		{"mixtral-8x7", "mixtral-8x7b"},
		{"deepseek-v3.1", "deepseek-v3"},
	} {
		_, err := LookupModel(tc.in)
		var nf *NotFoundError
		if !errors.As(err, &nf) {
			t.Fatalf("%s: error %v is not a NotFoundError", tc.in, err)
		}
		if len(nf.Suggestions) == 0 || nf.Suggestions[0] != tc.want {
			t.Errorf("%s: suggestions %v, want %s first", tc.in, nf.Suggestions, tc.want)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: message %q does not name %s", tc.in, err, tc.want)
		}
	}
	_, err := LookupModel("completely-unrelated-name")
	var nf *NotFoundError
	if !errors.As(err, &nf) || len(nf.Suggestions) != 0 {
		t.Errorf("far-off name got suggestions: %v", err)
	}
}

func TestParseModelsRejectsMalformed(t *testing.T) {
	const valid = `"name":"x","hf_repo":"x/x","layers":2,"hidden_size":64,"attention_heads":4,"kv_heads":2,"head_dim":16,"vocab_size":100,"intermediate_size":128,"max_context":1024,"tied_embeddings":false,"mlp":"gated","norm":"rmsnorm","norms_per_layer":2,"attention_bias":false,"published_params":1,"source":"test"`
	if _, err := ParseModels([]byte(`[{"id":"ok",` + valid + `}]`)); err != nil {
		t.Fatalf("valid row rejected: %v", err)
	}
	for name, tc := range map[string]struct{ row, want string }{
		"unknown field":   {`{"id":"a","layer_count":3,` + valid + `}`, "unknown field"},
		"upper-case id":   {`{"id":"A",` + valid + `}`, "lower case"},
		"duplicate id":    {`{"id":"a",` + valid + `},{"id":"a",` + valid + `}`, "duplicate"},
		"heads vs kv":     {`{"id":"a",` + strings.Replace(valid, `"kv_heads":2`, `"kv_heads":3`, 1) + `}`, "multiple of kv_heads"},
		"zero layers":     {`{"id":"a",` + strings.Replace(valid, `"layers":2`, `"layers":0`, 1) + `}`, "layers must be positive"},
		"bad mlp":         {`{"id":"a",` + strings.Replace(valid, `"mlp":"gated"`, `"mlp":"swish"`, 1) + `}`, "mlp"},
		"experts no size": {`{"id":"a","experts":8,"active_experts":2,` + valid + `}`, "moe_intermediate_size"},
		"too many active": {`{"id":"a","experts":2,"active_experts":4,"moe_intermediate_size":8,` + valid + `}`, "exceeds experts"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseModels([]byte("[" + tc.row + "]"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
