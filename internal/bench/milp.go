package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
)

// The exact model. Integer x[k][g] ≥ 0 replicas of class k on group g (only
// where planner.ReplicaShape allows it); Σ_g x[k][g] = replicas of k;
// integer MinNodes ≤ n[g] ≤ MaxNodes; GPUsPerNode·n[g] ≥ Σ_k gpus(k,g)·x[k][g];
// per domain of a model's caps (capsOf: max_share across clouds, failure
// tolerance by cloud or region), Σ_{g in domain} x ≤ cap; over spot groups,
// Σ x ≤ replicas − on_demand_floor;
// with min_domains d, binaries y[k][c] ≤ Σ_{g in c} x[k][g] and
// Σ_c y[k][c] ≥ d; per quota, Σ_{g it counts} per_node(g)·n[g] ≤ limit;
// under a mixed MIG layout, per instance size L, Σ_{k: block ≥ L} x[k][g]
// ≤ instances(≥ L)·n[g].
// Minimize Σ_g price·n[g], where a group with reserved nodes pays
// price·paid[g], paid[g] ≥ n[g] − reserved, plus its reservation.
//
// Every stage is a power of two no wider than a node and every node has a
// power-of-two GPU count, so ceil(GPUs / GPUsPerNode) nodes always pack a
// group's stages: the model's optimum is the true optimum.
//
// Models without caps of their own whose (group → GPUs) rows are equal are merged
// into one class: an integer split of their summed replicas is a split of
// each, so merging changes neither the optimum nor the LP bound, and keeps
// the model small at scale.

// Solver runs CBC on the exact model.
type Solver struct {
	// Path is the cbc binary ("cbc" to look it up on PATH).
	Path string
	// TimeLimit bounds one solve (CBC's "sec"; the process is killed 30 s
	// after it).
	TimeLimit time.Duration
}

// MILPResult is what one CBC run found.
type MILPResult struct {
	// Status is CBC's status: "optimal", "infeasible", "stopped on time",
	// "killed at time limit", …
	Status string
	// Optimal is true when CBC proved Cost optimal.
	Optimal bool
	// HasCost is true when CBC returned a solution (optimal or not).
	HasCost bool
	// Cost is Σ price × nodes of the solution (fractional nodes for the
	// LP relaxation).
	Cost float64
	// Nodes is n[g] per node group, in request order.
	Nodes []float64
	// Millis is the wall time of the CBC process.
	Millis float64
	// Version is CBC's version, from its banner.
	Version string
	// Variables and Constraints count the model's size.
	Variables, Constraints int
	// x holds the replicas per (class, group) of the solution.
	x       map[[2]int]float64
	classes []milpClass
}

type milpClass struct {
	replicas int
	gpus     []int                // per group; 0 when infeasible there
	own      *planner.ModelDemand // a model with caps of its own; nil for a merged class
	members  []int                // model indices in request order
}

func classes(req planner.Request, shapes [][]Shape) ([]milpClass, error) {
	var out []milpClass
	byKey := map[string]int{}
	for mi, m := range req.Models {
		if m.Replicas == 0 {
			continue
		}
		gpus := make([]int, len(req.NodeGroups))
		for _, s := range shapes[mi] {
			gpus[s.Group] = s.GPUs
		}
		if len(shapes[mi]) == 0 {
			return nil, fmt.Errorf("model %s has no feasible node group", m.Name)
		}
		switch m.Spread.Across {
		case "", planner.SpreadCloud:
		default:
			return nil, fmt.Errorf("model %s: the exact model supports spread across cloud only", m.Name)
		}
		if m.Isolation.Dedicated || m.Isolation.Tenant != "" {
			return nil, fmt.Errorf("model %s: the exact model does not model isolation", m.Name)
		}
		if capsOf(m).constrained(m) {
			mm := m // a class of its own: its caps are its own
			out = append(out, milpClass{replicas: m.Replicas, gpus: gpus, own: &mm, members: []int{mi}})
			continue
		}
		key := fmt.Sprint(gpus)
		if k, ok := byKey[key]; ok {
			out[k].replicas += m.Replicas
			out[k].members = append(out[k].members, mi)
			continue
		}
		byKey[key] = len(out)
		out = append(out, milpClass{replicas: m.Replicas, gpus: gpus, members: []int{mi}})
	}
	return out, nil
}

