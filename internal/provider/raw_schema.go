package provider

import (
	"context"
	"fmt"
	"math"
	"math/big"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/defaults"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// The framework's per-attribute rules — numbers that fit their type,
// attribute validators, defaults — applied to raw values in one pass each,
// with the schema attribute carried down the recursion. The framework does
// the same work by looking every value's schema attribute up from its path,
// which at thousands of node groups or replicas costs seconds per plan; the
// protocol server uses these for the resources it serves itself.

// checkNumbers reports every number in v that its attribute type cannot hold
// — a fraction where a whole number is expected, a magnitude beyond 64 bits —
// on the number's own path. Values that pass convert without error.
func checkNumbers(t attr.Type, v tftypes.Value, at path.Path, diags *diag.Diagnostics) {
	if !v.IsKnown() || v.IsNull() {
		return
	}
	switch tt := t.(type) {
	case basetypes.Int64Type:
		var f *big.Float
		if v.As(&f) != nil {
			return
		}
		if f.IsInf() {
			diags.AddAttributeError(at, "Number out of range",
				fmt.Sprintf("%s = %s is not a finite whole number.", describePath(at), f.Text('g', 10)))
		} else if !f.IsInt() {
			diags.AddAttributeError(at, "Not a whole number",
				fmt.Sprintf("%s must be a whole number; got %s.", describePath(at), f.Text('g', 10)))
		} else if _, acc := f.Int64(); acc != big.Exact {
			diags.AddAttributeError(at, "Number too large",
				fmt.Sprintf("%s = %s is beyond what a 64-bit integer holds.", describePath(at), f.Text('g', 10)))
		}
	case basetypes.Float64Type:
		var f *big.Float
		if v.As(&f) != nil {
			return
		}
		if x, acc := f.Float64(); math.IsInf(x, 0) || (x == 0 && acc != big.Exact) {
			diags.AddAttributeError(at, "Number out of range",
				fmt.Sprintf("%s = %s cannot be represented as a 64-bit floating-point number.", describePath(at), f.Text('g', 10)))
		}
	case basetypes.ObjectType:
		var vals map[string]tftypes.Value
		if v.As(&vals) != nil {
			return
		}
		for name, et := range tt.AttrTypes {
			if ev, ok := vals[name]; ok {
				checkNumbers(et, ev, at.AtName(name), diags)
			}
		}
	case basetypes.MapType:
		var vals map[string]tftypes.Value
		if v.As(&vals) != nil {
			return
		}
		for key, ev := range vals {
			checkNumbers(tt.ElemType, ev, at.AtMapKey(key), diags)
		}
	case basetypes.ListType:
		var vals []tftypes.Value
		if v.As(&vals) != nil {
			return
		}
		for i, ev := range vals {
			checkNumbers(tt.ElemType, ev, at.AtListIndex(i), diags)
		}
	}
}

// describePath writes an attribute path as HCL would: a.b["k"][0].
func describePath(p path.Path) string {
	if len(p.Steps()) == 0 {
		return "The value"
	}
	return p.String()
}

// eachKnownAttribute calls visit for every known, non-null attribute of a
// raw object that is not itself nested, at its path, descending into
// single, map and list nested attributes: the one walk of the raw checks.
func eachKnownAttribute(attrs map[string]schema.Attribute, obj tftypes.Value, at path.Path, visit func(name string, a schema.Attribute, v tftypes.Value, p path.Path)) {
	var vals map[string]tftypes.Value
	if !obj.IsKnown() || obj.IsNull() || obj.As(&vals) != nil {
		return
	}
	for name, a := range attrs {
		v, ok := vals[name]
		if !ok || !v.IsKnown() || v.IsNull() {
			continue
		}
		p := at.AtName(name)
		switch sa := a.(type) {
		case schema.SingleNestedAttribute:
			eachKnownAttribute(sa.Attributes, v, p, visit)
		case schema.MapNestedAttribute:
			var elems map[string]tftypes.Value
			if v.As(&elems) == nil {
				for key, e := range elems {
					eachKnownAttribute(sa.NestedObject.Attributes, e, p.AtMapKey(key), visit)
				}
			}
		case schema.ListNestedAttribute:
			var elems []tftypes.Value
			if v.As(&elems) == nil {
				for i, e := range elems {
					eachKnownAttribute(sa.NestedObject.Attributes, e, p.AtListIndex(i), visit)
				}
			}
		default:
			visit(name, a, v, p)
		}
	}
}

// validateAttributes runs the schema's attribute validators on a raw
// configuration, skipping unknown and null values as the framework does.
// Numbers must have passed checkNumbers.
func validateAttributes(ctx context.Context, attrs map[string]schema.Attribute, obj tftypes.Value, config tfsdk.Config, at path.Path, diags *diag.Diagnostics) {
	eachKnownAttribute(attrs, obj, at, func(_ string, a schema.Attribute, v tftypes.Value, p path.Path) {
		switch sa := a.(type) {
		case schema.StringAttribute:
			var s string
			_ = v.As(&s)
			req := validator.StringRequest{Path: p, PathExpression: p.Expression(), Config: config, ConfigValue: types.StringValue(s)}
			for _, vd := range sa.Validators {
				resp := &validator.StringResponse{}
				vd.ValidateString(ctx, req, resp)
				diags.Append(resp.Diagnostics...)
			}
		case schema.Int64Attribute:
			iv, err := types.Int64Type.ValueFromTerraform(ctx, v)
			if err != nil {
				return
			}
			req := validator.Int64Request{Path: p, PathExpression: p.Expression(), Config: config, ConfigValue: iv.(types.Int64)}
			for _, vd := range sa.Validators {
				resp := &validator.Int64Response{}
				vd.ValidateInt64(ctx, req, resp)
				diags.Append(resp.Diagnostics...)
			}
		case schema.Float64Attribute:
			fv, err := types.Float64Type.ValueFromTerraform(ctx, v)
			if err != nil {
				return
			}
			req := validator.Float64Request{Path: p, PathExpression: p.Expression(), Config: config, ConfigValue: fv.(types.Float64)}
			for _, vd := range sa.Validators {
				resp := &validator.Float64Response{}
				vd.ValidateFloat64(ctx, req, resp)
				diags.Append(resp.Diagnostics...)
			}
		}
	})
}

// applyDefaults sets, in the proposed value, every attribute the
// configuration leaves null to its schema default, nested attributes
// included; the configuration and the proposed value have the same shape
// wherever the configuration is known.
func applyDefaults(ctx context.Context, attrs map[string]schema.Attribute, config, proposed tftypes.Value, at path.Path, diags *diag.Diagnostics) tftypes.Value {
	var cfg, vals map[string]tftypes.Value
	if !config.IsKnown() || config.IsNull() || config.As(&cfg) != nil ||
		!proposed.IsKnown() || proposed.IsNull() || proposed.As(&vals) != nil {
		return proposed
	}
	changed := false
	for name, a := range attrs {
		c, p := cfg[name], at.AtName(name)
		if c.IsNull() {
			if d, ok := defaultValue(ctx, a, p, diags); ok {
				vals[name] = d
				changed = true
			}
			continue
		}
		var nested map[string]schema.Attribute
		switch sa := a.(type) {
		case schema.SingleNestedAttribute:
			if hasDefaults(sa.Attributes) {
				vals[name] = applyDefaults(ctx, sa.Attributes, c, vals[name], p, diags)
				changed = true
			}
			continue
		case schema.MapNestedAttribute:
			nested = sa.NestedObject.Attributes
		case schema.ListNestedAttribute:
			nested = sa.NestedObject.Attributes
		default:
			continue
		}
		if !hasDefaults(nested) {
			continue
		}
		vals[name] = defaultsInCollection(ctx, nested, c, vals[name], p, diags)
		changed = true
	}
	if !changed {
		return proposed
	}
	return tftypes.NewValue(proposed.Type(), vals)
}

// defaultsInCollection applies defaults to each element of a nested map or
// list attribute.
func defaultsInCollection(ctx context.Context, attrs map[string]schema.Attribute, config, proposed tftypes.Value, at path.Path, diags *diag.Diagnostics) tftypes.Value {
	if !config.IsKnown() || !proposed.IsKnown() || proposed.IsNull() {
		return proposed
	}
	if _, isMap := proposed.Type().(tftypes.Map); isMap {
		var cfg, vals map[string]tftypes.Value
		if config.As(&cfg) != nil || proposed.As(&vals) != nil {
			return proposed
		}
		for key, e := range vals {
			vals[key] = applyDefaults(ctx, attrs, cfg[key], e, at.AtMapKey(key), diags)
		}
		return tftypes.NewValue(proposed.Type(), vals)
	}
	var cfg, vals []tftypes.Value
	if config.As(&cfg) != nil || proposed.As(&vals) != nil || len(cfg) != len(vals) {
		return proposed
	}
	for i := range vals {
		vals[i] = applyDefaults(ctx, attrs, cfg[i], vals[i], at.AtListIndex(i), diags)
	}
	return tftypes.NewValue(proposed.Type(), vals)
}

// hasDefaults says whether any attribute at or below attrs has a default.
func hasDefaults(attrs map[string]schema.Attribute) bool {
	for _, a := range attrs {
		switch sa := a.(type) {
		case schema.SingleNestedAttribute:
			if hasDefaults(sa.Attributes) {
				return true
			}
		case schema.MapNestedAttribute:
			if hasDefaults(sa.NestedObject.Attributes) {
				return true
			}
		case schema.ListNestedAttribute:
			if hasDefaults(sa.NestedObject.Attributes) {
				return true
			}
		default:
			if _, ok := defaultOf(a); ok {
				return true
			}
		}
	}
	return false
}

// defaultOf is an attribute's default of the kinds the provider's schemas
// use.
func defaultOf(a schema.Attribute) (any, bool) {
	switch sa := a.(type) {
	case schema.StringAttribute:
		return sa.Default, sa.Default != nil
	case schema.Int64Attribute:
		return sa.Default, sa.Default != nil
	case schema.Float64Attribute:
		return sa.Default, sa.Default != nil
	case schema.BoolAttribute:
		return sa.Default, sa.Default != nil
	}
	return nil, false
}

// defaultValue is the raw value of an attribute's default.
func defaultValue(ctx context.Context, a schema.Attribute, at path.Path, diags *diag.Diagnostics) (tftypes.Value, bool) {
	d, ok := defaultOf(a)
	if !ok {
		return tftypes.Value{}, false
	}
	var v attr.Value
	switch dd := d.(type) {
	case defaults.String:
		resp := &defaults.StringResponse{}
		dd.DefaultString(ctx, defaults.StringRequest{Path: at}, resp)
		diags.Append(resp.Diagnostics...)
		v = resp.PlanValue
	case defaults.Int64:
		resp := &defaults.Int64Response{}
		dd.DefaultInt64(ctx, defaults.Int64Request{Path: at}, resp)
		diags.Append(resp.Diagnostics...)
		v = resp.PlanValue
	case defaults.Float64:
		resp := &defaults.Float64Response{}
		dd.DefaultFloat64(ctx, defaults.Float64Request{Path: at}, resp)
		diags.Append(resp.Diagnostics...)
		v = resp.PlanValue
	case defaults.Bool:
		resp := &defaults.BoolResponse{}
		dd.DefaultBool(ctx, defaults.BoolRequest{Path: at}, resp)
		diags.Append(resp.Diagnostics...)
		v = resp.PlanValue
	default:
		return tftypes.Value{}, false
	}
	tv, err := v.ToTerraformValue(ctx)
	if err != nil {
		diags.AddAttributeError(at, "Unusable default", err.Error())
		return tftypes.Value{}, false
	}
	return tv, true
}

// emptyMeansNone are the string attributes whose empty value is documented
// as meaningful: a taint without a value.
var emptyMeansNone = map[string]bool{"value": true}

// reportEmptyString is the one rule for empty strings: no name, id, filter
// or setting of the provider is empty, and omitting an optional attribute is
// how to ask for its default. name is the attribute the string is (or whose
// list holds it); optional says whether omitting it is possible.
func reportEmptyString(at path.Path, name string, optional bool, diags *diag.Diagnostics) {
	if emptyMeansNone[name] {
		return
	}
	detail := fmt.Sprintf("%s must not be empty.", at)
	if optional {
		detail = fmt.Sprintf("%s must not be empty; omit it (or set it to null) for its default.", at)
	}
	diags.AddAttributeError(at, "Empty value", detail)
}

// checkEmptyStrings applies reportEmptyString to every known empty string
// attribute, and string list element, of a resource's raw configuration.
func checkEmptyStrings(attrs map[string]schema.Attribute, obj tftypes.Value, at path.Path, diags *diag.Diagnostics) {
	eachKnownAttribute(attrs, obj, at, func(name string, a schema.Attribute, v tftypes.Value, p path.Path) {
		switch sa := a.(type) {
		case schema.StringAttribute:
			if isEmptyString(v) {
				reportEmptyString(p, name, sa.Optional, diags)
			}
		case schema.ListAttribute:
			var elems []tftypes.Value
			if sa.ElementType != types.StringType || v.As(&elems) != nil {
				return
			}
			for i, e := range elems {
				if isEmptyString(e) {
					reportEmptyString(p.AtListIndex(i), name, false, diags)
				}
			}
		}
	})
}

// isEmptyString reports whether v is a known "".
func isEmptyString(v tftypes.Value) bool {
	var s string
	return v.IsKnown() && !v.IsNull() && v.As(&s) == nil && s == ""
}
