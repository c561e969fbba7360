// Package analysis derives what a placement means for operations: how much
// of each model survives the loss of a cloud or a region, how to split its
// traffic over clouds, and what the fleet costs per month. It reads a
// planner result; it decides nothing.
package analysis

import (
	"maps"
	"math"
	"slices"
	"sort"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
)

// HoursPerMonth is the month cloud price lists use (365 × 24 / 12).
const HoursPerMonth = 730

// Domain kinds, as planner.NodeGroup.Domain names them.
const (
	Cloud  = planner.SpreadCloud
	Region = planner.SpreadRegion
)

// Survival is what is left of one model after losing one domain.
type Survival struct {
	Kind     string
	Domain   string
	Replicas int
	// Fraction is Replicas over the replicas placed before the loss; 0
	// when none were placed.
	Fraction float64
}

// ModelFailure is the failure-domain report of one model.
type ModelFailure struct {
	Model    string
	Placed   int
	ByCloud  []Survival // one per cloud of the fleet, sorted
	ByRegion []Survival // one per region of the fleet, sorted
	// Worst is the loss that leaves the fewest replicas (ties: clouds
	// before regions, then by name).
	Worst Survival
}

// FailureDomains reports, for every model, the replicas left after losing
// each single cloud and each single region of the fleet.
func FailureDomains(groups []planner.NodeGroup, models []planner.ModelDemand, replicas []planner.Replica) []ModelFailure {
	groupOf := map[string]planner.NodeGroup{}
	domains := map[string]map[string]bool{Cloud: {}, Region: {}}
	for _, g := range groups {
		groupOf[g.Name] = g
		domains[Cloud][g.Domain(Cloud)] = true
		domains[Region][g.Domain(Region)] = true
	}
	count := map[string]map[string]map[string]int{} // model → kind → domain → replicas
	placed := map[string]int{}
	for _, r := range replicas {
		g := groupOf[r.NodeGroup]
		if count[r.Model] == nil {
			count[r.Model] = map[string]map[string]int{Cloud: {}, Region: {}}
		}
		count[r.Model][Cloud][g.Domain(Cloud)]++
		count[r.Model][Region][g.Domain(Region)]++
		placed[r.Model]++
	}
	names := make([]string, 0, len(models))
	for _, m := range models {
		names = append(names, m.Name)
	}
	sort.Strings(names)
	var out []ModelFailure
	for _, name := range names {
		f := ModelFailure{Model: name, Placed: placed[name]}
		survive := func(kind string) []Survival {
			var s []Survival
			for _, d := range slices.Sorted(maps.Keys(domains[kind])) {
				left := placed[name] - count[name][kind][d]
				s = append(s, Survival{Kind: kind, Domain: d, Replicas: left, Fraction: fraction(left, placed[name])})
			}
			return s
		}
		f.ByCloud, f.ByRegion = survive(Cloud), survive(Region)
		f.Worst = Survival{Kind: Cloud, Replicas: math.MaxInt}
		for _, s := range append(append([]Survival{}, f.ByCloud...), f.ByRegion...) {
			if s.Replicas < f.Worst.Replicas {
				f.Worst = s
			}
		}
		if f.Worst.Replicas == math.MaxInt {
			f.Worst = Survival{Kind: Cloud, Replicas: f.Placed, Fraction: fraction(f.Placed, f.Placed)}
		}
		out = append(out, f)
	}
	return out
}

func fraction(left, total int) float64 {
	if total == 0 {
		return 0
	}
	return float64(left) / float64(total)
}

// TrafficWeights splits total (for example 100) over the domains of the
// given kind in proportion to each model's placed replicas — every replica
// of a model serves the same sequences, so replicas are its serving
// capacity. The weights are integers that sum exactly to total, 0 exactly
// where a model has no replica: the largest-remainder split of the shares
// (exact where a share is a whole percent: 1:3 is 25/75, 2:1 is 67/33), ties
// broken by domain name, so the split is deterministic; then a domain with
// replicas whose share rounded to 0 takes 1 from the largest weight, while
// total allows, so no serving capacity is left without traffic.
func TrafficWeights(groups []planner.NodeGroup, replicas []planner.Replica, kind string, total int) map[string]map[string]int {
	groupOf := map[string]planner.NodeGroup{}
	all := map[string]bool{}
	for _, g := range groups {
		groupOf[g.Name] = g
		all[g.Domain(kind)] = true
	}
	count := map[string]map[string]int{}
	for _, r := range replicas {
		if count[r.Model] == nil {
			count[r.Model] = map[string]int{}
		}
		count[r.Model][groupOf[r.NodeGroup].Domain(kind)]++
	}
	out := map[string]map[string]int{}
	keys := slices.Sorted(maps.Keys(all))
	for model, byDomain := range count {
		w := Apportion(byDomain, keys, total)
		if len(byDomain) <= total {
			for _, d := range keys {
				if byDomain[d] > 0 && w[d] == 0 {
					w[largest(w, keys)]--
					w[d] = 1
				}
			}
		}
		out[model] = w
	}
	return out
}

// largest is the key of the largest weight, the first by name among equals.
func largest(w map[string]int, keys []string) string {
	best := keys[0]
	for _, k := range keys[1:] {
		if w[k] > w[best] {
			best = k
		}
	}
	return best
}

// Apportion splits total over keys in proportion to shares by the largest
// remainder method; keys without a share get 0.
func Apportion(shares map[string]int, keys []string, total int) map[string]int {
	sum := 0
	for _, k := range keys {
		sum += shares[k]
	}
	out := make(map[string]int, len(keys))
	if sum == 0 {
		for _, k := range keys {
			out[k] = 0
		}
		return out
	}
	type rem struct {
		key  string
		frac int // remainder numerator, out of sum
	}
	var rems []rem
	given := 0
	for _, k := range keys {
		q := shares[k] * total / sum
		out[k] = q
		given += q
		if shares[k] > 0 {
			rems = append(rems, rem{k, shares[k] * total % sum})
		}
	}
	sort.SliceStable(rems, func(i, j int) bool {
		if rems[i].frac != rems[j].frac {
			return rems[i].frac > rems[j].frac
		}
		return rems[i].key < rems[j].key
	})
	for i := 0; given < total; i++ {
		out[rems[i%len(rems)].key]++
		given++
	}
	return out
}

// CostByCloud sums the hourly cost of the node groups per cloud.
func CostByCloud(groups []planner.NodeGroup, res *planner.Result) map[string]float64 {
	cloud := map[string]string{}
	for _, g := range groups {
		cloud[g.Name] = g.Cloud
	}
	out := map[string]float64{}
	for _, gr := range res.Groups {
		out[cloud[gr.Name]] += gr.CostPerHour
	}
	return out
}