// lpWriter writes CPLEX LP text with short lines.
type lpWriter struct {
	b     bytes.Buffer
	terms int
}

func (w *lpWriter) line(s string) { w.b.WriteString(s + "\n") }

func (w *lpWriter) start(name string) {
	w.b.WriteString(" " + name + ":")
	w.terms = 0
}

func (w *lpWriter) term(coef float64, v string) {
	if w.terms > 0 && w.terms%8 == 0 {
		w.b.WriteString("\n   ")
	}
	sign := "+"
	if coef < 0 {
		sign, coef = "-", -coef
	}
	if w.terms == 0 && sign == "+" {
		sign = ""
	}
	fmt.Fprintf(&w.b, " %s %s %s", sign, strconv.FormatFloat(coef, 'g', -1, 64), v)
	w.terms++
}

func (w *lpWriter) end(rel string, rhs float64) {
	fmt.Fprintf(&w.b, " %s %s\n", rel, strconv.FormatFloat(rhs, 'g', -1, 64))
}

// BuildLP writes the exact model of req as CPLEX LP text; relax drops the
// integrality (the LP relaxation). It returns the text and the model's
// variable and constraint counts.
func BuildLP(req planner.Request, shapes [][]Shape, relax bool) ([]byte, int, int, error) {
	cls, err := classes(req, shapes)
	if err != nil {
		return nil, 0, 0, err
	}
	w := &lpWriter{}
	nvars, ncons := 0, 0
	w.line("\\ mcllm planner benchmark: exact placement model")
	w.line("Minimize")
	w.start("cost")
	for gi, g := range req.NodeGroups {
		if g.Reserved > 0 {
			// Reserved nodes are paid whatever the plan (a constant the
			// cost adds back, planner.NodeGroup.CostAt); the nodes beyond
			// them, paid[g] ≥ n[g] − reserved, at the group's price.
			w.term(g.PricePerHour, paidVar(gi))
			continue
		}
		w.term(g.PricePerHour, nodeVar(gi))
	}
	w.b.WriteString("\n")
	w.line("Subject To")
	var ints, bins []string
	for gi, g := range req.NodeGroups {
		ints = append(ints, nodeVar(gi))
		nvars++
		if g.Reserved > 0 {
			w.start(fmt.Sprintf("paid_%d", gi))
			w.term(1, paidVar(gi))
			w.term(-1, nodeVar(gi))
			w.end(">=", -float64(g.Reserved))
			nvars++
			ncons++
		}
	}
	type cloudVars struct {
		cloud string
		xs    []string
	}
	for k, c := range cls {
		w.start(fmt.Sprintf("demand_%d", k))
		for gi, gp := range c.gpus {
			if gp > 0 {
				w.term(1, xVar(k, gi))
				ints = append(ints, xVar(k, gi))
				nvars++
			}
		}
		w.end("=", float64(c.replicas))
		ncons++
		if c.own == nil {
			continue
		}
		caps := capsOf(*c.own)
		byDomain := func(kind string) []cloudVars {
			m := map[string][]string{}
			for gi, gp := range c.gpus {
				if gp > 0 {
					d := domainOf(req.NodeGroups[gi], kind)
					m[d] = append(m[d], xVar(k, gi))
				}
			}
			var out []cloudVars
			for d, xs := range m {
				out = append(out, cloudVars{d, xs})
			}
			sort.Slice(out, func(i, j int) bool { return out[i].cloud < out[j].cloud })
			return out
		}
		if caps.kind != "" && caps.perDomain < c.replicas {
			for di, dv := range byDomain(caps.kind) {
				w.start(fmt.Sprintf("share_%d_%d", k, di))
				for _, x := range dv.xs {
					w.term(1, x)
				}
				w.end("<=", float64(caps.perDomain))
				ncons++
			}
		}
		var onSpot []string
		for gi, gp := range c.gpus {
			if gp > 0 && req.NodeGroups[gi].CapacityType == planner.CapacitySpot {
				onSpot = append(onSpot, xVar(k, gi))
			}
		}
		if caps.spot < c.replicas && len(onSpot) > 0 {
			w.start(fmt.Sprintf("spot_%d", k))
			for _, x := range onSpot {
				w.term(1, x)
			}
			w.end("<=", float64(caps.spot))
			ncons++
		}
		cvs := byDomain(planner.SpreadCloud)
		if d := c.own.Spread.MinDomains; d > 1 {
			for ci, cv := range cvs {
				y := fmt.Sprintf("y_%d_%d", k, ci)
				bins = append(bins, y)
				nvars++
				w.start(fmt.Sprintf("used_%d_%d", k, ci))
				w.term(1, y)
				for _, x := range cv.xs {
					w.term(-1, x)
				}
				w.end("<=", 0)
				ncons++
			}
			w.start(fmt.Sprintf("domains_%d", k))
			for ci := range cvs {
				w.term(1, fmt.Sprintf("y_%d_%d", k, ci))
			}
			w.end(">=", float64(d))
			ncons++
		}
	}
	for gi, g := range req.NodeGroups {
		w.start(fmt.Sprintf("gpus_%d", gi))
		w.term(float64(g.GPUsPerNode), nodeVar(gi))
		for k, c := range cls {
			if c.gpus[gi] > 0 {
				w.term(-float64(c.gpus[gi]), xVar(k, gi))
			}
		}
		w.end(">=", 0)
		ncons++
		// Under a mixed MIG layout a replica takes one instance at least
		// as large as its block, whole: per instance size L, the replicas
		// whose block is L or more fit the instances of L or more (Hall's
		// condition on nested sets, so these rows are exact).
		for _, size := range instanceSizes(g) {
			w.start(fmt.Sprintf("instances_%d_%d", gi, size))
			w.term(float64(g.InstancesPerNode(size)), nodeVar(gi))
			for k, c := range cls {
				if c.gpus[gi] >= size {
					w.term(-1, xVar(k, gi))
				}
			}
			w.end(">=", 0)
			ncons++
		}
	}
	// A quota: Σ per-node count × nodes over the groups it counts ≤ limit.
	groupIdx := map[string]int{}
	for gi, g := range req.NodeGroups {
		groupIdx[g.Name] = gi
	}
	for qi, q := range req.Quotas {
		w.start(fmt.Sprintf("quota_%d", qi))
		for _, name := range slices.Sorted(maps.Keys(q.PerNode)) {
			w.term(float64(q.PerNode[name]), nodeVar(groupIdx[name]))
		}
		w.end("<=", float64(q.Limit))
		ncons++
	}
	w.line("Bounds")
	for gi, g := range req.NodeGroups {
		fmt.Fprintf(&w.b, " %d <= %s <= %d\n", g.MinNodes, nodeVar(gi), g.MaxNodes)
	}
	for _, y := range bins {
		fmt.Fprintf(&w.b, " 0 <= %s <= 1\n", y)
	}
	if !relax {
		writeList(w, "General", ints)
		writeList(w, "Binary", bins)
	}
	w.line("End")
	return w.b.Bytes(), nvars, ncons, nil
}

