package analysis

import (
	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
)

// Location is where a model's weights are stored: a bucket's cloud and
// region.
type Location struct {
	Cloud, Region string
}

// String is "<cloud>/<region>".
func (l Location) String() string { return l.Cloud + "/" + l.Region }

// EgressPrice returns what a cloud charges per decimal GB for a kind of
// transfer leaving it, and whether that is known.
type EgressPrice func(cloud, kind string) (usdPerGB float64, ok bool)

// Transfer is the one-time pull of one replica's weights from their
// source to the replica's node group. A replica loads the whole checkpoint
// once, split over its GPUs and pipeline stages, so it pulls the model's
// weight bytes.
type Transfer struct {
	From  Location
	Kind  string // catalog.TransferNone, TransferInterRegion or TransferInternet
	Bytes int64
	// CostUSD is the source cloud's price per GB times the GB; Priced is
	// false (and CostUSD 0) when that price is unknown.
	CostUSD float64
	Priced  bool
}

// TransferTo prices pulling bytes of weights from src to node group g.
func TransferTo(src Location, g planner.NodeGroup, bytes int64, price EgressPrice) Transfer {
	t := Transfer{From: src, Kind: catalog.TransferKindBetween(src.Cloud, src.Region, g.Cloud, g.Region), Bytes: bytes}
	perGB, ok := price(src.Cloud, t.Kind)
	t.Priced = ok
	if ok {
		t.CostUSD = perGB * float64(bytes) / 1e9
	}
	return t
}

// Transfers prices the weight pull of every placed replica of the models
// with a source, keyed like the placement.
func Transfers(groups []planner.NodeGroup, models []planner.ModelDemand, sources map[string]Location,
	replicas []planner.Replica, price EgressPrice) map[string]Transfer {
	byName := map[string]planner.NodeGroup{}
	for _, g := range groups {
		byName[g.Name] = g
	}
	weights := map[string]int64{}
	for _, m := range models {
		if m.Memory != nil {
			weights[m.Name] = m.Memory.WeightBytes
		}
	}
	out := map[string]Transfer{}
	for _, r := range replicas {
		src, ok := sources[r.Model]
		if !ok {
			continue
		}
		out[r.Key()] = TransferTo(src, byName[r.NodeGroup], weights[r.Model], price)
	}
	return out
}

// TransferSurcharges is, per model with a source, the transfer cost of one
// replica on each node group spread over horizonHours: the surcharge the
// planner weighs against node prices. Groups whose transfer has no known
// price carry none; missing lists them per model.
func TransferSurcharges(groups []planner.NodeGroup, models []planner.ModelDemand, sources map[string]Location,
	horizonHours float64, price EgressPrice) (surcharges map[string]map[string]float64, missing map[string][]Transfer) {
	surcharges, missing = map[string]map[string]float64{}, map[string][]Transfer{}
	for _, m := range models {
		src, ok := sources[m.Name]
		if !ok || m.Memory == nil {
			continue
		}
		surcharges[m.Name] = map[string]float64{}
		for _, g := range groups {
			t := TransferTo(src, g, m.Memory.WeightBytes, price)
			if !t.Priced {
				missing[m.Name] = append(missing[m.Name], t)
				continue
			}
			surcharges[m.Name][g.Name] = t.CostUSD / horizonHours
		}
	}
	return surcharges, missing
}
