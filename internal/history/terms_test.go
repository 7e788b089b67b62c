package history

import (
	"strings"
	"testing"
)

// The leader check on small sets of terms: a term beginning before an earlier one ended is an
// overlap, a fence not larger than the previous term's an inversion, both named in the report;
// touching terms are fine; an overlap with a term live while Redis lost the lease is excused,
// an inversion is not.
func TestHistoryCheckTerms(t *testing.T) {
	term := func(id int, fence, start, end int64) Term {
		return Term{ID: id, Candidate: id % 2, Fence: fence, Start: start, End: end}
	}
	for _, tc := range []struct {
		name                 string
		terms                []Term
		lossy                []window
		overlaps, inversions int
		excused              int
		names                string
	}{
		{"InOrder", []Term{term(0, 1, 0, 10), term(1, 2, 10, 20), term(2, 5, 25, 30)}, nil, 0, 0, 0, ""},
		{"Overlap", []Term{term(0, 1, 0, 10), term(1, 2, 9, 20)}, nil, 1, 0, 0, "#0 candidate 0 fence 1"},
		{"OverlapWithAnEarlierLongTerm", []Term{term(0, 1, 0, 50), term(1, 2, 10, 20), term(2, 3, 30, 40)}, nil, 2, 0, 0, "#2 candidate 0 fence 3"},
		{"Inversion", []Term{term(0, 3, 0, 10), term(1, 2, 10, 20)}, nil, 0, 1, 0, "fence not larger"},
		{"OverlapAcrossDataLoss", []Term{term(0, 1, 0, 10), term(1, 2, 6, 20)}, []window{{5, 6}}, 0, 0, 1, ""},
		{"InversionAcrossDataLoss", []Term{term(0, 3, 0, 10), term(1, 2, 6, 20)}, []window{{5, 6}}, 0, 1, 1, "fence not larger"},
	} {
		r := checkTerms(tc.terms, tc.lossy)
		t.Logf("%s: %s", tc.name, r)
		if len(r.Overlaps) != tc.overlaps || len(r.Inversions) != tc.inversions || r.Excused != tc.excused {
			t.Errorf("%s: %d overlaps, %d inversions, %d excused; want %d, %d, %d", tc.name,
				len(r.Overlaps), len(r.Inversions), r.Excused, tc.overlaps, tc.inversions, tc.excused)
		}
		if r.OK() != (tc.overlaps+tc.inversions == 0) || !strings.Contains(r.String(), tc.names) {
			t.Errorf("%s: OK %v, report does not name %q:\n%s", tc.name, r.OK(), tc.names, r)
		}
	}
}
