package provider

// CLI-free tests: they drive the provider over the plugin protocol the way
// Terraform and OpenTofu do, and check what the CLI would only print: the
// exact attribute path of every diagnostic and the function argument an
// error points at.

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

type protocolHarness struct {
	t      *testing.T
	server tfprotov6.ProviderServer
	schema *tfprotov6.GetProviderSchemaResponse
}

func newProtocolHarness(t *testing.T) *protocolHarness {
	t.Helper()
	server, err := NewProtocol6("test")()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := server.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Diagnostics) > 0 {
		t.Fatalf("schema diagnostics: %v", resp.Diagnostics)
	}
	return &protocolHarness{t: t, server: server, schema: resp}
}

// value builds a configuration object for a schema, nulls for what is not set.
func value(t *testing.T, s *tfprotov6.Schema, set map[string]tftypes.Value) *tfprotov6.DynamicValue {
	t.Helper()
	typ := s.ValueType().(tftypes.Object)
	vals := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		if v, ok := set[name]; ok {
			vals[name] = v
		} else {
			vals[name] = tftypes.NewValue(at, nil)
		}
	}
	for name := range set {
		if _, ok := typ.AttributeTypes[name]; !ok {
			t.Fatalf("attribute %q is not in the schema", name)
		}
	}
	dv, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, vals))
	if err != nil {
		t.Fatal(err)
	}
	return &dv
}

func (h *protocolHarness) configure(set map[string]tftypes.Value) []*tfprotov6.Diagnostic {
	resp, err := h.server.ConfigureProvider(context.Background(), &tfprotov6.ConfigureProviderRequest{
		TerraformVersion: "1.10.0",
		Config:           value(h.t, h.schema.Provider, set),
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.Diagnostics
}

func (h *protocolHarness) readDataSource(typeName string, set map[string]tftypes.Value) *tfprotov6.ReadDataSourceResponse {
	s, ok := h.schema.DataSourceSchemas[typeName]
	if !ok {
		h.t.Fatalf("no data source %s", typeName)
	}
	cfg := value(h.t, s, set)
	vresp, err := h.server.ValidateDataResourceConfig(context.Background(), &tfprotov6.ValidateDataResourceConfigRequest{TypeName: typeName, Config: cfg})
	if err != nil {
		h.t.Fatal(err)
	}
	if len(vresp.Diagnostics) > 0 {
		return &tfprotov6.ReadDataSourceResponse{Diagnostics: vresp.Diagnostics}
	}
	resp, err := h.server.ReadDataSource(context.Background(), &tfprotov6.ReadDataSourceRequest{TypeName: typeName, Config: cfg})
	if err != nil {
		h.t.Fatal(err)
	}
	return resp
}

func str(s string) tftypes.Value  { return tftypes.NewValue(tftypes.String, s) }
func num(n float64) tftypes.Value { return tftypes.NewValue(tftypes.Number, n) }
func attrPath(name string) *tftypes.AttributePath {
	return tftypes.NewAttributePath().WithAttributeName(name)
}

// expectOneError asserts exactly one error diagnostic, on the given path.
func expectOneError(t *testing.T, diags []*tfprotov6.Diagnostic, at *tftypes.AttributePath) {
	t.Helper()
	var errs []*tfprotov6.Diagnostic
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			errs = append(errs, d)
		}
	}
	if len(errs) != 1 {
		t.Fatalf("want one error, got %d: %+v", len(errs), diags)
	}
	if !errs[0].Attribute.Equal(at) {
		t.Errorf("error %q on %v, want %v", errs[0].Detail, errs[0].Attribute, at)
	}
}

func TestProtocolEveryAttributeIsDescribed(t *testing.T) {
	h := newProtocolHarness(t)
	var walk func(where string, attrs []*tfprotov6.SchemaAttribute)
	walk = func(where string, attrs []*tfprotov6.SchemaAttribute) {
		for _, a := range attrs {
			if a.Description == "" {
				t.Errorf("%s.%s has no description", where, a.Name)
			}
			if a.NestedType != nil {
				walk(where+"."+a.Name, a.NestedType.Attributes)
			}
		}
	}
	walk("provider", h.schema.Provider.Block.Attributes)
	for name, s := range h.schema.DataSourceSchemas {
		if s.Block.Description == "" {
			t.Errorf("data source %s has no description", name)
		}
		walk(name, s.Block.Attributes)
	}
	for name, s := range h.schema.ResourceSchemas {
		walk(name, s.Block.Attributes)
	}
	for name, f := range h.schema.Functions {
		if f.Description == "" || f.Summary == "" {
			t.Errorf("function %s lacks a summary or description", name)
		}
		for _, p := range append(f.Parameters, f.VariadicParameter) {
			if p == nil {
				continue // no variadic parameter
			}
			if p.Description == "" {
				t.Errorf("function %s parameter %s has no description", name, p.Name)
			}
		}
	}
	for _, want := range []string{"mcllm_gpu_instance_types", "mcllm_model", "mcllm_memory_estimate"} {
		if _, ok := h.schema.DataSourceSchemas[want]; !ok {
			t.Errorf("data source %s missing", want)
		}
	}
}

