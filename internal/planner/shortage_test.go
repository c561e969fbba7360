package planner

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// TestPropertyReshuffleNeverWorsens runs the shortage search on the end of
// a start over random fleets with replicas left unplaced: it must never
// place fewer at a priority without placing more at a higher one, never
// raise the objective while placing as many, and must keep its books — every
// new replica either counted on an option or listed unplaced, once. It must
// also improve some of them, or it would be doing nothing.
func TestPropertyReshuffleNeverWorsens(t *testing.T) {
	n := 600
	if testing.Short() {
		n = 200
	}
	checkSearchNeverWorsens(t, "the shortage search", n, 21, true, nil, (*assignment).reshuffle)
}

// TestPropertyRegionSearchNeverWorsens holds the region search (region.go)
// to the same rules, on the end of the shortage search and on every random
// fleet, short of room or not.
func TestPropertyRegionSearchNeverWorsens(t *testing.T) {
	n := 400
	if testing.Short() {
		n = 150
	}
	checkSearchNeverWorsens(t, "the region search", n, 22, false, (*assignment).reshuffle, func(s *assignment, unplaced [][]int) {
		s.regionSearch(unplaced)
	})
}

// checkSearchNeverWorsens runs search on the end of a start over n random
// fleets (only those short of room when shortOnly), after prepare when not
// nil, and checks that it never makes the plan worse, keeps its books, and
// improves some.
func checkSearchNeverWorsens(t *testing.T, name string, n int, seed uint64, shortOnly bool, prepare, search func(*assignment, [][]int)) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	tried, better := 0, 0
	for i := range n {
		req := randomRequest(t, rng)
		req.Strategy, req.Logger = StrategyCost, hclog.NewNullLogger()
		if len(Validate(req)) > 0 {
			continue
		}
		s, unplaced := start(req, nil, startOpts{})
		if shortOnly && !anyLeft(unplaced) {
			continue
		}
		tried++
		if prepare != nil {
			prepare(s, unplaced)
		}
		before, beforeObj := s.unplacedPerPriority(unplaced), s.obj.of(s)
		search(s, unplaced)
		after, afterObj := s.unplacedPerPriority(unplaced), s.obj.of(s)
		switch c := comparePerPriority(before, after); {
		case c < 0:
			t.Errorf("case %d: unplaced per priority %v after %s, %v before", i, after, name, before)
		case c == 0 && afterObj.exceeds(beforeObj):
			t.Errorf("case %d: objective %+v after %s, %+v before", i, afterObj, name, beforeObj)
		case c > 0 || afterObj.less(beforeObj.plus(improvement)):
			better++
		}
		for mi := range s.models {
			placed := 0
			for _, c := range s.count[mi] {
				if c < 0 {
					t.Fatalf("case %d: model %s has %d replicas on an option", i, s.models[mi].Name, c)
				}
				placed += c
			}
			if placed+len(unplaced[mi]) != len(s.pending[mi]) {
				t.Errorf("case %d: model %s: %d placed + %d unplaced, %d new", i, s.models[mi].Name, placed, len(unplaced[mi]), len(s.pending[mi]))
			}
			if !slices.IsSorted(unplaced[mi]) || len(slices.Compact(slices.Clone(unplaced[mi]))) != len(unplaced[mi]) {
				t.Errorf("case %d: model %s: unplaced %v not ascending and distinct", i, s.models[mi].Name, unplaced[mi])
			}
			for _, idx := range unplaced[mi] {
				if !slices.Contains(s.pending[mi], idx) {
					t.Errorf("case %d: model %s: unplaced replica %d is not new", i, s.models[mi].Name, idx)
				}
			}
		}
	}
	t.Logf("%d fleets; %s improved %d", tried, name, better)
	if tried > 0 && better == 0 {
		t.Errorf("%s improved none of %d fleets", name, tried)
	}
}

func anyLeft(unplaced [][]int) bool {
	for _, u := range unplaced {
		if len(u) > 0 {
			return true
		}
	}
	return false
}
