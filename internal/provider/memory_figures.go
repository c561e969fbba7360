package provider

import (
	"context"
	"reflect"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// memoryFigures is the memory of one replica before per-GPU overhead, as
// the model shard's `memory`, the mcllm_memory_estimate data source and the
// estimate_memory function all report it: one type, built once from the
// estimate (memoryFiguresOf), with one attribute definition
// (memoryFigureAttributes).
type memoryFigures struct {
	Parameters           int64   `tfsdk:"parameters"`
	WeightsBytes         int64   `tfsdk:"weights_bytes"`
	WeightsGiB           float64 `tfsdk:"weights_gib"`
	KVCacheBytesPerToken int64   `tfsdk:"kv_cache_bytes_per_token"`
	KVCacheTokens        int64   `tfsdk:"kv_cache_tokens"`
	KVCacheBytes         int64   `tfsdk:"kv_cache_bytes"`
	KVCacheGiB           float64 `tfsdk:"kv_cache_gib"`
	TotalBytes           int64   `tfsdk:"total_bytes"`
	TotalGiB             float64 `tfsdk:"total_gib"`
}

// memoryFigureDocs describes each figure, by attribute name.
var memoryFigureDocs = map[string]string{
	"parameters":               "Total parameters.",
	"weights_bytes":            "Weights of the whole model at `precision`, bytes; int4 includes group scales and zeros, quantized formats keep embeddings at 16 bits.",
	"weights_gib":              "`weights_bytes` in GiB.",
	"kv_cache_bytes_per_token": "KV cache of one token across all layers, bytes (MLA: one latent per layer).",
	"kv_cache_tokens":          "Tokens of KV cache reserved per replica: `max_concurrent_sequences` × `max_context_tokens`, each sequence rounded up to whole blocks of 16.",
	"kv_cache_bytes":           "KV cache of `kv_cache_tokens`, bytes.",
	"kv_cache_gib":             "`kv_cache_bytes` in GiB.",
	"total_bytes":              "`weights_bytes` + `kv_cache_bytes`, before per-GPU runtime overhead (which depends on the GPU).",
	"total_gib":                "`total_bytes` in GiB.",
}

func memoryFiguresOf(e *memory.Estimate) memoryFigures {
	return memoryFigures{
		Parameters: e.Params.Total(), WeightsBytes: e.WeightBytes, WeightsGiB: gib(e.WeightBytes),
		KVCacheBytesPerToken: e.KVBytesPerToken, KVCacheTokens: e.KVTokens,
		KVCacheBytes: e.KVBytes, KVCacheGiB: gib(e.KVBytes),
		TotalBytes: e.WeightBytes + e.KVBytes, TotalGiB: gib(e.WeightBytes + e.KVBytes),
	}
}

// memoryFigureAttributes is the figures' schema in either schema package:
// integer and number make a computed attribute of a description.
func memoryFigureAttributes[A any](integer, number func(desc string) A) map[string]A {
	out := map[string]A{}
	t := reflect.TypeFor[memoryFigures]()
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("tfsdk")
		if f.Type.Kind() == reflect.Float64 {
			out[name] = number(memoryFigureDocs[name])
		} else {
			out[name] = integer(memoryFigureDocs[name])
		}
	}
	return out
}

// terraformValue is the figures as a raw object of type t.
func (f memoryFigures) terraformValue(ctx context.Context, t map[string]attr.Type) (tftypes.Value, error) {
	v, err := valueFrom(ctx, types.ObjectType{AttrTypes: t}, reflect.ValueOf(f))
	if err != nil {
		return tftypes.Value{}, err
	}
	return v.ToTerraformValue(ctx)
}
