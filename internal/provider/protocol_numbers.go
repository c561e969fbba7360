package provider

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// Numbers that do not fit their attribute, in the data sources and the
// function arguments the framework serves: it reports them as a provider
// bug ("Configuration Read Error", "Unable to Convert Function Argument").
// The protocol server checks them first, with checkNumbers, and reports
// them as the user's error on their path or argument; and empty strings,
// which no argument means.

// dataSourceTypes are the object types of the provider's data sources, by
// type name.
func dataSourceTypes(ctx context.Context, p *mcllmProvider) map[string]types.ObjectType {
	out := map[string]types.ObjectType{}
	for _, newDS := range p.DataSources(ctx) {
		ds := newDS()
		var meta datasource.MetadataResponse
		ds.Metadata(ctx, datasource.MetadataRequest{ProviderTypeName: "mcllm"}, &meta)
		var sch datasource.SchemaResponse
		ds.Schema(ctx, datasource.SchemaRequest{}, &sch)
		if t, ok := sch.Schema.Type().(types.ObjectType); ok {
			out[meta.TypeName] = t
		}
	}
	return out
}

// functionDefinitions are the provider's function definitions, by name.
func functionDefinitions(ctx context.Context, p *mcllmProvider) map[string]function.Definition {
	out := map[string]function.Definition{}
	for _, newFn := range p.Functions(ctx) {
		fn := newFn()
		var meta function.MetadataResponse
		fn.Metadata(ctx, function.MetadataRequest{}, &meta)
		var def function.DefinitionResponse
		fn.Definition(ctx, function.DefinitionRequest{}, &def)
		out[meta.Name] = def.Definition
	}
	return out
}

// dataSourceChecks checks the numbers and strings of a data source's
// configuration.
func (s *protocolServer) dataSourceChecks(ctx context.Context, typeName string, config *tfprotov6.DynamicValue) []*tfprotov6.Diagnostic {
	t, ok := s.dataSources[typeName]
	if !ok || config == nil {
		return nil
	}
	v, err := config.Unmarshal(t.TerraformType(ctx))
	if err != nil {
		return nil // the framework reports it
	}
	var diags diag.Diagnostics
	checkNumbers(t, v, path.Empty(), &diags)
	emptyStringAttributes(t, v, path.Empty(), &diags)
	return toProtoDiags(diags)
}

// emptyStringAttributes applies reportEmptyString, by type rather than by
// schema, to every known empty string that is an object's attribute or an
// element of an attribute's list, at any depth: data source arguments and
// function arguments are names, ids and filters.
func emptyStringAttributes(t attr.Type, v tftypes.Value, at path.Path, diags *diag.Diagnostics) {
	if !v.IsKnown() || v.IsNull() {
		return
	}
	switch tt := t.(type) {
	case basetypes.StringType:
		if name, ok := attributeOf(at); ok && isEmptyString(v) {
			reportEmptyString(at, name, true, diags)
		}
	case basetypes.ObjectType:
		var vals map[string]tftypes.Value
		if v.As(&vals) == nil {
			for name, et := range tt.AttrTypes {
				emptyStringAttributes(et, vals[name], at.AtName(name), diags)
			}
		}
	case basetypes.ListType:
		var vals []tftypes.Value
		if v.As(&vals) == nil {
			for i, ev := range vals {
				emptyStringAttributes(tt.ElemType, ev, at.AtListIndex(i), diags)
			}
		}
	case basetypes.MapType:
		var vals map[string]tftypes.Value
		if v.As(&vals) == nil {
			for key, ev := range vals {
				emptyStringAttributes(tt.ElemType, ev, at.AtMapKey(key), diags)
			}
		}
	}
}

// attributeOf names the attribute a path ends in, or whose list element
// it ends in; false for map values and bare values.
func attributeOf(at path.Path) (string, bool) {
	steps := at.Steps()
	if n := len(steps); n > 1 {
		if _, isElem := steps[n-1].(path.PathStepElementKeyInt); isElem {
			steps = steps[:n-1]
		}
	}
	if len(steps) == 0 {
		return "", false
	}
	name, ok := steps[len(steps)-1].(path.PathStepAttributeName)
	return string(name), ok
}

// functionChecks checks the numbers and strings of a function call's
// arguments; the first argument with a problem is the call's error.
func (s *protocolServer) functionChecks(ctx context.Context, req *tfprotov6.CallFunctionRequest) *tfprotov6.FunctionError {
	def, ok := s.functions[req.Name]
	if !ok {
		return nil
	}
	for i, arg := range req.Arguments {
		var param function.Parameter
		switch {
		case i < len(def.Parameters):
			param = def.Parameters[i]
		case def.VariadicParameter != nil:
			param = def.VariadicParameter
		default:
			return nil
		}
		t := param.GetType()
		if t == nil || arg == nil {
			continue
		}
		v, err := arg.Unmarshal(t.TerraformType(ctx))
		if err != nil {
			continue // the framework reports it
		}
		var diags diag.Diagnostics
		checkNumbers(t, v, path.Root(param.GetName()), &diags)
		emptyStringAttributes(t, v, path.Root(param.GetName()), &diags)
		if diags.HasError() {
			var texts []string
			for _, d := range diags.Errors() {
				texts = append(texts, d.Detail())
			}
			idx := int64(i)
			return &tfprotov6.FunctionError{Text: strings.Join(texts, " "), FunctionArgument: &idx}
		}
	}
	return nil
}

func (s *protocolServer) ValidateDataResourceConfig(ctx context.Context, req *tfprotov6.ValidateDataResourceConfigRequest) (*tfprotov6.ValidateDataResourceConfigResponse, error) {
	if diags := s.dataSourceChecks(ctx, req.TypeName, req.Config); len(diags) > 0 {
		return &tfprotov6.ValidateDataResourceConfigResponse{Diagnostics: diags}, nil
	}
	return s.ProviderServer.ValidateDataResourceConfig(ctx, req)
}

func (s *protocolServer) ReadDataSource(ctx context.Context, req *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, error) {
	if diags := s.dataSourceChecks(ctx, req.TypeName, req.Config); len(diags) > 0 {
		return &tfprotov6.ReadDataSourceResponse{Diagnostics: diags}, nil
	}
	return s.ProviderServer.ReadDataSource(ctx, req)
}

func (s *protocolServer) CallFunction(ctx context.Context, req *tfprotov6.CallFunctionRequest) (*tfprotov6.CallFunctionResponse, error) {
	if err := s.functionChecks(ctx, req); err != nil {
		return &tfprotov6.CallFunctionResponse{Error: err}, nil
	}
	return s.ProviderServer.CallFunction(ctx, req)
}
