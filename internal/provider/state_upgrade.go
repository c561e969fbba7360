package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// UpgradeResourceState hands the CLI the stored JSON of a shard or pool,
// with the attributes the schema no longer has taken out, as the framework
// does (IgnoreUndefinedAttributes), but without decoding the state into
// values and encoding it again: a pool of thousands of replicas spends
// seconds there on every plan. The CLI reads a JSON DynamicValue as it reads
// state. Other resources, other schema versions and flatmap states go to the
// framework.
func (s *protocolServer) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	var typ tftypes.Object
	switch req.TypeName {
	case poolTypeName:
		typ = s.poolType
	case shardTypeName:
		typ = s.shardType
	default:
		return s.ProviderServer.UpgradeResourceState(ctx, req)
	}
	if req.Version != 0 || req.RawState == nil || len(req.RawState.JSON) == 0 {
		return s.ProviderServer.UpgradeResourceState(ctx, req)
	}
	_, timings := startTimings(ctx, "UpgradeResourceState", req.TypeName)
	defer timings.finish()
	pruned, err := pruneStateJSON(req.RawState.JSON, typ)
	if err != nil {
		return &tfprotov6.UpgradeResourceStateResponse{Diagnostics: []*tfprotov6.Diagnostic{{
			Severity: tfprotov6.DiagnosticSeverityError, Summary: "Unreadable state",
			Detail: fmt.Sprintf("The stored state of this %s cannot be read: %v.", req.TypeName, err)}}}, nil
	}
	return &tfprotov6.UpgradeResourceStateResponse{UpgradedState: &tfprotov6.DynamicValue{JSON: pruned}}, nil
}

// pruneStateJSON drops, at every level of a stored value, the object
// attributes its type does not have. Numbers keep their stored text.
func pruneStateJSON(raw []byte, typ tftypes.Type) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if !prune(v, typ) {
		return raw, nil
	}
	return json.Marshal(v)
}

// prune removes undefined attributes in place and says whether it removed
// any.
func prune(v any, typ tftypes.Type) bool {
	changed := false
	switch t := typ.(type) {
	case tftypes.Object:
		obj, ok := v.(map[string]any)
		if !ok {
			return false
		}
		for name, av := range obj {
			at, known := t.AttributeTypes[name]
			if !known {
				delete(obj, name)
				changed = true
				continue
			}
			changed = prune(av, at) || changed
		}
	case tftypes.Map:
		if obj, ok := v.(map[string]any); ok {
			for _, ev := range obj {
				changed = prune(ev, t.ElementType) || changed
			}
		}
	case tftypes.List:
		if arr, ok := v.([]any); ok {
			for _, ev := range arr {
				changed = prune(ev, t.ElementType) || changed
			}
		}
	case tftypes.Set:
		if arr, ok := v.([]any); ok {
			for _, ev := range arr {
				changed = prune(ev, t.ElementType) || changed
			}
		}
	}
	return changed
}
