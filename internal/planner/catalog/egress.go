package catalog

import (
	"slices"
	"strings"
)

// Kinds of data transfer, by the boundary the bytes cross.
const (
	// TransferNone: within one region of one cloud, which the clouds do not
	// charge for between a bucket and machines of the region.
	TransferNone = "none"
	// TransferInterRegion: between two regions of the same cloud.
	TransferInterRegion = "inter_region"
	// TransferInternet: leaving the cloud, to the internet or to another
	// cloud, which bills it as internet egress.
	TransferInternet = "internet"
)

// EgressPrice is what the source cloud charges per decimal GB for one kind
// of transfer: the first paid tier, from a North American region.
type EgressPrice struct {
	Cloud, Kind string
	USDPerGB    float64
	// Source names where the figure comes from; Date is the day it was
	// read, or PriceDateUnknown.
	Source, Date string
}

// Key is "<cloud>/<kind>", as price overrides name it.
func (p EgressPrice) Key() string { return p.Cloud + "/" + p.Kind }

// egressPrices are the defaults. The clouds' own price pages render their
// tables with scripts, so AWS's and Azure's figures come from cost guides
// quoting them; Google's from a transcription of its network pricing page.
// No source gave Google Cloud's inter-region price within North America:
// it has no default and must be configured when a placement needs it.
var egressPrices = []EgressPrice{
	{CloudAWS, TransferInternet, 0.09, "AWS data transfer out to the internet, first 10 TB / month after 100 GB free (as quoted by AWS cost guides)", PriceDateUnknown},
	{CloudAWS, TransferInterRegion, 0.02, "AWS data transfer between US regions, per GB out of the source region (as quoted by AWS cost guides; us-east-1 ↔ us-east-2 is 0.01)", PriceDateUnknown},
	{CloudAzure, TransferInternet, 0.087, "Azure internet egress, first 10 TB / month after 100 GB free (as quoted by Azure cost guides)", PriceDateUnknown},
	{CloudAzure, TransferInterRegion, 0.02, "Azure data transfer between regions within North America (as quoted by Azure cost guides)", PriceDateUnknown},
	{CloudGCP, TransferInternet, 0.12 / 1.073741824, "Google Cloud Premium Tier internet data transfer out to North America, 0.12 USD per GiB for 1 GiB to 1 TiB (transcription of cloud.google.com/vpc/network-pricing)", "2026-09-20"},
}

// EgressPrices lists the default prices, sorted by key.
func EgressPrices() []EgressPrice {
	out := slices.Clone(egressPrices)
	slices.SortFunc(out, func(a, b EgressPrice) int { return strings.Compare(a.Key(), b.Key()) })
	return out
}

// LookupEgressPrice returns the default price of a transfer kind leaving a
// cloud, and whether there is one.
func LookupEgressPrice(cloud, kind string) (EgressPrice, bool) {
	for _, p := range egressPrices {
		if p.Cloud == cloud && p.Kind == kind {
			return p, true
		}
	}
	return EgressPrice{}, false
}

// TransferKindBetween is the kind of transfer from a bucket in (srcCloud,
// srcRegion) to machines in (dstCloud, dstRegion).
func TransferKindBetween(srcCloud, srcRegion, dstCloud, dstRegion string) string {
	switch {
	case srcCloud != dstCloud:
		return TransferInternet
	case srcRegion != dstRegion:
		return TransferInterRegion
	}
	return TransferNone
}
