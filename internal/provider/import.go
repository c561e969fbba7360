package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// importByName adopts a pool or a model shard by its name, the id of both.
// Nothing remote holds more of them: only name and id are restored, every
// other attribute stays null until the next plan computes it from the
// configuration, exactly as on creation.
func importByName(ctx context.Context, what string, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if req.ID == "" {
		resp.Diagnostics.AddError("Invalid import ID", "Import "+what+" by its name, the value of its name attribute.")
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}

// ImportState adopts a pool by name; see importByName.
func (r *inferencePoolResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importByName(ctx, "an inference pool", req, resp)
}

// ImportState adopts a model shard by name; see importByName.
func (r *modelShardResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importByName(ctx, "a model shard", req, resp)
}
