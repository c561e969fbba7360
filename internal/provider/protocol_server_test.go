package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
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
	groupType := poolType.AttributeTypes["node_groups"].(tftypes.Map).ElementType
	elemType := poolType.AttributeTypes["model_shards"].(tftypes.List).ElementType
	kubeType := poolType.AttributeTypes["kubernetes"]

	shard := map[string]tftypes.Value{"name": str("m"), "model": str("llama-3.1-8b"), "precision": str("bf16"),
		"max_context_tokens": num(4096), "max_concurrent_sequences": num(8)}
	fixed, scaled := map[string]tftypes.Value{"replicas": num(3)}, map[string]tftypes.Value{
		"autoscaling": object(autoscaling, map[string]tftypes.Value{"target_load": num(5000), "estimate_on": str("aws/p5.48xlarge")})}
	for k, v := range shard {
		fixed[k], scaled[k] = v, v
	}
	group := object(groupType, map[string]tftypes.Value{"cloud": str("aws"), "region": str("us-east-1"),
		"instance_type": str("p5.48xlarge"), "max_nodes": num(2), "min_nodes": num(0),
		"capacity_type": str("on-demand"), "confidential": tftypes.NewValue(tftypes.Bool, false)})
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
