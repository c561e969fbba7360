package memory

import (
	"errors"
	"strings"
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
)

func loraEstimate(t *testing.T, model string, loras, rank int) *Estimate {
	t.Helper()
	m, err := catalog.LookupModel(model)
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
	e := loraEstimate(t, "llama-3.1-8b", 4, 16)
	if got, want := e.loraBytesPerLayer(1), int64(1_310_720*4*2); got != want {
		t.Fatalf("per layer %d, want %d", got, want)
	}
	gpu := GPU{VisibleBytes: 79 * GiB, Utilization: 0.9}
	with, without := e.PerGPU(gpu, 1, 1), loraEstimate(t, "llama-3.1-8b", 0, 0).PerGPU(gpu, 1, 1)
	if with.LoRABytes != 320<<20 {
		t.Errorf("LoRA bytes %d, want 320 MiB", with.LoRABytes)
	}
	if with.NeedBytes-without.NeedBytes != with.LoRABytes || without.KVCapacityBytes-with.KVCapacityBytes != with.LoRABytes {
		t.Errorf("need +%d, KV capacity −%d; both should move by the LoRA buffers %d",
			with.NeedBytes-without.NeedBytes, without.KVCapacityBytes-with.KVCapacityBytes, with.LoRABytes)
	}
	// Tensor parallel 2 splits B of the column-parallel and A of the
	// row-parallel modules, and keeps the rest whole on every rank.
	if half := e.PerGPU(gpu, 2, 1).LoRABytes; half <= with.LoRABytes/2 || half >= with.LoRABytes {
		t.Errorf("t2 LoRA bytes %d should lie between half and all of %d", half, with.LoRABytes)
	}
	// Pipeline stages hold their own layers' buffers.
	if p2 := e.PerGPU(gpu, 1, 2).LoRABytes; p2 != with.LoRABytes/2 {
		t.Errorf("p2 LoRA bytes %d, want %d", p2, with.LoRABytes/2)
	}
	// Rank defaults to vLLM's 16.
	if d := loraEstimate(t, "llama-3.1-8b", 4, 0).PerGPU(gpu, 1, 1).LoRABytes; d != with.LoRABytes {
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
