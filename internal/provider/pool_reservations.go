package provider

import (
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/limits"
)

// A node group's reservation: nodes already paid for — an EC2 On-Demand
// Capacity Reservation or Capacity Block, an Azure capacity reservation, a
// GCP reservation or committed-use discount — at a committed price, within
// an optional validity window. The planner counts them at that price used
// or idle (planner.NodeGroup.CostAt), so it fills them before paid
// capacity.

type reservationModel struct {
	Nodes        types.Int64   `tfsdk:"nodes"`
	PricePerHour types.Float64 `tfsdk:"price_per_hour"`
	Starts       types.String  `tfsdk:"starts"`
	Ends         types.String  `tfsdk:"ends"`
}

func reservationAttribute() schema.Attribute {
	return schema.SingleNestedAttribute{Optional: true,
		MarkdownDescription: "Nodes of the group already paid for: a capacity reservation or capacity block, a committed-use " +
			"discount. The plan counts them at their committed price whether they run replicas or not, so it fills them " +
			"before paid capacity; `cost.reserved_per_hour` reports them apart from on-demand and spot, and " +
			"`utilization[*].reserved_idle` and `cost.reserved_idle_per_hour` show what is paid and unused.",
		Attributes: map[string]schema.Attribute{
			"nodes": schema.Int64Attribute{Required: true,
				MarkdownDescription: withLimit("Reserved nodes; at most `max_nodes`.", limits.NodesPerGroup),
				Validators:          []validator.Int64{intLimit{limits.NodesPerGroup.Named("reservation.nodes")}}},
			"price_per_hour": schema.Float64Attribute{Optional: true,
				MarkdownDescription: withLimit("Committed price of one reserved node, USD per hour. Omitted: the group's price "+
					"(an EC2 On-Demand Capacity Reservation bills at the on-demand rate); a committed-use discount or a capacity "+
					"block has its own.", limits.PricePerHour),
				Validators: []validator.Float64{floatLimit{limits.PricePerHour.Named("reservation.price_per_hour")}}},
			"starts": schema.StringAttribute{Optional: true,
				MarkdownDescription: "RFC 3339 time the reservation starts (a capacity block's start); before it the plan uses " +
					"no reserved node and warns. Omitted: already started."},
			"ends": schema.StringAttribute{Optional: true,
				MarkdownDescription: "RFC 3339 time the reservation ends; from then on the plan uses no reserved node and warns. " +
					"Omitted: no end. A plan made after either time changes the placement's cost, as the bill does."},
		}}
}

// reservationOf resolves a group's reservation at time now: the reserved
// nodes and their price, 0 nodes outside its window (with a warning).
// price is the group's own, the default committed price.
func reservationOf(at path.Path, o types.Object, price float64, now time.Time, diags *diag.Diagnostics) (int, float64) {
	if o.IsNull() || o.IsUnknown() {
		return 0, 0
	}
	var r reservationModel
	if err := objectInto(o, &r); err != nil {
		diags.AddAttributeError(at, "Unreadable reservation", err.Error())
		return 0, 0
	}
	if !checkInt(at.AtName("nodes"), limits.NodesPerGroup.Named("reservation.nodes"), r.Nodes, diags) ||
		!checkFloat(at.AtName("price_per_hour"), limits.PricePerHour.Named("reservation.price_per_hour"), r.PricePerHour, diags) {
		return 0, 0
	}
	window := [2]*time.Time{}
	for i, t := range []types.String{r.Starts, r.Ends} {
		if t.IsNull() {
			continue
		}
		parsed, err := time.Parse(time.RFC3339, t.ValueString())
		name := []string{"starts", "ends"}[i]
		if err != nil {
			diags.AddAttributeError(at.AtName(name), "Invalid reservation time",
				fmt.Sprintf("%s: %q is not an RFC 3339 time such as \"2026-12-01T00:00:00Z\" (Terraform's timestamp() format).", name, t.ValueString()))
			return 0, 0
		}
		window[i] = &parsed
	}
	if window[0] != nil && window[1] != nil && !window[1].After(*window[0]) {
		diags.AddAttributeError(at.AtName("ends"), "Invalid reservation window",
			fmt.Sprintf("ends (%s) must be after starts (%s).", window[1].Format(time.RFC3339), window[0].Format(time.RFC3339)))
		return 0, 0
	}
	nodes := clampInt(r.Nodes.ValueInt64())
	committed := price
	if !r.PricePerHour.IsNull() {
		committed = r.PricePerHour.ValueFloat64()
	}
	switch {
	case window[0] != nil && now.Before(*window[0]):
		diags.AddAttributeWarning(at.AtName("starts"), "Reservation not started",
			fmt.Sprintf("The reservation of %d nodes starts at %s: this plan uses none of them and prices the group's nodes as usual.", nodes, window[0].Format(time.RFC3339)))
		return 0, 0
	case window[1] != nil && !now.Before(*window[1]):
		diags.AddAttributeWarning(at.AtName("ends"), "Reservation ended",
			fmt.Sprintf("The reservation of %d nodes ended at %s: this plan uses none of them and prices the group's nodes as usual.", nodes, window[1].Format(time.RFC3339)))
		return 0, 0
	}
	return nodes, committed
}
