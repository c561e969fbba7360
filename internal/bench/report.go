package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteJSONLines writes one JSON object per row.
func WriteJSONLines(w io.Writer, rows []Row) error {
	enc := json.NewEncoder(w)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

func fmtCost(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.4f", *p)
}

func fmtF(p *float64, digits int) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.*f", digits, *p)
}

func fmtI(p *int) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

func ratio(a, b *float64) *float64 {
	if a == nil || b == nil || *b <= 0 {
		return nil
	}
	return ptr(*a / *b)
}

func costHeader() []string {
	return []string{"suite", "case", "replicas", "models", "groups", "cand. nodes", "planner $/h", "optimum $/h",
		"LP bound $/h", "FFD $/h", "planner/opt", "planner/FFD", "planner/LB", "unplaced planner/FFD", "planner ms", "CBC ms", "LP ms", "peak MiB", "CBC status"}
}

func costCells(r Row) []string {
	status := r.MILPStatus
	if status == "" {
		status = "-"
	}
	if r.Error != "" {
		status += " (error)"
	}
	plannerDone, ffdDone := deref(r.PlannerUnplaced) == 0, deref(r.FFDUnplaced) == 0
	var vsFFD *float64
	if ffdComparable(r) {
		vsFFD = ratio(r.PlannerCost, r.FFDCost)
	}
	return []string{r.Suite, r.Case, fmt.Sprint(r.Replicas), fmtI(r.Models), fmtI(r.NodeGroups), fmtI(r.CandidateNodes),
		fmtCost(r.PlannerCost) + star(plannerDone), fmtCost(r.OptimalCost), fmtCost(r.LowerBound), fmtCost(r.FFDCost) + star(ffdDone),
		fmtF(ratio(r.PlannerCost, r.OptimalCost), 4), fmtF(vsFFD, 4), fmtF(ratio(r.PlannerCost, r.LowerBound), 4),
		fmtI(r.PlannerUnplaced) + "/" + fmtI(orZero(r.FFDUnplaced, r.FFDCost)), fmtF(r.PlannerMs, 1), fmtF(r.OptimalMs, 0),
		fmtF(r.LowerBoundMs, 0), fmtF(r.PeakMiB, 1), status}
}

func stabilityHeader() []string {
	return []string{"step kind", "steps", "replicas exposed", "moves", "min_moves", "spread-forced", "preempted", "needless moves", "unplaced", "unplaced fresh", "over max_moves"}
}

func stabilityCells(r Row) []string {
	extra := "-"
	if r.Moves != nil && r.SpreadForced != nil {
		extra = fmt.Sprint(*r.Moves - *r.SpreadForced - deref(r.Preempted))
	}
	return []string{r.Case, fmtI(r.Steps), fmt.Sprint(r.Replicas), fmtI(r.Moves), fmtI(r.MinMoves), fmtI(r.SpreadForced), fmtI(r.Preempted), extra, fmtI(r.PlannerUnplaced), fmtI(r.UnplacedFresh), fmtI(r.OverBudget)}
}

func split(rows []Row) (cost, stab []Row) {
	for _, r := range rows {
		if r.Suite == "stability" {
			stab = append(stab, r)
		} else {
			cost = append(cost, r)
		}
	}
	return cost, stab
}

