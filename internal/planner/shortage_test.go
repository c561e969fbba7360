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
	rng := rand.New(rand.NewPCG(21, 21))
	short, better := 0, 0
	for i := range n {
		req := randomRequest(t, rng)
		req.Strategy, req.Logger = StrategyCost, hclog.NewNullLogger()
		if len(Validate(req)) > 0 {
			continue
		}
		s, unplaced := start(req, nil, startOpts{})
		if !anyLeft(unplaced) {
			continue
		}
		short++
		before, beforeObj := s.unplacedPerPriority(unplaced), s.obj.of(s)
		s.reshuffle(unplaced)
		after, afterObj := s.unplacedPerPriority(unplaced), s.obj.of(s)
		switch c := comparePerPriority(before, after); {
		case c < 0:
			t.Errorf("case %d: unplaced per priority %v after the shortage search, %v before", i, after, before)
		case c == 0 && afterObj.exceeds(beforeObj):
			t.Errorf("case %d: objective %+v after the shortage search, %+v before", i, afterObj, beforeObj)
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
	t.Logf("%d fleets short of room; the shortage search improved %d", short, better)
	if short > 0 && better == 0 {
		t.Errorf("the shortage search improved none of %d fleets short of room", short)
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
