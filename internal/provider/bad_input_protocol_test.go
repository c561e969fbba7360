package provider

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// The CLI-free half of the bad-input matrix (TestAccBadInput is the other):
// every numeric input at its extremes and every string input empty, each
// an error with its text on its attribute path, never a plan.

// validatePlanPool validates a new pool and, when that passes, plans it, as
// the CLI does; it returns the diagnostics and the planned value (null
// type when there is none).
func (h *protocolHarness) validatePlanPool(set map[string]tftypes.Value) ([]*tfprotov6.Diagnostic, tftypes.Value) {
	h.t.Helper()
	s := h.schema.ResourceSchemas[poolTypeName]
	typ := s.ValueType().(tftypes.Object)
	cfg := value(h.t, s, set)
	v, err := h.server.ValidateResourceConfig(context.Background(), &tfprotov6.ValidateResourceConfigRequest{TypeName: poolTypeName, Config: cfg})
	if err != nil {
		h.t.Fatal(err)
	}
	if len(v.Diagnostics) > 0 {
		return v.Diagnostics, tftypes.Value{}
	}
	prior, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, nil))
	if err != nil {
		h.t.Fatal(err)
	}
	resp, err := h.server.PlanResourceChange(context.Background(), &tfprotov6.PlanResourceChangeRequest{
		TypeName: poolTypeName, PriorState: &prior, ProposedNewState: cfg, Config: cfg})
	if err != nil {
		h.t.Fatal(err)
	}
	if resp.PlannedState == nil {
		return resp.Diagnostics, tftypes.Value{}
	}
	p, err := resp.PlannedState.Unmarshal(typ)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.Diagnostics, p
}

// planOnly plans a new pool without validating it first.
func (h *protocolHarness) planOnly(set map[string]tftypes.Value) []*tfprotov6.Diagnostic {
	h.t.Helper()
	s := h.schema.ResourceSchemas[poolTypeName]
	typ := s.ValueType().(tftypes.Object)
	cfg := value(h.t, s, set)
	prior, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, nil))
	if err != nil {
		h.t.Fatal(err)
	}
	resp, err := h.server.PlanResourceChange(context.Background(), &tfprotov6.PlanResourceChangeRequest{
		TypeName: poolTypeName, PriorState: &prior, ProposedNewState: cfg, Config: cfg})
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.Diagnostics
}

// poolInput is a pool configuration as maps the matrix cases edit: one
// custom node group "g" and one model shard.
type poolInput struct {
	pool, group, gpu, shard map[string]tftypes.Value
	// arch, when not nil, replaces the shard's catalog model.
	arch map[string]tftypes.Value
	// autoscaling, when not nil, replaces the shard's replicas.
	autoscaling map[string]tftypes.Value
	// groupKey is the node group's name, "g" when empty.
	groupKey *string
	// gpuModels, when not nil, is the shard's constraints.gpu_models.
	gpuModels []string
	// engine, when not nil, is the shard's engine settings.
	engine map[string]tftypes.Value
	// quota, when not nil, is the pool's one quota, "q".
	quota map[string]tftypes.Value
	// constraints, when not nil, are the shard's; sharing the group's
	// gpu_sharing.
	constraints, sharing map[string]tftypes.Value
}

func okPoolInput() poolInput {
	return poolInput{
		pool:  map[string]tftypes.Value{"name": str("p")},
		group: map[string]tftypes.Value{"cloud": str("custom"), "region": str("lab"), "max_nodes": num(2), "price_per_hour": num(1)},
		gpu:   map[string]tftypes.Value{"model": str("X100"), "count": num(8), "memory_gib": num(80)},
		shard: map[string]tftypes.Value{"name": str("a"), "model": str("llama-3.1-8b"), "precision": str("bf16"),
			"max_context_tokens": num(4096), "max_concurrent_sequences": num(4), "replicas": num(2)},
	}
}

// smallArch is a valid custom architecture.
func smallArch() map[string]tftypes.Value {
	return map[string]tftypes.Value{"layers": num(4), "hidden_size": num(256), "attention_heads": num(8), "kv_heads": num(4),
		"head_dim": num(32), "vocab_size": num(1000), "intermediate_size": num(512), "max_context_tokens": num(8192)}
}

// shardValues are the attributes of the input's model shard, as an element
// of model_shards or a model shard resource of type st has them.
func (in poolInput) shardValues(st tftypes.Object) map[string]tftypes.Value {
	shard := map[string]tftypes.Value{}
	for k, v := range in.shard {
		shard[k] = v
	}
	if in.arch != nil {
		shard["model"] = tftypes.NewValue(tftypes.String, nil)
		shard["architecture"] = object(st.AttributeTypes["architecture"], in.arch)
	}
	if in.autoscaling != nil {
		shard["replicas"] = tftypes.NewValue(tftypes.Number, nil)
		shard["autoscaling"] = object(st.AttributeTypes["autoscaling"], in.autoscaling)
	}
	if in.engine != nil {
		shard["engine"] = object(st.AttributeTypes["engine"], in.engine)
	}
	if in.gpuModels != nil {
		shard["constraints"] = object(st.AttributeTypes["constraints"], map[string]tftypes.Value{"gpu_models": strList(in.gpuModels)})
	}
	if in.constraints != nil {
		shard["constraints"] = object(st.AttributeTypes["constraints"], in.constraints)
	}
	return shard
}