// WriteTable writes the rows as aligned text tables.
func WriteTable(w io.Writer, rows []Row) error {
	cost, stab := split(rows)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	if len(cost) > 0 {
		fmt.Fprintln(tw, strings.Join(costHeader(), "\t")+"\t")
		for _, r := range cost {
			fmt.Fprintln(tw, strings.Join(costCells(r), "\t")+"\t")
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(stab) > 0 {
		if len(cost) > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(tw, strings.Join(stabilityHeader(), "\t")+"\t")
		for _, r := range stab {
			fmt.Fprintln(tw, strings.Join(stabilityCells(r), "\t")+"\t")
		}
	}
	return tw.Flush()
}

func markdownTable(w io.Writer, header []string, rows [][]string) {
	fmt.Fprintln(w, "| "+strings.Join(header, " | ")+" |")
	seps := make([]string, len(header))
	for i := range seps {
		seps[i] = "---"
		if i >= 2 {
			seps[i] = "---:"
		}
	}
	fmt.Fprintln(w, "| "+strings.Join(seps, " | ")+" |")
	for _, r := range rows {
		fmt.Fprintln(w, "| "+strings.Join(r, " | ")+" |")
	}
}

// Summary is the run's headline figures.
type Summary struct {
	// Quality, Production and Quotas summarise the generated (q…), the
	// production-shaped (p…) and the quota-bound, reserved or shared (k…,
	// r…, g…) quality cases.
	Quality, Production, Quotas ratioSummary
	// AboveTolerance lists quality cases above 1.05 × the optimum.
	AboveTolerance []string
	// Incomplete lists cases where the planner left replicas unplaced
	// although the case is feasible (every generated case is).
	Incomplete []string
	// FFDCompared counts rows with both a planner and an FFD cost;
	// WorseThanFFD lists those where the planner costs more.
	FFDCompared  int
	WorseThanFFD []string
	Scale        []Row
	// Sharing holds the sharing comparison's rows, whole GPUs first.
	Sharing []Row
	// Stability totals over the step kinds other than "unchanged".
	Moves, MinMoves, Forced, Preempted, UnchangedMoves, StabilitySteps, Unplaced, UnplacedFresh, OverBudget int
	// Errors lists rows whose placement failed the checker or that did not
	// run.
	Errors []string
}

// ratioSummary is planner/optimum over a set of cases.
type ratioSummary struct {
	Cases, Solved         int
	MeanRatio, WorstRatio float64
	WorstCase             string
	sum                   float64
}

func (r *ratioSummary) add(q float64, name string) {
	r.Solved++
	r.sum += q
	r.MeanRatio = r.sum / float64(r.Solved)
	if q > r.WorstRatio {
		r.WorstRatio, r.WorstCase = q, name
	}
}

// Summarize computes the summary of a run.
func Summarize(rows []Row) Summary {
	var s Summary
	for _, r := range rows {
		if r.Error != "" {
			s.Errors = append(s.Errors, fmt.Sprintf("%s/%s: %s", r.Suite, r.Case, r.Error))
		}
		if r.MILPError != "" {
			s.Errors = append(s.Errors, fmt.Sprintf("%s/%s: exact solution: %s", r.Suite, r.Case, r.MILPError))
		}
		complete := r.Error == "" && deref(r.PlannerUnplaced) == 0
		if r.Suite != "stability" && deref(r.PlannerUnplaced) > 0 {
			s.Incomplete = append(s.Incomplete, fmt.Sprintf("%s/%s (%d unplaced)", r.Suite, r.Case, deref(r.PlannerUnplaced)))
		}
		switch r.Suite {
		case "quality":
			set := &s.Quality
			switch {
			case strings.HasPrefix(r.Case, "p"):
				set = &s.Production
			case strings.HasPrefix(r.Case, "k"), strings.HasPrefix(r.Case, "r"), strings.HasPrefix(r.Case, "g"):
				set = &s.Quotas
			}
			set.Cases++
			if q := ratio(r.PlannerCost, r.OptimalCost); q != nil && complete {
				set.add(*q, r.Case)
				if *q > 1.05+1e-9 {
					s.AboveTolerance = append(s.AboveTolerance, fmt.Sprintf("%s (%.4f)", r.Case, *q))
				}
			}
		case "scale":
			s.Scale = append(s.Scale, r)
		case "sharing":
			s.Sharing = append(s.Sharing, r)
		case "stability":
			if r.Case == StepUnchanged {
				s.UnchangedMoves += deref(r.Moves)
				continue
			}
			s.Moves += deref(r.Moves)
			s.MinMoves += deref(r.MinMoves)
			s.Forced += deref(r.SpreadForced)
			s.Preempted += deref(r.Preempted)
			s.StabilitySteps += deref(r.Steps)
			s.Unplaced += deref(r.PlannerUnplaced)
			s.UnplacedFresh += deref(r.UnplacedFresh)
			s.OverBudget += deref(r.OverBudget)
		}
		if ffdComparable(r) {
			s.FFDCompared++
			if *r.PlannerCost > *r.FFDCost+1e-6 {
				s.WorseThanFFD = append(s.WorseThanFFD, fmt.Sprintf("%s/%s (%.4f vs %.4f)", r.Suite, r.Case, *r.PlannerCost, *r.FFDCost))
			}
		}
	}
	return s
}

// ffdComparable reports whether a row's planner and FFD costs compare: both
// placed every replica and the planner's placement passed the checker.
func ffdComparable(r Row) bool {
	return r.Error == "" && deref(r.PlannerUnplaced) == 0 && deref(r.FFDUnplaced) == 0 && r.PlannerCost != nil && r.FFDCost != nil
}

// star marks a cost that leaves replicas unplaced.
func star(complete bool) string {
	if complete {
		return ""
	}
	return "*"
}

// orZero is p, or 0 when p is nil but the baseline ran (cost set).
func orZero(p *int, cost *float64) *int {
	if p == nil && cost != nil {
		return ptr(0)
	}
	return p
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// Lines renders the summary as sentences, one per line.
func (s Summary) Lines() []string {
	var out []string
	for _, set := range []struct {
		what string
		r    ratioSummary
	}{{"Quality", s.Quality}, {"Production-shaped", s.Production}, {"Quotas, reservations and shared GPUs", s.Quotas}} {
		if set.r.Cases > 0 {
			out = append(out, fmt.Sprintf("%s: %d of %d cases solved to optimality with every replica placed by the planner; planner/optimum over them: mean %.4f, worst %.4f (%s).",
				set.what, set.r.Solved, set.r.Cases, set.r.MeanRatio, set.r.WorstRatio, set.r.WorstCase))
		}
	}
	if s.Quality.Cases+s.Production.Cases+s.Quotas.Cases > 0 {
		if len(s.AboveTolerance) > 0 {
			out = append(out, "Cases above 1.05 × the optimum: "+strings.Join(s.AboveTolerance, ", ")+".")
		} else {
			out = append(out, "No case above 1.05 × the optimum.")
		}
	}
	if len(s.Incomplete) > 0 {
		out = append(out, "Planner left replicas unplaced in feasible cases (every generated case is feasible: a greedy reservation places every replica): "+strings.Join(s.Incomplete, ", ")+".")
	}
	if s.FFDCompared > 0 {
		line := fmt.Sprintf("Planner costlier than FFD in %d of %d cases where both placed every replica", len(s.WorseThanFFD), s.FFDCompared)
		if len(s.WorseThanFFD) > 0 {
			line += ": " + strings.Join(s.WorseThanFFD, ", ")
		}
		out = append(out, line+".")
	}
	if len(s.Scale) > 0 {
		var parts []string
		var prev *Row
		for i := range s.Scale {
			r := &s.Scale[i]
			part := fmt.Sprintf("%s %s ms (peak %s MiB)", r.Case, fmtF(r.PlannerMs, 1), fmtF(r.PeakMiB, 1))
			if prev != nil && prev.PlannerMs != nil && r.PlannerMs != nil && *prev.PlannerMs > 0 {
				part += fmt.Sprintf(", ×%.1f time for ×%.0f replicas", *r.PlannerMs / *prev.PlannerMs,
					float64(r.Replicas)/float64(prev.Replicas))
			}
			parts = append(parts, part)
			prev = r
		}
		out = append(out, "Scale: "+strings.Join(parts, " → ")+".")
	}
	if len(s.Sharing) == 2 && s.Sharing[0].PlannerCost != nil && s.Sharing[1].PlannerCost != nil {
		whole, shared := s.Sharing[0], s.Sharing[1]
		out = append(out, fmt.Sprintf("Sharing: 40 small models, one replica each: %d GPUs and %.4f USD/h on whole GPUs (optimum %s), "+
			"%d GPUs and %.4f USD/h with MIG, time-slicing and memory blocks (optimum %s): %.1f %% of the cost saved.",
			deref(whole.GPUsUsed), *whole.PlannerCost, fmtCost(whole.OptimalCost), deref(shared.GPUsUsed), *shared.PlannerCost,
			fmtCost(shared.OptimalCost), 100*(1 - *shared.PlannerCost / *whole.PlannerCost)))
	}
	if s.StabilitySteps > 0 {
		out = append(out, fmt.Sprintf("Stability: %d steps moved %d replicas against min_moves %d (%d including the moves a lowered spread cap forces, "+
			"%d more preempted to place demand they blocked, with max_moves %d); unchanged re-plans moved %d. "+
			"%d replica-steps left unplaced although the input is feasible from scratch, %d of them also when planned without Previous; "+
			"%d of the rest a preemption places only with more moves than max_moves (the remedy says how many), %d within it.",
			s.StabilitySteps, s.Moves, s.MinMoves, s.Forced, s.Preempted, StabilityMoveBudget, s.UnchangedMoves, s.Unplaced, s.UnplacedFresh,
			s.OverBudget, s.Unplaced-s.UnplacedFresh-s.OverBudget))
	}
	if len(s.Errors) > 0 {
		out = append(out, fmt.Sprintf("%d row(s) with errors: %s.", len(s.Errors), strings.Join(s.Errors, "; ")))
	} else {
		out = append(out, "Every planner placement passed the independent checker.")
	}
	return out
}

// Machine describes where the run happened.
type Machine struct {
	NumCPU, GOMAXPROCS int
	GoVersion, GOOS    string
	GOARCH, CBC        string
	TimeLimit          string
}

// WriteMarkdown writes docs/BENCHMARKS.md.
func WriteMarkdown(w io.Writer, rows []Row, m Machine) {
	cost, stab := split(rows)
	s := Summarize(rows)
	fmt.Fprintln(w, "# Planner benchmarks")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Generated by `make bench` (`go run ./cmd/mcllm-bench -out docs/BENCHMARKS.md`); run it again to reproduce this file.")
	fmt.Fprintln(w, "Every case is generated from a fixed seed, so the fleets, costs and moves are the same on every run;")
	fmt.Fprintln(w, "timings and memory are not: they vary between runs, the more so on a shared machine.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "## Machine")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "- CPUs (`runtime.NumCPU`): %d; default GOMAXPROCS: %d.\n", m.NumCPU, m.GOMAXPROCS)
	fmt.Fprintln(w, "- The planner is timed on one core: `runtime.GOMAXPROCS(1)` around each run, after a GC;")
	fmt.Fprintln(w, "  quality cases report the median of 5 runs, scale cases one run in a child process of its own.")
	fmt.Fprintf(w, "- Go toolchain %s, %s/%s; CBC %s (Debian's coinor-cbc), time limit %s per MILP.\n", m.GoVersion, m.GOOS, m.GOARCH, m.CBC, m.TimeLimit)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "## Summary")
	fmt.Fprintln(w)
	for _, l := range s.Lines() {
		fmt.Fprintln(w, "- "+l)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "## Method")
	fmt.Fprintln(w)
	fmt.Fprintln(w, methodText)
	if len(cost) > 0 {
		tableSection(w, "Cost and time", []string{
			"Costs in USD per hour. Optimum: CBC's proven optimum of the exact MILP (`-` when not proven within the limit or not attempted;",
			"the JSON line's `milp_best` then holds CBC's best solution). LP bound: the MILP's LP relaxation, a lower bound on the optimum,",
			"so planner/LB bounds planner/opt from above. FFD: the first-fit-decreasing baseline. A cost marked * leaves replicas",
			"unplaced and is not compared.",
			"Unplaced: replicas the planner / FFD could not place although the case is feasible. Peak MiB: the child process's",
			"maximum RSS (`ru_maxrss`), input included (`base_mib` in the JSON line is the RSS before the planner ran).",
		}, costHeader(), cost, costCells)
	}
	if len(stab) > 0 {
		tableSection(w, "Stability", []string{
			"Replicas exposed: previous replicas whose model and index still exist after the step. Moves: those whose node group",
			"or stages changed. min_moves: those on the node group the step removed. Spread-forced: min_moves plus the survivors",
			"a lowered spread cap (scale down) pushes out of their cloud, also unavoidable. Preempted: kept replicas the planner moved",
			"to place demand they blocked (every step sets max_moves to the suite's budget). Needless moves: moves that are none of",
			"these. Unplaced: replicas left unplaced after the",
			"step although the input is feasible from scratch; unplaced fresh: how many of them stay unplaced when the same input is",
			"planned without Previous (the rest are due to the placements the planner keeps); over max_moves: how many of them a",
			"preemption places, but only with more moves than max_moves allows (their remedy names the budget that would).",
		}, stabilityHeader(), stab, stabilityCells)
	}
}

// tableSection writes a section: its title, the text that explains the
// columns, and one table row per result.
func tableSection(w io.Writer, title string, text, header []string, rows []Row, cells func(Row) []string) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "## "+title)
	fmt.Fprintln(w)
	for _, l := range text {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w)
	table := make([][]string, 0, len(rows))
	for _, r := range rows {
		table = append(table, cells(r))
	}
	markdownTable(w, header, table)
}

const methodText = `- **Fleets.** Seeded generators (` + "`math/rand/v2`" + `, PCG, one fixed seed per case) draw node groups from
  catalog instance types with list prices over aws, gcp and azure (H100, H200, A100-80GB, L40S, L4, A10G, A10), each
  type in one to four regions; min_nodes is 0, or 1 for one group in ten. Demands mix catalog models from 3.8B to
  671B (phi-3-mini-4k to llama-3.1-405b fp8 and, rarely, deepseek-v3 fp8; bf16, fp8 and int4 variants), context 2k–32k,
  concurrency 1–32, 1–8 replicas per model; some allow only one or two clouds or GPU models, some spread across clouds
  (min_domains 2, max_share 0.5 or 0.67). A model no group can run is drawn again. max_nodes gives each group a
  random share of the GPUs the demand needs, then grows until a greedy reservation places every replica, so every
  case is feasible. Production-shaped fleets (p… cases) add, per on-demand group with probability 0.4, a spot twin at
  30–50 % of the list price (GCP documents Spot VMs at 60–91 % off, AWS Spot at up to 90 % off), min_nodes 1 for
  about a quarter of the groups, three regions per type; half the models with spot capacity get an on-demand floor
  of half their replicas, a fifth of the unspread ones with three or more replicas must keep all but one after losing a
  region or a cloud, and one in ten fixes its tensor degree. Quota-bound fleets (k… cases, issue 15) are
  production-shaped and add a quota per cloud, region, quota family and capacity type, counting vCPUs on AWS and
  Azure and GPUs on GCP as the catalog's rows do, at 30–70 % of what max_nodes would use, raised by a quarter while
  a greedy reservation within the quotas cannot place every replica. Fleets with reservations (r… cases) reserve
  1 to a third of max_nodes on about a third of the on-demand groups at 45–100 % of the list price (a capacity
  reservation bills at the on-demand price; committed-use discounts run to about 55 % off). Fleets with shared
  GPUs (g… cases) add to each MIG-capable group, with probability 0.6, a twin in a uniform MIG layout of a random
  profile of its GPU, and to other groups of 22 GiB or more, with probability 0.4, a twin time-sliced by 2–4
  engines; models of up to 20 GB of weights may share, at up to 8k tokens and 1–8 sequences. The sharing
  comparison plans 40 small models on whole GPUs and again with every MIG profile and 2-engine time-slicing twins.
- **Exact optimum.** A MILP solved by CBC: integer replicas x[m][g] of model m on group g (only where
  ` + "`planner.ReplicaShape`" + ` allows it, at its degrees), integer nodes n[g] within [min_nodes, max_nodes],
  GPUs per node × n[g] ≥ the GPUs placed, per-cloud caps floor(max_share × replicas) and min_domains binaries,
  per-region or per-cloud caps replicas − min_replicas_on_failure, Σ over spot groups ≤ replicas − on_demand_floor,
  per quota Σ per-node count × n[g] ≤ limit; minimize Σ price × n[g] (where nodes are reserved, the
  reservation plus price × paid[g], paid[g] ≥ n[g] − reserved). Stages are powers of two and nodes hold a power of two GPUs, so ceil(GPUs / GPUs per node)
  nodes always pack: the MILP optimum is the true optimum. Models without a spread and with equal shapes are merged
  (exact for the MILP and its LP relaxation).
- **FFD baseline** (Karpenter-like). Replicas by GPU need descending; each to the earliest-opened node of a
  feasible group with enough free GPUs, else to new nodes of the feasible group with the lowest price per node that
  has max_nodes and quota room; spread, failure-tolerance and spot caps respected, nodes of min_nodes paid for.
- **Suites.** quality: 15 generated cases of 10–200 replicas, 30 production-shaped ones of 20–150 and 12 under
  quotas and 9 with reservations of 30–100, solved exactly
  (CBC time-limited; the LP bound is reported where it stops). scale: 1k, 10k (≥ 5,000 candidate nodes) and
  50k replicas; the planner runs in a child process (` + "`mcllm-bench -child <case>`" + `), no exact optimum.
  stability: 1,000 sequences of 5 random steps (add a model, remove a model, scale up, scale down, lose a busy node
  group); after each step the planner re-plans with Previous = the last result, then re-plans the unchanged input once
  more. Every planner result is checked by an independent placement checker.`
