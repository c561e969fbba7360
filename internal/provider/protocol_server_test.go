package provider

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// The protocol server serves the shard's plans on raw values and keeps the
// pool's model_shards out of the framework's walks; plans must be exactly
// what the framework alone produces.
func TestProtocolServerPlansAsTheFramework(t *testing.T) {
	fast := newProtocolHarness(t)
	framework, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	slow := &protocolHarness{t: t, server: framework, schema: fast.schema}
	for _, h := range []*protocolHarness{fast, slow} {
		if diags := h.configure(nil); len(diags) > 0 {
			t.Fatal(diags)
		}
	}

	shardSchema := fast.schema.ResourceSchemas["mcllm_model_shard"]
	shardType := shardSchema.ValueType().(tftypes.Object)
	autoscaling := shardType.AttributeTypes["autoscaling"]
	poolSchema := fast.schema.ResourceSchemas["mcllm_inference_pool"]
	poolType := poolSchema.ValueType().(tftypes.Object)
	groupType, elemType := fast.poolElementTypes()
	kubeType := poolType.AttributeTypes["kubernetes"]

	shard := map[string]tftypes.Value{"name": str("m"), "model": str("llama-3.1-8b"), "precision": str("bf16"),
		"max_context_tokens": num(4096), "max_concurrent_sequences": num(8)}
	fixed, scaled := map[string]tftypes.Value{"replicas": num(3)}, map[string]tftypes.Value{
		"autoscaling": object(autoscaling, map[string]tftypes.Value{"target_load": num(5000), "estimate_on": str("aws/p5.48xlarge")})}
	for k, v := range shard {
		fixed[k], scaled[k] = v, v
	}
	group := nodeGroupValue(groupType, "aws", "us-east-1", "p5.48xlarge", 2)
	elem := func(name string, replicas float64) tftypes.Value {
		return object(elemType, map[string]tftypes.Value{"name": str(name), "model": str("llama-3.1-8b"), "precision": str("bf16"),
			"max_context_tokens": num(4096), "max_concurrent_sequences": num(8), "replicas": num(replicas)})
	}
	pool := map[string]tftypes.Value{"name": str("p"),
		"node_groups":  tftypes.NewValue(tftypes.Map{ElementType: groupType}, map[string]tftypes.Value{"h100": group}),
		"model_shards": tftypes.NewValue(tftypes.List{ElementType: elemType}, []tftypes.Value{elem("a", 2), elem("b", 3)}),
		"kubernetes":   object(kubeType, map[string]tftypes.Value{"namespace": str("llm")}),
		"strategy":     str("cost"), "max_moves": num(0), "allow_partial": tftypes.NewValue(tftypes.Bool, false),
	}
	for name, tc := range map[string]struct {
		typeName string
		schema   *tfprotov6.Schema
		config   map[string]tftypes.Value
	}{
		"shard": {"mcllm_model_shard", shardSchema, fixed}, "autoscaled shard": {"mcllm_model_shard", shardSchema, scaled},
		"pool": {"mcllm_inference_pool", poolSchema, pool},
	} {
		t.Run(name, func(t *testing.T) {
			var planned []tftypes.Value
			for _, h := range []*protocolHarness{fast, slow} {
				cfg := value(t, tc.schema, tc.config)
				typ := tc.schema.ValueType()
				prior, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, nil))
				if err != nil {
					t.Fatal(err)
				}
				v, err := h.server.ValidateResourceConfig(context.Background(), &tfprotov6.ValidateResourceConfigRequest{TypeName: tc.typeName, Config: cfg})
				if err != nil || len(v.Diagnostics) > 0 {
					t.Fatalf("validate: %v %v", err, diagText(v.Diagnostics))
				}
				resp, err := h.server.PlanResourceChange(context.Background(), &tfprotov6.PlanResourceChangeRequest{
					TypeName: tc.typeName, PriorState: &prior, ProposedNewState: cfg, Config: cfg})
				if err != nil || len(resp.Diagnostics) > 0 {
					t.Fatalf("plan: %v %v", err, diagText(resp.Diagnostics))
				}
				p, err := resp.PlannedState.Unmarshal(typ)
				if err != nil {
					t.Fatal(err)
				}
				if !p.IsFullyKnown() {
					t.Errorf("plan not fully known: %v", p)
				}
				planned = append(planned, p)
			}
			if diff, err := planned[0].Diff(planned[1]); err != nil || len(diff) > 0 {
				t.Errorf("plans differ (%v): %v", err, diff)
			}
		})
	}
}

