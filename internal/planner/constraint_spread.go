package planner

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// spreadLimit keeps each model's spread over failure domains: at most its
// share cap per domain (spread.max_share, and the replicas that must
// survive the loss of one domain, min_replicas_on_failure), and at least
// spread.min_domains domains while it has replicas enough. It also counts
// the replicas per domain that the spread strategy's objective scores.
type spreadLimit struct {
	kind       []string // per model: what a domain is, "" for none
	cap        []int    // per model: most replicas in one domain
	minDomains []int    // per model
	// domainOf[mi][oi] indexes names[mi] and counts[mi].
	domainOf [][]int32
	names    [][]string
	counts   [][]int // per model, per domain: replicas, kept and new
	distinct []int   // per model: domains with replicas
	total    []int   // per model: replicas placed
}

// Spread filters, as explanations name them.
const (
	filterSpread  = "spread"
	filterFailure = "min_replicas_on_failure"
)

// Domain names the failure domain of the group for a spread across kind:
// its cloud, its region ("<cloud>/<region>": regions are unique only within
// a cloud), or the group itself.
func (g NodeGroup) Domain(kind string) string {
	switch kind {
	case SpreadRegion:
		return g.Cloud + "/" + g.Region
	case SpreadCloud:
		return g.Cloud
	}
	return g.Name
}

// domainKindOf is what counts as a domain for a model: its spread domain,
// the domain its failure tolerance names, or the cloud under the spread
// strategy; "" for none.
func domainKindOf(m ModelDemand, strategy Strategy) string {
	switch a := m.Spread.Across; {
	case a == SpreadCloud || a == SpreadRegion:
		return a
	case m.MinReplicasOnFailure.Cloud > 0:
		return SpreadCloud
	case m.MinReplicasOnFailure.Region > 0:
		return SpreadRegion
	case strategy == StrategySpread:
		return SpreadCloud
	}
	return ""
}

// shareCap is the most replicas of a model one domain of the given kind may
// hold: the spread's max_share, and the replicas that must survive the
// loss of that domain (min_replicas_on_failure).
func shareCap(m ModelDemand, kind string) int {
	limit := math.MaxInt
	if m.Spread.MaxShare > 0 && (m.Spread.Across == SpreadCloud || m.Spread.Across == SpreadRegion) {
		limit = max(1, int(math.Floor(m.Spread.MaxShare*float64(m.Replicas)+1e-9)))
	}
	if n := m.MinReplicasOnFailure.of(kind); n > 0 {
		limit = min(limit, m.Replicas-n)
	}
	return limit
}

func newSpreadLimit(s *assignment) *spreadLimit {
	m := len(s.models)
	sp := &spreadLimit{kind: make([]string, m), cap: make([]int, m), minDomains: make([]int, m),
		domainOf: make([][]int32, m), names: make([][]string, m), counts: make([][]int, m),
		distinct: make([]int, m), total: make([]int, m)}
	// Domains numbered once per kind over the groups, then per model.
	type numbering struct {
		ofGroup []int
		names   []string
	}
	byKind := map[string]*numbering{}
	for mi, md := range s.models {
		kind := domainKindOf(md, s.req.Strategy)
		sp.kind[mi], sp.cap[mi], sp.minDomains[mi] = kind, shareCap(md, kind), md.Spread.MinDomains
		if kind == "" {
			continue
		}
		num := byKind[kind]
		if num == nil {
			num = &numbering{ofGroup: make([]int, len(s.groups))}
			index := map[string]int{}
			for gi := range s.groups {
				name := s.groups[gi].Domain(kind)
				d, ok := index[name]
				if !ok {
					d = len(num.names)
					index[name] = d
					num.names = append(num.names, name)
				}
				num.ofGroup[gi] = d
			}
			byKind[kind] = num
		}
		local := make([]int, len(num.names))
		for i := range local {
			local[i] = -1
		}
		sp.domainOf[mi] = make([]int32, len(s.opts[mi]))
		for oi, o := range s.opts[mi] {
			g := num.ofGroup[o.group]
			if local[g] < 0 {
				local[g] = len(sp.names[mi])
				sp.names[mi] = append(sp.names[mi], num.names[g])
			}
			sp.domainOf[mi][oi] = int32(local[g])
		}
		sp.counts[mi] = make([]int, len(sp.names[mi]))
	}
	return sp
}

// domainShift is the change of one domain's replicas in a trial.
type domainShift struct{ domain, delta int }

// shifts sums the trial's changes for model mi per domain, into buf.
func (sp *spreadLimit) shifts(s *assignment, mi int, buf []domainShift) []domainShift {
	buf = buf[:0]
	for _, ch := range s.trial {
		if ch.mi != mi || ch.delta == 0 {
			continue
		}
		d := int(sp.domainOf[mi][ch.oi])
		found := false
		for i := range buf {
			if buf[i].domain == d {
				buf[i].delta += ch.delta
				found = true
			}
		}
		if !found {
			buf = append(buf, domainShift{d, ch.delta})
		}
	}
	return buf
}

