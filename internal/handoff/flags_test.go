package handoff

import (
	"slices"
	"strings"
	"testing"

	lwsv1 "sigs.k8s.io/lws/api/leaderworkerset/v1"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// servedFlags are the vllm serve options of the pinned release the hand-off
// emits, each read in vLLM's own code: EngineArgs.add_cli_args in
// vllm/engine/arg_utils.py (ModelConfig: --max-model-len, --dtype,
// --quantization, --served-model-name, --enforce-eager; CacheConfig:
// --gpu-memory-utilization, --kv-cache-dtype, --kv-cache-memory-bytes;
// SchedulerConfig: --max-num-seqs, --max-num-batched-tokens,
// --enable-chunked-prefill and its --no- form; ParallelConfig:
// --tensor-parallel-size, --pipeline-parallel-size,
// --distributed-executor-backend, --nnodes, --node-rank, --master-addr,
// --master-port), the serve command's --headless
// (vllm/entrypoints/cli/serve.py) and the frontend's --port; as of the
// arg_utils.py of May 2026 and the parallelism guide of September 2026.
// LoRAConfig (vllm/config/lora.py, its fields as flags in arg_utils.py):
// --enable-lora, --max-loras, --max-lora-rank.
var servedFlags = []string{
	"--model", "--served-model-name", "--tensor-parallel-size", "--pipeline-parallel-size", "--gpu-memory-utilization",
	"--max-model-len", "--max-num-seqs", "--max-num-batched-tokens", "--enable-chunked-prefill", "--no-enable-chunked-prefill",
	"--enforce-eager", "--kv-cache-memory-bytes", "--dtype", "--quantization", "--kv-cache-dtype",
	"--distributed-executor-backend", "--nnodes", "--node-rank", "--master-addr", "--master-port", "--headless", "--port",
	"--enable-lora", "--max-loras", "--max-lora-rank",
}

// Every flag a rendered workload passes on the default release is one that
// release has.
func TestEmittedFlagsExist(t *testing.T) {
	groups, models := threeClouds(t)
	f := testFleet(t, groups, models, nil)
	out, err := Render(f)
	if err != nil {
		t.Fatal(err)
	}
	for key, w := range out.Workloads {
		var containers [][]string
		switch obj := decode(t, w.YAML).(type) {
		case *lwsv1.LeaderWorkerSet:
			containers = append(containers, obj.Spec.LeaderWorkerTemplate.LeaderTemplate.Spec.Containers[0].Args,
				obj.Spec.LeaderWorkerTemplate.WorkerTemplate.Spec.Containers[0].Args)
		default:
			containers = append(containers, w.EngineArgs)
		}
		for _, args := range containers {
			for _, a := range args {
				if strings.HasPrefix(a, "--") && !slices.Contains(servedFlags, a) {
					t.Errorf("%s: %s is not a flag of vLLM %s", key, a, memory.DefaultEngineVersion)
				}
			}
		}
	}
}

// A model on a release before vLLM's own multi-node mode runs its stages
// through Ray, on that release's image.
func TestOlderReleaseSpansNodesWithRay(t *testing.T) {
	old, err := memory.LookupEngine("0.11.0")
	if err != nil {
		t.Fatal(err)
	}
	groups := []Group{testGroup(t, "l4", "aws/g6.12xlarge", 4, planner.CapacityOnDemand)} // 4×L4 nodes with EFA
	f := testFleet(t, groups, []testModel{{"llama-70b", "llama-3.1-70b", memory.BF16, memory.KVAuto, 4096, 1, 1}}, nil)
	m := f.Models["llama-70b"]
	est, err := memory.New(memory.Request{Arch: m.Arch, Precision: memory.BF16, ContextTokens: 4096, Concurrency: 1, Engine: old})
	if err != nil {
		t.Fatal(err)
	}
	m.Estimate = est
	f.Models["llama-70b"] = m
	k := *f.Kubernetes
	k.Image, k.ROCmImage = "", "" // the release's own images
	f.Kubernetes = &k
	out, err := Render(f)
	if err != nil {
		t.Fatal(err)
	}
	w := out.Workloads["llama-70b/0"]
	lws, ok := decode(t, w.YAML).(*lwsv1.LeaderWorkerSet)
	if !ok {
		t.Fatalf("llama-70b on 4×L4 nodes should span nodes, got %s", w.Kind)
	}
	leader := lws.Spec.LeaderWorkerTemplate.LeaderTemplate.Spec.Containers[0]
	if leader.Image != "vllm/vllm-openai:v0.11.0" || argValue(w.EngineArgs, "--distributed-executor-backend") != "ray" ||
		!strings.Contains(leader.Command[2], multiNodeScript) {
		t.Errorf("leader %s runs %v with %v: want v0.11.0's image forming a Ray cluster", leader.Image, leader.Command, w.EngineArgs)
	}
}
