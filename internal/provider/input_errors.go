package provider

import (
	"errors"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
)

// The planner validates its input once (planner.ValidateModel for one model
// shard, planner.ValidateRequest for the rest of a pool); these put its
// problems on attribute paths.

// addInputErrors reports problems, each under at(problem), the path of the
// model shard or node group it names.
func addInputErrors(problems []*planner.InputError, at func(*planner.InputError) path.Path, diags *diag.Diagnostics) {
	for _, p := range problems {
		addInputError(at(p), p, diags)
	}
}

// addInputError reports one problem on its field under base: a limit of the
// limits table as every limit is reported, anything else as "Invalid <field>".
func addInputError(base path.Path, p *planner.InputError, diags *diag.Diagnostics) {
	at, what := base, p.Field
	if p.Kind == "node_group" && p.Field == "name" {
		what = "name" // a node group's name is its key in node_groups: base itself
	} else if p.Field != "" {
		for _, name := range strings.Split(p.Field, ".") {
			at = at.AtName(name)
		}
	}
	if p.Limit { // reported as every limit is, the message naming it
		reportLimit(at, p.Field[strings.LastIndex(p.Field, ".")+1:], p.Msg, diags)
		return
	}
	// The CLI shows a nested attribute's error at its resource: the detail
	// names the attribute by its whole path.
	detail := p.Msg
	if full := at.String(); full != "" {
		sep := ": "
		if strings.HasPrefix(p.Msg, "must ") || strings.HasPrefix(p.Msg, "needs ") {
			sep = " "
		}
		detail = full + sep + p.Msg
	}
	diags.AddAttributeError(at, "Invalid "+strings.ReplaceAll(what, "_", " "), detail+".")
}

// poolProblemPath is where a problem of a pool's planner request belongs:
// the node group by its key, the model shard by its position, the pool's
// own attribute otherwise.
func poolProblemPath(p *planner.InputError) path.Path {
	switch p.Kind {
	case "node_group":
		return path.Root("node_groups").AtMapKey(p.Name)
	case "model":
		return path.Root("model_shards").AtListIndex(max(p.Index, 0))
	case "quota":
		return path.Root("quotas").AtMapKey(p.Name)
	}
	return path.Empty()
}

// addPlannerErrors reports an error of planner.Plan: input problems on
// their paths (the request was validated before, so these are rare), any
// other error as a provider error.
func addPlannerErrors(err error, diags *diag.Diagnostics) {
	var inv *planner.InvalidError
	if !errors.As(err, &inv) {
		diags.AddError("Planner failed", err.Error())
		return
	}
	addInputErrors(inv.Problems, poolProblemPath, diags)
}
