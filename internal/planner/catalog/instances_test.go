package catalog

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestInstanceTypesEmbeddedCatalogLoads(t *testing.T) {
	types := InstanceTypes()
	if len(types) < 40 {
		t.Fatalf("embedded catalog has %d instance types, want at least 40", len(types))
	}

	clouds := map[string]int{}
	seen := map[string]bool{}
	for _, it := range types {
		clouds[it.Cloud]++
		if seen[it.Key()] {
			t.Errorf("duplicate key %s", it.Key())
		}
		seen[it.Key()] = true
	}
	for _, c := range []string{CloudAWS, CloudAzure, CloudGCP} {
		if clouds[c] == 0 {
			t.Errorf("embedded catalog has no %s instance types", c)
		}
	}
	if !slices.IsSortedFunc(types, func(a, b InstanceType) int { return strings.Compare(a.Key(), b.Key()) }) {
		t.Errorf("InstanceTypes() is not sorted by key")
	}
}

// The data file itself is kept sorted by cloud then name so that diffs stay
// readable; ParseInstanceTypes would hide an unsorted file by sorting it.
func TestInstanceTypesDataFileIsSorted(t *testing.T) {
	var rows []struct {
		Cloud string `json:"cloud"`
		Name  string `json:"name"`
	}
	if err := json.Unmarshal(instanceTypesJSON, &rows); err != nil {
		t.Fatalf("decoding data/instance_types.json: %v", err)
	}
	for i := 1; i < len(rows); i++ {
		prev, cur := rows[i-1].Cloud+"/"+rows[i-1].Name, rows[i].Cloud+"/"+rows[i].Name
		if prev >= cur {
			t.Errorf("data/instance_types.json row %d (%s) is not after row %d (%s)", i, cur, i-1, prev)
		}
	}
}

// Every row's memory figures follow the rules of the catalog: measured
// figures belong to the GPU classes a runtime log exists for, all others are
// the API memory scaled by DerivedVisibleRatio.
func TestInstanceTypesVisibleMemoryRules(t *testing.T) {
	measured := map[string]float64{
		"A100-80GB": 79.14,
		"H100-80GB": 79.14,
		"H200":      139.81,
		"L40S":      44.31,
		"A10":       22.07,
		"A10G":      22.07,
		"L4":        22.07,
	}
	for _, it := range InstanceTypes() {
		want, ok := measured[it.GPUModel]
		switch {
		case ok:
			if it.VisibleMemorySource != VisibleMeasured || it.VisibleMemoryGiB != want {
				t.Errorf("%s: visible memory %.2f (%s), want %.2f (measured)", it.Key(), it.VisibleMemoryGiB, it.VisibleMemorySource, want)
			}
		default:
			derived := it.APIMemoryGiB * DerivedVisibleRatio
			if it.VisibleMemorySource != VisibleDerived || math.Abs(it.VisibleMemoryGiB-derived) > 0.005+1e-9 {
				t.Errorf("%s: visible memory %.2f (%s), want round(%.2f × 79.14/80) = %.3f (derived)", it.Key(), it.VisibleMemoryGiB, it.VisibleMemorySource, it.APIMemoryGiB, derived)
			}
		}
	}
}