// config is the pool's whole configuration.
func (in poolInput) config(h *protocolHarness) map[string]tftypes.Value {
	gt, st := h.poolElementTypes()
	group := map[string]tftypes.Value{"gpu": object(gt.(tftypes.Object).AttributeTypes["gpu"], in.gpu)}
	for k, v := range in.group {
		group[k] = v
	}
	if in.sharing != nil {
		group["gpu_sharing"] = object(gt.(tftypes.Object).AttributeTypes["gpu_sharing"], in.sharing)
	}
	shard := in.shardValues(st.(tftypes.Object))
	key := "g"
	if in.groupKey != nil {
		key = *in.groupKey
	}
	out := map[string]tftypes.Value{
		"node_groups":  tftypes.NewValue(tftypes.Map{ElementType: gt}, map[string]tftypes.Value{key: object(gt, group)}),
		"model_shards": tftypes.NewValue(tftypes.List{ElementType: st}, []tftypes.Value{object(st, shard)}),
	}
	for k, v := range in.pool {
		out[k] = v
	}
	if in.quota != nil {
		qt := h.schema.ResourceSchemas["mcllm_inference_pool"].ValueType().(tftypes.Object).AttributeTypes["quotas"].(tftypes.Map).ElementType
		out["quotas"] = tftypes.NewValue(tftypes.Map{ElementType: qt}, map[string]tftypes.Value{"q": object(qt, in.quota)})
	}
	return out
}

// strList is a list of strings.
func strList(xs []string) tftypes.Value {
	vals := make([]tftypes.Value, len(xs))
	for i, x := range xs {
		vals[i] = str(x)
	}
	return tftypes.NewValue(tftypes.List{ElementType: tftypes.String}, vals)
}

func bigNum(s string) tftypes.Value {
	f, _, err := big.ParseFloat(s, 10, 512, big.ToNearestEven)
	if err != nil {
		panic(err)
	}
	return tftypes.NewValue(tftypes.Number, f)
}

var (
	posInf = tftypes.NewValue(tftypes.Number, new(big.Float).SetInf(false))
	negInf = tftypes.NewValue(tftypes.Number, new(big.Float).SetInf(true))
)

// Paths of the matrix.
var (
	groupPath = attrPath("node_groups").WithElementKeyString("g")
	shardPath = attrPath("model_shards").WithElementKeyInt(0)
)

type badPoolCase struct {
	edit func(*poolInput)
	at   *tftypes.AttributePath
	want string
}

