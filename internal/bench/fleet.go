// Package bench measures the planner: its cost against the exact optimum of
// a MILP solved by CBC and against a first-fit-decreasing baseline, its run
// time and memory at scale, and how many replicas it moves when the input
// changes. Every case is generated from a fixed seed, so that two runs plan
// the same fleets.
package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
	"github.com/mcllm/terraform-provider-mcllm/internal/sharing"
)

// utilization is the gpu_memory_utilization of every generated node group.
const utilization = 0.9

// instancePool is the catalog instance types fleets are drawn from: every
// one has a list price, and together they span three clouds and six GPU
// models.
var instancePool = []string{
	"aws/p5.48xlarge", "aws/p5en.48xlarge", "aws/p4de.24xlarge", "aws/g6e.12xlarge",
	"aws/g6e.xlarge", "aws/g6.xlarge", "aws/g5.12xlarge", "aws/p5.4xlarge",
	"gcp/a3-highgpu-8g", "gcp/a2-ultragpu-8g", "gcp/a2-ultragpu-1g", "gcp/g2-standard-96",
	"gcp/g2-standard-48", "gcp/g2-standard-4",
	"azure/Standard_ND96amsr_A100_v4", "azure/Standard_NC24ads_A100_v4",
	"azure/Standard_NC96ads_A100_v4", "azure/Standard_NC40ads_H100_v5", "azure/Standard_NV36ads_A10_v5",
}

// cloudRegions are used for instance types the catalog records in fewer
// regions than a fleet asks for.
var cloudRegions = map[string][]string{
	"aws":   {"us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1"},
	"gcp":   {"us-central1", "us-east4", "europe-west4", "asia-southeast1"},
	"azure": {"eastus", "eastus2", "southcentralus", "westus3"},
}

var clouds = []string{"aws", "azure", "gcp"}

// modelMix is the demand mix: catalog id, weight precision and how often it
// is drawn (relative weight). Small models dominate, as in real fleets.
var modelMix = []struct {
	id     string
	prec   memory.Precision
	weight float64
}{
	{"phi-3-mini-4k", memory.BF16, 8},
	{"llama-3.1-8b", memory.BF16, 14},
	{"llama-3.1-8b", memory.FP8, 4},
	{"qwen2.5-7b", memory.BF16, 10},
	{"qwen2.5-7b", memory.Int4, 3},
	{"qwen2.5-14b", memory.BF16, 8},
	{"qwen2.5-32b", memory.BF16, 6},
	{"qwen2.5-32b", memory.Int4, 4},
	{"qwen2.5-72b", memory.BF16, 3},
	{"qwen2.5-72b", memory.FP8, 3},
	{"qwen2.5-72b", memory.Int4, 2},
	{"llama-3.1-70b", memory.BF16, 5},
	{"llama-3.1-70b", memory.FP8, 4},
	{"llama-3.1-70b", memory.Int4, 3},
	{"mixtral-8x7b", memory.BF16, 4},
	{"llama-3.1-405b", memory.FP8, 2},
	{"deepseek-v3", memory.FP8, 0.4},
}

var contexts = []int{2048, 4096, 8192, 16384, 32768}

// FleetSpec describes one generated case.
type FleetSpec struct {
	Seed uint64
	// Replicas is the total number of replicas over all models.
	Replicas int
	// Types is how many instance types the fleet uses (at least 6).
	Types int
	// MaxRegions is the most regions (node groups) per instance type.
	MaxRegions int
	// Headroom is the fleet's GPU capacity over the GPUs the demand needs
	// at its smallest shapes, before the feasibility repair raises it.
	Headroom float64
	// MinCandidateNodes is the least Σ max_nodes of the fleet.
	MinCandidateNodes int
	// MaxReplicasPerModel bounds a model's replicas (8 when 0).
	MaxReplicasPerModel int
	// Production shapes the fleet as real ones are (issue 14): spot twins
	// of some node groups, more min_nodes, on-demand floors, failure
	// tolerance by region or cloud, fixed tensor degrees, and small models
	// drawn more often beside the large ones.
	Production bool
	// Quotas adds the regional quotas clouds set (issue 15), one per
	// cloud, region, quota family and capacity type (addQuotas).
	Quotas bool
	// Reservations reserves nodes of some on-demand groups at a committed
	// price (issue 15, addReservations).
	Reservations bool
	// Sharing adds GPU-sharing twins of some groups (MIG layouts, or
	// time-slicing) and lets models of up to 20 GB of weights share GPUs
	// (issue 15, sharedTwin).
	Sharing bool
}