func diagText(ds []*tfprotov6.Diagnostic) string {
	out := ""
	for _, d := range ds {
		out += fmt.Sprintf("[%s: %s] ", d.Summary, d.Detail)
	}
	return out
}

func TestProtocolEngineArgs(t *testing.T) {
	h := newProtocolHarness(t)
	ctx := context.Background()
	pt := placementType.TerraformType(ctx).(tftypes.Object)
	stageT := pt.AttributeTypes["stages"].(tftypes.List).ElementType
	ints := func(xs ...float64) tftypes.Value {
		vals := make([]tftypes.Value, len(xs))
		for i, x := range xs {
			vals[i] = num(x)
		}
		return tftypes.NewValue(tftypes.List{ElementType: tftypes.Number}, vals)
	}
	placement := func(stageNodes ...float64) tftypes.Value {
		h100 := memory.GPUFromGiB(79.14, 0.85)
		var stages []tftypes.Value
		for _, n := range stageNodes {
			stages = append(stages, object(stageT, map[string]tftypes.Value{"node": num(n), "gpus": ints(0, 1, 2, 3, 4, 5, 6, 7)}))
		}
		return object(pt, map[string]tftypes.Value{"node_group": str("h100"), "cloud": str("aws"), "region": str("us-east-1"),
			"instance_type": str("p5.48xlarge"), "gpu_model": str("H100-80GB"), "capacity_type": str("on-demand"),
			"node": num(stageNodes[0]), "gpus": ints(0, 1, 2, 3, 4, 5, 6, 7), "stages": tftypes.NewValue(pt.AttributeTypes["stages"], stages),
			"tensor_parallel": num(8), "pipeline_parallel": num(float64(len(stageNodes))),
			"memory_per_gpu_bytes": num(70 << 30), "usable_memory_bytes": num(float64(h100.UsableBytes())),
			"gpu_memory_bytes": num(float64(h100.VisibleBytes)), "memory_profile": str("big/h100/tp8-pp2")})
	}
	dt := demandTfType
	demand := func(set map[string]tftypes.Value) tftypes.Value {
		base := map[string]tftypes.Value{"name": str("big"), "model": str("llama-3.1-405b"), "precision": str("fp8"),
			"max_context_tokens": num(8192), "max_concurrent_sequences": num(4), "replicas": num(1)}
		for k, v := range set {
			base[k] = v
		}
		return object(dt, base)
	}
	call := func(args ...tftypes.Value) *tfprotov6.CallFunctionResponse {
		return h.callFunction("engine_args", args...)
	}

	ok := call(placement(0, 1), demand(nil), num(9000))
	if ok.Error != nil {
		t.Fatalf("valid call failed: %+v", ok.Error)
	}
	v, err := ok.Result.Unmarshal(tftypes.List{ElementType: tftypes.String})
	if err != nil {
		t.Fatal(err)
	}
	var elems []tftypes.Value
	_ = v.As(&elems)
	args := make([]string, len(elems))
	for i, e := range elems {
		_ = e.As(&args[i])
	}
	m405, err := catalog.LookupModel("llama-3.1-405b")
	if err != nil {
		t.Fatal(err)
	}
	est, err := memory.New(memory.Request{Arch: m405.Architecture, Precision: memory.FP8, ContextTokens: 8192, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	gpu := memory.GPUFromGiB(79.14, 0.85)
	gpu.Model = "H100-80GB"
	kvBytes := est.PerGPU(gpu, 8, 2).KVBytes
	want := "--model meta-llama/Llama-3.1-405B-Instruct --served-model-name big --tensor-parallel-size 8 --pipeline-parallel-size 2 " +
		"--gpu-memory-utilization 0.85 --max-model-len 8192 --max-num-seqs 4 --max-num-batched-tokens 8192 --enable-chunked-prefill " +
		fmt.Sprintf("--kv-cache-memory-bytes %d --quantization fp8 --kv-cache-dtype auto ", kvBytes) +
		"--distributed-executor-backend mp --nnodes 2 --master-port 29501 --port 9000"
	if got := fmt.Sprint(args); got != "["+want+"]" {
		t.Errorf("engine_args = %s\nwant [%s]", got, want)
	}

	// A single-stage replica's entry has no stages (its node and gpus are
	// the stage): the same arguments as with the stage listed.
	withoutStages := func(entry tftypes.Value) tftypes.Value {
		var vals map[string]tftypes.Value
		_ = entry.As(&vals)
		vals["stages"] = tftypes.NewValue(pt.AttributeTypes["stages"], nil)
		return tftypes.NewValue(pt, vals)
	}
	listed, bare := call(placement(0), demand(nil)), call(withoutStages(placement(0)), demand(nil))
	if listed.Error != nil || bare.Error != nil || len(bare.Result.MsgPack) == 0 || string(listed.Result.MsgPack) != string(bare.Result.MsgPack) {
		t.Errorf("a single stage listed and implied differ: %+v / %+v", listed, bare)
	}

	arch := tftypes.NewValue(dt.AttributeTypes["architecture"], nil)
	for name, tc := range map[string]struct {
		args []tftypes.Value
		arg  int64
	}{
		"port out of range":       {[]tftypes.Value{placement(0), demand(nil), num(70000)}, 2},
		"pipeline without stages": {[]tftypes.Value{withoutStages(placement(0, 1)), demand(nil)}, 0},
		"two ports":               {[]tftypes.Value{placement(0), demand(nil), num(80), num(81)}, 2},
		"invalid demand":          {[]tftypes.Value{placement(0), demand(map[string]tftypes.Value{"precision": str("int3")})}, 1},
		"another model's demand":  {[]tftypes.Value{placement(0, 1), demand(map[string]tftypes.Value{"name": str("small"), "model": str("llama-3.1-8b")})}, 1},
		"fractional port":         {[]tftypes.Value{placement(0), demand(nil), num(80.5)}, 2},
		"empty demand name":       {[]tftypes.Value{placement(0), demand(map[string]tftypes.Value{"name": str("")})}, 1},
		"no serving model": {[]tftypes.Value{placement(0), demand(map[string]tftypes.Value{"model": tftypes.NewValue(tftypes.String, nil),
			"architecture": object(arch.Type(), map[string]tftypes.Value{"layers": num(2), "hidden_size": num(64), "attention_heads": num(4),
				"kv_heads": num(2), "head_dim": num(16), "vocab_size": num(100), "intermediate_size": num(128), "max_context_tokens": num(8192)})})}, 1},
	} {
		t.Run(name, func(t *testing.T) {
			resp := call(tc.args...)
			if resp.Error == nil || resp.Error.FunctionArgument == nil || *resp.Error.FunctionArgument != tc.arg {
				t.Fatalf("want an error on argument %d, got %+v", tc.arg, resp.Error)
			}
		})
	}
}

// The SDKs' own trace logs are silenced only while the CLI is not logging.
func TestQuietSDKLogs(t *testing.T) {
	vars := []string{"TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_PATH", "TF_ACC_LOG_PATH", "TF_LOG_PATH_MASK", "TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"}
	for name, tc := range map[string]struct {
		set  map[string]string
		want map[string]string
	}{
		"CLI not logging": {nil, map[string]string{"TF_LOG_SDK": "OFF", "TF_LOG_SDK_PROTO": "OFF", "TF_LOG_SDK_FRAMEWORK": "OFF", "TF_LOG_PROVIDER": "OFF"}},
		"CLI logging":     {map[string]string{"TF_LOG": "DEBUG"}, map[string]string{"TF_LOG_SDK": "", "TF_LOG_PROVIDER": ""}},
		"provider debug":  {map[string]string{"TF_LOG_PROVIDER": "DEBUG"}, map[string]string{"TF_LOG_SDK": "", "TF_LOG_PROVIDER": "DEBUG"}},
		"explicit level":  {map[string]string{"TF_LOG_SDK_PROTO": "TRACE"}, map[string]string{"TF_LOG_SDK_PROTO": "TRACE", "TF_LOG_SDK": "OFF"}},
	} {
		t.Run(name, func(t *testing.T) {
			for _, v := range vars {
				t.Setenv(v, tc.set[v])
			}
			QuietSDKLogs()
			for k, want := range tc.want {
				if got := os.Getenv(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// Any unknown input, the name included, leaves every output unknown.
func TestProtocolPoolUnknownInputs(t *testing.T) {
	h := newProtocolHarness(t)
	if diags := h.configure(nil); len(diags) > 0 {
		t.Fatal(diags)
	}
	s := h.schema.ResourceSchemas["mcllm_inference_pool"]
	typ := s.ValueType().(tftypes.Object)
	gt, st := h.poolElementTypes()
	shard := object(st, map[string]tftypes.Value{"name": str("a"), "model": str("llama-3.1-8b"), "precision": str("bf16"),
		"max_context_tokens": num(4096), "max_concurrent_sequences": num(4), "replicas": num(1)})
	for name, unknown := range map[string]string{"name": "name", "strategy": "strategy", "transfer horizon": "transfer_horizon_hours"} {
		t.Run(name, func(t *testing.T) {
			set := map[string]tftypes.Value{"name": str("p"), "strategy": str("cost"),
				"node_groups":  tftypes.NewValue(tftypes.Map{ElementType: gt}, map[string]tftypes.Value{"g": nodeGroupValue(gt, "aws", "us-east-1", "p5.48xlarge", 1)}),
				"model_shards": tftypes.NewValue(tftypes.List{ElementType: st}, []tftypes.Value{shard}),
				"kubernetes":   object(typ.AttributeTypes["kubernetes"], nil)}
			set[unknown] = tftypes.NewValue(typ.AttributeTypes[unknown], tftypes.UnknownValue)
			cfg := value(t, s, set)
			prior, _ := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, nil))
			resp, err := h.server.PlanResourceChange(context.Background(), &tfprotov6.PlanResourceChangeRequest{
				TypeName: "mcllm_inference_pool", PriorState: &prior, ProposedNewState: cfg, Config: cfg})
			if err != nil || len(resp.Diagnostics) > 0 {
				t.Fatalf("%v %s", err, diagText(resp.Diagnostics))
			}
			planned, err := resp.PlannedState.Unmarshal(typ)
			if err != nil {
				t.Fatal(err)
			}
			var vals map[string]tftypes.Value
			_ = planned.As(&vals)
			for _, out := range []string{"placement", "node_group_specs", "cost"} {
				if vals[out].IsKnown() {
					t.Errorf("%s is known although %s is not", out, unknown)
				}
			}
		})
	}
}

// A second plan over the first one's state, with the defaults left out of
// the configuration, and the attribute validators' errors, are the
// framework's too; so are the state upgrade and the refresh.
func TestProtocolServerUpdatesAsTheFramework(t *testing.T) {
	fast := newProtocolHarness(t)
	framework, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	slow := &protocolHarness{t: t, server: framework, schema: fast.schema}
	ctx := context.Background()
	s := fast.schema.ResourceSchemas["mcllm_inference_pool"]
	typ := s.ValueType().(tftypes.Object)
	gt, et := fast.poolElementTypes()
	shard := func(name string, replicas float64) tftypes.Value {
		return object(et, map[string]tftypes.Value{"name": str(name), "model": str("llama-3.1-8b"), "precision": str("bf16"),
			"max_context_tokens": num(4096), "max_concurrent_sequences": num(4), "replicas": num(replicas)})
	}
	config := func(groups map[string]tftypes.Value, shards ...tftypes.Value) map[string]tftypes.Value {
		return map[string]tftypes.Value{"name": str("p"),
			"node_groups":  tftypes.NewValue(tftypes.Map{ElementType: gt}, groups),
			"model_shards": tftypes.NewValue(tftypes.List{ElementType: et}, shards)}
	}
	// group leaves min_nodes, capacity_type and confidential to their defaults.
	group := func(instance string, maxNodes float64, set map[string]tftypes.Value) tftypes.Value {
		vals := map[string]tftypes.Value{"cloud": str("aws"), "region": str("us-east-1"), "instance_type": str(instance), "max_nodes": num(maxNodes)}
		for k, v := range set {
			vals[k] = v
		}
		return object(gt, vals)
	}
	first := config(map[string]tftypes.Value{"h100": group("p5.48xlarge", 2, nil)}, shard("a", 2))
	second := config(map[string]tftypes.Value{"h100": group("p5.48xlarge", 2, nil), "l40s": group("g6e.12xlarge", 4, nil)},
		shard("a", 3), shard("b", 2))

	// plan runs create then update on one server: the update's proposed
	// state is its configuration with the prior computed attributes.
	plan := func(h *protocolHarness) []tftypes.Value {
		if diags := h.configure(nil); len(diags) > 0 {
			t.Fatal(diags)
		}
		var out []tftypes.Value
		prior := tftypes.NewValue(typ, nil)
		for _, set := range []map[string]tftypes.Value{first, second} {
			cfg := value(t, s, set)
			proposed := cfg
			if !prior.IsNull() {
				var pv, cv map[string]tftypes.Value
				_ = prior.As(&pv)
				c, _ := cfg.Unmarshal(typ)
				_ = c.As(&cv)
				for name, v := range cv {
					if v.IsNull() {
						cv[name] = pv[name]
					}
				}
				dv, _ := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, cv))
				proposed = &dv
			}
			priorDV, _ := tfprotov6.NewDynamicValue(typ, prior)
			resp, err := h.server.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
				TypeName: poolTypeName, PriorState: &priorDV, ProposedNewState: proposed, Config: cfg})
			if err != nil || len(resp.Diagnostics) > 0 {
				t.Fatalf("plan: %v %s", err, diagText(resp.Diagnostics))
			}
			applied, err := h.server.ApplyResourceChange(ctx, &tfprotov6.ApplyResourceChangeRequest{
				TypeName: poolTypeName, PriorState: &priorDV, PlannedState: resp.PlannedState, Config: cfg})
			if err != nil || len(applied.Diagnostics) > 0 {
				t.Fatalf("apply: %v %s", err, diagText(applied.Diagnostics))
			}
			if prior, err = applied.NewState.Unmarshal(typ); err != nil {
				t.Fatal(err)
			}
			out = append(out, prior)
		}
		return out
	}
	fastStates, slowStates := plan(fast), plan(slow)
	for i := range fastStates {
		if diff, err := fastStates[i].Diff(slowStates[i]); err != nil || len(diff) > 0 {
			t.Errorf("plan %d differs from the framework's (%v): %v", i, err, diff)
		}
	}

	// The state upgrade: the stored JSON, an attribute the schema no longer
	// has taken out, reads back as the framework reads it.
	stateJSON := `{"id":"p","name":"p","removed_attribute":1,"node_groups":{"g":{"cloud":"aws","region":"r","max_nodes":2,"gone":true}},` +
		`"model_shards":[],"placement":{"a/0":{"node_group":"g","node":0,"memory_per_gpu_bytes":5,"old":"x"}}}`
	var upgraded []tftypes.Value
	for _, h := range []*protocolHarness{fast, slow} {
		resp, err := h.server.UpgradeResourceState(ctx, &tfprotov6.UpgradeResourceStateRequest{TypeName: poolTypeName,
			RawState: &tfprotov6.RawState{JSON: []byte(stateJSON)}})
		if err != nil || len(resp.Diagnostics) > 0 {
			t.Fatalf("upgrade: %v %s", err, diagText(resp.Diagnostics))
		}
		v, err := resp.UpgradedState.Unmarshal(typ)
		if err != nil {
			t.Fatal(err)
		}
		upgraded = append(upgraded, v)
	}
	if diff, err := upgraded[0].Diff(upgraded[1]); err != nil || len(diff) > 0 {
		t.Errorf("upgraded states differ (%v): %v", err, diff)
	}

	// Attribute validators: the same errors on the same paths.
	for name, set := range map[string]map[string]tftypes.Value{
		"capacity type": config(map[string]tftypes.Value{"g": group("p5.48xlarge", 2, map[string]tftypes.Value{"capacity_type": str("reserved")})}, shard("a", 1)),
		"max nodes":     config(map[string]tftypes.Value{"g": group("p5.48xlarge", 100001, nil)}, shard("a", 1)),
		"min nodes":     config(map[string]tftypes.Value{"g": group("p5.48xlarge", 2, map[string]tftypes.Value{"min_nodes": num(-1)})}, shard("a", 1)),
	} {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, h := range []*protocolHarness{fast, slow} {
				resp, err := h.server.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: poolTypeName, Config: value(t, s, set)})
				if err != nil {
					t.Fatal(err)
				}
				if len(resp.Diagnostics) == 0 {
					t.Fatal("no error")
				}
				got = append(got, fmt.Sprintf("%s %s %s", resp.Diagnostics[0].Attribute, resp.Diagnostics[0].Summary, resp.Diagnostics[0].Detail))
			}
			if got[0] != got[1] {
				t.Errorf("raw: %s\nframework: %s", got[0], got[1])
			}
		})
	}
}