func writeList(w *lpWriter, section string, names []string) {
	if len(names) == 0 {
		return
	}
	w.line(section)
	for i := 0; i < len(names); i += 10 {
		w.line(" " + strings.Join(names[i:min(i+10, len(names))], " "))
	}
}

// instanceSizes are the distinct sizes, in memory slices, of a mixed MIG
// layout's instances, smallest first; none for other groups.
func instanceSizes(g planner.NodeGroup) []int {
	if !g.Partitioned() {
		return nil
	}
	var out []int
	for _, in := range g.Sharing.Instances {
		if !slices.Contains(out, in.Slots) {
			out = append(out, in.Slots)
		}
	}
	slices.Sort(out)
	return out
}

func nodeVar(gi int) string { return fmt.Sprintf("n_%d", gi) }
func paidVar(gi int) string { return fmt.Sprintf("paid_%d", gi) }
func xVar(k, gi int) string { return fmt.Sprintf("x_%d_%d", k, gi) }

var versionRE = regexp.MustCompile(`Version:\s*(\S+)`)

// Solve builds the model of req, runs CBC on it and reads its solution.
// relax solves the LP relaxation (a lower bound) instead.
func (s Solver) Solve(req planner.Request, shapes [][]Shape, relax bool) (MILPResult, error) {
	lp, nv, nc, err := BuildLP(req, shapes, relax)
	if err != nil {
		return MILPResult{}, err
	}
	cls, err := classes(req, shapes)
	if err != nil {
		return MILPResult{}, err
	}
	res := MILPResult{Variables: nv, Constraints: nc, classes: cls}
	dir, err := os.MkdirTemp("", "mcllm-bench-*")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "model.lp"), lp, 0o600); err != nil {
		return res, err
	}
	limit := s.TimeLimit
	if limit <= 0 {
		limit = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit+30*time.Second)
	defer cancel()
	path := s.Path
	if path == "" {
		path = "cbc"
	}
	args := []string{"model.lp"}
	if !relax {
		args = append(args, "sec", strconv.FormatFloat(limit.Seconds(), 'f', -1, 64))
	}
	args = append(args, "solve", "solu", "solution.txt")
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	runErr := cmd.Run()
	res.Millis = float64(time.Since(start).Microseconds()) / 1000
	if m := versionRE.FindSubmatch(out.Bytes()); m != nil {
		res.Version = string(m[1])
	}
	if ctx.Err() != nil {
		res.Status = "killed at time limit"
		return res, nil
	}
	if runErr != nil {
		var ee *exec.ExitError
		if !errors.As(runErr, &ee) {
			return res, fmt.Errorf("running cbc: %w", runErr)
		}
	}
	sol, err := os.ReadFile(filepath.Join(dir, "solution.txt"))
	if err != nil {
		res.Status = "no solution file"
		return res, nil
	}
	if err := parseSolution(sol, req, relax, &res); err != nil {
		return res, err
	}
	return res, nil
}