func TestInstanceTypesSpotChecks(t *testing.T) {
	price := func(v float64) *float64 { return &v }
	tests := []struct {
		cloud, name  string
		gpuModel     string
		gpus         int
		interconnect string
		price        *float64 // nil: no price expected
		priceDate    string   // expected price_date when price is set
		region       string   // a region the type must be recorded in; "" to skip
	}{
		{CloudAWS, "p5.48xlarge", "H100-80GB", 8, InterconnectNVSwitch, price(55.04), "2026-01-21", "us-east-1"},
		{CloudAWS, "p5.4xlarge", "H100-80GB", 1, InterconnectNone, price(6.88), "2026-01-21", "us-east-1"},
		{CloudAWS, "p5e.48xlarge", "H200", 8, InterconnectNVSwitch, nil, "", ""},
		{CloudAWS, "g6e.48xlarge", "L40S", 8, InterconnectPCIe, price(30.13118), "2026-01-21", "us-east-1"},
		{CloudAzure, "Standard_ND96isr_H200_v5", "H200", 8, InterconnectNVSwitch, nil, "", ""},
		{CloudAzure, "Standard_ND96isr_MI300X_v5", "MI300X", 8, InterconnectInfinity, nil, "", ""},
		{CloudAzure, "Standard_NV72ads_A10_v5", "A10", 2, InterconnectPCIe, price(6.52), PriceDateUnknown, "eastus"},
		{CloudGCP, "a3-highgpu-8g", "H100-80GB", 8, InterconnectNVSwitch, price(88.49), "2025-03-06", "us-central1"},
		{CloudGCP, "a2-highgpu-4g", "A100-40GB", 4, InterconnectNVLink, price(14.69354), "2025-03-06", "us-central1"},
		{CloudGCP, "g2-standard-8", "L4", 1, InterconnectNone, nil, "", "us-central1"},
	}
	for _, tt := range tests {
		t.Run(tt.cloud+"/"+tt.name, func(t *testing.T) {
			it, err := LookupInstanceType(tt.cloud, tt.name)
			if err != nil {
				t.Fatalf("LookupInstanceType: %v", err)
			}
			if it.GPUModel != tt.gpuModel || it.GPUs != tt.gpus {
				t.Errorf("GPUs = %d×%s, want %d×%s", it.GPUs, it.GPUModel, tt.gpus, tt.gpuModel)
			}
			if it.Interconnect != tt.interconnect {
				t.Errorf("interconnect = %q, want %q", it.Interconnect, tt.interconnect)
			}
			switch {
			case tt.price == nil && it.HasPrice():
				t.Errorf("price = %v, want none", *it.PriceUSDPerHour)
			case tt.price == nil && (it.PriceRegion != "" || it.PriceDate != ""):
				t.Errorf("price region/date = %q/%q without a price", it.PriceRegion, it.PriceDate)
			case tt.price != nil && !it.HasPrice():
				t.Errorf("no price, want %v", *tt.price)
			case tt.price != nil && *it.PriceUSDPerHour != *tt.price:
				t.Errorf("price = %v, want %v", *it.PriceUSDPerHour, *tt.price)
			case tt.price != nil && it.PriceDate != tt.priceDate:
				t.Errorf("price_date = %q, want %q", it.PriceDate, tt.priceDate)
			}
			if tt.region != "" && !it.InRegion(tt.region) {
				t.Errorf("regions %v do not include %s", it.Regions, tt.region)
			}
		})
	}
}

// validInstanceRow is a row ParseInstanceTypes accepts; the rejection cases
// each break one thing about it.
func validInstanceRow() map[string]any {
	return map[string]any{
		"cloud":                 "aws",
		"name":                  "test.8xlarge",
		"gpu_model":             "H100-80GB",
		"gpus":                  8,
		"vendor_memory_gb":      80,
		"api_memory_gib":        80,
		"visible_memory_gib":    79.14,
		"visible_memory_source": "measured",
		"interconnect":          "nvswitch",
		"interconnect_gbps":     900,
		"network_gbps":          3200,
		"network_notes":         "",
		"network_fabric":        "efa",
		"vcpus":                 192,
		"quota_family":          "P",
		"quota_source":          "test",
		"host_memory_gib":       2048,
		"price_usd_per_hour":    55.04,
		"price_region":          "us-east-1",
		"price_date":            "2026-01-21",
		"regions":               []string{"us-east-1", "us-west-2"},
		"source":                "test",
	}
}

func marshalInstanceRows(t *testing.T, rows ...map[string]any) []byte {
	t.Helper()
	data, err := json.Marshal(rows)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return data
}

