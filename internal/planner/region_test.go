package planner

import (
	"slices"
	"testing"

	"github.com/mcllm/terraform-provider-mcllm/internal/planner/memory"
)

// Three single-GPU groups of one node each, and three models that each fit
// a smaller set of them: the 32B only the A100, the 14B the A100 or the
// L40S, the 8B any. With the 14B on the A100 and the 8B on the L40S, the
// 32B waits, and only a rotation of all three places it: no trade of one
// model for another, and no move of one model, helps on its own.
func TestRegionSearchFindsARotation(t *testing.T) {
	a100 := group(t, "a100", "azure/Standard_NC24ads_A100_v4", 1)
	l40s := group(t, "l40s", "aws/g6e.xlarge", 1)
	l4 := group(t, "l4", "aws/g6.xlarge", 1)
	large := demand(t, "large", "qwen2.5-32b", memory.BF16, 4096, 1, 1)
	medium := demand(t, "medium", "qwen2.5-14b", memory.BF16, 4096, 1, 1)
	small := demand(t, "small", "llama-3.1-8b", memory.BF16, 4096, 1, 1)
	for _, m := range []*ModelDemand{&large, &medium, &small} {
		m.TensorParallel = 1
	}
	s := fixedAssignment(t, Request{NodeGroups: []NodeGroup{a100, l40s, l4}, Models: []ModelDemand{large, medium, small}})
	if hasOption(s, "large", "l40s") {
		t.Fatal("the 32B should not fit the L40S")
	}
	if hasOption(s, "medium", "l4") {
		t.Fatal("the 14B should not fit the L4")
	}
	mi, mo := opt(t, s, "medium", "a100")
	si, so := opt(t, s, "small", "l40s")
	li, _ := opt(t, s, "large", "a100")
	s.apply(change{mi, mo, 1}, change{si, so, 1}) // as if the greedy had put them there
	unplaced := make([][]int, len(s.models))
	unplaced[li] = []int{0}

	if s.exchange(slices.Clone(unplaced)) {
		t.Fatal("a trade placed the 32B: the fleet no longer needs a rotation")
	}
	if !s.regionSearch(unplaced) {
		t.Fatal("the region search changed nothing")
	}
	for _, want := range [][2]string{{"large", "a100"}, {"medium", "l40s"}, {"small", "l4"}} {
		m, o := opt(t, s, want[0], want[1])
		if s.count[m][o] != 1 {
			t.Errorf("%s should run on %s: counts %v", want[0], want[1], s.count)
		}
	}
	for m := range unplaced {
		if len(unplaced[m]) > 0 {
			t.Errorf("%s still unplaced: %v", s.models[m].Name, unplaced[m])
		}
	}
}

// hasOption reports whether model has an option on group.
func hasOption(s *assignment, model, group string) bool {
	for mi, m := range s.models {
		if m.Name == model {
			return s.optionOn(mi, s.groupIndex(group)) >= 0
		}
	}
	return false
}

// The splits of a total over n entries come each once, in decreasing
// lexicographic order, and number C(total+n-1, n-1).
func TestSplitsEnumerateEveryComposition(t *testing.T) {
	for n := 1; n <= 4; n++ {
		for total := 0; total <= 6; total++ {
			counts := make([]int, n)
			var seen [][]int
			for ok := firstSplit(counts, total); ok; ok = nextSplit(counts) {
				sum := 0
				for _, c := range counts {
					if c < 0 {
						t.Fatalf("n %d total %d: negative entry in %v", n, total, counts)
					}
					sum += c
				}
				if sum != total {
					t.Fatalf("n %d total %d: %v sums to %d", n, total, counts, sum)
				}
				if k := len(seen); k > 0 && slices.Compare(seen[k-1], counts) <= 0 {
					t.Fatalf("n %d total %d: %v after %v", n, total, counts, seen[k-1])
				}
				seen = append(seen, slices.Clone(counts))
			}
			if want := binomial(total+n-1, n-1); len(seen) != want {
				t.Errorf("n %d total %d: %d splits, want %d", n, total, len(seen), want)
			}
		}
	}
	if firstSplit(nil, 1) || !firstSplit(nil, 0) {
		t.Error("no entries: only a total of 0 splits")
	}
}

// Every pair is a region; larger sets while there are at most regionSets
// of their size; and never a set without a new replica.
func TestRegionsAreTheSetsWorthASearch(t *testing.T) {
	for _, tc := range []struct{ groups, want int }{
		{2, 1}, {4, 6 + 4 + 1}, {6, 15 + 20 + 15 + 6 + 1}, {8, 28 + 56}, {10, 45},
	} {
		s := &assignment{groups: make([]NodeGroup, tc.groups), models: []ModelDemand{{Name: "m"}}}
		s.opts, s.count = [][]option{make([]option, tc.groups)}, [][]int{make([]int, tc.groups)}
		for gi := range tc.groups {
			s.opts[0][gi].group = gi
			s.count[0][gi] = 1
		}
		if got := len(s.regions()); got != tc.want {
			t.Errorf("%d groups: %d regions, want %d", tc.groups, got, tc.want)
		}
		s.count[0] = make([]int, tc.groups)
		s.count[0][0] = 1 // only the first group holds a replica
		for _, r := range s.regions() {
			if r[0] != 0 {
				t.Errorf("%d groups: region %v holds no replica", tc.groups, r)
			}
		}
	}
}