// parseSolution reads CBC's "solu" file: a status line, then one line per
// non-zero variable: index, name, value, reduced cost.
func parseSolution(sol []byte, req planner.Request, relax bool, res *MILPResult) error {
	sc := bufio.NewScanner(bytes.NewReader(sol))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	if !sc.Scan() {
		res.Status = "empty solution file"
		return nil
	}
	head := strings.TrimSpace(sc.Text())
	status, _, _ := strings.Cut(head, " - ")
	res.Status = strings.ToLower(strings.TrimSpace(status))
	res.Optimal = res.Status == "optimal"
	res.Nodes = make([]float64, len(req.NodeGroups))
	res.x = map[[2]int]float64{}
	seen := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 3 && strings.HasPrefix(f[1], "x_") {
			var k, gi int
			if _, err := fmt.Sscanf(f[1], "x_%d_%d", &k, &gi); err != nil {
				return fmt.Errorf("cbc solution: bad variable %q", f[1])
			}
			v, err := strconv.ParseFloat(f[2], 64)
			if err != nil {
				return fmt.Errorf("cbc solution: bad value %q", f[2])
			}
			res.x[[2]int{k, gi}] = v
			continue
		}
		if len(f) < 3 || !strings.HasPrefix(f[1], "n_") {
			continue
		}
		gi, err := strconv.Atoi(f[1][2:])
		if err != nil || gi < 0 || gi >= len(req.NodeGroups) {
			return fmt.Errorf("cbc solution: bad variable %q", f[1])
		}
		v, err := strconv.ParseFloat(f[2], 64)
		if err != nil {
			return fmt.Errorf("cbc solution: bad value %q", f[2])
		}
		if !relax {
			v = math.Round(v)
		}
		res.Nodes[gi] = v
		seen = true
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if res.Status == "infeasible" || res.Status == "integer infeasible" || (!seen && !res.Optimal) {
		res.Optimal = false
		return nil
	}
	res.HasCost = true
	for gi, g := range req.NodeGroups {
		// CostAt on fractional nodes too: the LP bound's cost.
		res.Cost += float64(g.Reserved)*g.ReservedPrice + g.PricePerHour*math.Max(0, res.Nodes[gi]-float64(g.Reserved))
	}
	return nil
}

