package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner"
)

// ChildOutput is what "mcllm-bench -child <case>" prints: the planner's
// figures on one scale case, measured in a process of its own.
type ChildOutput struct {
	Cost *float64 `json:"cost"`
	Ms   *float64 `json:"ms"`
	// BaseMiB is the process's peak RSS once the input is built, before
	// the planner runs.
	BaseMiB *float64 `json:"base_mib"`
	// PeakMiB is filled in by the parent from the child's rusage (or, in
	// process, is the bytes the planner allocated).
	PeakMiB  *float64 `json:"peak_mib"`
	Unplaced *int     `json:"unplaced"`
	Error    string   `json:"error,omitempty"`
}

// RunChild generates the scale case name, plans it once on one core and
// writes a ChildOutput as JSON to w.
func RunChild(name string, w io.Writer) error {
	runtime.GOMAXPROCS(1)
	c, err := ScaleCase(name)
	if err != nil {
		return err
	}
	out := ChildOutput{}
	runtime.GC()
	if base, ok := selfPeakMiB(); ok {
		out.BaseMiB = ptr(round(base, 1))
	}
	start := time.Now()
	res, err := planner.Plan(c.Req)
	d := time.Since(start)
	if err != nil {
		out.Error = "planner: " + err.Error()
	} else {
		out.Cost = costPtr(res.CostPerHour)
		out.Ms = ptr(round(float64(d.Microseconds())/1000, 1))
		out.Unplaced = ptr(res.UnplacedReplicas())
		if err := CheckPlacement(c.Req, res); err != nil {
			out.Error = "placement: " + err.Error()
		}
	}
	return json.NewEncoder(w).Encode(out)
}

// planScale plans a scale case in a child process when one is configured,
// else in this process.
func (c *Config) planScale(cs *Case) (ChildOutput, error) {
	if c.ChildExe == "" {
		return planInProcess(cs)
	}
	cmd := exec.Command(c.ChildExe, "-child", cs.Name)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return ChildOutput{}, fmt.Errorf("child for %s: %w: %s", cs.Name, err, strings.TrimSpace(stderr.String()))
	}
	var out ChildOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return ChildOutput{}, fmt.Errorf("child for %s: %w", cs.Name, err)
	}
	if peak, ok := childPeakMiB(cmd.ProcessState); ok {
		out.PeakMiB = ptr(round(peak, 1))
	}
	return out, nil
}

// planInProcess times the planner here; PeakMiB is then the bytes it
// allocated (TotalAlloc delta), an upper bound of its live heap.
func planInProcess(cs *Case) (ChildOutput, error) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	res, err := planner.Plan(cs.Req)
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	if err != nil {
		return ChildOutput{}, err
	}
	out := ChildOutput{
		Cost:     costPtr(res.CostPerHour),
		Ms:       ptr(round(float64(d.Microseconds())/1000, 1)),
		PeakMiB:  ptr(round(float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), 1)),
		Unplaced: ptr(res.UnplacedReplicas()),
	}
	if err := CheckPlacement(cs.Req, res); err != nil {
		out.Error = "placement: " + err.Error()
	}
	return out, nil
}