// numberCases are every numeric input of a pool at its extremes.
func numberCases() map[string]badPoolCase {
	g := func(k string, v tftypes.Value) func(*poolInput) { return func(in *poolInput) { in.group[k] = v } }
	gpu := func(k string, v tftypes.Value) func(*poolInput) { return func(in *poolInput) { in.gpu[k] = v } }
	s := func(k string, v tftypes.Value) func(*poolInput) { return func(in *poolInput) { in.shard[k] = v } }
	p := func(k string, v tftypes.Value) func(*poolInput) { return func(in *poolInput) { in.pool[k] = v } }
	arch := func(k string, v tftypes.Value) func(*poolInput) {
		return func(in *poolInput) { in.arch = smallArch(); in.arch[k] = v }
	}
	as := func(set map[string]tftypes.Value) func(*poolInput) {
		return func(in *poolInput) { in.autoscaling = set }
	}
	gp := func(k string) *tftypes.AttributePath { return groupPath.WithAttributeName(k) }
	sp := func(k string) *tftypes.AttributePath { return shardPath.WithAttributeName(k) }
	quota := func(limit tftypes.Value, extra map[string]tftypes.Value) func(*poolInput) {
		return func(in *poolInput) {
			in.quota = map[string]tftypes.Value{"cloud": str("custom"), "region": str("lab"), "limit": limit}
			for k, v := range extra {
				in.quota[k] = v
			}
		}
	}
	qp := func(k string) *tftypes.AttributePath {
		return attrPath("quotas").WithElementKeyString("q").WithAttributeName(k)
	}
	return map[string]badPoolCase{
		"max_nodes 2^63":             {g("max_nodes", bigNum("9223372036854775808")), gp("max_nodes"), "beyond what a 64-bit integer holds"},
		"max_nodes above the limit":  {g("max_nodes", num(100_001)), gp("max_nodes"), "max_nodes must be between 0 and 100,000"},
		"max_nodes negative":         {g("max_nodes", num(-1)), gp("max_nodes"), "max_nodes must be between 0 and 100,000"},
		"max_nodes fractional":       {g("max_nodes", num(1.5)), gp("max_nodes"), "must be a whole number; got 1.5"},
		"max_nodes +Inf":             {g("max_nodes", posInf), gp("max_nodes"), "is not a finite whole number"},
		"min_nodes negative":         {g("min_nodes", num(-1)), gp("min_nodes"), "min_nodes must be between 0 and 100,000"},
		"min_nodes above the limit":  {g("min_nodes", num(100_001)), gp("min_nodes"), "min_nodes must be between 0 and 100,000"},
		"min_nodes above max_nodes":  {g("min_nodes", num(3)), gp("min_nodes"), "min_nodes (3) is greater than max_nodes (2)"},
		"price 2e15":                 {g("price_per_hour", num(2e15)), gp("price_per_hour"), "price_per_hour must be between 0 and 10,000"},
		"price negative":             {g("price_per_hour", num(-0.01)), gp("price_per_hour"), "price_per_hour must be between 0 and 10,000"},
		"price -Inf":                 {g("price_per_hour", negInf), gp("price_per_hour"), "cannot be represented as a 64-bit floating-point number"},
		"price 1e400":                {g("price_per_hour", bigNum("1e400")), gp("price_per_hour"), "cannot be represented as a 64-bit floating-point number"},
		"gpu count 0":                {gpu("count", num(0)), gp("gpu").WithAttributeName("count"), "gpu.count must be between 1 and 64"},
		"gpu count 65":               {gpu("count", num(65)), gp("gpu").WithAttributeName("count"), "gpu.count must be between 1 and 64"},
		"gpu count fractional":       {gpu("count", num(7.5)), gp("gpu").WithAttributeName("count"), "must be a whole number"},
		"gpu memory 1e15":            {gpu("memory_gib", num(1e15)), gp("gpu").WithAttributeName("memory_gib"), `node_groups["g"].gpu.memory_gib must be between 1 and 1,024`},
		"gpu memory +Inf":            {gpu("memory_gib", posInf), gp("gpu").WithAttributeName("memory_gib"), "cannot be represented as a 64-bit floating-point number"},
		"gpu memory 0.5":             {gpu("memory_gib", num(0.5)), gp("gpu").WithAttributeName("memory_gib"), "gpu.memory_gib must be between 1 and 1,024"},
		"replicas 1.5":               {s("replicas", num(1.5)), sp("replicas"), "model_shards[0].replicas must be a whole number; got 1.5"},
		"replicas +Inf":              {s("replicas", posInf), sp("replicas"), "is not a finite whole number"},
		"replicas negative":          {s("replicas", num(-1)), sp("replicas"), "replicas must be between 0 and 100,000"},
		"replicas above the limit":   {s("replicas", num(999_999)), sp("replicas"), "replicas must be between 0 and 100,000"},
		"context 0":                  {s("max_context_tokens", num(0)), sp("max_context_tokens"), "must be a positive number of tokens"},
		"context past the model":     {s("max_context_tokens", num(1<<24+1)), sp("max_context_tokens"), "exceeds the model's maximum context"},
		"context fractional":         {s("max_context_tokens", num(4096.5)), sp("max_context_tokens"), "must be a whole number"},
		"sequences 0":                {s("max_concurrent_sequences", num(0)), sp("max_concurrent_sequences"), "max_concurrent_sequences must be between 1 and 1,048,576"},
		"sequences above the limit":  {s("max_concurrent_sequences", num(1<<20+1)), sp("max_concurrent_sequences"), "max_concurrent_sequences must be between 1 and 1,048,576"},
		"tensor_parallel 0":          {s("tensor_parallel", num(0)), sp("tensor_parallel"), "tensor_parallel must be between 1 and 64"},
		"tensor_parallel 128":        {s("tensor_parallel", num(128)), sp("tensor_parallel"), "tensor_parallel must be between 1 and 64"},
		"pipeline_parallel 0":        {s("pipeline_parallel", num(0)), sp("pipeline_parallel"), "pipeline_parallel must be between 1 and 1,024"},
		"pipeline_parallel 2^40":     {s("pipeline_parallel", num(1<<40)), sp("pipeline_parallel"), "pipeline_parallel must be between 1 and 1,024"},
		"priority above the limit":   {s("priority", num(2e6)), sp("priority"), "priority must be between -1,000,000 and 1,000,000"},
		"on_demand_floor negative":   {s("on_demand_floor", num(-1)), sp("on_demand_floor"), "on_demand_floor must be between 0 and 100,000"},
		"architecture layers 2^40":   {arch("layers", num(1<<40)), sp("architecture").WithAttributeName("layers"), "layers must be between 1 and 1,024"},
		"architecture layers 0":      {arch("layers", num(0)), sp("architecture").WithAttributeName("layers"), "layers must be between 1 and 1,024"},
		"architecture hidden 1e7":    {arch("hidden_size", num(1e7)), sp("architecture").WithAttributeName("hidden_size"), "hidden_size must be between 1 and 131,072"},
		"architecture heads 0":       {arch("attention_heads", num(0)), sp("architecture").WithAttributeName("attention_heads"), "attention_heads must be between 1 and 4,096"},
		"architecture kv heads 8192": {arch("kv_heads", num(8192)), sp("architecture").WithAttributeName("kv_heads"), "kv_heads must be between 1 and 4,096"},
		"architecture head_dim big":  {arch("head_dim", num(4096)), sp("architecture").WithAttributeName("head_dim"), "head_dim must be between 1 and 2,048"},
		"architecture vocab big":     {arch("vocab_size", num(1<<25)), sp("architecture").WithAttributeName("vocab_size"), "vocab_size must be between 1 and 16,777,216"},
		"architecture mlp big":       {arch("intermediate_size", num(1<<21)), sp("architecture").WithAttributeName("intermediate_size"), "intermediate_size must be between 1 and 1,048,576"},
		"architecture context big":   {arch("max_context_tokens", num(1<<25)), sp("architecture").WithAttributeName("max_context_tokens"), "max_context_tokens must be between 1 and 16,777,216"},
		"architecture experts big":   {arch("experts", num(5000)), sp("architecture").WithAttributeName("experts"), "experts must be between 0 and 4,096"},
		"architecture 1.7e19 parameters": {func(in *poolInput) {
			in.arch = smallArch()
			for k, v := range map[string]float64{"layers": 1024, "hidden_size": 1 << 17, "intermediate_size": 1 << 20, "experts": 4096,
				"active_experts": 8, "moe_intermediate_size": 1 << 20} {
				in.arch[k] = num(v)
			}
		}, sp("architecture"), "the model's parameters must be between 1 and 100,000,000,000,000"},
		"target_load negative": {as(map[string]tftypes.Value{"target_load": num(-1), "load_per_replica": num(1)}),
			sp("autoscaling").WithAttributeName("target_load"), "target_load must be between 0 and 1,000,000,000,000,000"},
		"target_load above the limit": {as(map[string]tftypes.Value{"target_load": num(1e16), "load_per_replica": num(1)}),
			sp("autoscaling").WithAttributeName("target_load"), "target_load must be between 0 and 1,000,000,000,000,000"},
		"load_per_replica 0": {as(map[string]tftypes.Value{"target_load": num(1), "load_per_replica": num(0)}),
			sp("autoscaling").WithAttributeName("load_per_replica"), "load_per_replica must be greater than 0"},
		"max_replicas above the limit": {as(map[string]tftypes.Value{"target_load": num(1), "load_per_replica": num(1), "max_replicas": num(100_001)}),
			sp("autoscaling").WithAttributeName("max_replicas"), "max_replicas must be between 0 and 100,000"},
		"min_replicas negative": {as(map[string]tftypes.Value{"target_load": num(1), "load_per_replica": num(1), "min_replicas": num(-1)}),
			sp("autoscaling").WithAttributeName("min_replicas"), "min_replicas must be between 0 and 100,000"},
		"max_lora_rank 24": {func(in *poolInput) {
			in.engine = map[string]tftypes.Value{"max_loras": num(2), "max_lora_rank": num(24)}
		},
			sp("engine").WithAttributeName("max_lora_rank"), "vLLM accepts a max_lora_rank of"},
		"max_loras above the limit": {func(in *poolInput) { in.engine = map[string]tftypes.Value{"max_loras": num(5000)} },
			sp("engine").WithAttributeName("max_loras"), "max_loras must be between 0 and 1,024"},
		"memory fraction over 1": {func(in *poolInput) {
			in.constraints = map[string]tftypes.Value{"share_gpu": tftypes.NewValue(tftypes.Bool, true), "gpu_memory_fraction": num(1.5)}
		}, sp("constraints").WithAttributeName("gpu_memory_fraction"), "must be greater than 0 and at most 1 (a part of one GPU's memory), got 1.5"},
		"memory fraction without sharing": {func(in *poolInput) { in.constraints = map[string]tftypes.Value{"gpu_memory_fraction": num(0.25)} },
			sp("constraints").WithAttributeName("gpu_memory_fraction"), "needs constraints.share_gpu"},
		"max engines per GPU 6": {func(in *poolInput) { in.sharing = map[string]tftypes.Value{"max_engines_per_gpu": num(6)} },
			gp("gpu_sharing").WithAttributeName("max_engines_per_gpu"), "must be a power of two (2, 4, 8 or 16)"},
		"MIG profiles on a GPU without MIG": {func(in *poolInput) {
			in.sharing = map[string]tftypes.Value{"mig_profiles": strList([]string{"1g.10gb"})}
		},
			gp("gpu_sharing").WithAttributeName("mig_profiles").WithElementKeyInt(0), "X100 has no MIG profiles mcllm knows"},
		"mixed MIG layout on a GPU without MIG": {func(in *poolInput) {
			in.sharing = map[string]tftypes.Value{"mig_profile": tftypes.NewValue(tftypes.String, "all-balanced")}
		},
			gp("gpu_sharing").WithAttributeName("mig_profile"), "X100 has no MIG profiles mcllm knows"},
		"quota limit negative":        {quota(num(-1), nil), qp("limit"), `quotas["q"].limit must be between 0 and 1,000,000,000`},
		"quota limit fractional":      {quota(num(1.5), nil), qp("limit"), "must be a whole number; got 1.5"},
		"quota limit above the limit": {quota(num(2e9), nil), qp("limit"), "limit must be between 0 and 1,000,000,000"},
		"quota below min_nodes": {func(in *poolInput) { quota(num(4), nil)(in); in.group["min_nodes"] = num(1) }, qp("limit"),
			`the min_nodes of node groups "g" (1) count 8 GPUs, over the limit of 4`},
		"quota family unknown": {quota(num(4), map[string]tftypes.Value{"family": str("NVIDIA_H100_GPUS")}), qp("family"),
			`"NVIDIA_H100_GPUS" is not a quota family of custom's catalog instance types`},
		"max_moves negative":         {p("max_moves", num(-1)), attrPath("max_moves"), "max_moves must be between 0 and 100,000"},
		"max_moves above the limit":  {p("max_moves", num(1e7)), attrPath("max_moves"), "max_moves must be between 0 and 100,000"},
		"utilization 0":              {p("gpu_memory_utilization", num(0)), attrPath("gpu_memory_utilization"), "must be greater than 0 and at most 1, got 0"},
		"utilization above 1":        {p("gpu_memory_utilization", num(1.01)), attrPath("gpu_memory_utilization"), "between 0.000000 and 1.000000"},
		"transfer horizon 0":         {p("transfer_horizon_hours", num(0)), attrPath("transfer_horizon_hours"), "transfer_horizon_hours must be between 1 and 876,000"},
		"transfer horizon +Inf":      {p("transfer_horizon_hours", posInf), attrPath("transfer_horizon_hours"), "cannot be represented as a 64-bit floating-point number"},
		"transfer horizon too large": {p("transfer_horizon_hours", num(1e9)), attrPath("transfer_horizon_hours"), "transfer_horizon_hours must be between 1 and 876,000"},
	}
}

