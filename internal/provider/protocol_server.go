package provider

import (
	"context"
	"fmt"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// shardTypeName is the resource type the protocol server serves directly.
const shardTypeName = "mcllm_model_shard"

// NewProtocol6 is the provider's protocol server: the framework's, except
// that the per-instance RPCs of mcllm_model_shard and mcllm_inference_pool
// (ValidateResourceConfig, PlanResourceChange, ApplyResourceChange,
// ReadResource) are served on raw values. A fleet has hundreds of shards
// and a pool thousands of node groups or replicas, and the framework walks
// the whole value with a schema lookup per attribute several times per RPC
// (seconds per plan at that size); these resources need only a few of its
// rules, applied here in one pass each (raw_schema.go). Schemas, import and
// state upgrades stay with the framework, so the contract is the
// framework's; TestProtocolServerPlansAsTheFramework holds the two to the
// same plans.
func NewProtocol6(version string) func() (tfprotov6.ProviderServer, error) {
	p := &mcllmProvider{version: version}
	fw := providerserver.NewProtocol6WithError(p)
	return func() (tfprotov6.ProviderServer, error) {
		s, err := fw()
		if err != nil {
			return nil, err
		}
		ctx := context.Background()
		pool := poolSchema()
		objType := pool.Type().(types.ObjectType)
		return &protocolServer{ProviderServer: s, provider: p, shardType: shardTfType(), shardObjType: shardObjType(),
			pool: pool, poolObjType: objType, poolType: objType.TerraformType(ctx).(tftypes.Object),
			dataSources: dataSourceTypes(ctx, p), functions: functionDefinitions(ctx, p)}, nil
	}
}

type protocolServer struct {
	tfprotov6.ProviderServer
	provider     *mcllmProvider
	shardType    tftypes.Object
	shardObjType types.ObjectType
	pool         schema.Schema
	poolObjType  types.ObjectType
	poolType     tftypes.Object
	// dataSources and functions are what the framework serves, for the
	// numbers checked before it reads them (protocol_numbers.go).
	dataSources map[string]types.ObjectType
	functions   map[string]function.Definition
}

func shardObjType() types.ObjectType {
	var resp resource.SchemaResponse
	(&modelShardResource{}).Schema(context.Background(), resource.SchemaRequest{}, &resp)
	return resp.Schema.Type().(types.ObjectType)
}

func shardTfType() tftypes.Object {
	return shardObjType().TerraformType(context.Background()).(tftypes.Object)
}

func (s *protocolServer) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	switch req.TypeName {
	case poolTypeName:
		return s.validatePool(ctx, req)
	case shardTypeName:
	default:
		return s.ProviderServer.ValidateResourceConfig(ctx, req)
	}
	_, timings := startTimings(ctx, "ValidateResourceConfig", req.TypeName)
	defer timings.finish()
	config, err := req.Config.Unmarshal(s.shardType)
	if err != nil {
		return &tfprotov6.ValidateResourceConfigResponse{Diagnostics: decodeError(err)}, nil
	}
	var diags diag.Diagnostics
	if checkNumbers(s.shardObjType, config, path.Empty(), &diags); !diags.HasError() {
		diags = validateShard(ctx, config)
	}
	return &tfprotov6.ValidateResourceConfigResponse{Diagnostics: toProtoDiags(diags)}, nil
}

func (s *protocolServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	switch req.TypeName {
	case poolTypeName:
		return s.planPool(ctx, req)
	case shardTypeName:
	default:
		return s.ProviderServer.PlanResourceChange(ctx, req)
	}
	_, timings := startTimings(ctx, "PlanResourceChange", req.TypeName)
	defer timings.finish()
	resp := &tfprotov6.PlanResourceChangeResponse{PlannedPrivate: req.PriorPrivate}
	proposed, err := req.ProposedNewState.Unmarshal(s.shardType)
	if err != nil {
		resp.Diagnostics = decodeError(err)
		return resp, nil
	}
	if proposed.IsNull() { // destroy
		resp.PlannedState = req.ProposedNewState
		return resp, nil
	}
	config, err := req.Config.Unmarshal(s.shardType)
	if err != nil {
		resp.Diagnostics = decodeError(err)
		return resp, nil
	}
	var numbers diag.Diagnostics
	if checkNumbers(s.shardObjType, config, path.Empty(), &numbers); numbers.HasError() {
		resp.Diagnostics = toProtoDiags(numbers)
		return resp, nil
	}
	planned, diags := planShard(ctx, proposed, config)
	resp.Diagnostics = toProtoDiags(diags)
	if planned.Type() == nil {
		return resp, nil
	}
	dv, err := tfprotov6.NewDynamicValue(s.shardType, planned)
	if err != nil {
		resp.Diagnostics = append(resp.Diagnostics, decodeError(err)...)
		return resp, nil
	}
	resp.PlannedState = &dv
	return resp, nil
}