func (sp *spreadLimit) refuses(s *assignment) string {
	if !sp.concerns(s) {
		return ""
	}
	why := ""
	var buf [4]domainShift
	s.trialModels(func(mi int) {
		if sp.kind[mi] == "" || why != "" {
			return
		}
		distinct, total := sp.distinct[mi], sp.total[mi]
		for _, sh := range sp.shifts(s, mi, buf[:0]) {
			before := sp.counts[mi][sh.domain]
			after := before + sh.delta
			if sh.delta > 0 && after > sp.cap[mi] {
				why = filterSpread
				if s.models[mi].MinReplicasOnFailure.of(sp.kind[mi]) > 0 {
					why = filterFailure
				}
				return
			}
			total += sh.delta
			switch {
			case before == 0 && after > 0:
				distinct++
			case before > 0 && after == 0:
				distinct--
			}
		}
		// While replicas are enough to cover min_domains, a change may not
		// leave fewer domains than that: a new replica opens a domain until
		// min_domains are covered, and a move may not empty one below it.
		short := func(distinct, total int) int { return min(sp.minDomains[mi], total) - distinct }
		if after := short(distinct, total); after > 0 && (after > short(sp.distinct[mi], sp.total[mi]) || total > sp.total[mi]) {
			why = filterSpread
		}
	})
	return why
}

func (sp *spreadLimit) record(_ *assignment, ch change) {
	mi := ch.mi
	if sp.kind[mi] == "" {
		return
	}
	d := int(sp.domainOf[mi][ch.oi])
	before := sp.counts[mi][d]
	sp.counts[mi][d] += ch.delta
	sp.total[mi] += ch.delta
	switch after := sp.counts[mi][d]; {
	case before == 0 && after > 0:
		sp.distinct[mi]++
	case before > 0 && after == 0:
		sp.distinct[mi]--
	}
}

// concerns reports whether the trial changes a model with a domain.
func (sp *spreadLimit) concerns(s *assignment) bool {
	for _, ch := range s.trial {
		if sp.kind[ch.mi] != "" {
			return true
		}
	}
	return false
}

// imbalanceChange is the change of Σ replicas² per domain by the trial.
func (sp *spreadLimit) imbalanceChange(s *assignment) int {
	if !sp.concerns(s) {
		return 0
	}
	total := 0
	var buf [4]domainShift
	s.trialModels(func(mi int) {
		if sp.kind[mi] == "" {
			return
		}
		for _, sh := range sp.shifts(s, mi, buf[:0]) {
			c := sp.counts[mi][sh.domain]
			total += (c+sh.delta)*(c+sh.delta) - c*c
		}
	})
	return total
}

// imbalance is Σ replicas² per domain over every model with a domain.
func (sp *spreadLimit) imbalance() int {
	total := 0
	for mi, counts := range sp.counts {
		if sp.kind[mi] == "" {
			continue
		}
		for _, c := range counts {
			total += c * c
		}
	}
	return total
}

func (sp *spreadLimit) keeps(_ *assignment, mi, oi int, _ Replica) string {
	if sp.kind[mi] == "" {
		return ""
	}
	if d := sp.domainOf[mi][oi]; sp.counts[mi][d] >= sp.cap[mi] {
		return fmt.Sprintf("the spread allows no more replicas in %s %q", sp.kind[mi], sp.names[mi][d])
	}
	return ""
}

func (sp *spreadLimit) explain(s *assignment, mi, _ int) (string, []string) {
	md, kind := s.models[mi], sp.kind[mi]
	var detail string
	var remedies []string
	if s.refusedBy(mi, filterFailure) {
		var full []string
		for d, c := range sp.counts[mi] {
			if c >= sp.cap[mi] {
				full = append(full, fmt.Sprintf("%q", sp.names[mi][d]))
			}
		}
		sort.Strings(full)
		detail = fmt.Sprintf("; %s %s already hold %d replicas each, the most one %s may hold while %d must survive its loss",
			kind, strings.Join(full, ", "), sp.cap[mi], kind, md.MinReplicasOnFailure.of(kind))
		remedies = append(remedies, fmt.Sprintf("add a node group in another %s: at most %d replicas of %q may run in one", kind, sp.cap[mi], md.Name))
	}
	if s.refusedBy(mi, filterSpread) {
		var fixes []string
		if md.Spread.MaxShare > 0 {
			fixes = append(fixes, fmt.Sprintf("raise spread.max_share of %q", md.Name))
		}
		if md.Spread.MinDomains > 1 && sp.distinct[mi] < md.Spread.MinDomains {
			fixes = append(fixes, fmt.Sprintf("lower spread.min_domains of %q", md.Name))
		}
		remedies = append(remedies, strings.Join(append(fixes, fmt.Sprintf("add node groups in more %s domains", kind)), " or "))
	}
	return detail, remedies
}