// Case is one generated planner request.
type Case struct {
	Suite string
	Name  string
	Spec  FleetSpec
	Req   planner.Request
}

// Replicas is the total replicas the case asks for.
func (c *Case) Replicas() int { return totalReplicas(c.Req) }

// CandidateNodes is Σ max_nodes over the node groups.
func (c *Case) CandidateNodes() int { return candidateNodes(c.Req.NodeGroups) }

func totalReplicas(req planner.Request) int {
	n := 0
	for _, m := range req.Models {
		n += m.Replicas
	}
	return n
}

func candidateNodes(groups []planner.NodeGroup) int {
	n := 0
	for _, g := range groups {
		n += g.MaxNodes
	}
	return n
}

// generator draws node groups and models from one seeded source.
type generator struct {
	rng    *rand.Rand
	groups []planner.NodeGroup
	seq    int // models drawn so far, for unique names
	maxRep int
	// production draws production-shaped fleets (FleetSpec.Production).
	production bool
	// types is each group's catalog instance type name.
	types map[string]string
	// sharing draws GPU-sharing twins and sharing models (FleetSpec.Sharing).
	sharing bool
}

func newGenerator(seed uint64, maxRep int) *generator {
	if maxRep <= 0 {
		maxRep = 8
	}
	return &generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), maxRep: maxRep, types: map[string]string{}}
}

// placeholderMaxNodes sizes groups while models are drawn, so that shapes
// are not limited by max_nodes; final sizes keep every shape (see size).
const placeholderMaxNodes = 1000

// Generate builds a feasible case from a spec.
func Generate(suite, name string, spec FleetSpec) (*Case, error) {
	g := newGenerator(spec.Seed, spec.MaxReplicasPerModel)
	g.production, g.sharing = spec.Production, spec.Sharing
	if err := g.fleet(max(6, spec.Types), max(1, spec.MaxRegions)); err != nil {
		return nil, err
	}
	var models []planner.ModelDemand
	for left := spec.Replicas; left > 0; {
		m, err := g.model(min(left, 1+g.rng.IntN(g.maxRep)))
		if err != nil {
			return nil, err
		}
		models = append(models, m)
		left -= m.Replicas
	}
	req := planner.Request{NodeGroups: g.groups, Models: models, Strategy: planner.StrategyCost}
	headroom := spec.Headroom
	if headroom <= 0 {
		headroom = 1.5
	}
	if err := g.size(&req, headroom, spec.MinCandidateNodes); err != nil {
		return nil, fmt.Errorf("case %s: %w", name, err)
	}
	if spec.Quotas {
		if err := g.addQuotas(&req); err != nil {
			return nil, fmt.Errorf("case %s: %w", name, err)
		}
	}
	if spec.Reservations {
		g.addReservations(&req)
	}
	return &Case{Suite: suite, Name: name, Spec: spec, Req: req}, nil
}