// servedRaw says whether the protocol server serves a resource type's
// per-instance RPCs itself.
func servedRaw(typeName string) bool { return typeName == shardTypeName || typeName == poolTypeName }

// ApplyResourceChange stores exactly the plan (storedPlan), or nothing on
// destroy.
func (s *protocolServer) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	if !servedRaw(req.TypeName) {
		return s.ProviderServer.ApplyResourceChange(ctx, req)
	}
	return &tfprotov6.ApplyResourceChangeResponse{NewState: req.PlannedState, Private: req.PlannedPrivate}, nil
}

// ReadResource returns the state unchanged (storedPlan: nothing remote to
// read).
func (s *protocolServer) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	if !servedRaw(req.TypeName) {
		return s.ProviderServer.ReadResource(ctx, req)
	}
	return &tfprotov6.ReadResourceResponse{NewState: req.CurrentState, Private: req.Private}, nil
}

func decodeError(err error) []*tfprotov6.Diagnostic {
	return []*tfprotov6.Diagnostic{{Severity: tfprotov6.DiagnosticSeverityError, Summary: "Unreadable value",
		Detail: "The provider could not decode a value from the CLI: " + err.Error()}}
}

// toProtoDiags converts framework diagnostics, attribute paths included.
func toProtoDiags(diags diag.Diagnostics) []*tfprotov6.Diagnostic {
	if len(diags) == 0 {
		return nil
	}
	out := make([]*tfprotov6.Diagnostic, 0, len(diags))
	for _, d := range diags {
		pd := &tfprotov6.Diagnostic{Severity: tfprotov6.DiagnosticSeverityWarning, Summary: d.Summary(), Detail: d.Detail()}
		if d.Severity() == diag.SeverityError {
			pd.Severity = tfprotov6.DiagnosticSeverityError
		}
		if wp, ok := d.(diag.DiagnosticWithPath); ok {
			pd.Attribute = toTfPath(wp.Path())
		}
		out = append(out, pd)
	}
	return out
}

func toTfPath(p path.Path) *tftypes.AttributePath {
	ap := tftypes.NewAttributePath()
	for _, st := range p.Steps() {
		switch x := st.(type) {
		case path.PathStepAttributeName:
			ap = ap.WithAttributeName(string(x))
		case path.PathStepElementKeyInt:
			ap = ap.WithElementKeyInt(int(x))
		case path.PathStepElementKeyString:
			ap = ap.WithElementKeyString(string(x))
		default:
			panic(fmt.Sprintf("unexpected path step %T", st))
		}
	}
	return ap
}

// QuietSDKLogs turns off the framework's and terraform-plugin-go's own
// trace logging unless the CLI is logging. By default they log every RPC and
// every attribute visit at TRACE as JSON on stderr, which the CLI parses
// line by line and then discards when TF_LOG is unset: at hundreds of
// resources that costs more CPU than the provider's own work, on both sides
// of the plugin protocol. Explicit TF_LOG_SDK* settings are kept.
func QuietSDKLogs() {
	if os.Getenv("TF_LOG") != "" || os.Getenv("TF_LOG_PROVIDER") != "" || os.Getenv("TF_LOG_PATH") != "" ||
		os.Getenv("TF_ACC_LOG_PATH") != "" || os.Getenv("TF_LOG_PATH_MASK") != "" {
		return
	}
	for _, v := range []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PROVIDER"} {
		if os.Getenv(v) == "" {
			_ = os.Setenv(v, "OFF")
		}
	}
}

// poolTypeName is the other resource the protocol server serves itself.
const poolTypeName = "mcllm_inference_pool"

// unmarshalPool decodes a pool value; an absent one (no prior state) is
// null.
func unmarshalPool(s *protocolServer, dv *tfprotov6.DynamicValue) (tftypes.Value, error) {
	if dv == nil {
		return tftypes.NewValue(s.poolType, nil), nil
	}
	return dv.Unmarshal(s.poolType)
}

