package planner

// constraint is one rule every placement keeps, in the manner of a
// kube-scheduler plugin: it owns its state and its messages. try asks every
// constraint whether it refuses a trial; apply and keepPrevious let each
// record what changed; keepPrevious asks each whether a previous replica may
// stay; explain asks each why it refused a model's options, and what would
// lift it. A new kind of constraint is one file implementing this
// interface, added to assignment.filter.
type constraint interface {
	// refuses names the filter that refuses the trial changes of s (see
	// assignment.try), or "" when they keep the constraint.
	refuses(s *assignment) string
	// record updates the constraint's state by one change, applied or kept
	// (a kept replica is one more at its option).
	record(s *assignment, ch change)
	// keeps says why previous replica r of model mi may not stay at option
	// oi, or "" when it may.
	keeps(s *assignment, mi, oi int, r Replica) string
	// explain adds to the explanation of missing replicas of model mi,
	// whose options were refused as s.blocked[mi] records: a detail for the
	// reason ("" for none), and remedies.
	explain(s *assignment, mi, missing int) (detail string, remedies []string)
}

// blockerOf names the constraint that refused option oi of model mi when
// its last replica found no place, "" for none.
func (s *assignment) blockerOf(mi, oi int) string {
	if b := s.blocked[mi]; oi < len(b) {
		return b[oi]
	}
	return ""
}

// refusedBy reports whether a constraint named one of filters refused an
// option of model mi.
func (s *assignment) refusedBy(mi int, filters ...string) bool {
	for _, b := range s.blocked[mi] {
		for _, f := range filters {
			if b == f {
				return true
			}
		}
	}
	return false
}

// trialModels calls visit once for every model the trial changes, in the
// order the trial first names each.
func (s *assignment) trialModels(visit func(mi int)) {
	for i, ch := range s.trial {
		seen := false
		for _, e := range s.trial[:i] {
			seen = seen || e.mi == ch.mi
		}
		if !seen {
			visit(ch.mi)
		}
	}
}
