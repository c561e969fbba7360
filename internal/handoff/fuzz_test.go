package handoff

import (
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

// FuzzObjectName: whatever the pool and model names, object names are valid
// for every kind the hand-off renders and fit LeaderWorkerSet's limit.
func FuzzObjectName(f *testing.F) {
	for _, seed := range [][2]string{{"prod", "llama-70b"}, {"", ""}, {"2024", "_"}, {"Pool With Spaces", "模型"}, {"a.b", "c--d"}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pool, model string) {
		for _, name := range []string{ObjectName(pool, model, "0"), ObjectName(pool, model, "svc")} {
			if errs := validation.IsDNS1035Label(name); len(errs) > 0 || len(name) > maxObjectName {
				t.Fatalf("ObjectName(%q, %q) = %q: %v", pool, model, name, errs)
			}
		}
	})
}