// TestProtocolBadInputMatrix runs the matrix: exactly one error, on the
// case's path, with its text.
func TestProtocolBadInputMatrix(t *testing.T) {
	h := newProtocolHarness(t)
	if diags := h.configure(nil); len(diags) > 0 {
		t.Fatal(diags)
	}
	cases := numberCases()
	for name, tc := range stringCases() {
		cases[name] = tc
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := okPoolInput()
			tc.edit(&in)
			diags, planned := h.validatePlanPool(in.config(h))
			var errs []*tfprotov6.Diagnostic
			for _, d := range diags {
				if d.Severity == tfprotov6.DiagnosticSeverityError {
					errs = append(errs, d)
				}
			}
			if len(errs) != 1 || planned.Type() != nil {
				t.Fatalf("want one error and no plan, got %s", diagText(diags))
			}
			d := errs[0]
			if !d.Attribute.Equal(tc.at) || !strings.Contains(d.Detail, tc.want) || strings.Contains(d.Detail, "%!") {
				t.Errorf("got %q on %s, want %q on %s", d.Detail, d.Attribute, tc.want, tc.at)
			}
			// Values known only at plan time skip validation: the plan
			// reports them on the same path, before any conversion.
			var planErrs []*tfprotov6.Diagnostic
			for _, d := range h.planOnly(in.config(h)) {
				if d.Severity == tfprotov6.DiagnosticSeverityError {
					planErrs = append(planErrs, d)
				}
			}
			if len(planErrs) != 1 || !planErrs[0].Attribute.Equal(tc.at) || strings.Contains(planErrs[0].Detail, "%!") ||
				strings.Contains(planErrs[0].Detail, "-922337") {
				t.Errorf("plan without validation: want one error on %s, got %s", tc.at, diagText(planErrs))
			}
		})
	}
	if len(cases) < 60 {
		t.Errorf("the matrix has %d cases; keep at least 60", len(cases))
	}
	// The unchanged input plans: every case fails for its own edit.
	if diags, planned := h.validatePlanPool(okPoolInput().config(h)); planned.Type() == nil {
		t.Fatalf("the base input does not plan: %s", diagText(diags))
	}
}

