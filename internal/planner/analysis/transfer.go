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

// Transfer is the one-time pull of one replica's weights from their source
// to the replica's node group: every node the replica spans downloads the
// checkpoint.
type Transfer struct {
	From  Location
	Kind  string // catalog.TransferNone, TransferInterRegion or TransferInternet
	Bytes int64
	// CostUSD is the source cloud's price per GB times the GB; Priced is
	// false (and CostUSD 0) when that price is unknown.
	CostUSD float64
	Priced  bool
}

// TransferTo prices pulling bytes from src to node group g.
func TransferTo(src Location, g planner.NodeGroup, bytes int64, price EgressPrice) Transfer {
	t := Transfer{From: src, Kind: catalog.TransferKindBetween(src.Cloud, src.Region, g.Cloud, g.Region), Bytes: bytes}
	perGB, ok := price(src.Cloud, t.Kind)
	t.Priced = ok
	if ok {
		t.CostUSD = perGB * float64(bytes) / 1e9
	}
	return t
}

// Weights is a model's source and the bytes of the checkpoint it loads.
type Weights struct {
	Source          Location
	CheckpointBytes int64
}

// Transfers prices the weight pulls of every placed replica of the models
// with weights, keyed like the placement: the checkpoint once per node.
func Transfers(groups []planner.NodeGroup, weights map[string]Weights, replicas []planner.Replica, price EgressPrice) map[string]Transfer {
	byName := planner.GroupsByName(groups)
	out := map[string]Transfer{}
	for _, r := range replicas {
		w, ok := weights[r.Model]
		if !ok {
			continue
		}
		nodes := map[int]bool{}
		for _, s := range r.Stages {
			nodes[s.Node] = true
		}
		out[r.Key()] = TransferTo(w.Source, byName[r.NodeGroup], w.CheckpointBytes*int64(max(1, len(nodes))), price)
	}
	return out
}

// TransferSurcharges is, per model with weights, the cost of pulling its
// checkpoint to one node of each node group, spread over horizonHours: the
// surcharge (per node a replica spans) the planner weighs against node
// prices. Groups whose transfer has no known price carry none; missing lists
// them per model.
func TransferSurcharges(groups []planner.NodeGroup, weights map[string]Weights, horizonHours float64,
	price EgressPrice) (surcharges map[string]map[string]float64, missing map[string][]Transfer) {
	surcharges, missing = map[string]map[string]float64{}, map[string][]Transfer{}
	for model, w := range weights {
		surcharges[model] = map[string]float64{}
		for _, g := range groups {
			t := TransferTo(w.Source, g, w.CheckpointBytes, price)
			if !t.Priced {
				missing[model] = append(missing[model], t)
				continue
			}
			surcharges[model][g.Name] = t.CostUSD / horizonHours
		}
	}
	return surcharges, missing
}
