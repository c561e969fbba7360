package provider

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
)

// int64Between checks a number in [lo, hi]: for estimator figures that are
// pinned by a tolerance, not to the byte.
func int64Between(lo, hi int64) knownvalue.Check { return betweenCheck{lo, hi} }

type betweenCheck struct{ lo, hi int64 }

func (c betweenCheck) CheckValue(v any) error {
	n, ok := v.(json.Number)
	if !ok {
		return fmt.Errorf("expected a number, got %T", v)
	}
	i, err := n.Int64()
	if err != nil {
		return err
	}
	if i < c.lo || i > c.hi {
		return fmt.Errorf("%d is outside [%d, %d]", i, c.lo, c.hi)
	}
	return nil
}

func (c betweenCheck) String() string { return fmt.Sprintf("between %d and %d", c.lo, c.hi) }

// errorText matches an expected error message in CLI output, which wraps
// long lines: every run of spaces in want matches any run of white space.
func errorText(want string) *regexp.Regexp {
	parts := strings.Fields(want)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile(strings.Join(parts, `\s+`))
}

// sumsTo checks a map of numbers that adds up to total.
func sumsTo(total int64) knownvalue.Check { return sumCheck{total} }

type sumCheck struct{ total int64 }

func (c sumCheck) CheckValue(v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("expected a map, got %T", v)
	}
	var sum int64
	for _, x := range m {
		n, err := x.(json.Number).Int64()
		if err != nil {
			return err
		}
		sum += n
	}
	if sum != c.total {
		return fmt.Errorf("values %v sum to %d, want %d", m, sum, c.total)
	}
	return nil
}

func (c sumCheck) String() string { return fmt.Sprintf("sums to %d", c.total) }
