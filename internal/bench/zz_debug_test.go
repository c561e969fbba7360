package bench

import (
	"os"
	"testing"
	"time"
)

func TestZZDebug(t *testing.T) {
	spec := QualitySpecs()[13]
	c, _ := Generate("quality", QualityName(spec), spec)
	lp, _, _, _ := BuildLP(c.Req, Shapes(c.Req), false)
	os.WriteFile("/tmp/q200.lp", lp, 0o644)
	m, err := Solver{Path: "cbc", TimeLimit: 300 * time.Second}.Solve(c.Req, Shapes(c.Req), false)
	t.Logf("%s %v %.4f %.0f ms %v", QualityName(spec), m.Status, m.Cost, m.Millis, err)
}