// blocksFor lists where a stage of size may bind on a node of g, as
// (offset, width): every aligned block of size, or under a mixed MIG
// layout every instance of size or more, smallest first (taken whole).
func blocksFor(g planner.NodeGroup, size int) [][2]int {
	var out [][2]int
	if !g.Partitioned() {
		for o := 0; o+size <= g.GPUsPerNode; o += size {
			out = append(out, [2]int{o, size})
		}
		return out
	}
	for gpu := range g.PhysicalGPUs() {
		for _, in := range g.Sharing.Instances {
			if in.Slots >= size {
				out = append(out, [2]int{gpu*g.Sharing.PerGPU + in.Offset, in.Slots})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i][1] < out[j][1] })
	return out
}

// Realize turns an integer solution into a planner.Result: each class's
// replicas go to its models in request order, and each group's stages are
// bound largest first to the lowest node with an aligned free block (a free
// instance at least that large under a mixed MIG layout), within the
// solution's node count. CheckPlacement on the result verifies the
// exact model independently of CBC.
func (m MILPResult) Realize(req planner.Request, shapes [][]Shape) (*planner.Result, error) {
	if !m.HasCost || m.x == nil {
		return nil, fmt.Errorf("no integer solution to realize")
	}
	shapeOf := make([]map[int]Shape, len(req.Models))
	for mi := range req.Models {
		shapeOf[mi] = map[int]Shape{}
		for _, s := range shapes[mi] {
			shapeOf[mi][s.Group] = s
		}
	}
	type stage struct{ size, replica, stage int }
	perGroup := make([][]stage, len(req.NodeGroups))
	res := &planner.Result{}
	for k, c := range m.classes {
		mi, next := 0, 0 // member and its next replica index
		for gi := range req.NodeGroups {
			n := int(math.Round(m.x[[2]int{k, gi}]))
			for ; n > 0; n-- {
				for mi < len(c.members) && next >= req.Models[c.members[mi]].Replicas {
					mi, next = mi+1, 0
				}
				if mi == len(c.members) {
					return nil, fmt.Errorf("class %d: more replicas placed than demanded", k)
				}
				model := c.members[mi]
				s := shapeOf[model][gi]
				res.Replicas = append(res.Replicas, planner.Replica{
					Model: req.Models[model].Name, Index: next, NodeGroup: req.NodeGroups[gi].Name,
					TensorParallel: s.T, PipelineParallel: s.P, Stages: make([]planner.Stage, s.P),
				})
				size := s.T
				if g := req.NodeGroups[gi]; g.Fractional() || g.Partitioned() { // the engine's block of slots
					size = s.GPUs
				}
				for st := 0; st < s.P; st++ {
					perGroup[gi] = append(perGroup[gi], stage{size, len(res.Replicas) - 1, st})
				}
				next++
			}
		}
	}
	for gi, g := range req.NodeGroups {
		stages := perGroup[gi]
		sort.SliceStable(stages, func(i, j int) bool { return stages[i].size > stages[j].size })
		nodes := int(math.Round(m.Nodes[gi]))
		free := make([]uint64, nodes)
		for i := range free {
			free[i] = 1<<g.GPUsPerNode - 1
		}
		for _, st := range stages {
			node, off, width := -1, 0, st.size
			for i := 0; i < nodes && node < 0; i++ {
				for _, b := range blocksFor(g, st.size) {
					mask := uint64(1)<<b[1] - 1
					if free[i]&(mask<<b[0]) == mask<<b[0] {
						node, off, width = i, b[0], b[1]
						break
					}
				}
			}
			mask := uint64(1)<<width - 1
			if node < 0 {
				return nil, fmt.Errorf("group %s: stages do not pack into %d nodes", g.Name, nodes)
			}
			free[node] &^= mask << off
			gpus := make([]int, width)
			for i := range gpus {
				gpus[i] = off + i
			}
			res.Replicas[st.replica].Stages[st.stage] = planner.Stage{Node: node, GPUs: gpus}
		}
		res.Groups = append(res.Groups, planner.GroupResult{Name: g.Name, Nodes: nodes, CostPerHour: g.CostAt(nodes)})
		res.CostPerHour += g.CostAt(nodes)
	}
	return res, nil
}