func TestParseInstanceTypesAcceptsValidRow(t *testing.T) {
	types, err := ParseInstanceTypes(marshalInstanceRows(t, validInstanceRow()))
	if err != nil {
		t.Fatalf("ParseInstanceTypes(valid row): %v", err)
	}
	if len(types) != 1 || types[0].Key() != "aws/test.8xlarge" {
		t.Fatalf("ParseInstanceTypes(valid row) = %+v", types)
	}
}

func TestParseInstanceTypesRejectsMalformedRows(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(r map[string]any)
		dup     bool // append a second, identical row
		wantErr string
	}{
		{"unknown field", func(r map[string]any) { r["gpu_count"] = 8 }, false, `unknown field "gpu_count"`},
		{"unknown cloud", func(r map[string]any) { r["cloud"] = "oracle" }, false, `cloud "oracle" is not one of aws, azure, gcp`},
		{"unknown gpu model", func(r map[string]any) { r["gpu_model"] = "H100" }, false, `gpu_model "H100" is not a known GPU model`},
		{"zero gpus", func(r map[string]any) { r["gpus"] = 0 }, false, "gpus 0 is outside 1..16"},
		{"visible above api memory", func(r map[string]any) { r["visible_memory_gib"] = 80.5 }, false, "visible_memory_gib 80.50 must be positive and at most api_memory_gib 80.00"},
		{"interconnect none on multi-GPU", func(r map[string]any) { r["interconnect"] = "none" }, false, "interconnect none on a 8-GPU type"},
		{"price without a date", func(r map[string]any) { r["price_date"] = "" }, false, "a price needs price_region and price_date"},
		{"negative price", func(r map[string]any) { r["price_usd_per_hour"] = -1.5 }, false, "price_usd_per_hour must be positive when set"},
		{"unsorted regions", func(r map[string]any) { r["regions"] = []string{"us-west-2", "us-east-1"} }, false, "regions must be sorted"},
		{"duplicate key", func(map[string]any) {}, true, "duplicate key aws/test.8xlarge"},
		{"no quota family", func(r map[string]any) { r["quota_family"] = "" }, false, "quota_family and quota_source must be set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := validInstanceRow()
			tt.mutate(row)
			rows := []map[string]any{row}
			if tt.dup {
				rows = append(rows, validInstanceRow())
			}
			_, err := ParseInstanceTypes(marshalInstanceRows(t, rows...))
			if err == nil {
				t.Fatalf("ParseInstanceTypes accepted the row, want an error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestLookupInstanceTypeSuggestsNearest(t *testing.T) {
	_, err := LookupInstanceType(CloudAWS, "p5.48xlarg")
	if err == nil {
		t.Fatal("LookupInstanceType(aws, p5.48xlarg) succeeded, want an error")
	}
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("error %T (%v) is not a *NotFoundError", err, err)
	}
	if nf.Kind != "instance type" || nf.Name != "aws/p5.48xlarg" {
		t.Errorf("NotFoundError{Kind: %q, Name: %q}, want instance type aws/p5.48xlarg", nf.Kind, nf.Name)
	}
	if !slices.Contains(nf.Suggestions, "aws/p5.48xlarge") {
		t.Errorf("suggestions %v do not contain aws/p5.48xlarge", nf.Suggestions)
	}
}

// TestSharesGPUs: NVIDIA GPUs can be shared by several pods, AMD's cannot
// (their device plugin advertises whole devices), and an unknown model is
// left to the other checks.
func TestSharesGPUs(t *testing.T) {
	for model, want := range map[string]bool{"A100-80GB": true, "L4": true, "H100-80GB": true, "MI300X": false, "no-such-gpu": true} {
		if got := SharesGPUs(model); got != want {
			t.Errorf("SharesGPUs(%q) = %v, want %v", model, got, want)
		}
	}
}
