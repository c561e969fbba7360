package planner

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/limits"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// InputError is a bad planner input. Kind is "node_group", "model" or
// "request"; Name the node group or model and Index its position in the
// request's NodeGroups or Models (-1 for the request), so that an adapter
// points at the very entry even when names repeat; Field the attribute at
// fault.
type InputError struct {
	Kind  string
	Name  string
	Index int
	Field string
	Msg   string
	// Limit marks a value outside its range in the limits table; Msg then
	// starts with the limit's name.
	Limit bool
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
// order; nil when the request is valid: ValidateRequest, and ValidateModel
// for every model.
func Validate(req Request) []*InputError {
	errs := ValidateRequest(req)
	for mi, m := range req.Models {
		for _, e := range ValidateModel(m) {
			e.Index = mi
			errs = append(errs, e)
		}
	}
	sortProblems(errs)
	return errs
}

// problems collects input errors of one kind of entity.
type problems struct {
	errs  []*InputError
	index int // the node group or model being checked, -1 for none
}

func (p *problems) add(kind, name, field, format string, args ...any) {
	p.errs = append(p.errs, &InputError{Kind: kind, Name: name, Index: p.index, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// check reports v outside l's range on l's field; false when it is.
func (p *problems) check(kind, name string, l limits.Int, v int64) bool {
	return p.checkAt(kind, name, l.Name, l, v)
}

// checkAt is check on a nested field ("spread.min_domains").
func (p *problems) checkAt(kind, name, field string, l limits.Int, v int64) bool {
	if msg := l.Check(v); msg != "" {
		p.outOfRange(kind, name, field, msg)
		return false
	}
	return true
}

// outOfRange adds the problem a limit's Check found.
func (p *problems) outOfRange(kind, name, field, msg string) {
	p.add(kind, name, field, "%s", msg)
	p.errs[len(p.errs)-1].Limit = true
}

// ValidateRequest checks what is not one model's own: the strategy and
// move budget, every node group, model names unique, and the sizes of the
// whole request. Adapters that check each model as they convert it (with
// ValidateModel) call this for the rest.
func ValidateRequest(req Request) []*InputError {
	p := &problems{index: -1}
	add, check := p.add, p.check
	switch req.Strategy {
	case StrategyCost, StrategyBinpack, StrategySpread, "":
	default:
		add("request", "", "strategy", "unknown strategy %q; valid values are \"cost\", \"binpack\", \"spread\"", req.Strategy)
	}
	check("request", "", limits.MaxMoves, int64(req.MaxMoves))
	check("request", "", limits.NodeGroups, int64(len(req.NodeGroups)))
	check("request", "", limits.Models, int64(len(req.Models)))
	groups := map[string]bool{}
	for gi, g := range req.NodeGroups {
		p.index = gi
		k := "node_group"
		if g.Name == "" {
			add(k, "", "name", "the name of a node group must not be empty: placements name the group")
			continue
		}
		if groups[g.Name] {
			add(k, g.Name, "name", "another node group has the name too; names key the placement and must be unique")
		}
		groups[g.Name] = true
		check(k, g.Name, limits.GPUsPerNode, int64(g.GPUsPerNode))
		if maxBytes := int64(limits.GPUMemoryGiB.Max * limits.GiB); g.GPUMemoryBytes <= 0 || g.GPUMemoryBytes > maxBytes {
			add(k, g.Name, limits.GPUMemoryGiB.Name, "must be positive and at most %d bytes (%s), got %d bytes", maxBytes, limits.GPUMemoryGiB.What, g.GPUMemoryBytes)
		}
		if err := memory.CheckUtilization(g.Utilization); err != nil {
			add(k, g.Name, "gpu_memory_utilization", "%s", trimField(err))
		}
		if msg := limits.PricePerHour.Check(g.PricePerHour); msg != "" {
			p.outOfRange(k, g.Name, limits.PricePerHour.Name, msg)
		}
		minOK := check(k, g.Name, limits.MinNodes, int64(g.MinNodes))
		maxOK := check(k, g.Name, limits.NodesPerGroup, int64(g.MaxNodes))
		if minOK && maxOK && g.MinNodes > g.MaxNodes {
			add(k, g.Name, "min_nodes", "min_nodes (%d) is greater than max_nodes (%d)", g.MinNodes, g.MaxNodes)
		}
		if g.Reserved != 0 || g.ReservedPrice != 0 {
			if g.Reserved < 0 || (maxOK && g.Reserved > g.MaxNodes) {
				add(k, g.Name, "reservation.nodes", "must be between 0 and the group's max_nodes (%d): reserved nodes are nodes of the group, got %d", g.MaxNodes, g.Reserved)
			}
			if msg := limits.PricePerHour.Named("reservation.price_per_hour").Check(g.ReservedPrice); msg != "" {
				p.outOfRange(k, g.Name, "reservation.price_per_hour", msg)
			}
		}
		if sh := g.Sharing; sh != nil && (sh.PerGPU < 1 || sh.PerGPU > g.GPUsPerNode || g.GPUsPerNode%sh.PerGPU != 0) {
			add(k, g.Name, "gpu_sharing", "%d shares per GPU do not divide the group's %d shares per node", sh.PerGPU, g.GPUsPerNode)
		} else if sh != nil && sh.Fractional && (sh.MIGProfile != "" || sh.PerGPU < 2 || sh.PerGPU&(sh.PerGPU-1) != 0) {
			add(k, g.Name, "gpu_sharing.max_engines_per_gpu", "must be a power of two from 2 (a replica's block of a GPU is a power-of-two part of it), got %d", sh.PerGPU)
		} else if sh != nil && (len(sh.Instances) > 0 || sh.MIGLayout != "") {
			if msg := checkInstances(*sh); msg != "" {
				add(k, g.Name, "gpu_sharing.mig_profile", "layout %s: %s", sh.MIGLayout, msg)
			}
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
	validateQuotas(p, req)
	var totalReplicas int64
	models := map[string]bool{}
	for mi, m := range req.Models {
		p.index = mi
		if models[m.Name] && m.Name != "" {
			add("model", m.Name, "name", "another model has the name too; names key the placement and must be unique")
		}
		models[m.Name] = true
		if limits.Replicas.Check(int64(m.Replicas)) == "" {
			totalReplicas += int64(m.Replicas) // a model's own limit is ValidateModel's
		}
	}
	p.index = -1
	if msg := limits.PoolReplicas.Check(totalReplicas); msg != "" {
		add("request", "", "model_shards", "the model shards' %s", msg)
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
	sortProblems(p.errs)
	return p.errs
}

// validateQuotas checks every quota: a unique name, a limit in range, the
// groups it counts known and what their nodes count positive, and room
// within the limit for the groups' min_nodes, which exist whatever the
// plan.
func validateQuotas(p *problems, req Request) {
	k := "quota"
	groups := GroupsByName(req.NodeGroups)
	seen := map[string]bool{}
	for qi, q := range req.Quotas {
		p.index = qi
		if q.Name == "" {
			p.add(k, "", "name", "the name of a quota must not be empty: explanations name the quota")
			continue
		}
		if seen[q.Name] {
			p.add(k, q.Name, "name", "another quota has the name too; names must be unique")
		}
		seen[q.Name] = true
		limitOK := p.check(k, q.Name, limits.QuotaLimit, int64(q.Limit))
		floor, floorOK := 0, true
		var atFloor []string
		for _, name := range slices.Sorted(maps.Keys(q.PerNode)) {
			g, ok := groups[name]
			if !ok {
				p.add(k, q.Name, "node_groups", "counts node group %q, which the request does not have", name)
				floorOK = false
				continue
			}
			if !p.checkAt(k, q.Name, "node_groups."+limits.QuotaPerNode.Name, limits.QuotaPerNode, int64(q.PerNode[name])) {
				floorOK = false
				continue
			}
			if g.MinNodes > 0 && int64(g.MinNodes) <= limits.MinNodes.Max {
				floor += g.MinNodes * q.PerNode[name]
				atFloor = append(atFloor, fmt.Sprintf("%q (%d)", name, g.MinNodes))
			}
		}
		if limitOK && floorOK && floor > q.Limit {
			p.add(k, q.Name, "limit", "the min_nodes of node groups %s count %d %s, over the limit of %d: raise the quota or lower min_nodes",
				strings.Join(atFloor, ", "), floor, q.Unit, q.Limit)
		}
	}
	p.index = -1
}

// ValidateModel checks one model's own settings: its name, replicas,
// degrees against its architecture, spread, failure tolerance, on-demand
// floor, isolation and surcharges. Index is -1 in what it returns.
func ValidateModel(m ModelDemand) []*InputError {
	p := &problems{index: -1}
	add, check := p.add, p.check
	k := "model"
	if m.Name == "" {
		add(k, "", "name", "must not be empty")
		return p.errs
	}
	if strings.Contains(m.Name, "/") {
		add(k, m.Name, "name", "must not contain \"/\": placement keys are \"<model>/<replica>\"")
	}
	if m.Memory == nil {
		add(k, m.Name, "memory", "has no memory estimate")
	}
	replicasOK := check(k, m.Name, limits.Replicas, int64(m.Replicas))
	check(k, m.Name, limits.Priority, int64(m.Priority))
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
	if f := m.GPUMemoryFraction; f != 0 {
		switch {
		case !(f > 0 && f <= 1):
			add(k, m.Name, "constraints.gpu_memory_fraction", "must be greater than 0 and at most 1 (a part of one GPU's memory), got %g", f)
		case math.Round(f*1e4)/1e4 != f:
			add(k, m.Name, "constraints.gpu_memory_fraction", "must have at most four decimals, as --gpu-memory-utilization does (0.25 or 0.3125), got %g", f)
		case !m.ShareGPU:
			add(k, m.Name, "constraints.gpu_memory_fraction", "needs constraints.share_gpu: the fraction is of a GPU the replica shares")
		}
	}
	switch m.Spread.Across {
	case "", SpreadCloud, SpreadRegion, SpreadNode:
	default:
		add(k, m.Name, "spread.across", "unknown spread domain %q; valid values are %q, %q, %q", m.Spread.Across, SpreadCloud, SpreadRegion, SpreadNode)
	}
	// Counts within their limits first; against the replicas only then.
	if p.checkAt(k, m.Name, "spread.min_domains", limits.Domains, int64(m.Spread.MinDomains)) {
		if m.Spread.MinDomains > 1 && m.Spread.Across == "" {
			add(k, m.Name, "spread.min_domains", "needs spread.across to say what a domain is")
		}
		if replicasOK && m.Spread.MinDomains > m.Replicas && m.Replicas > 0 {
			add(k, m.Name, "spread.min_domains", "%d domains cannot be covered by %d replicas", m.Spread.MinDomains, m.Replicas)
		}
	}
	if check(k, m.Name, limits.Domains.Named("on_demand_floor"), int64(m.OnDemandFloor)) && replicasOK && m.OnDemandFloor > m.Replicas {
		add(k, m.Name, "on_demand_floor", "must be at most the model's %d replicas, got %d", m.Replicas, m.OnDemandFloor)
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
		l := limits.Domains.Named(strings.TrimPrefix(c.field, "min_replicas_on_failure."))
		if p.checkAt(k, m.Name, c.field, l, int64(c.n)) && replicasOK && c.n > 0 && c.n >= m.Replicas {
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
	if m.Isolation.Dedicated && m.Isolation.Tenant != "" {
		add(k, m.Name, "isolation", "set dedicated or tenant, not both: a dedicated model shares with no tenant")
	}
	sortProblems(p.errs)
	return p.errs
}

// sortProblems puts problems in a stable order.
func sortProblems(errs []*InputError) {
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i], errs[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Index != b.Index {
			return a.Index < b.Index
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Field < b.Field
	})
}

func trimField(err error) string {
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, ": "); ok {
		return rest
	}
	return msg
}

// checkInstances is what is wrong with a mixed MIG layout, "" when
// nothing: its instances are aligned power-of-two blocks of the GPU's 8
// memory slices (PerGPU), apart, each with memory, and it is MIG alone.
func checkInstances(sh GPUSharing) string {
	if sh.MIGLayout == "" || len(sh.Instances) == 0 || sh.MIGProfile != "" || sh.Fractional || sh.PerGPU != 8 {
		return "a mixed layout needs a name, instances, 8 memory slices per GPU, and no other sharing"
	}
	used := 0
	for _, in := range sh.Instances {
		mask := (1<<max(in.Slots, 0) - 1) << max(in.Offset, 0)
		if in.Slots < 1 || in.Slots&(in.Slots-1) != 0 || in.Offset < 0 || in.Offset%in.Slots != 0 ||
			in.Offset+in.Slots > sh.PerGPU || used&mask != 0 || in.Bytes <= 0 {
			return fmt.Sprintf("instance %s at memory slice %d of %d slices overlaps another, is misaligned or has no memory", in.Profile, in.Offset, in.Slots)
		}
		used |= mask
	}
	return ""
}
