// Package memory estimates the GPU memory an LLM serving engine (vLLM's
// model) needs for a model: weights at a precision, KV cache for a context
// and concurrency, and per-GPU runtime overhead, at a tensor-parallel degree t
// and pipeline degree p. It also answers the reverse question: how many KV
// tokens fit on a GPU once the model is loaded.
//
// Every constant names its source: the vLLM code path or log it was read
// from. The guide "memory-model" in docs/ explains the whole model.
package memory

import (
	"fmt"
	"sort"
)

// Precision is the storage format of a model's weights.
type Precision string

// Weight precisions. Int4 is AWQ with group size 128, the common checkpoint
// format; Int4GPTQ adds GPTQ's act-order index.
const (
	FP32     Precision = "fp32"
	BF16     Precision = "bf16"
	FP16     Precision = "fp16"
	FP8      Precision = "fp8"
	Int8     Precision = "int8"
	Int4     Precision = "int4"
	Int4AWQ  Precision = "int4-awq"
	Int4GPTQ Precision = "int4-gptq"
)

// QuantGroupSize is the group size of AWQ / GPTQ int4 checkpoints: one fp16
// scale and one 4-bit zero point per 128 weights of an input row.
const QuantGroupSize = 128

var precisions = map[Precision]bool{FP32: true, BF16: true, FP16: true, FP8: true, Int8: true, Int4: true, Int4AWQ: true, Int4GPTQ: true}

// Precisions lists the accepted weight precisions, sorted.
func Precisions() []string { return sortedKeys(precisions) }

// ParsePrecision validates a weight precision name.
func ParsePrecision(s string) (Precision, error) {
	p := Precision(s)
	if !precisions[p] {
		return "", &InputError{Field: FieldPrecision, Msg: fmt.Sprintf("unknown precision %q; valid values are %s", s, quoteList(Precisions()))}
	}
	return p, nil
}

// IsInt4 reports whether the precision is a 4-bit group-quantized format.
func (p Precision) IsInt4() bool { return p == Int4 || p == Int4AWQ || p == Int4GPTQ }

// linearBytesPerParam is the storage of one weight of a quantizable linear
// layer, scales included. AWQ int4 g128: 4 bits + an fp16 scale and a 4-bit
// zero per group = 0.5 + 2/128 + 0.5/128 = 0.5195 B (vLLM awq.py shapes).
// GPTQ adds g_idx, one int32 per input row: 4/N bytes for an N-wide output,
// estimated with N = hidden size. fp8 / int8 per-channel scales are < 0.1%
// and left out.
func (p Precision) linearBytesPerParam(hidden int) float64 {
	switch p {
	case FP32:
		return 4
	case BF16, FP16:
		return 2
	case FP8, Int8:
		return 1
	case Int4, Int4AWQ:
		return awqBytesPerParam
	case Int4GPTQ:
		return awqBytesPerParam + 4/float64(hidden)
	}
	panic("memory: unvalidated precision " + string(p))
}

const awqBytesPerParam = 0.5 + 2.0/QuantGroupSize + 0.5/QuantGroupSize

// denseBytesPerParam is the storage of the parameters quantization leaves
// alone: embeddings, lm_head, norms, biases and routers stay 16-bit (fp32 in
// an fp32 model). AWQ / GPTQ / fp8 checkpoints keep them unquantized.
func (p Precision) denseBytesPerParam() float64 {
	if p == FP32 {
		return 4
	}
	return 2
}

// activationBytes is the element size activations are computed in.
func (p Precision) activationBytes() int64 {
	if p == FP32 {
		return 4
	}
	return 2
}

// KVPrecision is the storage format of the KV cache (vLLM --kv-cache-dtype).
type KVPrecision string

// KV cache precisions. KVAuto follows the activation dtype: the model's own
// for fp32 / bf16 / fp16, bf16 for quantized weights.
const (
	KVAuto KVPrecision = "auto"
	KVFP32 KVPrecision = "fp32"
	KVBF16 KVPrecision = "bf16"
	KVFP16 KVPrecision = "fp16"
	KVFP8  KVPrecision = "fp8"
)

var kvPrecisions = map[KVPrecision]bool{KVAuto: true, KVFP32: true, KVBF16: true, KVFP16: true, KVFP8: true}

// KVPrecisions lists the accepted KV cache precisions, sorted.
func KVPrecisions() []string { return sortedKeys(kvPrecisions) }

// ParseKVPrecision validates a KV cache precision name; "" means auto.
func ParseKVPrecision(s string) (KVPrecision, error) {
	if s == "" {
		return KVAuto, nil
	}
	p := KVPrecision(s)
	if !kvPrecisions[p] {
		return "", &InputError{Field: FieldKVPrecision, Msg: fmt.Sprintf("unknown KV cache precision %q; valid values are %s", s, quoteList(KVPrecisions()))}
	}
	return p, nil
}

// Bytes is the element size of the KV cache for weights stored at w.
func (k KVPrecision) Bytes(w Precision) int64 {
	switch k {
	case KVFP32:
		return 4
	case KVBF16, KVFP16:
		return 2
	case KVFP8:
		return 1
	}
	return w.activationBytes()
}

// Resolve names the concrete KV dtype behind auto: the activation dtype,
// which is the weights' own for fp32 / bf16 / fp16 and bf16 for quantized
// weights.
func (k KVPrecision) Resolve(w Precision) KVPrecision {
	if k != KVAuto {
		return k
	}
	switch w {
	case FP32:
		return KVFP32
	case FP16:
		return KVFP16
	}
	return KVBF16
}

func sortedKeys[K ~string](m map[K]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return out
}

func quoteList(vals []string) string {
	s := ""
	for i, v := range vals {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%q", v)
	}
	return s
}
