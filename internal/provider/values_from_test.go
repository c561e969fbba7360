package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// mapValueFrom gives what types.MapValueFrom gives, for every shape the
// outputs use: nested structs, nil and set pointers, nil and empty slices
// and maps.
func TestMapValueFromAsTheFramework(t *testing.T) {
	ctx := context.Background()
	it := "p5.48xlarge"
	specs := map[string]nodeGroupSpecValue{
		"full": {Cloud: "aws", Region: "us-east-1", InstanceType: &it, GPUModel: "H100", GPUsPerNode: 8, CapacityType: "spot",
			DesiredSize: 2, MinSize: 0, MaxSize: 4, Labels: map[string]string{"a": "b"},
			Taints: []taintValue{{Key: "k", Value: "v", Effect: "NoSchedule"}}, DiskSizeGiB: 500,
			EKS: &eksValue{InstanceTypes: []string{it}, CapacityType: "SPOT", Taints: []taintValue{}, DiskSize: 500}},
		"empty": {Labels: map[string]string{}, Taints: []taintValue{}, AKS: &aksValue{NodeTaints: nil}},
		"nils":  {},
	}
	ours, d := mapValueFrom(ctx, nodeGroupSpecType, specs)
	if d.HasError() {
		t.Fatal(d)
	}
	framework, d := types.MapValueFrom(ctx, nodeGroupSpecType, specs)
	if d.HasError() {
		t.Fatal(d)
	}
	if !ours.Equal(framework) {
		t.Fatalf("differs from the framework:\nours      %s\nframework %s", ours, framework)
	}
	var none map[string]int64
	if v, _ := mapValueFrom(ctx, types.Int64Type, none); !v.IsNull() {
		t.Fatalf("a nil map is %s, want null", v)
	}
	if _, d := mapValueFrom(ctx, types.Int64Type, map[string]string{"a": "b"}); !d.HasError() {
		t.Fatal("a string where the type says number must be an error")
	}
}

// objectInto reads a node group as obj.As does.
func TestObjectIntoAsTheFramework(t *testing.T) {
	ctx := context.Background()
	ngType := PoolSchema().Attributes["node_groups"].GetType().(types.MapType).ElemType.(types.ObjectType)
	group := nodeGroupModel{Cloud: types.StringValue("aws"), Region: types.StringValue("us-east-1"), InstanceType: types.StringValue("p5.48xlarge"),
		GPU: types.ObjectNull(ngType.AttrTypes["gpu"].(types.ObjectType).AttrTypes), MinNodes: types.Int64Value(0), MaxNodes: types.Int64Value(2),
		CapacityType: types.StringValue("on-demand"), Labels: types.MapNull(types.StringType), PricePerHour: types.Float64Null(),
		Confidential: types.BoolValue(false), Taints: types.ListNull(ngType.AttrTypes["taints"].(types.ListType).ElemType),
		Reservation: types.ObjectNull(ngType.AttrTypes["reservation"].(types.ObjectType).AttrTypes),
		GPUSharing:  types.ObjectNull(ngType.AttrTypes["gpu_sharing"].(types.ObjectType).AttrTypes)}
	obj, d := types.ObjectValueFrom(ctx, ngType.AttrTypes, group)
	if d.HasError() {
		t.Fatal(d)
	}
	var ours, framework nodeGroupModel
	if err := objectInto(obj, &ours); err != nil {
		t.Fatal(err)
	}
	if d := obj.As(ctx, &framework, basetypes.ObjectAsOptions{}); d.HasError() {
		t.Fatal(d)
	}
	back := func(g nodeGroupModel) types.Object {
		o, d := types.ObjectValueFrom(ctx, ngType.AttrTypes, g)
		if d.HasError() {
			t.Fatal(d)
		}
		return o
	}
	if !back(ours).Equal(back(framework)) || !back(ours).Equal(obj) {
		t.Fatalf("objectInto read %+v, the framework %+v", ours, framework)
	}
	if err := objectInto(types.StringValue("x"), &ours); err == nil {
		t.Fatal("a string is not a node group")
	}
}
