package provider

import (
	"context"
	"encoding/json"
	"os"
	"sync"
	"time"
)

// TimingsFileEnv names a file to which the provider appends, per RPC it
// serves itself, how long each phase took (decoding, checks, planner,
// outputs, encoding): `make bench-plan` reads it to split a CLI run's time
// between the CLI and the provider. Unset, nothing is measured. The figures
// never reach a plan, so plans stay deterministic.
const TimingsFileEnv = "MCLLM_TIMINGS_FILE"

// rpcTimings records the phases of one RPC.
type rpcTimings struct {
	RPC    string             `json:"rpc"`
	Type   string             `json:"type"`
	Phases map[string]float64 `json:"phases_ms"`
	Total  float64            `json:"total_ms"`
	start  time.Time
	last   time.Time
}

type timingsKey struct{}

var timingsMu sync.Mutex

// startTimings begins recording an RPC when TimingsFileEnv is set.
func startTimings(ctx context.Context, rpc, typeName string) (context.Context, *rpcTimings) {
	if os.Getenv(TimingsFileEnv) == "" {
		return ctx, nil
	}
	now := time.Now()
	t := &rpcTimings{RPC: rpc, Type: typeName, Phases: map[string]float64{}, start: now, last: now}
	return context.WithValue(ctx, timingsKey{}, t), t
}

// phaseDone charges the time since the previous phase to name.
func phaseDone(ctx context.Context, name string) {
	t, _ := ctx.Value(timingsKey{}).(*rpcTimings)
	if t == nil {
		return
	}
	now := time.Now()
	t.Phases[name] += float64(now.Sub(t.last).Microseconds()) / 1000
	t.last = now
}

// finish appends the RPC's figures to the timings file.
func (t *rpcTimings) finish() {
	if t == nil {
		return
	}
	t.Total = float64(time.Since(t.start).Microseconds()) / 1000
	line, err := json.Marshal(t)
	if err != nil {
		return
	}
	timingsMu.Lock()
	defer timingsMu.Unlock()
	f, err := os.OpenFile(os.Getenv(TimingsFileEnv), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = f.Write(append(line, '\n'))
}
