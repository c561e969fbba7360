package memory

import (
	"errors"
	"strings"
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
)

// llama8B is Llama-3.1-8B at bf16 with loras LoRA slots of rank.
func llama8B(t *testing.T, loras, rank int) *Estimate {
	t.Helper()
	m, err := catalog.LookupModel("llama-3.1-8b")
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Request{Arch: m.Architecture, Precision: BF16, ContextTokens: 8192, Concurrency: 8, MaxLoRAs: loras, MaxLoRARank: rank})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Llama-3.1-8B (config.json: hidden 4096, 32 heads of 128, 8 KV heads,
// intermediate 14336, 32 layers) at rank 16: per layer and adapter, the
// A and B matrices of q, k, v, o, gate, up and down hold
// 16·(3·4096 + 4096+2·1024) + 16·(4096+4096) + 16·2·(4096+14336) +
// 16·(14336+4096) = 1,310,720 elements, as a PEFT adapter of rank 16 on all
// seven modules does. Four slots of 16 bits over 32 layers: 320 MiB.
func TestLoRABuffersOfLlama8B(t *testing.T) {
	e := llama8B(t, 4, 16)
	if got, want := e.loraBytesPerLayer(1), int64(1_310_720*4*2); got != want {
		t.Fatalf("per layer %d, want %d", got, want)
	}
	gpu := GPU{VisibleBytes: 79 * GiB, Utilization: 0.9}
	with, without := e.PerGPU(gpu, 1, 1), llama8B(t, 0, 0).PerGPU(gpu, 1, 1)
	if with.LoRABytes != 320<<20 {
		t.Errorf("LoRA bytes %d, want 320 MiB", with.LoRABytes)
	}
	if with.NeedBytes-without.NeedBytes != with.LoRABytes || without.KVCapacityBytes-with.KVCapacityBytes != with.LoRABytes {
		t.Errorf("need +%d, KV capacity −%d; both should move by the LoRA buffers %d",
			with.NeedBytes-without.NeedBytes, without.KVCapacityBytes-with.KVCapacityBytes, with.LoRABytes)
	}
	// Tensor parallel 2 splits B of the column-parallel and A of the
	// row-parallel modules, and keeps the rest whole on every rank:
	// 16·(3·4096 + 2048+2·512) + 16·(2048+4096) + 16·2·(4096+7168) +
	// 16·(7168+4096) = 884,736 elements per layer and adapter.
	if got, want := e.PerGPU(gpu, 2, 1).LoRABytes, int64(884_736*4*2*32); got != want {
		t.Errorf("t2 LoRA bytes %d, want %d", got, want)
	}
	// Pipeline stages hold their own layers' buffers.
	if p2 := e.PerGPU(gpu, 1, 2).LoRABytes; p2 != with.LoRABytes/2 {
		t.Errorf("p2 LoRA bytes %d, want %d", p2, with.LoRABytes/2)
	}
	// Rank defaults to vLLM's 16.
	if d := llama8B(t, 4, 0).PerGPU(gpu, 1, 1).LoRABytes; d != with.LoRABytes {
		t.Errorf("default rank gives %d, want %d", d, with.LoRABytes)
	}
}

func TestLoRARejectsBadSettings(t *testing.T) {
	arch := func(id string) catalog.Architecture {
		m, err := catalog.LookupModel(id)
		if err != nil {
			t.Fatal(err)
		}
		return m.Architecture
	}
	cases := []struct {
		name        string
		model       string
		loras, rank int
		field, msg  string
	}{
		{"rank not accepted", "llama-3.1-8b", 2, 24, FieldMaxLoRARank, "vLLM accepts a max_lora_rank of"},
		{"negative slots", "llama-3.1-8b", -1, 16, FieldMaxLoRAs, "max_loras must be between 0 and 1,024"},
		{"rank without slots", "llama-3.1-8b", 0, 16, FieldMaxLoRAs, "at least 1 when max_lora_rank is set"},
		{"mixture of experts", "mixtral-8x7b", 2, 16, FieldMaxLoRAs, "not modelled"},
	}
	for _, c := range cases {
		_, err := New(Request{Arch: arch(c.model), Precision: BF16, ContextTokens: 4096, Concurrency: 1, MaxLoRAs: c.loras, MaxLoRARank: c.rank})
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != c.field || !strings.Contains(ie.Msg, c.msg) {
			t.Errorf("%s: got %v, want %s: %q", c.name, err, c.field, c.msg)
		}
	}
}

// Engines time-slicing a GPU share the memory above all their budgets: two
// engines at 0.475 of an 80 GiB GPU leave 4 GiB above both, 2 GiB each,
// so each engine's 2 GiB of CUDA graphs fits there; at 0.485 they leave
// 2.4 GiB, 1.2 each, and 0.8 GiB of graphs comes out of each budget. One
// engine at 0.485 has all 41.2 GiB above its line.
func TestSharedGPUSplitsTheGraphHeadroom(t *testing.T) {
	e := llama8B(t, 0, 0)
	graphs := func(u float64, shares int) int64 {
		return e.PerGPU(GPU{VisibleBytes: 80 * GiB, Utilization: u, Shares: shares}, 1, 1).CUDAGraphBytes
	}
	if g := graphs(0.475, 2); g != 0 {
		t.Errorf("two engines at 0.475: %d bytes of graphs in the budget, want 0", g)
	}
	usable := GPU{VisibleBytes: 80 * GiB, Utilization: 0.485}.UsableBytes()
	if g, want := graphs(0.485, 2), 2*GiB-(80*GiB-2*usable)/2; g != want || g < GiB/2 {
		t.Errorf("two engines at 0.485: %d bytes of graphs in the budget, want %d", g, want)
	}
	if g := graphs(0.485, 0); g != 0 {
		t.Errorf("one engine at 0.485: %d bytes of graphs in the budget, want 0", g)
	}
}
