package memory

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/catalog"
)

// The corpus: public vLLM start-up logs, each with its source, the
// configuration the log or thread shows, and the figures the engine printed
// (testdata/vllm_startup_logs.json; how it was gathered is in the memory
// guide). Entries the estimator cannot model say why ("excluded").

type corpusEntry struct {
	ID                  string                `json:"id"`
	Source              string                `json:"source"`
	VLLMVersion         string                `json:"vllm_version"`
	Rules               string                `json:"rules"`
	Use                 string                `json:"use"`
	Excluded            string                `json:"excluded"`
	Model               string                `json:"model"`
	Catalog             string                `json:"catalog"`
	Architecture        *catalog.Architecture `json:"architecture"`
	Precision           string                `json:"precision"`
	KVCacheDtype        string                `json:"kv_cache_dtype"`
	GPU                 string                `json:"gpu"`
	VisibleGiB          float64               `json:"visible_gib"`
	TP                  int                   `json:"tp"`
	PP                  int                   `json:"pp"`
	Utilization         float64               `json:"gpu_memory_utilization"`
	MaxModelLen         int                   `json:"max_model_len"`
	MaxNumSeqs          int                   `json:"max_num_seqs"`
	MaxNumBatchedTokens int                   `json:"max_num_batched_tokens"`
	ChunkedPrefill      *bool                 `json:"chunked_prefill"`
	EnforceEager        bool                  `json:"enforce_eager"`
	Logged              struct {
		WeightsGiB    *float64 `json:"weights_gib"`
		ActivationGiB *float64 `json:"activation_peak_gib"`
		NonTorchGiB   *float64 `json:"non_torch_gib"`
		KVGiB         *float64 `json:"kv_cache_gib"`
		GPUBlocks     *int64   `json:"gpu_blocks"`
		KVTokens      *int64   `json:"kv_tokens"`
	} `json:"logged"`
}

// corpusRow is one log against the estimate.
type corpusRow struct {
	e                      corpusEntry
	r                      PerGPU
	loggedKV, predictedKV  float64 // GiB per GPU
	kvErr, weightsErr      float64 // relative; NaN when not logged
	predictedAct, predNonT float64
}

func loadCorpus(t *testing.T) []corpusEntry {
	t.Helper()
	raw, err := os.ReadFile("testdata/vllm_startup_logs.json")
	if err != nil {
		t.Fatal(err)
	}
	var entries []corpusEntry
	if err := json.Unmarshal(raw, &entries); err != nil {
		t.Fatal(err)
	}
	return entries
}

// estimateFor builds the request a log's configuration implies and returns
// the figures on its most loaded GPU.
func estimateFor(t *testing.T, c corpusEntry) PerGPU {
	t.Helper()
	arch := c.Architecture
	if c.Catalog != "" {
		m, err := catalog.LookupModel(c.Catalog)
		if err != nil {
			t.Fatalf("%s: %v", c.ID, err)
		}
		arch = &m.Architecture
	}
	if arch == nil {
		t.Fatalf("%s: no architecture", c.ID)
	}
	eng, err := LookupEngine(c.Rules)
	if err != nil {
		t.Fatalf("%s: %v", c.ID, err)
	}
	gpu := GPU{VisibleBytes: int64(math.Round(c.VisibleGiB * GiB)), Utilization: c.Utilization, Model: c.GPU}
	seqs := c.MaxNumSeqs
	if seqs == 0 { // the engine's default, capped by the batch as vLLM caps it
		_, seqs = eng.ServeDefaults(gpu)
		if c.MaxNumBatchedTokens > 0 {
			seqs = min(seqs, c.MaxNumBatchedTokens)
		}
	}
	chunked := ToggleDefault
	if c.ChunkedPrefill != nil {
		chunked = map[bool]Toggle{true: ToggleOn, false: ToggleOff}[*c.ChunkedPrefill]
	}
	kv, err := ParseKVPrecision(c.KVCacheDtype)
	if err != nil {
		t.Fatalf("%s: %v", c.ID, err)
	}
	est, err := New(Request{Arch: *arch, Precision: Precision(c.Precision), KVPrecision: kv, ContextTokens: c.MaxModelLen,
		Concurrency: seqs, Engine: eng, MaxNumBatchedTokens: c.MaxNumBatchedTokens, ChunkedPrefill: chunked, EnforceEager: c.EnforceEager})
	if err != nil {
		t.Fatalf("%s: %v", c.ID, err)
	}
	return est.PerGPU(gpu, c.TP, max(1, c.PP))
}