func TestProtocolProviderConfigErrorPaths(t *testing.T) {
	prices := func(key string, price float64) tftypes.Value {
		return tftypes.NewValue(tftypes.Map{ElementType: tftypes.Number}, map[string]tftypes.Value{key: num(price)})
	}
	for name, tc := range map[string]struct {
		set map[string]tftypes.Value
		at  *tftypes.AttributePath
	}{
		"utilization":          {map[string]tftypes.Value{"gpu_memory_utilization": num(1.5)}, attrPath("gpu_memory_utilization")},
		"override type":        {map[string]tftypes.Value{"price_overrides": prices("gcp/a3-highgpu", 3)}, attrPath("price_overrides").WithElementKeyString("gcp/a3-highgpu")},
		"override price":       {map[string]tftypes.Value{"price_overrides": prices("gcp/a3-highgpu-8g", -1)}, attrPath("price_overrides").WithElementKeyString("gcp/a3-highgpu-8g")},
		"override above limit": {map[string]tftypes.Value{"price_overrides": prices("gcp/a3-highgpu-8g", 10_001)}, attrPath("price_overrides").WithElementKeyString("gcp/a3-highgpu-8g")},
		"egress above limit":   {map[string]tftypes.Value{"egress_prices": prices("gcp/internet", 1001)}, attrPath("egress_prices").WithElementKeyString("gcp/internet")},
		"utilization unknown":  {map[string]tftypes.Value{"gpu_memory_utilization": tftypes.NewValue(tftypes.Number, tftypes.UnknownValue)}, attrPath("gpu_memory_utilization")},
	} {
		t.Run(name, func(t *testing.T) {
			expectOneError(t, newProtocolHarness(t).configure(tc.set), tc.at)
		})
	}
}

func TestProtocolDataSourceErrorPaths(t *testing.T) {
	estimate := func(overrides map[string]tftypes.Value) map[string]tftypes.Value {
		set := map[string]tftypes.Value{
			"model": str("llama-3.1-8b"), "precision": str("bf16"),
			"max_context_tokens": num(4096), "max_concurrent_sequences": num(4),
		}
		for k, v := range overrides {
			set[k] = v
		}
		return set
	}
	for name, tc := range map[string]struct {
		typeName string
		set      map[string]tftypes.Value
		at       string
	}{
		"model id":          {"mcllm_model", map[string]tftypes.Value{"id": str("mistral-8b")}, "id"},
		"gpu model filter":  {"mcllm_gpu_instance_types", map[string]tftypes.Value{"gpu_model": str("A100")}, "gpu_model"},
		"estimate model":    {"mcllm_memory_estimate", estimate(map[string]tftypes.Value{"model": str("llama-4")}), "model"},
		"precision":         {"mcllm_memory_estimate", estimate(map[string]tftypes.Value{"precision": str("nf4")}), "precision"},
		"kv precision":      {"mcllm_memory_estimate", estimate(map[string]tftypes.Value{"kv_cache_precision": str("fp4")}), "kv_cache_precision"},
		"context":           {"mcllm_memory_estimate", estimate(map[string]tftypes.Value{"max_context_tokens": num(-1)}), "max_context_tokens"},
		"concurrency":       {"mcllm_memory_estimate", estimate(map[string]tftypes.Value{"max_concurrent_sequences": num(0)}), "max_concurrent_sequences"},
		"utilization":       {"mcllm_memory_estimate", estimate(map[string]tftypes.Value{"gpu_memory_utilization": num(0)}), "gpu_memory_utilization"},
		"instance type":     {"mcllm_memory_estimate", estimate(map[string]tftypes.Value{"instance_type": str("azure/ND96")}), "instance_type"},
		"tensor parallel":   {"mcllm_memory_estimate", estimate(map[string]tftypes.Value{"tensor_parallel": num(6)}), "tensor_parallel"},
		"tensor zero":       {"mcllm_memory_estimate", estimate(map[string]tftypes.Value{"tensor_parallel": num(0)}), "tensor_parallel"},
		"pipeline too deep": {"mcllm_memory_estimate", estimate(map[string]tftypes.Value{"pipeline_parallel": num(33)}), "pipeline_parallel"},
	} {
		t.Run(name, func(t *testing.T) {
			h := newProtocolHarness(t)
			if diags := h.configure(nil); len(diags) > 0 {
				t.Fatalf("configure: %v", diags)
			}
			resp := h.readDataSource(tc.typeName, tc.set)
			expectOneError(t, resp.Diagnostics, attrPath(tc.at))
		})
	}
}