// Numbers the data sources and functions cannot hold are the user's errors
// on their attribute or argument, not a provider bug.
func TestProtocolNumbersOfDataSourcesAndFunctions(t *testing.T) {
	h := newProtocolHarness(t)
	if diags := h.configure(nil); len(diags) > 0 {
		t.Fatal(diags)
	}
	for name, tc := range map[string]struct {
		v    tftypes.Value
		want string
	}{
		"fractional":      {num(1.5), "max_context_tokens must be a whole number; got 1.5"},
		"+Inf":            {posInf, "max_context_tokens = +Inf is not a finite whole number"},
		"2^64":            {bigNum("18446744073709551616"), "beyond what a 64-bit integer holds"},
		"above the limit": {num(1 << 25), "exceeds the model's maximum context"},
	} {
		t.Run(name, func(t *testing.T) {
			resp := h.readDataSource("mcllm_memory_estimate", map[string]tftypes.Value{"model": str("llama-3.1-8b"), "precision": str("bf16"),
				"max_context_tokens": tc.v, "max_concurrent_sequences": num(4)})
			expectOneError(t, resp.Diagnostics, attrPath("max_context_tokens"))
			for _, d := range resp.Diagnostics {
				if !strings.Contains(d.Detail, tc.want) || strings.Contains(d.Detail, "provider developer") {
					t.Errorf("data source: %q", d.Detail)
				}
			}
			f := h.callFunction("estimate_memory", str("llama-3.1-8b"), str("bf16"), tc.v, num(1))
			if f.Error == nil || f.Error.FunctionArgument == nil || *f.Error.FunctionArgument != 2 ||
				!strings.Contains(f.Error.Text, tc.want) || strings.Contains(f.Error.Text, "provider developer") {
				t.Errorf("function: %+v", f.Error)
			}
		})
	}
	f := h.callFunction("estimate_memory", str("llama-3.1-8b"), str("bf16"), num(4096), num(math.MaxInt32))
	if f.Error == nil || *f.Error.FunctionArgument != 3 || !strings.Contains(f.Error.Text, "max_concurrent_sequences must be between 1 and 1,048,576") {
		t.Errorf("concurrency above the limit: %+v", f.Error)
	}
}

