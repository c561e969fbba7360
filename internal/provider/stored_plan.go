package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// storedPlan is the lifecycle of a resource that exists only in state: all
// of its values are computed at plan time, so apply stores exactly the plan
// (nothing can differ between plan and apply), refresh has nothing remote to
// read, and destroy has nothing to delete.
type storedPlan struct{}

func (storedPlan) Create(_ context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	resp.State.Raw = req.Plan.Raw
}

func (storedPlan) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (storedPlan) Update(_ context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.State.Raw = req.Plan.Raw
}

func (storedPlan) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}