func TestProtocolFunctionErrorArguments(t *testing.T) {
	h := newProtocolHarness(t)
	call := func(args ...tftypes.Value) *tfprotov6.CallFunctionResponse {
		return h.callFunction("estimate_memory", args...)
	}
	for name, tc := range map[string]struct {
		args []tftypes.Value
		arg  int64
	}{
		"model":         {[]tftypes.Value{str("gpt-5"), str("bf16"), num(1024), num(1)}, 0},
		"precision":     {[]tftypes.Value{str("llama-3.1-8b"), str("q4"), num(1024), num(1)}, 1},
		"context":       {[]tftypes.Value{str("llama-3.1-8b"), str("bf16"), num(0), num(1)}, 2},
		"concurrency":   {[]tftypes.Value{str("llama-3.1-8b"), str("bf16"), num(1024), num(-4)}, 3},
		"instance type": {[]tftypes.Value{str("llama-3.1-8b"), str("bf16"), num(1024), num(1), str("aws/h100")}, 4},
	} {
		t.Run(name, func(t *testing.T) {
			resp := call(tc.args...)
			if resp.Error == nil || resp.Error.FunctionArgument == nil {
				t.Fatalf("want an argument error, got %+v", resp.Error)
			}
			if *resp.Error.FunctionArgument != tc.arg {
				t.Errorf("error %q on argument %d, want %d", resp.Error.Text, *resp.Error.FunctionArgument, tc.arg)
			}
		})
	}
	ok := call(str("llama-3.1-70b"), str("bf16"), num(8192), num(1), str("gcp/a3-highgpu-8g"))
	if ok.Error != nil || ok.Result == nil {
		t.Fatalf("valid call failed: %+v", ok.Error)
	}
}

// callFunction calls a provider function over the protocol.
func (h *protocolHarness) callFunction(name string, args ...tftypes.Value) *tfprotov6.CallFunctionResponse {
	var dvs []*tfprotov6.DynamicValue
	for _, a := range args {
		dv, err := tfprotov6.NewDynamicValue(a.Type(), a)
		if err != nil {
			h.t.Fatal(err)
		}
		dvs = append(dvs, &dv)
	}
	resp, err := h.server.CallFunction(context.Background(), &tfprotov6.CallFunctionRequest{Name: name, Arguments: dvs})
	if err != nil {
		h.t.Fatal(err)
	}
	return resp
}

// nodeGroupValue is a node group of a catalog instance type, as the CLI
// sends it (defaults filled in).
func nodeGroupValue(t tftypes.Type, cloud, region, instance string, maxNodes float64) tftypes.Value {
	return object(t, map[string]tftypes.Value{"cloud": str(cloud), "region": str(region),
		"instance_type": str(instance), "max_nodes": num(maxNodes), "min_nodes": num(0),
		"capacity_type": str("on-demand"), "confidential": tftypes.NewValue(tftypes.Bool, false)})
}

// poolElementTypes are the types of one node group and one model shard of
// the pool's schema.
func (h *protocolHarness) poolElementTypes() (group, shard tftypes.Type) {
	typ := h.schema.ResourceSchemas["mcllm_inference_pool"].ValueType().(tftypes.Object)
	return typ.AttributeTypes["node_groups"].(tftypes.Map).ElementType, typ.AttributeTypes["model_shards"].(tftypes.List).ElementType
}

// planPool plans a new pool over the protocol and returns the diagnostics.
func (h *protocolHarness) planPool(groups map[string]tftypes.Value, shards []tftypes.Value) []*tfprotov6.Diagnostic {
	return h.planPoolResponse(groups, shards).Diagnostics
}

