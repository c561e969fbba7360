package provider

import (
	"fmt"
	"math"
	"strings"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
)

// lookupInstanceKey resolves a "<cloud>/<instance_type>" key.
func lookupInstanceKey(key string) (catalog.InstanceType, error) {
	cloud, name, ok := strings.Cut(key, "/")
	if !ok || cloud == "" || name == "" {
		return catalog.InstanceType{}, fmt.Errorf("%q is not of the form <cloud>/<instance_type>, for example \"aws/p5.48xlarge\"", key)
	}
	return catalog.LookupInstanceType(cloud, name)
}

// roundTo rounds x to the given decimals, the one rounding used for every
// float the provider stores, so that values compare equal across runs.
func roundTo(x float64, decimals int) float64 {
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

// gib converts bytes to GiB rounded to 3 decimals.
func gib(bytes int64) float64 { return roundTo(float64(bytes)/(1<<30), 3) }