// fleet draws the node groups: at least one instance type per cloud, the
// rest at random, each in 1..maxRegions regions.
func (g *generator) fleet(types, maxRegions int) error {
	byCloud := map[string][]string{}
	for _, k := range instancePool {
		c, _, _ := strings.Cut(k, "/")
		byCloud[c] = append(byCloud[c], k)
	}
	var chosen []string
	taken := map[string]bool{}
	for _, c := range clouds {
		list := byCloud[c]
		for _, i := range g.rng.Perm(len(list))[:2] {
			chosen = append(chosen, list[i])
			taken[list[i]] = true
		}
	}
	for _, i := range g.rng.Perm(len(instancePool)) {
		if len(chosen) >= types {
			break
		}
		if k := instancePool[i]; !taken[k] {
			chosen = append(chosen, k)
			taken[k] = true
		}
	}
	sort.Strings(chosen)
	for _, key := range chosen {
		cloud, inst, _ := strings.Cut(key, "/")
		it, err := catalog.LookupInstanceType(cloud, inst)
		if err != nil {
			return err
		}
		if it.PriceUSDPerHour == nil {
			return fmt.Errorf("instance type %s has no price", key)
		}
		regions := it.Regions
		if len(regions) < maxRegions {
			regions = mergeRegions(it.Regions, cloudRegions[cloud])
		}
		n := 1 + g.rng.IntN(min(maxRegions, len(regions)))
		for _, ri := range g.rng.Perm(len(regions))[:n] {
			region := regions[ri]
			minNodes := 0
			if g.rng.Float64() < 0.1 || (g.production && g.rng.Float64() < 0.15) {
				minNodes = 1
			}
			ng := planner.NodeGroup{
				Name:  fmt.Sprintf("%s-%s-%s", cloud, strings.ToLower(strings.ReplaceAll(inst, "_", "-")), region),
				Cloud: cloud, Region: region, GPUModel: it.GPUModel, GPUsPerNode: it.GPUs,
				GPUMemoryBytes: memory.GPUFromGiB(it.VisibleMemoryGiB, utilization).VisibleBytes,
				Utilization:    utilization, PricePerHour: *it.PriceUSDPerHour,
				MinNodes: minNodes, MaxNodes: placeholderMaxNodes, CapacityType: planner.CapacityOnDemand,
				FastNetwork: it.FastNetwork(),
			}
			g.groups = append(g.groups, ng)
			g.types[ng.Name] = inst
			if g.production && g.rng.Float64() < 0.4 {
				// A spot twin at a discount of the list price: GCP documents
				// Spot VMs at 60-91 % off (cloud.google.com/compute/docs/
				// instances/spot), AWS Spot at up to 90 % off
				// (aws.amazon.com/ec2/spot/pricing); GPU types sit at the
				// low end, so 50-70 % off is drawn.
				spot := ng
				spot.Name += "-spot"
				spot.CapacityType, spot.MinNodes = planner.CapacitySpot, 0
				spot.PricePerHour = math.Round(ng.PricePerHour*(0.3+0.2*g.rng.Float64())*1e4) / 1e4
				g.groups = append(g.groups, spot)
				g.types[spot.Name] = inst
			}
			if twin, ok := g.sharedTwin(ng); ok {
				g.groups = append(g.groups, twin)
				g.types[twin.Name] = inst
			}
		}
	}
	sort.Slice(g.groups, func(i, j int) bool { return g.groups[i].Name < g.groups[j].Name })
	return nil
}

// sharedTwin draws, for a sharing fleet, a twin of group ng whose GPUs are
// shared: a uniform MIG layout of one of its GPU's profiles (catalog
// MIGProfiles) with probability 0.6 where the GPU has MIG, else
// time-slicing by 2 or 3 equal engines, or in quarters that engines take
// blocks of, with probability 0.4 on GPUs of 22 GiB or more that a
// cluster can share (catalog.SharesGPUs: not AMD's).
func (g *generator) sharedTwin(ng planner.NodeGroup) (planner.NodeGroup, bool) {
	if !g.sharing {
		return ng, false
	}
	if profiles := catalog.MIGProfiles(ng.GPUModel); len(profiles) > 0 {
		if g.rng.Float64() >= 0.6 {
			return ng, false
		}
		p := profiles[g.rng.IntN(len(profiles))]
		l := sharing.Uniform(p)
		twin := ng.Shared(l.Sharing, l.MIGBytes)
		twin.Name += "-mig-" + p.Profile
		twin.MinNodes = 0
		return twin, true
	}
	if !catalog.SharesGPUs(ng.GPUModel) || ng.GPUMemoryBytes < 22*memory.GiB || ng.GPUsPerNode > 8 || g.rng.Float64() >= 0.4 {
		return ng, false
	}
	n := 2 + g.rng.IntN(3)
	twin := ng.Shared(planner.GPUSharing{PerGPU: n}, 0)
	twin.Name += fmt.Sprintf("-ts%d", n)
	if n == 4 { // quarters, which engines take blocks of (GPUSharing.Fractional)
		twin = ng.Shared(planner.GPUSharing{PerGPU: n, Fractional: true}, 0)
		twin.Name += "-frac4"
	}
	twin.MinNodes = 0
	return twin, true
}

