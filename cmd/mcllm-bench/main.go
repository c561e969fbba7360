// Command mcllm-bench benchmarks the planner: cost against the exact optimum
// (a MILP solved by CBC) and a first-fit-decreasing baseline, run time and
// peak memory at scale, and stability under changing input. It prints one
// JSON line per case, then a table and a summary, and can write
// docs/BENCHMARKS.md. `make bench` runs it.
//
// The planner is timed on one core: runtime.GOMAXPROCS(1) is set around
// every timed run (and for the whole child process that plans a scale case).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"time"

	"github.com/mcllm/terraform-provider-mcllm/internal/bench"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mcllm-bench:", err)
		os.Exit(1)
	}
}

func run() error {
	suite := flag.String("suite", "all", "suite to run: all, quality, sharing, scale or stability")
	out := flag.String("out", "", "path of the BENCHMARKS.md to write (\"\" to skip)")
	cbc := flag.String("cbc", "cbc", "CBC binary")
	limit := flag.Duration("timelimit", 20*time.Second, "CBC time limit per MILP")
	scaleLimit := flag.Duration("scale-lp-timelimit", 120*time.Second, "time limit of the LP bound at scale")
	sequences := flag.Int("sequences", 1000, "stability sequences")
	inProcess := flag.Bool("in-process", false, "plan scale cases in this process (peak_mib is then the planner's allocation, not RSS)")
	child := flag.String("child", "", "internal: plan one scale case and print its figures")
	cases := flag.String("cases", "", "run only the quality cases whose name matches this regular expression")
	seedOffset := flag.Uint64("seed-offset", 0, "add this to every quality case's seed: the same kinds of fleet, drawn anew")
	flag.Parse()

	if *child != "" {
		return bench.RunChild(*child, os.Stdout)
	}
	defaultProcs := runtime.GOMAXPROCS(0)
	cfg := &bench.Config{
		Solver:       bench.Solver{Path: *cbc, TimeLimit: *limit},
		ScaleLPLimit: *scaleLimit,
		Progress:     os.Stderr,
		Sequences:    *sequences,
		SeedOffset:   *seedOffset,
	}
	if *cases != "" {
		re, err := regexp.Compile(*cases)
		if err != nil {
			return fmt.Errorf("-cases: %w", err)
		}
		cfg.Cases = re
	}
	if !*inProcess {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		cfg.ChildExe = exe
	}
	var rows []bench.Row
	switch *suite {
	case "all":
		rows = append(rows, bench.RunQuality(cfg)...)
		rows = append(rows, bench.RunSharing(cfg)...)
		rows = append(rows, bench.RunScale(cfg)...)
		rows = append(rows, bench.RunStability(cfg)...)
	case "quality":
		rows = bench.RunQuality(cfg)
	case "sharing":
		rows = bench.RunSharing(cfg)
	case "scale":
		rows = bench.RunScale(cfg)
	case "stability":
		rows = bench.RunStability(cfg)
	default:
		return fmt.Errorf("unknown suite %q: want all, quality, sharing, scale or stability", *suite)
	}

	if err := bench.WriteJSONLines(os.Stdout, rows); err != nil {
		return err
	}
	fmt.Println()
	if err := bench.WriteTable(os.Stdout, rows); err != nil {
		return err
	}
	fmt.Println()
	for _, l := range bench.Summarize(rows).Lines() {
		fmt.Println(l)
	}
	if *out == "" {
		return nil
	}
	cbcVersion := cfg.CBCVersion
	if cbcVersion == "" {
		cbcVersion = "(not run)"
	}
	var md bytes.Buffer
	bench.WriteMarkdown(&md, rows, bench.Machine{
		NumCPU: runtime.NumCPU(), GOMAXPROCS: defaultProcs, GoVersion: runtime.Version(),
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CBC: cbcVersion, TimeLimit: limit.String(),
	})
	if err := os.WriteFile(*out, md.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "wrote", *out)
	return nil
}
