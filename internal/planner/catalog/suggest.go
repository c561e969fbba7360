package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// NotFoundError is returned by catalog look-ups. Suggestions hold the
// nearest valid names, best first.
type NotFoundError struct {
	Kind        string
	Name        string
	Suggestions []string
}

func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("unknown %s %q", e.Kind, e.Name)
	if len(e.Suggestions) > 0 {
		msg += "; did you mean " + quoteJoin(e.Suggestions) + "?"
	}
	return msg
}

func quoteJoin(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	switch len(quoted) {
	case 1:
		return quoted[0]
	case 2:
		return quoted[0] + " or " + quoted[1]
	}
	return strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
}

// Nearest returns up to n candidates closest to name: exact matches ignoring
// case first, then candidates containing name (or contained in it), then by
// edit distance. Candidates too far away to be a plausible typo are left out.
func Nearest(name string, candidates []string, n int) []string {
	type scored struct {
		name  string
		score int
	}
	want := normalize(name)
	var hits []scored
	for _, c := range candidates {
		norm := normalize(c)
		var score int
		switch {
		case norm == want:
			score = 0
		case want != "" && (strings.Contains(norm, want) || strings.Contains(want, norm)):
			score = 1 + abs(len(norm)-len(want))/4
		default:
			d := levenshtein(want, norm)
			limit := max(2, len(want)/3)
			if d > limit {
				continue
			}
			score = 2 + d
		}
		hits = append(hits, scored{c, score})
	}
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].score != hits[j].score {
			return hits[i].score < hits[j].score
		}
		return hits[i].name < hits[j].name
	})
	out := []string{}
	for i := 0; i < len(hits) && i < n; i++ {
		out = append(out, hits[i].name)
	}
	return out
}

// normalize folds case and the separators people mix up (_ - . space).
func normalize(s string) string {
	s = strings.ToLower(s)
	return strings.Map(func(r rune) rune {
		switch r {
		case '_', ' ':
			return '-'
		}
		return r
	}, s)
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