// A number that does not fit its attribute is an error on its path, in the
// pool's model_shards and on the shard itself.
func TestProtocolNumbersThatDoNotFit(t *testing.T) {
	h := newProtocolHarness(t)
	if diags := h.configure(nil); len(diags) > 0 {
		t.Fatal(diags)
	}
	s := h.schema.ResourceSchemas["mcllm_inference_pool"]
	gt, et := h.poolElementTypes()
	elem := func(replicas tftypes.Value) tftypes.Value {
		return object(et, map[string]tftypes.Value{"name": str("a"), "model": str("llama-3.1-8b"), "precision": str("bf16"),
			"max_context_tokens": num(4096), "max_concurrent_sequences": num(4), "replicas": replicas})
	}
	big1e300, _, _ := big.ParseFloat("1e300", 10, 512, big.ToNearestEven)
	for name, tc := range map[string]struct {
		replicas tftypes.Value
		maxNodes tftypes.Value
		path     string
		summary  string
	}{
		"fraction in model_shards": {num(2.5), num(2), `AttributeName("model_shards").ElementKeyInt(0).AttributeName("replicas")`, "Not a whole number"},
		"huge in model_shards": {tftypes.NewValue(tftypes.Number, big1e300), num(2),
			`AttributeName("model_shards").ElementKeyInt(0).AttributeName("replicas")`, "Number too large"},
		"max_nodes beyond 64 bits": {num(1), tftypes.NewValue(tftypes.Number, new(big.Float).SetMantExp(big.NewFloat(1), 63)),
			`AttributeName("node_groups").ElementKeyString("g").AttributeName("max_nodes")`, "Number too large"},
	} {
		t.Run(name, func(t *testing.T) {
			g := object(gt, map[string]tftypes.Value{"cloud": str("aws"), "region": str("us-east-1"), "instance_type": str("p5.48xlarge"), "max_nodes": tc.maxNodes})
			cfg := value(t, s, map[string]tftypes.Value{"name": str("p"),
				"node_groups":  tftypes.NewValue(tftypes.Map{ElementType: gt}, map[string]tftypes.Value{"g": g}),
				"model_shards": tftypes.NewValue(tftypes.List{ElementType: et}, []tftypes.Value{elem(tc.replicas)})})
			resp, err := h.server.ValidateResourceConfig(context.Background(), &tfprotov6.ValidateResourceConfigRequest{TypeName: poolTypeName, Config: cfg})
			if err != nil || len(resp.Diagnostics) != 1 {
				t.Fatalf("%v %s", err, diagText(resp.Diagnostics))
			}
			d := resp.Diagnostics[0]
			if d.Summary != tc.summary || d.Attribute.String() != tc.path || strings.Contains(d.Detail, "%!") {
				t.Errorf("got %q on %s: %s", d.Summary, d.Attribute, d.Detail)
			}
		})
	}
	shard := h.schema.ResourceSchemas["mcllm_model_shard"]
	cfg := value(t, shard, map[string]tftypes.Value{"name": str("m"), "model": str("llama-3.1-8b"), "precision": str("bf16"),
		"max_context_tokens": num(4096), "max_concurrent_sequences": num(8), "replicas": num(1.5)})
	resp, err := h.server.ValidateResourceConfig(context.Background(), &tfprotov6.ValidateResourceConfigRequest{TypeName: shardTypeName, Config: cfg})
	if err != nil || len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Attribute.String() != `AttributeName("replicas")` ||
		!strings.Contains(resp.Diagnostics[0].Detail, "replicas must be a whole number; got 1.5") {
		t.Fatalf("%v %s %v", err, diagText(resp.Diagnostics), resp.Diagnostics)
	}
}