// planPool serves the pool's plan without the framework's schema walks: at
// thousands of node groups or replicas the framework spends seconds looking
// up every value's schema attribute by path (defaults, plan modifiers,
// computed values), while the pool has six defaults and ModifyPlan sets
// every computed attribute. The framework's rules are applied by
// checkNumbers and applyDefaults, then the resource's own ModifyPlan runs
// on the values as the framework would pass them.
func (s *protocolServer) planPool(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	ctx, timings := startTimings(ctx, "PlanResourceChange", req.TypeName)
	defer timings.finish()
	resp := &tfprotov6.PlanResourceChangeResponse{PlannedPrivate: req.PriorPrivate}
	proposed, err := unmarshalPool(s, req.ProposedNewState)
	if err != nil {
		resp.Diagnostics = decodeError(err)
		return resp, nil
	}
	if proposed.IsNull() { // destroy
		resp.PlannedState = req.ProposedNewState
		return resp, nil
	}
	config, err := unmarshalPool(s, req.Config)
	if err != nil {
		resp.Diagnostics = decodeError(err)
		return resp, nil
	}
	prior, err := unmarshalPool(s, req.PriorState)
	if err != nil {
		resp.Diagnostics = decodeError(err)
		return resp, nil
	}
	phaseDone(ctx, "decode")
	var diags diag.Diagnostics
	checkNumbers(s.poolObjType, config, path.Empty(), &diags)
	if diags.HasError() {
		resp.Diagnostics = toProtoDiags(diags)
		return resp, nil
	}
	planned := unknownComputed(s.pool.Attributes, config, applyDefaults(ctx, s.pool.Attributes, config, proposed, path.Empty(), &diags))
	phaseDone(ctx, "checks")
	plan := tfsdk.Plan{Schema: s.pool, Raw: planned}
	mreq := resource.ModifyPlanRequest{Config: tfsdk.Config{Schema: s.pool, Raw: config}, Plan: plan,
		State: tfsdk.State{Schema: s.pool, Raw: prior}}
	mresp := &resource.ModifyPlanResponse{Plan: plan}
	(&inferencePoolResource{cfg: s.provider.config()}).ModifyPlan(ctx, mreq, mresp)
	diags.Append(mresp.Diagnostics...)
	resp.Diagnostics = toProtoDiags(diags)
	if diags.HasError() {
		return resp, nil
	}
	dv, err := tfprotov6.NewDynamicValue(s.poolType, mresp.Plan.Raw)
	phaseDone(ctx, "encode")
	if err != nil {
		resp.Diagnostics = append(resp.Diagnostics, decodeError(err)...)
		return resp, nil
	}
	resp.PlannedState = &dv
	return resp, nil
}

// unknownComputed marks the computed top-level attributes the configuration
// leaves null (and no default filled) as unknown, as the framework does
// before ModifyPlan, which then sets each of them.
func unknownComputed(attrs map[string]schema.Attribute, config, planned tftypes.Value) tftypes.Value {
	var cfg, vals map[string]tftypes.Value
	if config.As(&cfg) != nil || planned.As(&vals) != nil {
		return planned
	}
	for name, a := range attrs {
		if _, hasDefault := defaultOf(a); a.IsComputed() && !hasDefault && cfg[name].IsNull() {
			vals[name] = tftypes.NewValue(vals[name].Type(), tftypes.UnknownValue)
		}
	}
	return tftypes.NewValue(planned.Type(), vals)
}

// validatePool checks a pool configuration as the framework would —
// numbers that fit, attribute validators — without its per-value schema
// lookups.
func (s *protocolServer) validatePool(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	_, timings := startTimings(ctx, "ValidateResourceConfig", req.TypeName)
	defer timings.finish()
	config, err := unmarshalPool(s, req.Config)
	if err != nil {
		return &tfprotov6.ValidateResourceConfigResponse{Diagnostics: decodeError(err)}, nil
	}
	var diags diag.Diagnostics
	checkNumbers(s.poolObjType, config, path.Empty(), &diags)
	if !diags.HasError() {
		validateAttributes(ctx, s.pool.Attributes, config, tfsdk.Config{Schema: s.pool, Raw: config}, path.Empty(), &diags)
	}
	return &tfprotov6.ValidateResourceConfigResponse{Diagnostics: toProtoDiags(diags)}, nil
}