// planPoolResponse plans a new pool over the protocol.
func (h *protocolHarness) planPoolResponse(groups map[string]tftypes.Value, shards []tftypes.Value) *tfprotov6.PlanResourceChangeResponse {
	s := h.schema.ResourceSchemas["mcllm_inference_pool"]
	typ := s.ValueType().(tftypes.Object)
	groupType, shardType := h.poolElementTypes()
	cfg := value(h.t, s, map[string]tftypes.Value{
		"name":         str("p"),
		"node_groups":  tftypes.NewValue(tftypes.Map{ElementType: groupType}, groups),
		"model_shards": tftypes.NewValue(tftypes.List{ElementType: shardType}, shards),
		// Rendering Kubernetes workloads, which makes invalid label values errors.
		"kubernetes": object(typ.AttributeTypes["kubernetes"], nil),
	})
	prior, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, nil))
	if err != nil {
		h.t.Fatal(err)
	}
	resp, err := h.server.PlanResourceChange(context.Background(), &tfprotov6.PlanResourceChangeRequest{
		TypeName: "mcllm_inference_pool", PriorState: &prior, ProposedNewState: cfg, Config: cfg,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return resp
}

// object fills an object type with the given attributes, nulls elsewhere.
func object(t tftypes.Type, set map[string]tftypes.Value) tftypes.Value {
	ot := t.(tftypes.Object)
	vals := map[string]tftypes.Value{}
	for name, at := range ot.AttributeTypes {
		if v, ok := set[name]; ok {
			vals[name] = v
		} else {
			vals[name] = tftypes.NewValue(at, nil)
		}
	}
	return tftypes.NewValue(ot, vals)
}

func TestProtocolPoolErrorPaths(t *testing.T) {
	h := newProtocolHarness(t)
	if diags := h.configure(nil); len(diags) > 0 {
		t.Fatal(diags)
	}
	gt, st := h.poolElementTypes()
	grp := func(instance string, maxNodes float64) tftypes.Value {
		return nodeGroupValue(gt, "aws", "us-east-1", instance, maxNodes)
	}
	shardV := func(name, model string, replicas float64) tftypes.Value {
		return object(st, map[string]tftypes.Value{"name": str(name), "model": str(model), "precision": str("bf16"),
			"max_context_tokens": num(4096), "max_concurrent_sequences": num(4), "replicas": num(replicas)})
	}
	engineShard := func(engine map[string]tftypes.Value, ctx float64) tftypes.Value {
		et := st.(tftypes.Object).AttributeTypes["engine"].(tftypes.Object)
		return object(st, map[string]tftypes.Value{"name": str("e"), "model": str("llama-3.1-8b"), "precision": str("bf16"),
			"max_context_tokens": num(ctx), "max_concurrent_sequences": num(4), "replicas": num(1), "engine": object(et, engine)})
	}
	enginePath := func(attr string) *tftypes.AttributePath {
		return attrPath("model_shards").WithElementKeyInt(0).WithAttributeName("engine").WithAttributeName(attr)
	}
	for name, tc := range map[string]struct {
		groups map[string]tftypes.Value
		shards []tftypes.Value
		at     *tftypes.AttributePath
	}{
		"engine version not modelled": {map[string]tftypes.Value{"g": grp("p5.48xlarge", 1)},
			[]tftypes.Value{engineShard(map[string]tftypes.Value{"version": str("0.7.0")}, 4096)}, enginePath("version")},
		"batch below the context without chunked prefill": {map[string]tftypes.Value{"g": grp("p5.48xlarge", 1)},
			[]tftypes.Value{engineShard(map[string]tftypes.Value{"max_num_batched_tokens": num(4096),
				"enable_chunked_prefill": tftypes.NewValue(tftypes.Bool, false)}, 16384)}, enginePath("max_num_batched_tokens")},
		"batch below the sequences": {map[string]tftypes.Value{"g": grp("p5.48xlarge", 1)},
			[]tftypes.Value{engineShard(map[string]tftypes.Value{"max_num_batched_tokens": num(2)}, 4096)}, enginePath("max_num_batched_tokens")},
		"batch zero": {map[string]tftypes.Value{"g": grp("p5.48xlarge", 1)},
			[]tftypes.Value{engineShard(map[string]tftypes.Value{"max_num_batched_tokens": num(0)}, 4096)}, enginePath("max_num_batched_tokens")},
		"unknown instance type": {map[string]tftypes.Value{"g": grp("p5.48", 1)}, []tftypes.Value{shardV("a", "llama-3.1-8b", 1)},
			attrPath("node_groups").WithElementKeyString("g").WithAttributeName("instance_type")},
		"duplicate name": {map[string]tftypes.Value{"g": grp("p5.48xlarge", 1)}, []tftypes.Value{shardV("a", "llama-3.1-8b", 1), shardV("a", "qwen2.5-7b", 1)},
			attrPath("model_shards").WithElementKeyInt(1).WithAttributeName("name")},
		"unknown model in second shard": {map[string]tftypes.Value{"g": grp("p5.48xlarge", 1)}, []tftypes.Value{shardV("a", "llama-3.1-8b", 1), shardV("b", "gpt-4", 1)},
			attrPath("model_shards").WithElementKeyInt(1).WithAttributeName("model")},
		"node group name not a label value": {map[string]tftypes.Value{"GPU pool": grp("p5.48xlarge", 1)}, []tftypes.Value{shardV("a", "llama-3.1-8b", 1)},
			attrPath("node_groups").WithElementKeyString("GPU pool")},
		"model name not a label value": {map[string]tftypes.Value{"g": grp("p5.48xlarge", 1)}, []tftypes.Value{shardV("a", "llama-3.1-8b", 1), shardV("Llama 8B", "llama-3.1-8b", 1)},
			attrPath("model_shards").WithElementKeyInt(1).WithAttributeName("name")},
		"capacity short for second shard": {map[string]tftypes.Value{"g": grp("p5.48xlarge", 1)}, []tftypes.Value{shardV("a", "llama-3.1-8b", 1), shardV("b", "llama-3.1-8b", 20)},
			attrPath("model_shards").WithElementKeyInt(1)},
	} {
		t.Run(name, func(t *testing.T) {
			expectOneError(t, h.planPool(tc.groups, tc.shards), tc.at)
		})
	}
}

// A transfer without a known price warns on the model's weights_source.
func TestProtocolMissingEgressPriceWarns(t *testing.T) {
	h := newProtocolHarness(t)
	if diags := h.configure(nil); len(diags) > 0 {
		t.Fatal(diags)
	}
	gt, st := h.poolElementTypes()
	src := st.(tftypes.Object).AttributeTypes["weights_source"]
	group := nodeGroupValue(gt, "gcp", "us-east4", "a3-highgpu-8g", 1)
	shard := object(st, map[string]tftypes.Value{"name": str("a"), "model": str("llama-3.1-8b"), "precision": str("bf16"),
		"max_context_tokens": num(4096), "max_concurrent_sequences": num(4), "replicas": num(1),
		"weights_source": object(src, map[string]tftypes.Value{"cloud": str("gcp"), "region": str("us-central1")})})
	diags := h.planPool(map[string]tftypes.Value{"g": group}, []tftypes.Value{shard})
	want := attrPath("model_shards").WithElementKeyInt(0).WithAttributeName("weights_source")
	found := false
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			t.Fatalf("unexpected error: %s: %s", d.Summary, d.Detail)
		}
		if d.Summary == "No price for a weight transfer" && d.Attribute.Equal(want) {
			found = true
		}
	}
	if !found {
		t.Fatalf("want a warning on %s, got %s", want, diagText(diags))
	}
}

