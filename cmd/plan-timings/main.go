// Command plan-timings sums the provider's per-RPC timings (the file named
// by MCLLM_TIMINGS_FILE) for `make bench-plan`: one line with the time the
// provider spent per RPC and per phase, to set beside the CLI's wall time.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

type rpc struct {
	RPC    string             `json:"rpc"`
	Type   string             `json:"type"`
	Phases map[string]float64 `json:"phases_ms"`
	Total  float64            `json:"total_ms"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: plan-timings FILE")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run reads the timings file at path and prints its one-line summary.
func run(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	byRPC, byPhase := map[string]float64{}, map[string]float64{}
	total := 0.0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r rpc
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return err
		}
		total += r.Total
		byRPC[strings.TrimSuffix(r.RPC, "ResourceChange")] += r.Total
		for p, ms := range r.Phases {
			byPhase[p] += ms
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	fmt.Printf("provider %.0f ms:%s; plan phases:%s\n", total, list(byRPC), list(byPhase))
	return nil
}

func list(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] })
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s %.0f", k, m[k])
	}
	return b.String()
}
