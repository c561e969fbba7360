package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// planOf reads a plan into a model: Create and Update persist exactly what
// ModifyPlan computed, so that nothing differs between plan and apply.
func planOf[T any](ctx context.Context, get func(context.Context, any) diag.Diagnostics, diags *diag.Diagnostics) *T {
	var m T
	diags.Append(get(ctx, &m)...)
	return &m
}