// The plan the pool writes from its model (poolModel.terraformValue) is the
// value the framework's Plan.Set writes from the same model.
func TestPoolPlanValueAsTheFrameworkWritesIt(t *testing.T) {
	h := newProtocolHarness(t)
	gt, et := h.poolElementTypes()
	resp := h.planPoolResponse(map[string]tftypes.Value{
		"h100": nodeGroupValue(gt, "aws", "us-east-1", "p5.48xlarge", 2),
		"l4":   nodeGroupValue(gt, "gcp", "us-central1", "g2-standard-48", 4),
	}, []tftypes.Value{object(et, map[string]tftypes.Value{"name": str("a"), "model": str("llama-3.1-8b"), "precision": str("bf16"),
		"max_context_tokens": num(4096), "max_concurrent_sequences": num(4), "replicas": num(3)})})
	if len(resp.Diagnostics) > 0 || resp.PlannedState == nil {
		t.Fatalf("plan: %s", diagText(resp.Diagnostics))
	}
	ctx := context.Background()
	s := PoolSchema()
	typ := s.Type().TerraformType(ctx)
	planned, err := resp.PlannedState.Unmarshal(typ)
	if err != nil {
		t.Fatal(err)
	}
	var m poolModel
	if diags := (tfsdk.Plan{Schema: s, Raw: planned}).Get(ctx, &m); diags.HasError() {
		t.Fatal(diags)
	}
	ours, err := m.terraformValue(ctx, typ)
	if err != nil {
		t.Fatal(err)
	}
	framework := tfsdk.Plan{Schema: s, Raw: tftypes.NewValue(typ, nil)}
	if diags := framework.Set(ctx, &m); diags.HasError() {
		t.Fatal(diags)
	}
	if !ours.Equal(framework.Raw) || !ours.Equal(planned) {
		t.Fatalf("the pool's plan value differs from the framework's:\nours      %s\nframework %s", ours, framework.Raw)
	}
	if _, err := m.terraformValue(ctx, tftypes.String); err == nil {
		t.Fatal("a non-object schema type must be an error")
	}
}
