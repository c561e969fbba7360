package provider

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/limits"
)

// The limits table (internal/planner/limits) on attribute paths: schema
// validators, description sentences and checks of values read at plan time
// all draw on the same entry, so each range is stated once.

// outOfRange is the summary of every limit violation.
const outOfRange = "Value out of range"

// checkInt reports a known v outside l on at; false when it is outside.
func checkInt(at path.Path, l limits.Int, v types.Int64, diags *diag.Diagnostics) bool {
	if v.IsNull() || v.IsUnknown() {
		return true
	}
	return reportLimit(at, l.Name, l.Check(v.ValueInt64()), diags)
}

// checkFloat reports a known v outside l on at; false when it is outside.
func checkFloat(at path.Path, l limits.Float, v types.Float64, diags *diag.Diagnostics) bool {
	if v.IsNull() || v.IsUnknown() {
		return true
	}
	return reportLimit(at, l.Name, l.Check(v.ValueFloat64()), diags)
}

// reportLimit adds a limit's problem ("" when none) on at; false when there
// is one.
func reportLimit(at path.Path, name, problem string, diags *diag.Diagnostics) bool {
	if problem == "" {
		return true
	}
	diags.AddAttributeError(at, outOfRange, onPath(at, name, problem)+".")
	return false
}

// onPath names the attribute in a limit's message by its whole path
// (node_groups["lab"].gpu.memory_gib rather than gpu.memory_gib): the CLI
// points a nested attribute's error at the resource, not at the value.
func onPath(at path.Path, name, problem string) string {
	if full := at.String(); full != "" && strings.HasPrefix(problem, name) {
		return full + strings.TrimPrefix(problem, name)
	}
	return problem
}

// withLimit ends an attribute description with its range.
func withLimit(desc string, l interface{ Doc() string }) string { return desc + " " + l.Doc() }

// intLimit is the schema validator of an Int limit.
type intLimit struct{ l limits.Int }

func (v intLimit) Description(context.Context) string         { return v.l.Doc() }
func (v intLimit) MarkdownDescription(context.Context) string { return v.l.Doc() }

// ValidateInt64 reports a value outside the limit.
func (v intLimit) ValidateInt64(_ context.Context, req validator.Int64Request, resp *validator.Int64Response) {
	checkInt(req.Path, v.l, req.ConfigValue, &resp.Diagnostics)
}

// floatLimit is the schema validator of a Float limit.
type floatLimit struct{ l limits.Float }

func (v floatLimit) Description(context.Context) string         { return v.l.Doc() }
func (v floatLimit) MarkdownDescription(context.Context) string { return v.l.Doc() }

// ValidateFloat64 reports a value outside the limit.
func (v floatLimit) ValidateFloat64(_ context.Context, req validator.Float64Request, resp *validator.Float64Response) {
	checkFloat(req.Path, v.l, req.ConfigValue, &resp.Diagnostics)
}
