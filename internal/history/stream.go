package history

import (
	"fmt"
	"slices"
	"strings"
)

// StreamReport is the verdict of [CheckStream].
type StreamReport struct {
	// Lost are acknowledged appends that no handler saw.
	Lost []string
	// Phantom are handled entries that no append can explain: never appended, or appended by a
	// call that certainly failed.
	Phantom []string
	// Duplicates counts entries handled more than once (allowed: at least once).
	Duplicates int
}

// OK reports whether the stream kept its promise.
func (r StreamReport) OK() bool { return len(r.Lost) == 0 && len(r.Phantom) == 0 }

func (r StreamReport) String() string {
	if r.OK() {
		return fmt.Sprintf("at least once: ok (%d handled more than once)", r.Duplicates)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "at least once: BROKEN: %d acknowledged appends never handled, %d handled entries never appended\n",
		len(r.Lost), len(r.Phantom))
	for _, p := range r.Lost {
		fmt.Fprintf(&b, "  lost: %s\n", p)
	}
	for _, p := range r.Phantom {
		fmt.Fprintf(&b, "  phantom: %s\n", p)
	}
	return b.String()
}

// CheckStream is the set check of a stream consumed by a group, at least once: every append
// whose outcome is [OK] was handled, and every handled payload was appended by a call whose
// outcome is OK or [Unknown]. appends maps each payload (unique per append) to its outcome;
// handled lists the payloads handlers saw, duplicates included.
func CheckStream(appends map[string]Outcome, handled []string) StreamReport {
	var r StreamReport
	seen := map[string]int{}
	for _, p := range handled {
		seen[p]++
		if seen[p] == 2 {
			r.Duplicates++
		}
		if o, ok := appends[p]; (!ok || o == Failed) && seen[p] == 1 {
			r.Phantom = append(r.Phantom, p)
		}
	}
	for p, o := range appends {
		if o == OK && seen[p] == 0 {
			r.Lost = append(r.Lost, p)
		}
	}
	slices.Sort(r.Lost)
	slices.Sort(r.Phantom)
	return r
}
