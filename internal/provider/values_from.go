package provider

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// mapValueFrom is types.MapValueFrom for the pool's computed outputs, with
// the same result: the framework's reflection re-reads and re-validates
// every struct tag of every element (1.5 s of a 2,000-node-group plan); this
// reads each struct type's tags once.
func mapValueFrom(ctx context.Context, elem attr.Type, m any) (types.Map, diag.Diagnostics) {
	var diags diag.Diagnostics
	v, err := valueFrom(ctx, types.MapType{ElemType: elem}, reflect.ValueOf(m))
	if err != nil {
		diags.AddError("Provider bug: output not convertible", err.Error())
		return types.MapNull(elem), diags
	}
	return v.(types.Map), diags
}

// valueFrom converts a Go value of the shapes the outputs use — attr.Value,
// string, bool, integers, float64, pointers (nil is null), structs with
// tfsdk tags, maps keyed by string and slices (nil is null) — to a value of
// type t.
func valueFrom(ctx context.Context, t attr.Type, v reflect.Value) (attr.Value, error) {
	if v.IsValid() && v.Type().Implements(attrValueType) {
		return v.Interface().(attr.Value), nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nullOf(ctx, t)
		}
		return valueFrom(ctx, t, v.Elem())
	case reflect.String:
		return types.StringValue(v.String()), nil
	case reflect.Bool:
		return types.BoolValue(v.Bool()), nil
	case reflect.Int, reflect.Int32, reflect.Int64:
		return types.Int64Value(v.Int()), nil
	case reflect.Float64:
		return types.Float64Value(v.Float()), nil
	case reflect.Struct:
		ot, ok := t.(basetypes.ObjectType)
		if !ok {
			return nil, fmt.Errorf("%s for %s", v.Type(), t)
		}
		vals := make(map[string]attr.Value, len(ot.AttrTypes))
		for _, f := range fieldsOf(v.Type()) {
			at, ok := ot.AttrTypes[f.name]
			if !ok {
				return nil, fmt.Errorf("%s.%s: not an attribute of %s", v.Type(), f.name, t)
			}
			fv, err := valueFrom(ctx, at, v.Field(f.index))
			if err != nil {
				return nil, err
			}
			vals[f.name] = fv
		}
		obj, d := types.ObjectValue(ot.AttrTypes, vals)
		return obj, diagError(d)
	case reflect.Map:
		mt, ok := t.(basetypes.MapType)
		if !ok {
			return nil, fmt.Errorf("%s for %s", v.Type(), t)
		}
		if v.IsNil() {
			return types.MapNull(mt.ElemType), nil
		}
		elems := make(map[string]attr.Value, v.Len())
		for it := v.MapRange(); it.Next(); {
			ev, err := valueFrom(ctx, mt.ElemType, it.Value())
			if err != nil {
				return nil, err
			}
			elems[it.Key().String()] = ev
		}
		m, d := types.MapValue(mt.ElemType, elems)
		return m, diagError(d)
	case reflect.Slice:
		lt, ok := t.(basetypes.ListType)
		if !ok {
			return nil, fmt.Errorf("%s for %s", v.Type(), t)
		}
		if v.IsNil() {
			return types.ListNull(lt.ElemType), nil
		}
		elems := make([]attr.Value, v.Len())
		for i := range elems {
			ev, err := valueFrom(ctx, lt.ElemType, v.Index(i))
			if err != nil {
				return nil, err
			}
			elems[i] = ev
		}
		l, d := types.ListValue(lt.ElemType, elems)
		return l, diagError(d)
	}
	return nil, fmt.Errorf("cannot convert %s to %s", v.Type(), t)
}

var attrValueType = reflect.TypeFor[attr.Value]()

// nullOf is the null value of t.
func nullOf(ctx context.Context, t attr.Type) (attr.Value, error) {
	return t.ValueFromTerraform(ctx, tftypes.NewValue(t.TerraformType(ctx), nil))
}

func diagError(d diag.Diagnostics) error {
	if d.HasError() {
		return fmt.Errorf("%v", d.Errors())
	}
	return nil
}

type field struct {
	index int
	name  string
}

var structFields sync.Map // reflect.Type → []field

// fieldsOf lists the tfsdk-tagged fields of a struct type, read once.
func fieldsOf(t reflect.Type) []field {
	if fs, ok := structFields.Load(t); ok {
		return fs.([]field)
	}
	var fs []field
	for i := 0; i < t.NumField(); i++ {
		if name := t.Field(i).Tag.Get("tfsdk"); name != "" && name != "-" {
			fs = append(fs, field{i, name})
		}
	}
	structFields.Store(t, fs)
	return fs
}

// objectInto sets the attr.Value fields of the struct target points to from
// the attributes of obj, by tfsdk tag: what obj.As does for structs of
// framework values, without re-reading the tags for every element.
func objectInto(obj attr.Value, target any) error {
	o, ok := obj.(types.Object)
	if !ok || o.IsNull() || o.IsUnknown() {
		return fmt.Errorf("%s is not a known object", obj)
	}
	attrs := o.Attributes()
	v := reflect.ValueOf(target).Elem()
	for _, f := range fieldsOf(v.Type()) {
		a, ok := attrs[f.name]
		if !ok {
			return fmt.Errorf("object has no attribute %q", f.name)
		}
		fv, av := v.Field(f.index), reflect.ValueOf(a)
		if !av.Type().AssignableTo(fv.Type()) {
			return fmt.Errorf("attribute %q is a %s, the field a %s", f.name, av.Type(), fv.Type())
		}
		fv.Set(av)
	}
	return nil
}
