package history

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Term is one term of leadership as its candidate saw it: from the moment its campaign returned
// (it leads from then on) to the moment its work had to stop, as the leader itself computed it
// (the term's context ended: the lease may be lost soon) or as the candidate chose (it resigned,
// stopping its work first). Times are the recorder's nanoseconds.
type Term struct {
	ID         int // the record's
	Candidate  int
	Fence      int64
	Start, End int64
	// Lost: the term ended because the leader found it could no longer be sure of its lease.
	Lost bool
}

func (t Term) String() string {
	how := "resigned"
	if t.Lost {
		how = "lost"
	}
	return fmt.Sprintf("#%d candidate %d fence %d [%v, %v] %s", t.ID, t.Candidate, t.Fence,
		time.Duration(t.Start), time.Duration(t.End), how)
}

// TermsReport is the verdict of [CheckTerms].
type TermsReport struct {
	Terms int
	// Overlaps are pairs of terms live at once; Inversions pairs of consecutive terms (by start)
	// whose fences do not strictly increase.
	Overlaps, Inversions [][2]Term
	// Excused counts overlaps with a term that was live while Redis may have lost the lease (a
	// restart without persistence, a failover's loss window): documented, not an anomaly.
	Excused int
}

// OK reports whether the leader kept its promises.
func (r TermsReport) OK() bool { return len(r.Overlaps) == 0 && len(r.Inversions) == 0 }

func (r TermsReport) String() string {
	if r.OK() {
		return fmt.Sprintf("leader: ok (%d terms, %d overlaps excused by data loss)", r.Terms, r.Excused)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "leader: BROKEN: %d pairs of terms live at once, %d fences out of order, in %d terms\n",
		len(r.Overlaps), len(r.Inversions), r.Terms)
	show := func(what string, pairs [][2]Term) {
		for i, p := range pairs {
			if i == concurrentOps {
				fmt.Fprintf(&b, "  …\n")
				return
			}
			fmt.Fprintf(&b, "  %s:\n    %s\n    %s\n", what, p[0], p[1])
		}
	}
	show("overlap (the second began before the first ended)", r.Overlaps)
	show("fence not larger than the previous term's", r.Inversions)
	return b.String()
}

// CheckTerms checks a leader's promises on terms: at most one term is live at a time (each term
// begins after every term that began before it has ended), and fences strictly increase in the
// order the terms began.
func CheckTerms(terms []Term) TermsReport { return checkTerms(terms, nil) }

// excuseFor bounds an excused overlap: the old term must end within it of the later of the new
// term's start and the data loss (its next extension, due within TTL/3, ends it).
var excuseFor = int64(LeaderTTL)

// checkTerms is CheckTerms where Redis may have lost the lease in the lossy windows (a restart
// without persistence, a failover's loss window): a term live during one of them may overlap a
// term that began after the window began, as the leader package documents (the old term learns
// of the loss at its next extension); fences must still increase.
func checkTerms(terms []Term, lossy []window) TermsReport {
	terms = slices.Clone(terms)
	slices.SortStableFunc(terms, func(a, b Term) int { return cmp.Compare(a.Start, b.Start) })
	r := TermsReport{Terms: len(terms)}
	for i, cur := range terms {
		if cur.End < cur.Start || cur.End == 0 {
			r.Overlaps = append(r.Overlaps, [2]Term{cur, cur}) // malformed: ends before it starts
			continue
		}
		if i > 0 && cur.Fence <= terms[i-1].Fence {
			r.Inversions = append(r.Inversions, [2]Term{terms[i-1], cur})
		}
		for _, prev := range terms[:i] {
			if cur.Start >= prev.End {
				continue
			}
			if excusedOverlap(prev, cur, lossy) {
				r.Excused++
				continue
			}
			r.Overlaps = append(r.Overlaps, [2]Term{prev, cur})
		}
	}
	return r
}

// excusedOverlap reports whether prev was live in a window of lossy that began before cur did.
func excusedOverlap(prev, cur Term, lossy []window) bool {
	for _, w := range lossy {
		if prev.Start < w.to && prev.End > w.from && w.from <= cur.Start && prev.End-max(cur.Start, w.from) <= excuseFor {
			return true
		}
	}
	return false
}