// stringCases are every string input of a pool left empty.
func stringCases() map[string]badPoolCase {
	g := func(k string) func(*poolInput) { return func(in *poolInput) { in.group[k] = str("") } }
	s := func(k string) func(*poolInput) { return func(in *poolInput) { in.shard[k] = str("") } }
	p := func(k string) func(*poolInput) { return func(in *poolInput) { in.pool[k] = str("") } }
	gp := func(k string) *tftypes.AttributePath { return groupPath.WithAttributeName(k) }
	sp := func(k string) *tftypes.AttributePath { return shardPath.WithAttributeName(k) }
	return map[string]badPoolCase{
		"pool name": {p("name"), attrPath("name"), "name must not be empty."},
		"node group name": {func(in *poolInput) { in.groupKey = new(string) }, attrPath("node_groups").WithElementKeyString(""),
			"the name of a node group must not be empty"},
		"rebalance":          {p("rebalance"), attrPath("rebalance"), "rebalance must not be empty; omit it"},
		"region":             {g("region"), gp("region"), `node_groups["g"].region must not be empty.`},
		"instance type":      {g("instance_type"), gp("instance_type"), "must not be empty; omit it"},
		"gpu model":          {func(in *poolInput) { in.gpu["model"] = str("") }, gp("gpu").WithAttributeName("model"), "gpu.model must not be empty."},
		"shard name":         {s("name"), sp("name"), "model_shards[0].name must not be empty"},
		"model":              {s("model"), sp("model"), "model_shards[0].model must not be empty"},
		"precision":          {s("precision"), sp("precision"), "model_shards[0].precision must not be empty"},
		"kv_cache_precision": {s("kv_cache_precision"), sp("kv_cache_precision"), "kv_cache_precision must not be empty; omit it"},
		"serving_model":      {s("serving_model"), sp("serving_model"), "serving_model must not be empty; omit it"},
		"gpu model constraint": {func(in *poolInput) { in.gpuModels = []string{"X100", ""} },
			sp("constraints").WithAttributeName("gpu_models").WithElementKeyInt(1), "constraints.gpu_models[1] must not be empty"},
		"estimate_on": {func(in *poolInput) {
			in.autoscaling = map[string]tftypes.Value{"target_load": num(1), "estimate_on": str("")}
		}, sp("autoscaling").WithAttributeName("estimate_on"), "estimate_on must not be empty"},
	}
}

