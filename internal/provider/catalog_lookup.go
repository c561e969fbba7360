package provider

import (
	"fmt"
	"strings"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/analysis"
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

// gib converts bytes to GiB rounded to 3 decimals.
func gib(bytes int64) float64 { return analysis.Round(float64(bytes)/(1<<30), 3) }
