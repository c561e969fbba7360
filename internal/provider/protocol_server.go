package provider

import (
	"context"
	"fmt"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// shardTypeName is the resource type the protocol server serves directly.
const shardTypeName = "mcllm_model_shard"

// NewProtocol6 is the provider's protocol server: the framework's, except
// that mcllm_model_shard's per-instance RPCs (ValidateResourceConfig,
// PlanResourceChange, ApplyResourceChange) are served on raw values. A fleet
// has hundreds of shards and the framework walks the whole (large) schema
// several times per RPC; the shard needs none of it (no defaults, plan
// modifiers or attribute validators beyond its own checks). Schemas,
// refresh, import and state upgrades stay with the framework, so the
// contract is the framework's.
func NewProtocol6(version string) func() (tfprotov6.ProviderServer, error) {
	fw := providerserver.NewProtocol6WithError(New(version)())
	return func() (tfprotov6.ProviderServer, error) {
		s, err := fw()
		if err != nil {
			return nil, err
		}
		ctx := context.Background()
		pool := poolSchema()
		return &protocolServer{ProviderServer: s, shardType: shardTfType(),
			poolType:   pool.Type().TerraformType(ctx).(tftypes.Object),
			shardsType: pool.Attributes["model_shards"].GetType()}, nil
	}
}

type protocolServer struct {
	tfprotov6.ProviderServer
	shardType  tftypes.Object
	poolType   tftypes.Object
	shardsType attr.Type
}

func shardTfType() tftypes.Object {
	var resp resource.SchemaResponse
	(&modelShardResource{}).Schema(context.Background(), resource.SchemaRequest{}, &resp)
	return resp.Schema.Type().TerraformType(context.Background()).(tftypes.Object)
}

func (s *protocolServer) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	switch req.TypeName {
	case poolTypeName:
		return s.validatePool(ctx, req)
	case shardTypeName:
	default:
		return s.ProviderServer.ValidateResourceConfig(ctx, req)
	}
	config, err := req.Config.Unmarshal(s.shardType)
	if err != nil {
		return &tfprotov6.ValidateResourceConfigResponse{Diagnostics: decodeError(err)}, nil
	}
	return &tfprotov6.ValidateResourceConfigResponse{Diagnostics: toProtoDiags(validateShard(ctx, config))}, nil
}

func (s *protocolServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	switch req.TypeName {
	case poolTypeName:
		return s.planPool(ctx, req)
	case shardTypeName:
	default:
		return s.ProviderServer.PlanResourceChange(ctx, req)
	}
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

// ApplyResourceChange stores exactly the plan (storedPlan), or nothing on
// destroy.
func (s *protocolServer) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	if req.TypeName != shardTypeName {
		return s.ProviderServer.ApplyResourceChange(ctx, req)
	}
	return &tfprotov6.ApplyResourceChangeResponse{NewState: req.PlannedState, Private: req.PlannedPrivate}, nil
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

// poolTypeName is the resource whose model_shards bypass the framework.
const poolTypeName = "mcllm_inference_pool"

type detourKey struct{}

// detouredShards is the pool's model_shards when protocolServer took them
// out of the framework's view (which then holds an empty list).
func detouredShards(ctx context.Context) (types.List, bool) {
	l, ok := ctx.Value(detourKey{}).(types.List)
	return l, ok
}

// withoutShards replaces model_shards in a pool value with an empty list (the
// attribute is required); it returns the value taken out (null when v is
// null).
func withoutShards(v tftypes.Value) (tftypes.Value, tftypes.Value, error) {
	t := v.Type().(tftypes.Object)
	shardsType := t.AttributeTypes["model_shards"]
	if v.IsNull() || !v.IsKnown() {
		return v, tftypes.NewValue(shardsType, nil), nil
	}
	var vals map[string]tftypes.Value
	if err := v.As(&vals); err != nil {
		return v, tftypes.Value{}, err
	}
	shards := vals["model_shards"]
	vals["model_shards"] = tftypes.NewValue(shardsType, []tftypes.Value{})
	return tftypes.NewValue(t, vals), shards, nil
}

// stripShards re-encodes a pool DynamicValue without model_shards.
func (s *protocolServer) stripShards(dv *tfprotov6.DynamicValue) (*tfprotov6.DynamicValue, tftypes.Value, error) {
	if dv == nil {
		return nil, tftypes.Value{}, nil
	}
	v, err := dv.Unmarshal(s.poolType)
	if err != nil {
		return nil, tftypes.Value{}, err
	}
	stripped, shards, err := withoutShards(v)
	if err != nil {
		return nil, tftypes.Value{}, err
	}
	out, err := tfprotov6.NewDynamicValue(s.poolType, stripped)
	return &out, shards, err
}

// planPool serves the pool's plan through the framework with model_shards
// taken out of the values the framework walks: the list holds a large
// object per shard, and the framework's defaults, plan modifiers and
// collection passes visit every attribute of every element, which at
// hundreds of shards costs several times the placement itself. The elements
// have no defaults, plan modifiers or validators, so the walks change
// nothing; ModifyPlan reads the list from ctx, and the planned value of the
// (non-computed) list is the configuration's, put back afterwards.
func (s *protocolServer) planPool(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	fail := func(err error) (*tfprotov6.PlanResourceChangeResponse, error) {
		return &tfprotov6.PlanResourceChangeResponse{Diagnostics: decodeError(err)}, nil
	}
	stripped := *req
	var proposedShards tftypes.Value
	var err error
	if stripped.ProposedNewState, proposedShards, err = s.stripShards(req.ProposedNewState); err != nil {
		return fail(err)
	}
	if stripped.Config, _, err = s.stripShards(req.Config); err != nil {
		return fail(err)
	}
	if stripped.PriorState, _, err = s.stripShards(req.PriorState); err != nil {
		return fail(err)
	}
	shards, err := s.shardsType.ValueFromTerraform(ctx, proposedShards)
	if err != nil {
		return fail(err)
	}
	resp, err := s.ProviderServer.PlanResourceChange(context.WithValue(ctx, detourKey{}, shards.(types.List)), &stripped)
	if err != nil || resp.PlannedState == nil {
		return resp, err
	}
	planned, err := resp.PlannedState.Unmarshal(s.poolType)
	if err != nil {
		return fail(err)
	}
	if planned.IsNull() {
		return resp, nil
	}
	var vals map[string]tftypes.Value
	if err := planned.As(&vals); err != nil {
		return fail(err)
	}
	vals["model_shards"] = proposedShards
	dv, err := tfprotov6.NewDynamicValue(s.poolType, tftypes.NewValue(s.poolType, vals))
	if err != nil {
		return fail(err)
	}
	resp.PlannedState = &dv
	return resp, nil
}

// validatePool validates the pool without model_shards, whose elements have
// no attribute validators; the pool checks them when it plans.
func (s *protocolServer) validatePool(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	stripped := *req
	var err error
	if stripped.Config, _, err = s.stripShards(req.Config); err != nil {
		return &tfprotov6.ValidateResourceConfigResponse{Diagnostics: decodeError(err)}, nil
	}
	return s.ProviderServer.ValidateResourceConfig(ctx, &stripped)
}