// Empty strings of data sources and function arguments are errors on their
// attribute or argument.
func TestProtocolEmptyStringsOfDataSourcesAndFunctions(t *testing.T) {
	h := newProtocolHarness(t)
	if diags := h.configure(nil); len(diags) > 0 {
		t.Fatal(diags)
	}
	base := map[string]tftypes.Value{"model": str("llama-3.1-8b"), "precision": str("bf16"), "max_context_tokens": num(4096), "max_concurrent_sequences": num(4)}
	for _, attr := range []string{"kv_cache_precision", "instance_type", "model"} {
		set := map[string]tftypes.Value{}
		for k, v := range base {
			set[k] = v
		}
		set[attr] = str("")
		resp := h.readDataSource("mcllm_memory_estimate", set)
		expectOneError(t, resp.Diagnostics, attrPath(attr))
	}
	for _, attr := range []string{"gpu_model", "region"} {
		resp := h.readDataSource("mcllm_gpu_instance_types", map[string]tftypes.Value{attr: str("")})
		expectOneError(t, resp.Diagnostics, attrPath(attr))
	}
	for i, args := range [][]tftypes.Value{
		{str(""), str("bf16"), num(1024), num(1)},
		{str("llama-3.1-8b"), str(""), num(1024), num(1)},
		{str("llama-3.1-8b"), str("bf16"), num(1024), num(1), str("")},
	} {
		f := h.callFunction("estimate_memory", args...)
		if want := []int64{0, 1, 4}[i]; f.Error == nil || f.Error.FunctionArgument == nil || *f.Error.FunctionArgument != want ||
			!strings.Contains(f.Error.Text, "must not be empty") {
			t.Errorf("call %d: want an empty-string error on argument %d, got %+v", i, want, f.Error)
		}
	}
}

// The shard resource takes the same inputs at its top level: every case of
// the matrix that edits the shard fails there too, on the same attribute.
func TestProtocolShardBadInputMatrix(t *testing.T) {
	h := newProtocolHarness(t)
	if diags := h.configure(nil); len(diags) > 0 {
		t.Fatal(diags)
	}
	s := h.schema.ResourceSchemas[shardTypeName]
	st := s.ValueType().(tftypes.Object)
	cases := numberCases()
	for name, tc := range stringCases() {
		cases[name] = tc
	}
	n := 0
	for name, tc := range cases {
		steps := tc.at.Steps()
		if len(steps) < 2 || !tftypes.NewAttributePathWithSteps(steps[:2]).Equal(shardPath) {
			continue
		}
		n++
		t.Run(name, func(t *testing.T) {
			in := okPoolInput()
			tc.edit(&in)
			set := in.shardValues(st)
			resp, err := h.server.ValidateResourceConfig(context.Background(), &tfprotov6.ValidateResourceConfigRequest{
				TypeName: shardTypeName, Config: value(t, s, set)})
			if err != nil {
				t.Fatal(err)
			}
			want := tftypes.NewAttributePathWithSteps(steps[2:])
			if len(resp.Diagnostics) != 1 {
				t.Fatalf("want one error on %s, got %s", want, diagText(resp.Diagnostics))
			}
			d := resp.Diagnostics[0]
			wantText := strings.ReplaceAll(tc.want, "model_shards[0].", "")
			if !d.Attribute.Equal(want) || !strings.Contains(d.Detail, wantText) || strings.Contains(d.Detail, "%!") {
				t.Errorf("got %q on %s, want %q on %s", d.Detail, d.Attribute, wantText, want)
			}
		})
	}
	if n < 30 {
		t.Errorf("%d shard cases; keep at least 30", n)
	}
}

// Issue 12: free or already-paid capacity (a price of 0, as an override or
// on the group) plans, at a cost of 0.
func TestProtocolZeroPricesPlan(t *testing.T) {
	for name, tc := range map[string]struct {
		provider map[string]tftypes.Value
		price    tftypes.Value
	}{
		"price_overrides": {map[string]tftypes.Value{"price_overrides": tftypes.NewValue(tftypes.Map{ElementType: tftypes.Number},
			map[string]tftypes.Value{"aws/p5.48xlarge": num(0)})}, tftypes.NewValue(tftypes.Number, nil)},
		"price_per_hour": {nil, num(0)},
	} {
		t.Run(name, func(t *testing.T) {
			h := newProtocolHarness(t)
			if diags := h.configure(tc.provider); len(diags) > 0 {
				t.Fatal(diagText(diags))
			}
			gt, st := h.poolElementTypes()
			g := nodeGroupValue(gt, "aws", "us-east-1", "p5.48xlarge", 2)
			var gv map[string]tftypes.Value
			_ = g.As(&gv)
			gv["price_per_hour"] = tc.price
			shard := object(st, okPoolInput().shard)
			diags, planned := h.validatePlanPool(map[string]tftypes.Value{"name": str("p"),
				"node_groups":  tftypes.NewValue(tftypes.Map{ElementType: gt}, map[string]tftypes.Value{"g": tftypes.NewValue(gt, gv)}),
				"model_shards": tftypes.NewValue(tftypes.List{ElementType: st}, []tftypes.Value{shard})})
			if planned.Type() == nil {
				t.Fatalf("no plan: %s", diagText(diags))
			}
			var total big.Float
			if err := objectAttr(objectAttr(planned, "cost"), "total_per_hour").As(&total); err != nil || total.Sign() != 0 {
				t.Errorf("cost %v (%v), want 0", total.String(), err)
			}
		})
	}
}

