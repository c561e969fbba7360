package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/function"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/limits"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// The interface the function implements, checked by the compiler.
var _ function.Function = (*estimateMemoryFunction)(nil)

type estimateMemoryFunction struct{}

func newEstimateMemoryFunction() function.Function { return &estimateMemoryFunction{} }

func (f *estimateMemoryFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "estimate_memory"
}

// Argument positions, for errors that point at one.
const (
	argModel = iota
	argPrecision
	argContext
	argConcurrency
	argInstanceType
)

func (f *estimateMemoryFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	attrs := estimateOutputAttributes()
	resp.Definition = function.Definition{
		Summary: "Estimate the GPU memory a model needs when served by vLLM",
		MarkdownDescription: "Returns the weights, KV cache and total memory of a catalog model at a precision, context " +
			"length and concurrency. Given an instance type as a fifth argument, it adds the per-GPU need at every valid " +
			"tensor-parallel degree, how many KV tokens fit, and the smallest degree that fits. Functions cannot read the " +
			"provider configuration, so the per-GPU budget uses vLLM's default `gpu_memory_utilization` of 0.9 and the KV " +
			"cache is stored at the activation dtype; the `mcllm_memory_estimate` data source takes both as arguments.\n\n" +
			"The result is an object with these attributes:\n\n" + describeAttributes(attrs),
		Parameters: []function.Parameter{
			function.StringParameter{Name: "model", MarkdownDescription: "Catalog model id, for example `llama-3.1-70b`."},
			function.StringParameter{Name: "precision", MarkdownDescription: "Weight precision: " + backtickList(memory.Precisions()) + "."},
			function.Int64Parameter{Name: "max_context_tokens", MarkdownDescription: withLimit("Longest sequence served (vLLM `--max-model-len`), "+
				"at most the model's context.", limits.ContextTokens)},
			function.Int64Parameter{Name: "max_concurrent_sequences", MarkdownDescription: withLimit("Sequences held at once at full context "+
				"(vLLM `--max-num-seqs`).", limits.Concurrency)},
		},
		VariadicParameter: function.StringParameter{
			Name:                "instance_type",
			MarkdownDescription: "Optional, at most one: `<cloud>/<instance_type>` to size against, for example `aws/p5.48xlarge`.",
		},
		Return: function.ObjectReturn{AttributeTypes: attrTypes(attrs)},
	}
}

func (f *estimateMemoryFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var (
		model, precision           string
		contextTokens, concurrency int64
		instance                   []string
	)
	resp.Error = function.ConcatFuncErrors(req.Arguments.Get(ctx, &model, &precision, &contextTokens, &concurrency, &instance))
	if resp.Error != nil {
		return
	}
	if len(instance) > 1 {
		resp.Error = function.NewArgumentFuncError(argInstanceType, fmt.Sprintf("at most one instance type may be given, got %d", len(instance)))
		return
	}
	in := estimateInput{
		Model: model, Precision: precision, Context: contextTokens, Concurrency: concurrency,
		Utilization: memory.DefaultUtilization,
	}
	if len(instance) == 1 {
		in.InstanceKey = instance[0]
	}
	out, ierr := computeEstimate(in)
	if ierr != nil {
		resp.Error = function.NewArgumentFuncError(argumentOf(ierr.Field), ierr.Detail)
		return
	}
	resp.Error = function.ConcatFuncErrors(resp.Result.Set(ctx, out))
}

func argumentOf(field string) int64 {
	switch field {
	case memory.FieldPrecision:
		return argPrecision
	case memory.FieldContext:
		return argContext
	case memory.FieldConcurrency:
		return argConcurrency
	case "instance_type":
		return argInstanceType
	}
	return argModel
}

// describeAttributes renders a sorted Markdown list of attribute names and
// descriptions, for documenting an object return type.
func describeAttributes(attrs map[string]schema.Attribute) string {
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "- `%s` — %s\n", n, attrs[n].GetMarkdownDescription())
	}
	return b.String()
}
