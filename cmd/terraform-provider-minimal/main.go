// Command terraform-provider-minimal is the yardstick of `make bench-plan`:
// a provider that computes nothing, so that the CLI's and the plugin
// framework's own cost of a plan can be read beside mcllm's.
//
//   - minimal_item is the smallest useful framework resource: one required
//     attribute and one computed attribute known at plan time.
//   - minimal_echo has mcllm_inference_pool's schema, minimal_shard_echo
//     mcllm_model_shard's; both plan exactly the proposed state (served on
//     raw protocol values, as mcllm serves them): mcllm's state planned by
//     them costs what the CLI alone spends on that much output.
package main

import (
	"context"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	mcllm "github.com/mcllm/terraform-provider-mcllm/internal/provider"
)

// Address is where the benchmark installs it.
const Address = "registry.opentofu.org/mcllm/minimal"

func main() {
	mcllm.QuietSDKLogs()
	fw := providerserver.NewProtocol6(&minimalProvider{})
	err := tf6server.Serve(Address, func() tfprotov6.ProviderServer { return &echoServer{fw()} })
	if err != nil {
		log.Fatal(err)
	}
}

type minimalProvider struct{}

func (minimalProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "minimal"
}
func (minimalProvider) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {}
func (minimalProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}
func (minimalProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }
func (minimalProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		func() resource.Resource { return item{} },
		func() resource.Resource { return echo{suffix: "_echo", schema: mcllm.PoolSchema()} },
		func() resource.Resource { return echo{suffix: "_shard_echo", schema: mcllm.ShardSchema()} },
	}
}

// stored is the lifecycle of a resource that lives only in state.
type stored struct{}

func (stored) Create(_ context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	resp.State.Raw = req.Plan.Raw
}
func (stored) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}
func (stored) Update(_ context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.State.Raw = req.Plan.Raw
}
func (stored) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// item: output = input, known at plan time.
type item struct{ stored }

var (
	_ resource.Resource               = item{}
	_ resource.ResourceWithModifyPlan = item{}
)

func (item) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_item"
}

func (item) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"input":  schema.StringAttribute{Required: true},
		"output": schema.StringAttribute{Computed: true},
	}}
}

func (item) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var in types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, pathInput, &in)...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, pathOutput, in)...)
}

var pathInput, pathOutput = path.Root("input"), path.Root("output")

// echo has the schema of an mcllm resource; echoServer serves its plans.
type echo struct {
	stored
	suffix string
	schema schema.Schema
}

func (e echo) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + e.suffix
}

func (e echo) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = e.schema
}

// echoServer answers minimal_echo's per-instance RPCs with the values it is
// given: the proposed state as the plan, the stored JSON as the upgraded
// state, the plan as the new state.
type echoServer struct{ tfprotov6.ProviderServer }

// echoed says whether echoServer answers for typeName itself.
func echoed(typeName string) bool {
	return typeName == "minimal_echo" || typeName == "minimal_shard_echo"
}

func (s *echoServer) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	if !echoed(req.TypeName) {
		return s.ProviderServer.ValidateResourceConfig(ctx, req)
	}
	return &tfprotov6.ValidateResourceConfigResponse{}, nil
}

func (s *echoServer) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	if !echoed(req.TypeName) || req.RawState == nil || len(req.RawState.JSON) == 0 {
		return s.ProviderServer.UpgradeResourceState(ctx, req)
	}
	return &tfprotov6.UpgradeResourceStateResponse{UpgradedState: &tfprotov6.DynamicValue{JSON: req.RawState.JSON}}, nil
}

func (s *echoServer) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	if !echoed(req.TypeName) {
		return s.ProviderServer.ReadResource(ctx, req)
	}
	return &tfprotov6.ReadResourceResponse{NewState: req.CurrentState, Private: req.Private}, nil
}

func (s *echoServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	if !echoed(req.TypeName) {
		return s.ProviderServer.PlanResourceChange(ctx, req)
	}
	return &tfprotov6.PlanResourceChangeResponse{PlannedState: req.ProposedNewState, PlannedPrivate: req.PriorPrivate}, nil
}

func (s *echoServer) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	if !echoed(req.TypeName) {
		return s.ProviderServer.ApplyResourceChange(ctx, req)
	}
	return &tfprotov6.ApplyResourceChangeResponse{NewState: req.PlannedState, Private: req.PlannedPrivate}, nil
}