// The documented counts — node groups and model shards per pool, replicas
// of all models — are errors on the collection when exceeded.
func TestProtocolPoolCountLimits(t *testing.T) {
	h := newProtocolHarness(t)
	if diags := h.configure(nil); len(diags) > 0 {
		t.Fatal(diags)
	}
	gt, st := h.poolElementTypes()
	cfg := okPoolInput().config(h)
	var groups map[string]tftypes.Value
	_ = cfg["node_groups"].As(&groups)
	oneGroup := groups["g"]
	var shards []tftypes.Value
	_ = cfg["model_shards"].As(&shards)
	var shardVals map[string]tftypes.Value
	_ = shards[0].As(&shardVals)
	shardNamed := func(i int, replicas float64) tftypes.Value {
		v := map[string]tftypes.Value{}
		for k, x := range shardVals {
			v[k] = x
		}
		v["name"], v["replicas"] = str(fmt.Sprintf("m%d", i)), num(replicas)
		return tftypes.NewValue(st, v)
	}
	for name, tc := range map[string]struct {
		groups, shards int
		replicas       float64
		at             *tftypes.AttributePath
		want           string
	}{
		"no node groups":      {0, 1, 1, attrPath("node_groups"), "node_groups must be between 1 and 2,000"},
		"2,001 node groups":   {2_001, 1, 1, attrPath("node_groups"), "node_groups must be between 1 and 2,000"},
		"20,001 model shards": {1, 20_001, 0, attrPath("model_shards"), "model_shards must be between 0 and 20,000"},
		"over 100,000 replicas": {1, 2, 60_000, attrPath("model_shards"),
			"the model shards' replicas must be between 0 and 100,000 (the most replicas of all models of one pool), got 120,000"},
		"shards × groups":   {1_001, 1_000, 0, attrPath("model_shards"), "1000 model shards × 1001 node groups = 1001000, beyond 1000000"},
		"replicas × groups": {1_001, 1, 100_000, attrPath("model_shards"), "100000 replicas × 1001 node groups = 100100000, beyond 100000000"},
	} {
		t.Run(name, func(t *testing.T) {
			gs := map[string]tftypes.Value{}
			for i := range tc.groups {
				gs[fmt.Sprintf("g%d", i)] = oneGroup
			}
			var ss []tftypes.Value
			for i := range tc.shards {
				ss = append(ss, shardNamed(i, tc.replicas))
			}
			diags, planned := h.validatePlanPool(map[string]tftypes.Value{"name": str("p"),
				"node_groups":  tftypes.NewValue(tftypes.Map{ElementType: gt}, gs),
				"model_shards": tftypes.NewValue(tftypes.List{ElementType: st}, ss)})
			if planned.Type() != nil || len(diags) != 1 || !diags[0].Attribute.Equal(tc.at) || !strings.Contains(diags[0].Detail, tc.want) {
				t.Errorf("want one error %q on %s, got %s", tc.want, tc.at, diagText(diags))
			}
		})
	}
}

// Issue 12: a shard's autoscaled replicas at the largest target loads are
// the limit, not 1: at a load per replica of 1e-4, 1e15 gave 1 (the
// quotient overflowed int64) where 1e14 gave 100,000.
func TestProtocolAutoscalingAtTheLimit(t *testing.T) {
	h := newProtocolHarness(t)
	if diags := h.configure(nil); len(diags) > 0 {
		t.Fatal(diags)
	}
	s := h.schema.ResourceSchemas[shardTypeName]
	st := s.ValueType().(tftypes.Object)
	for _, target := range []float64{1e14, 1e15} {
		set := okPoolInput().shard
		delete(set, "replicas")
		set["autoscaling"] = object(st.AttributeTypes["autoscaling"], map[string]tftypes.Value{"target_load": num(target), "load_per_replica": num(1e-4)})
		cfg := value(t, s, set)
		prior, err := tfprotov6.NewDynamicValue(st, tftypes.NewValue(st, nil))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := h.server.PlanResourceChange(context.Background(), &tfprotov6.PlanResourceChangeRequest{
			TypeName: shardTypeName, PriorState: &prior, ProposedNewState: cfg, Config: cfg})
		if err != nil || resp.PlannedState == nil {
			t.Fatalf("target %g: %v %s", target, err, diagText(resp.Diagnostics))
		}
		planned, err := resp.PlannedState.Unmarshal(st)
		if err != nil {
			t.Fatal(err)
		}
		var n big.Float
		if err := objectAttr(planned, "replicas").As(&n); err != nil || n.Cmp(big.NewFloat(100_000)) != 0 {
			t.Errorf("target %g: %s replicas (%v), want 100000", target, n.String(), err)
		}
	}
}
