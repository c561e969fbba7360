package analysis

import (
	"math"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
)

// Report is every summary an inference pool shows of a plan — costs,
// transfers, failure domains, traffic weights, group use — with the
// rounding it shows them at, so that an adapter only converts it.
type Report struct {
	Cost      Cost
	Transfers map[string]TransferReport // by "<model>/<replica>"
	Failures  map[string]ModelFailure   // by model
	// TrafficWeights and RegionWeights are the percent of each model's
	// traffic per cloud and per "<cloud>/<region>".
	TrafficWeights, RegionWeights map[string]map[string]int
	Groups                        map[string]GroupUse // by node group
}

// Cost is the fleet's cost in USD: per hour to 4 decimals, per month (of
// HoursPerMonth hours) to the cent.
type Cost struct {
	TotalPerHour, TotalPerMonth float64
	// ReservedPerHour is what reserved nodes cost, used or idle;
	// OnDemandPerHour and SpotPerHour split the rest by capacity type.
	ReservedPerHour, OnDemandPerHour, SpotPerHour float64
	// ReservedIdlePerHour is the part of ReservedPerHour paid for reserved
	// nodes the plan leaves empty.
	ReservedIdlePerHour float64
	// TransferOneTime is what moving the weights of new replicas costs
	// once, where the egress is priced.
	TransferOneTime                                       float64
	PerCloud, PerModel, PerNodeGroup                      map[string]float64
	MonthlyPerCloud, MonthlyPerModel, MonthlyPerNodeGroup map[string]float64
}

// TransferReport is one replica's pull of its weights: GB to 3 decimals,
// cost to 4 (nil where no egress price is known).
type TransferReport struct {
	From, Kind string
	Bytes      int64
	GB         float64
	CostUSD    *float64
}

// GroupUse is what a node group holds: nodes, GPUs, and memory placed over
// usable memory to 4 decimals; of its reserved nodes, those the plan uses
// and those it leaves idle (paid and empty).
type GroupUse struct {
	Nodes, UsedGPUs, TotalGPUs int
	MemoryUtilization          float64
	ReservedUsed, ReservedIdle int
}

// ReportOf summarises a plan of the node groups and models.
func ReportOf(groups []planner.NodeGroup, models []planner.ModelDemand, res *planner.Result, weights map[string]Weights, price EgressPrice) Report {
	byName := planner.GroupsByName(groups)
	r := Report{
		Transfers: map[string]TransferReport{}, Failures: map[string]ModelFailure{}, Groups: map[string]GroupUse{},
		TrafficWeights: TrafficWeights(groups, res.Replicas, Cloud, 100),
		RegionWeights:  TrafficWeights(groups, res.Replicas, Region, 100),
	}
	c := Cost{TotalPerHour: Round(res.CostPerHour, 4), TotalPerMonth: Monthly(res.CostPerHour),
		PerCloud: map[string]float64{}, PerModel: map[string]float64{}, PerNodeGroup: map[string]float64{},
		MonthlyPerCloud: map[string]float64{}, MonthlyPerModel: map[string]float64{}, MonthlyPerNodeGroup: map[string]float64{}}
	for cloud, perHour := range CostByCloud(groups, res) {
		c.PerCloud[cloud], c.MonthlyPerCloud[cloud] = Round(perHour, 4), Monthly(perHour)
	}
	var spot, onDemand, reserved, idle float64
	for _, gr := range res.Groups {
		g := byName[gr.Name]
		used := min(gr.Nodes, g.Reserved)
		committed := float64(g.Reserved) * g.ReservedPrice
		reserved += committed
		idle += float64(g.Reserved-used) * g.ReservedPrice
		if g.CapacityType == planner.CapacitySpot {
			spot += gr.CostPerHour - committed
		} else {
			onDemand += gr.CostPerHour - committed
		}
		c.PerNodeGroup[gr.Name], c.MonthlyPerNodeGroup[gr.Name] = Round(gr.CostPerHour, 4), Monthly(gr.CostPerHour)
		r.Groups[gr.Name] = GroupUse{Nodes: gr.Nodes, UsedGPUs: gr.UsedGPUs, TotalGPUs: gr.TotalGPUs,
			MemoryUtilization: Round(gr.MemoryUtilization, 4), ReservedUsed: used, ReservedIdle: g.Reserved - used}
	}
	c.SpotPerHour, c.OnDemandPerHour = Round(spot, 4), Round(onDemand, 4)
	c.ReservedPerHour, c.ReservedIdlePerHour = Round(reserved, 4), Round(idle, 4)
	for _, m := range models {
		c.PerModel[m.Name], c.MonthlyPerModel[m.Name] = Round(res.ModelCost[m.Name], 4), Monthly(res.ModelCost[m.Name])
	}
	var transfer float64
	for key, t := range Transfers(groups, weights, res.Replicas, price) {
		tr := TransferReport{From: t.From.String(), Kind: t.Kind, Bytes: t.Bytes, GB: Round(float64(t.Bytes)/1e9, 3)}
		if t.Priced {
			cost := Round(t.CostUSD, 4)
			tr.CostUSD = &cost
			transfer += t.CostUSD
		}
		r.Transfers[key] = tr
	}
	c.TransferOneTime = Round(transfer, 4)
	r.Cost = c
	for _, f := range FailureDomains(groups, models, res.Replicas) {
		f.Worst.Fraction = Round(f.Worst.Fraction, 4)
		r.Failures[f.Model] = f
	}
	return r
}

// Monthly is an hourly cost over a month of HoursPerMonth hours, to the
// cent.
func Monthly(perHour float64) float64 { return Round(perHour*HoursPerMonth, 2) }

// Round rounds x to the given decimals: the one rounding of every figure
// the provider stores, so that values compare equal across runs.
func Round(x float64, decimals int) float64 {
	scale := 1.0
	for range decimals {
		scale *= 10
	}
	// From 2^52 on a float64 holds no fraction to round; int64 would
	// overflow further up.
	if math.Abs(x*scale) >= 1<<52 || math.IsNaN(x) {
		return x
	}
	if x < 0 {
		return -float64(int64(-x*scale+0.5)) / scale
	}
	return float64(int64(x*scale+0.5)) / scale
}