// The memory estimate's engine settings fail on their own attribute.
func TestProtocolEstimateEngineErrorPaths(t *testing.T) {
	h := newProtocolHarness(t)
	if diags := h.configure(nil); len(diags) > 0 {
		t.Fatalf("configure: %v", diags)
	}
	et := h.schema.DataSourceSchemas["mcllm_memory_estimate"].ValueType().(tftypes.Object).AttributeTypes["engine"].(tftypes.Object)
	for name, tc := range map[string]struct {
		engine map[string]tftypes.Value
		at     string
	}{
		"release not modelled": {map[string]tftypes.Value{"version": str("0.5.0")}, "version"},
		"batch below the context without chunked prefill": {map[string]tftypes.Value{"max_num_batched_tokens": num(2048),
			"enable_chunked_prefill": tftypes.NewValue(tftypes.Bool, false)}, "max_num_batched_tokens"},
	} {
		t.Run(name, func(t *testing.T) {
			resp := h.readDataSource("mcllm_memory_estimate", map[string]tftypes.Value{
				"model": str("llama-3.1-8b"), "precision": str("bf16"), "max_context_tokens": num(4096),
				"max_concurrent_sequences": num(4), "engine": object(et, tc.engine)})
			expectOneError(t, resp.Diagnostics, attrPath("engine").WithAttributeName(tc.at))
		})
	}
}