func corpusRows(t *testing.T) (rows []corpusRow, noFit []corpusEntry) {
	for _, c := range loadCorpus(t) {
		switch c.Use {
		case "excluded":
			if c.Excluded == "" {
				t.Errorf("%s: excluded without a reason", c.ID)
			}
			continue
		case "no-fit":
			if r := estimateFor(t, c); r.KVCapacityBytes > 0 {
				t.Errorf("%s: vLLM found no memory for the KV cache, the estimate leaves %.2f GiB", c.ID, gib(r.KVCapacityBytes))
			}
			noFit = append(noFit, c)
			continue
		}
		r := estimateFor(t, c)
		row := corpusRow{e: c, r: r, predictedKV: gib(r.KVCapacityBytes), kvErr: math.NaN(), weightsErr: math.NaN(),
			predictedAct: gib(r.ActivationBytes), predNonT: gib(r.NonTorchBytes)}
		switch l := c.Logged; {
		case l.KVGiB != nil:
			row.loggedKV = *l.KVGiB
		case l.KVTokens != nil:
			row.loggedKV = gib(*l.KVTokens * r.KVBytesPerToken)
		case l.GPUBlocks != nil:
			row.loggedKV = gib(*l.GPUBlocks * BlockTokens * r.KVBytesPerToken)
		default:
			t.Errorf("%s: no KV figure", c.ID)
			continue
		}
		row.kvErr = row.predictedKV/row.loggedKV - 1
		if w := c.Logged.WeightsGiB; w != nil {
			row.weightsErr = gib(r.WeightBytes)/(*w) - 1
		}
		rows = append(rows, row)
	}
	return rows, noFit
}

func gib(b int64) float64 { return float64(b) / GiB }

var updateGuide = flag.Bool("update-guide", false, "rewrite the corpus table in templates/guides/memory-model.md.tmpl")

// TestCorpusKVCapacity holds the estimator to real start-up logs: the KV
// cache vLLM allocated against the KV capacity the estimate predicts for the
// same configuration, per GPU. Run with -v for the table.
func TestCorpusKVCapacity(t *testing.T) {
	rows, noFit := corpusRows(t)
	if len(rows) < 25 {
		t.Fatalf("%d logs with a KV figure, want at least 25", len(rows))
	}
	var kvErrs, wErrs []float64
	for _, r := range rows {
		kvErrs = append(kvErrs, math.Abs(r.kvErr))
		if !math.IsNaN(r.weightsErr) {
			wErrs = append(wErrs, math.Abs(r.weightsErr))
		}
	}
	table := corpusTable(rows, noFit)
	t.Log("\n" + table)
	medKV, maxKV := median(kvErrs), slicesMax(kvErrs)
	maxW := slicesMax(wErrs)
	t.Logf("KV capacity: median |error| %.2f%%, worst %.2f%% over %d logs; weights: worst %.2f%% over %d logs",
		medKV*100, maxKV*100, len(kvErrs), maxW*100, len(wErrs))
	if medKV > 0.03 {
		t.Errorf("KV capacity median |error| %.2f%%, want ≤ 3%%", medKV*100)
	}
	// The bar is worst ≤ 10 %; three logs are beyond it (the memory guide
	// names them and what the model misses there). Until they are
	// explained, hold the line where it is: no more of them, none worse.
	beyond := 0
	for _, e := range kvErrs {
		if e > 0.10 {
			beyond++
		}
	}
	if beyond > 3 || maxKV > 0.16 {
		t.Errorf("KV capacity: %d logs beyond 10%% error (at most 3 known), worst %.2f%% (at most 16%%)", beyond, maxKV*100)
	}
	for _, r := range rows {
		if math.Abs(r.weightsErr) > 0.02 {
			t.Errorf("%s: weights %.2f GiB, logged %.2f (%+.1f%%), want within 2%%", r.e.ID, gib(r.r.WeightBytes), *r.e.Logged.WeightsGiB, r.weightsErr*100)
		}
	}
	if *updateGuide {
		if err := writeGuideTable(table, medKV, maxKV, len(kvErrs)); err != nil {
			t.Fatal(err)
		}
	}
}