// shareableBytes is the most weight a model may have to share GPUs in a
// sharing fleet: 1-8B models at 16 bits, up to 14B at int4.
const shareableBytes = 20e9

func mergeRegions(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range append(append([]string(nil), a...), b...) {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

// model draws one model demand of the given replicas that at least one node
// group can run, with its spread satisfiable by the clouds it can use. A
// draw that fails is replaced by a new one.
func (g *generator) model(replicas int) (planner.ModelDemand, error) {
	total := 0.0
	for _, m := range modelMix {
		total += m.weight
	}
	for attempt := 0; attempt < 1000; attempt++ {
		x := g.rng.Float64() * total
		mi := 0
		for mi < len(modelMix)-1 && x >= modelMix[mi].weight {
			x -= modelMix[mi].weight
			mi++
		}
		mix := modelMix[mi]
		cm, err := catalog.LookupModel(mix.id)
		if err != nil {
			return planner.ModelDemand{}, err
		}
		ctx := min(contexts[g.rng.IntN(len(contexts))], cm.MaxContext)
		conc := 1 + g.rng.IntN(32)
		est, err := memory.New(memory.Request{Arch: cm.Architecture, Precision: mix.prec, ContextTokens: ctx, Concurrency: conc})
		if err != nil {
			return planner.ModelDemand{}, err
		}
		if g.sharing && est.WeightBytes <= shareableBytes {
			// Small models beside others on a share serve short chats to a
			// few users at once: up to 8k tokens, 1-8 sequences.
			est, err = memory.New(memory.Request{Arch: cm.Architecture, Precision: mix.prec, ContextTokens: min(ctx, 8192), Concurrency: 1 + conc%8})
			if err != nil {
				return planner.ModelDemand{}, err
			}
		}
		g.seq++
		m := planner.ModelDemand{
			Name:     fmt.Sprintf("%s-%s-%04d", mix.id, mix.prec, g.seq),
			Memory:   est,
			Replicas: replicas,
			ShareGPU: g.sharing && est.WeightBytes <= shareableBytes,
		}
		feasible := g.feasibleGroups(m)
		if len(feasible) == 0 {
			continue
		}
		if g.rng.Float64() < 0.15 {
			// Allow one or two clouds, at least one of them feasible.
			c := feasible[g.rng.IntN(len(feasible))].Cloud
			m.Clouds = []string{c}
			if g.rng.IntN(2) == 0 {
				other := clouds[g.rng.IntN(len(clouds))]
				if other != c {
					m.Clouds = append(m.Clouds, other)
				}
			}
			sort.Strings(m.Clouds)
		}
		if g.rng.Float64() < 0.1 {
			// Pin the GPU model to one the model runs on, sometimes two.
			gpus := distinct(feasible, func(n planner.NodeGroup) string { return n.GPUModel })
			m.GPUModels = []string{gpus[g.rng.IntN(len(gpus))]}
			if len(gpus) > 1 && g.rng.IntN(2) == 0 {
				if other := gpus[g.rng.IntN(len(gpus))]; other != m.GPUModels[0] {
					m.GPUModels = append(m.GPUModels, other)
				}
			}
			sort.Strings(m.GPUModels)
		}
		if replicas >= 2 && g.rng.Float64() < 0.2 {
			share := 0.5
			if g.rng.IntN(2) == 0 {
				share = 0.67
			}
			m.Spread = planner.Spread{Across: planner.SpreadCloud, MinDomains: 2, MaxShare: share}
		}
		if g.production {
			g.productionSettings(&m, feasible)
		}
		if !g.satisfiable(m) {
			continue
		}
		return m, nil
	}
	return planner.ModelDemand{}, fmt.Errorf("no feasible model drawn in 1000 attempts")
}

// productionSettings adds what production fleets ask of a model: an
// on-demand floor where spot capacity exists, the replicas that must survive
// the loss of a region or a cloud, a fixed tensor degree.
func (g *generator) productionSettings(m *planner.ModelDemand, feasible []planner.NodeGroup) {
	spot := false
	for _, n := range feasible {
		spot = spot || n.CapacityType == planner.CapacitySpot
	}
	if spot && m.Replicas >= 2 && g.rng.Float64() < 0.5 {
		m.OnDemandFloor = (m.Replicas + 1) / 2
	}
	if m.Spread.Across == "" && m.Replicas >= 3 && g.rng.Float64() < 0.2 {
		if g.rng.IntN(2) == 0 {
			m.MinReplicasOnFailure.Region = 1
		} else {
			m.MinReplicasOnFailure.Cloud = 1
		}
	}
	if g.rng.Float64() < 0.1 {
		if degrees := m.Memory.ValidTensorParallel(8); len(degrees) > 1 {
			m.TensorParallel = degrees[1+g.rng.IntN(len(degrees)-1)]
		}
	}
}

func (g *generator) feasibleGroups(m planner.ModelDemand) []planner.NodeGroup {
	var out []planner.NodeGroup
	for _, n := range g.groups {
		if _, ok := planner.ReplicaShape(m, n); ok {
			out = append(out, n)
		}
	}
	return out
}

// satisfiable tells whether a model's own constraints can be met on the
// fleet with unlimited nodes: a feasible group, an on-demand one under an
// on-demand floor, and enough feasible domains to hold every replica under
// its caps.
func (g *generator) satisfiable(m planner.ModelDemand) bool {
	feasible := g.feasibleGroups(m)
	if len(feasible) == 0 {
		return false
	}
	caps := capsOf(m)
	onDemand := 0
	for _, n := range feasible {
		if n.CapacityType != planner.CapacitySpot {
			onDemand++
		}
	}
	if caps.spot < m.Replicas && onDemand == 0 {
		return false
	}
	if caps.kind == "" {
		return true
	}
	k := len(distinct(feasible, func(n planner.NodeGroup) string { return domainOf(n, caps.kind) }))
	return k >= m.Spread.MinDomains && (caps.perDomain >= m.Replicas || k*caps.perDomain >= m.Replicas)
}

func distinct(groups []planner.NodeGroup, key func(planner.NodeGroup) string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range groups {
		if k := key(n); !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// shareCap is the planner's cap on one domain: floor(MaxShare × replicas),
// at least 1; MaxInt without a cap. Written out here, not taken from the
// planner, so that the checker stays independent; capsOf adds the
// planner's other caps.
func shareCap(m planner.ModelDemand) int {
	if m.Spread.MaxShare <= 0 || m.Spread.Across == "" || m.Spread.Across == planner.SpreadNode {
		return math.MaxInt
	}
	return max(1, int(math.Floor(m.Spread.MaxShare*float64(m.Replicas)+1e-9)))
}

// size sets max_nodes: every model spreads the GPUs its replicas need
// evenly over the groups it can run on; each group gets headroom × its share
// × a random factor in [0.5, 1.5), and at least the nodes its widest replica
// spans. Then, while a greedy reservation cannot place every replica, the
// groups of the model it fails on grow by half. The result is feasible by
// construction.
func (g *generator) size(req *planner.Request, headroom float64, minCandidates int) error {
	shapes := Shapes(*req)
	share := make([]float64, len(req.NodeGroups))
	floor := make([]int, len(req.NodeGroups))
	for gi := range floor {
		floor[gi] = 1
	}
	for mi, m := range req.Models {
		for _, s := range shapes[mi] {
			share[s.Group] += float64(m.Replicas*s.GPUs) / float64(len(shapes[mi]))
			per := req.NodeGroups[s.Group].GPUsPerNode
			floor[s.Group] = max(floor[s.Group], (s.GPUs+per-1)/per)
		}
	}
	for gi := range req.NodeGroups {
		ng := &req.NodeGroups[gi]
		gpus := headroom * share[gi] * (0.5 + g.rng.Float64())
		ng.MaxNodes = max(floor[gi], ng.MinNodes, int(math.Ceil(gpus/float64(ng.GPUsPerNode))))
	}
	if c := candidateNodes(req.NodeGroups); c < minCandidates {
		f := float64(minCandidates) / float64(c)
		for gi := range req.NodeGroups {
			ng := &req.NodeGroups[gi]
			ng.MaxNodes = int(math.Ceil(float64(ng.MaxNodes) * f))
		}
	}
	for round := 0; ; round++ {
		shapes = Shapes(*req)
		failed := reserve(*req, shapes)
		if failed < 0 {
			return nil
		}
		if round == 200 {
			return fmt.Errorf("model %s: no feasible sizing found", req.Models[failed].Name)
		}
		for _, s := range shapes[failed] {
			ng := &req.NodeGroups[s.Group]
			ng.MaxNodes += max(1, ng.MaxNodes/2)
		}
	}
}

// addQuotas sets a quota on every cloud, region, quota family
// (catalog.InstanceType.QuotaFamily) and capacity type of the fleet,
// counting what the cloud counts (catalog.QuotaUnit: vCPUs on AWS and Azure,
// GPUs on GCP), at 30-70 % of what the groups' max_nodes would use. While a
// greedy reservation within the quotas cannot place every replica, the
// quotas of the groups of the model it fails on rise by a quarter: the
// case stays feasible by construction, and most quotas bind.
func (g *generator) addQuotas(req *planner.Request) error {
	type scope struct{ cloud, region, family, capacity string }
	byScope := map[scope]int{}
	for _, ng := range req.NodeGroups {
		it, err := catalog.LookupInstanceType(ng.Cloud, g.types[ng.Name])
		if err != nil {
			return err
		}
		k := scope{ng.Cloud, ng.Region, it.QuotaFamily, ng.CapacityType}
		qi, ok := byScope[k]
		if !ok {
			qi = len(req.Quotas)
			byScope[k] = qi
			unit := catalog.QuotaUnit(ng.Cloud)
			req.Quotas = append(req.Quotas, planner.Quota{Name: fmt.Sprintf("%s/%s/%s/%s", k.cloud, k.region, k.family, k.capacity),
				Unit: unit, PerNode: map[string]int{}})
		}
		q := &req.Quotas[qi]
		q.PerNode[ng.Name] = it.QuotaCount(q.Unit)
		q.Limit += ng.MaxNodes * q.PerNode[ng.Name]
	}
	groups := req.GroupsByName()
	for qi := range req.Quotas {
		q := &req.Quotas[qi]
		floor := 0
		for name, per := range q.PerNode {
			floor += groups[name].MinNodes * per
		}
		q.Limit = max(floor, int(float64(q.Limit)*(0.3+0.4*g.rng.Float64())))
	}
	for round := 0; ; round++ {
		shapes := Shapes(*req)
		failed := reserve(*req, shapes)
		if failed < 0 {
			return nil
		}
		if round == 200 {
			return fmt.Errorf("model %s: no feasible quotas found", req.Models[failed].Name)
		}
		for _, s := range shapes[failed] {
			name := req.NodeGroups[s.Group].Name
			for qi := range req.Quotas {
				if per, ok := req.Quotas[qi].PerNode[name]; ok {
					req.Quotas[qi].Limit += max(per, req.Quotas[qi].Limit/4)
				}
			}
		}
	}
}

// addReservations reserves, on about a third of the on-demand groups, 1
// to a third of max_nodes nodes at 45-100 % of the list price: an EC2
// On-Demand Capacity Reservation bills at the on-demand price; committed-use
// discounts and savings plans run to about 55 % off for three years (GCP
// "Committed use discounts", AWS "Savings Plans" pricing pages).
func (g *generator) addReservations(req *planner.Request) {
	for i := range req.NodeGroups {
		ng := &req.NodeGroups[i]
		if ng.CapacityType != planner.CapacityOnDemand || g.rng.Float64() >= 0.35 {
			continue
		}
		ng.Reserved = 1 + g.rng.IntN(max(1, ng.MaxNodes/3))
		ng.ReservedPrice = math.Round(ng.PricePerHour*(0.45+0.55*g.rng.Float64())*1e4) / 1e4
	}
}

// Shape is one feasible (model, node group) pair, as the planner sees it.
type Shape struct {
	Group int // index into Request.NodeGroups
	T, P  int
	GPUs  int
}

// Shapes lists, per model of req (in request order), the node groups a
// replica can run on and its degrees there, from planner.ReplicaShape.
func Shapes(req planner.Request) [][]Shape {
	out := make([][]Shape, len(req.Models))
	for mi, m := range req.Models {
		for gi, g := range req.NodeGroups {
			if s, ok := planner.ReplicaShape(m, g); ok {
				out[mi] = append(out[mi], Shape{Group: gi, T: s.TensorParallel, P: s.PipelineParallel, GPUs: s.GPUs()})
			}
		}
	}
	return out
}

// reserve is a sufficient feasibility test: it reserves GPUs for every
// replica greedily (most constrained models first, each replica in the least
// used allowed cloud, then the group with the most GPUs left). Stages are
// powers of two no wider than a node, so GPUs reserved within max_nodes are
// always packable. It returns the index of a model it could not place, or -1.
func reserve(req planner.Request, shapes [][]Shape) int {
	left := make([]int, len(req.NodeGroups))
	for gi, g := range req.NodeGroups {
		left[gi] = g.GPUsPerNode * g.MaxNodes
	}
	quotas := newFFDQuotas(req)
	// fits tells whether GPUs more on group gi keep its quotas: the group's
	// nodes are ceil(reserved GPUs / GPUs per node), as the MILP packs them.
	nodesOf := func(gi, gpus int) int {
		g := req.NodeGroups[gi]
		return max(g.MinNodes, (g.GPUsPerNode*g.MaxNodes-left[gi]+gpus+g.GPUsPerNode-1)/g.GPUsPerNode)
	}
	fits := func(gi, gpus int) bool { return quotas.room(gi, nodesOf(gi, gpus)-nodesOf(gi, 0)) }
	order := make([]int, len(req.Models))
	widest := make([]int, len(req.Models))
	for mi := range order {
		order[mi] = mi
		for _, s := range shapes[mi] {
			widest[mi] = max(widest[mi], s.GPUs)
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if len(shapes[a]) != len(shapes[b]) {
			return len(shapes[a]) < len(shapes[b])
		}
		return widest[a] > widest[b]
	})
	for _, mi := range order {
		m := req.Models[mi]
		caps := capsOf(m)
		capped := caps.kind != ""
		inDomain := map[string]int{}
		onSpot := 0
		for r := 0; r < m.Replicas; r++ {
			best := -1
			for _, s := range shapes[mi] {
				g := req.NodeGroups[s.Group]
				d := domainOf(g, caps.kind)
				if left[s.Group] < s.GPUs || !fits(s.Group, s.GPUs) || (capped && inDomain[d] >= caps.perDomain) ||
					(g.CapacityType == planner.CapacitySpot && onSpot >= caps.spot) {
					continue
				}
				if best < 0 {
					best = s.Group
					continue
				}
				bd := domainOf(req.NodeGroups[best], caps.kind)
				switch {
				case capped && inDomain[d] != inDomain[bd]:
					if inDomain[d] < inDomain[bd] {
						best = s.Group
					}
				case left[s.Group] > left[best]:
					best = s.Group
				}
			}
			if best < 0 {
				return mi
			}
			for _, s := range shapes[mi] {
				if s.Group == best {
					quotas.open(best, nodesOf(best, s.GPUs)-nodesOf(best, 0))
					left[best] -= s.GPUs
				}
			}
			inDomain[domainOf(req.NodeGroups[best], caps.kind)]++
			if req.NodeGroups[best].CapacityType == planner.CapacitySpot {
				onSpot++
			}
		}
		if m.Spread.Across == planner.SpreadCloud && len(inDomain) < m.Spread.MinDomains {
			return mi
		}
	}
	return -1
}
