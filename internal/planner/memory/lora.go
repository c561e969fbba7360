package memory

import (
	"fmt"
	"slices"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/limits"
)

// LoRA adapters. vLLM pre-allocates, when a model loads with --enable-lora,
// GPU buffers for max_loras adapters at max_lora_rank on every supported
// linear module of every decoder layer (vllm/lora/layers/base_linear.py,
// BaseLinearLayerWithLoRA.create_lora_weights: per slice, lora_a_stacked
// (max_loras, 1, rank, input) and lora_b_stacked (max_loras, 1, output,
// rank), in lora_dtype, which "auto" resolves to the model's activation
// dtype, 16-bit for every precision mcllm plans). The buffers exist before
// the start-up profiler runs (vllm/lora/model_manager.py, called from
// load_lora_model), so they count with the weights, against the KV cache
// (vllm-project/vllm#5193: "it preallocates GPU buffers to store the LoRA
// weights"; docs/features/lora.md, "Configuring max_lora_rank"). The
// profiler's dummy run loads max_loras warm-up adapters of rank 8 into the
// same slots, so it adds nothing beyond them.

// LoRARanks are the ranks vLLM accepts for --max-lora-rank
// (vllm/config/lora.py, MaxLoRARanks).
var LoRARanks = []int{1, 8, 16, 32, 64, 128, 256, 320, 512}

// loraDtypeBytes is lora_dtype "auto": the 16-bit activation dtype.
const loraDtypeBytes = 2

// Fields of the LoRA settings, for errors.
const (
	FieldMaxLoRAs    = "max_loras"
	FieldMaxLoRARank = "max_lora_rank"
)

// checkLoRA validates the LoRA settings of a request.
func checkLoRA(req Request) error {
	if req.MaxLoRAs == 0 && req.MaxLoRARank == 0 {
		return nil
	}
	if p := limits.LoRAs.Check(int64(req.MaxLoRAs)); p != "" || req.MaxLoRAs == 0 {
		if p == "" {
			p = "max_loras must be at least 1 when max_lora_rank is set"
		}
		return &InputError{Field: FieldMaxLoRAs, Msg: p}
	}
	rank := req.MaxLoRARank
	if rank == 0 {
		rank = DefaultLoRARank
	}
	if !slices.Contains(LoRARanks, rank) {
		return &InputError{Field: FieldMaxLoRARank, Msg: fmt.Sprintf("vLLM accepts a max_lora_rank of %v, got %d", LoRARanks, rank)}
	}
	if req.Arch.IsMoE() || req.Arch.IsMLA() {
		return &InputError{Field: FieldMaxLoRAs, Msg: "mcllm models the LoRA buffers of dense attention and MLP layers only; " +
			"the expert and latent-attention buffers of this architecture are not modelled, so its LoRA memory cannot be planned"}
	}
	return nil
}

// DefaultLoRARank is vLLM's --max-lora-rank default (vllm/config/lora.py).
const DefaultLoRARank = 16

// LoRARank is the rank the buffers are sized for: MaxLoRARank, or vLLM's
// default; 0 without LoRA.
func (r Request) LoRARank() int {
	switch {
	case r.MaxLoRAs == 0:
		return 0
	case r.MaxLoRARank == 0:
		return DefaultLoRARank
	}
	return r.MaxLoRARank
}

// loraBytesPerLayer is the LoRA buffers of one decoder layer on one GPU of a
// tensor-parallel group of t, without --fully-sharded-loras: column-parallel
// modules (qkv, gate_up) keep A whole and split B's output t ways;
// row-parallel ones (o, down) split A's input and keep B whole.
func (e *Estimate) loraBytesPerLayer(t int) int64 {
	rank := e.LoRARank()
	if rank == 0 {
		return 0
	}
	a := e.Arch
	h, r := int64(a.Hidden), int64(rank)
	q := int64(a.Heads*a.HeadDim) / int64(t)
	kv := int64(max(1, a.KVHeads/t) * a.HeadDim) // K/V heads per rank, replicated beyond the KV heads
	inter := int64(a.Intermediate) / int64(t)
	elems := 3*r*h + r*(q+2*kv) // qkv: three A slices of the hidden size, B of the rank's heads
	elems += r*q + r*h          // o_proj
	if a.MLP == catalog.MLPPlain {
		elems += r*h + r*inter // up
	} else {
		elems += 2*r*h + 2*r*inter // gate_up: two slices
	}
	elems += r*inter + r*h // down
	return int64(e.MaxLoRAs) * elems * loraDtypeBytes
}