func corpusTable(rows []corpusRow, noFit []corpusEntry) string {
	sort.Slice(rows, func(i, j int) bool { return rows[i].e.ID < rows[j].e.ID })
	var b strings.Builder
	b.WriteString("| log | vLLM (rules) | model | GPU | t×p | util | weights GiB logged / est. | activation GiB logged / est. | KV GiB logged | KV GiB est. | error |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	opt := func(p *float64) string {
		if p == nil {
			return "–"
		}
		return fmt.Sprintf("%.2f", *p)
	}
	for _, r := range rows {
		v := r.e.VLLMVersion
		if v == "" {
			v = "?"
		}
		fmt.Fprintf(&b, "| %s | %s (%s) | %s | %s | %d×%d | %.2f | %s / %.2f | %s / %.2f | %.2f | %.2f | %+.1f%% |\n",
			r.e.ID, v, r.e.Rules, r.e.Model, shortGPU(r.e.GPU), r.e.TP, max(1, r.e.PP), r.e.Utilization,
			opt(r.e.Logged.WeightsGiB), gib(r.r.WeightBytes), opt(r.e.Logged.ActivationGiB), r.predictedAct,
			r.loggedKV, r.predictedKV, r.kvErr*100)
	}
	for _, c := range noFit {
		fmt.Fprintf(&b, "| %s | %s (%s) | %s | %s | %d×%d | %.2f | %s / – | – | no room (start-up failed) | no room | – |\n",
			c.ID, c.VLLMVersion, c.Rules, c.Model, shortGPU(c.GPU), c.TP, max(1, c.PP), c.Utilization, opt(c.Logged.WeightsGiB))
	}
	return b.String()
}

func shortGPU(s string) string {
	if i := strings.IndexAny(s, "(,"); i > 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return math.NaN()
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func slicesMax(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

const (
	guidePath  = "../../../templates/guides/memory-model.md.tmpl"
	tableBegin = "<!-- corpus table: generated by go test ./internal/planner/memory -run TestCorpusKVCapacity -update-guide -->"
	tableEnd   = "<!-- end of corpus table -->"
)

func writeGuideTable(table string, medKV, maxKV float64, n int) error {
	raw, err := os.ReadFile(guidePath)
	if err != nil {
		return err
	}
	s := string(raw)
	i, j := strings.Index(s, tableBegin), strings.Index(s, tableEnd)
	if i < 0 || j < i {
		return fmt.Errorf("%s: markers not found", guidePath)
	}
	body := fmt.Sprintf("%s\n\nKV capacity against the logs: median |error| %.1f %%, worst %.1f %%, over %d logs.\n\n%s\n", tableBegin, medKV*100, maxKV*100, n, table)
	return os.WriteFile(guidePath, []byte(s[:i]+body+s[j:]), 0o644)
}

// TestGuideTableCurrent fails when the guide's corpus table is not what the
// estimator now predicts.
func TestGuideTableCurrent(t *testing.T) {
	raw, err := os.ReadFile(guidePath)
	if err != nil {
		t.Fatal(err)
	}
	rows, noFit := corpusRows(t)
	if !strings.Contains(string(raw), corpusTable(rows, noFit)) {
		t.Error("the memory guide's corpus table is stale: run go test ./internal/planner/memory -run TestCorpusKVCapacity -update-guide, then make docs")
	}
}
