package planner

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/limits"
)

// InputError is a bad planner input. Kind is "node_group", "model" or
// "request"; Name the node group or model; Field the attribute at fault.
type InputError struct {
	Kind  string
	Name  string
	Field string
	Msg   string
}

func (e *InputError) Error() string {
	where := e.Kind
	if e.Name != "" {
		where += fmt.Sprintf(" %q", e.Name)
	}
	if e.Field != "" {
		where += " " + e.Field
	}
	return where + ": " + e.Msg
}

// maxNodesPerGroup bounds max_nodes.
const maxNodesPerGroup = limits.MaxNodesPerGroup

// Validate checks a request and returns every problem found, in a stable
// order; nil when the request is valid.
func Validate(req Request) []*InputError {
	var errs []*InputError
	add := func(kind, name, field, format string, args ...any) {
		errs = append(errs, &InputError{Kind: kind, Name: name, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	switch req.Strategy {
	case StrategyCost, StrategyBinpack, StrategySpread, "":
	default:
		add("request", "", "strategy", "unknown strategy %q; valid values are \"cost\", \"binpack\", \"spread\"", req.Strategy)
	}
	if p := limits.MaxMoves.Check(int64(req.MaxMoves)); p != "" {
		add("request", "", limits.MaxMoves.Name, "%s", p)
	}

	check := func(kind, name string, l limits.Int, v int64) bool {
		if p := l.Check(v); p != "" {
			add(kind, name, l.Name, "%s", p)
			return false
		}
		return true
	}
	check("request", "", limits.NodeGroups, int64(len(req.NodeGroups)))
	check("request", "", limits.Models, int64(len(req.Models)))
	var totalReplicas int64
	groups := map[string]bool{}
	for _, g := range req.NodeGroups {
		k := "node_group"
		if g.Name == "" {
			add(k, "", "name", "must not be empty")
			continue
		}
		if groups[g.Name] {
			add(k, g.Name, "name", "duplicate node group name")
		}
		groups[g.Name] = true
		check(k, g.Name, limits.GPUsPerNode, int64(g.GPUsPerNode))
		if maxBytes := int64(limits.GPUMemoryGiB.Max * limits.GiB); g.GPUMemoryBytes <= 0 || g.GPUMemoryBytes > maxBytes {
			add(k, g.Name, limits.GPUMemoryGiB.Name, "must be positive and at most %d bytes (%s), got %d bytes", maxBytes, limits.GPUMemoryGiB.What, g.GPUMemoryBytes)
		}
		if !(g.Utilization > 0 && g.Utilization <= 1) {
			add(k, g.Name, "gpu_memory_utilization", "must be greater than 0 and at most 1, got %g", g.Utilization)
		}
		if p := limits.PricePerHour.Check(g.PricePerHour); p != "" {
			add(k, g.Name, limits.PricePerHour.Name, "%s", p)
		}
		check(k, g.Name, limits.MinNodes, int64(g.MinNodes))
		check(k, g.Name, limits.NodesPerGroup, int64(g.MaxNodes))
		if g.MinNodes > g.MaxNodes {
			add(k, g.Name, "min_nodes", "min_nodes (%d) is greater than max_nodes (%d)", g.MinNodes, g.MaxNodes)
		}
		switch g.CapacityType {
		case CapacityOnDemand, CapacitySpot, "":
		default:
			add(k, g.Name, "capacity_type", "unknown capacity type %q; valid values are %q, %q", g.CapacityType, CapacityOnDemand, CapacitySpot)
		}
		if g.Cloud == "" {
			add(k, g.Name, "cloud", "must not be empty")
		}
	}

	models := map[string]bool{}
	for _, m := range req.Models {
		k := "model"
		if m.Name == "" {
			add(k, "", "name", "must not be empty")
			continue
		}
		if strings.Contains(m.Name, "/") {
			add(k, m.Name, "name", "must not contain \"/\": placement keys are \"<model>/<replica>\"")
		}
		if models[m.Name] {
			add(k, m.Name, "name", "duplicate model name")
		}
		models[m.Name] = true
		if m.Memory == nil {
			add(k, m.Name, "memory", "has no memory estimate")
		}
		check(k, m.Name, limits.Replicas, int64(m.Replicas))
		check(k, m.Name, limits.Priority, int64(m.Priority))
		totalReplicas += int64(m.Replicas)
		for _, d := range []struct {
			l      limits.Int
			degree int
		}{{limits.TensorParallel, m.TensorParallel}, {limits.PipelineParallel, m.PipelineParallel}} {
			if d.degree == 0 || !check(k, m.Name, d.l, int64(d.degree)) || m.Memory == nil {
				continue // 0: the planner chooses
			}
			err := m.Memory.CheckTensorParallel(d.degree)
			if d.l.Name == limits.PipelineParallel.Name {
				err = m.Memory.CheckPipelineParallel(d.degree)
			}
			if err != nil {
				add(k, m.Name, d.l.Name, "%s", trimField(err))
			}
		}
		switch m.Spread.Across {
		case "", SpreadCloud, SpreadRegion, SpreadNode:
		default:
			add(k, m.Name, "spread.across", "unknown spread domain %q; valid values are %q, %q, %q", m.Spread.Across, SpreadCloud, SpreadRegion, SpreadNode)
		}
		if m.Spread.MinDomains < 0 {
			add(k, m.Name, "spread.min_domains", "must not be negative, got %d", m.Spread.MinDomains)
		}
		if m.Spread.MinDomains > 1 && m.Spread.Across == "" {
			add(k, m.Name, "spread.min_domains", "needs spread.across to say what a domain is")
		}
		if m.Spread.MinDomains > m.Replicas && m.Replicas > 0 {
			add(k, m.Name, "spread.min_domains", "%d domains cannot be covered by %d replicas", m.Spread.MinDomains, m.Replicas)
		}
		if m.OnDemandFloor < 0 || m.OnDemandFloor > m.Replicas {
			add(k, m.Name, "on_demand_floor", "must be between 0 and the model's %d replicas, got %d", m.Replicas, m.OnDemandFloor)
		}
		for _, g := range slices.Sorted(maps.Keys(m.Surcharge)) {
			if c := m.Surcharge[g]; !(c >= 0) || math.IsInf(c, 0) {
				add(k, m.Name, "surcharge", "must be a finite cost of 0 or more, got %g for node group %q", c, g)
			}
		}
		f := m.MinReplicasOnFailure
		for _, c := range []struct {
			field string
			n     int
		}{{"min_replicas_on_failure.cloud", f.Cloud}, {"min_replicas_on_failure.region", f.Region}} {
			if c.n < 0 {
				add(k, m.Name, c.field, "must not be negative, got %d", c.n)
			} else if c.n > 0 && c.n >= m.Replicas {
				add(k, m.Name, c.field, "%d replicas cannot remain after a loss when the model runs %d: raise replicas to at least %d", c.n, m.Replicas, c.n+1)
			}
		}
		if f.Cloud > 0 && f.Region > 0 {
			add(k, m.Name, "min_replicas_on_failure", "set cloud or region, not both")
		}
		if (f.Cloud > 0 && m.Spread.Across == SpreadRegion) || (f.Region > 0 && m.Spread.Across == SpreadCloud) {
			add(k, m.Name, "min_replicas_on_failure", "must count the same kind of domain as spread.across (%q)", m.Spread.Across)
		}
		if m.Spread.MaxShare < 0 || m.Spread.MaxShare > 1 || math.IsNaN(m.Spread.MaxShare) {
			add(k, m.Name, "spread.max_share", "must be in (0, 1], got %g", m.Spread.MaxShare)
		}
	}
	if p := limits.PoolReplicas.Check(totalReplicas); p != "" {
		add("request", "", "model_shards", "the model shards' %s", p)
	}
	groupCount := int64(len(req.NodeGroups))
	for _, w := range []struct {
		l    limits.Int
		what string
		n    int64
	}{{limits.ModelGroupPairs, "model shards", int64(len(req.Models))}, {limits.ReplicaGroupPairs, "replicas", totalReplicas}} {
		if w.n*groupCount > w.l.Max {
			add("request", "", w.l.Name, "%d %s × %d node groups = %d, beyond %d (%s): split the pool, or use fewer, larger node groups",
				w.n, w.what, groupCount, w.n*groupCount, w.l.Max, w.l.What)
		}
	}
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i], errs[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Field < b.Field
	})
	return errs
}

func trimField(err error) string {
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, ": "); ok {
		return rest
	}
	return msg
}
