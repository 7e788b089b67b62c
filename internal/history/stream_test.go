package history_test

import (
	"slices"
	"testing"

	"github.com/igniter-go/store/internal/history"
)

func TestHistoryStreamAtLeastOnce(t *testing.T) {
	appends := map[string]history.Outcome{"a": history.OK, "b": history.Unknown, "c": history.Failed, "d": history.OK}
	tests := []struct {
		name          string
		handled       []string
		lost, phantom []string
		duplicates    int
	}{
		{"every acknowledged append handled, twice is fine", []string{"a", "d", "a"}, nil, nil, 1},
		{"an append of unknown outcome may be handled", []string{"a", "b", "d"}, nil, nil, 0},
		{"an acknowledged append lost", []string{"a"}, []string{"d"}, nil, 0},
		{"a failed append handled", []string{"a", "c", "d"}, nil, []string{"c"}, 0},
		{"an entry never appended handled", []string{"a", "d", "z", "z"}, nil, []string{"z"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := history.CheckStream(appends, tt.handled)
			if !slices.Equal(r.Lost, tt.lost) || !slices.Equal(r.Phantom, tt.phantom) || r.Duplicates != tt.duplicates {
				t.Fatalf("got %+v, want lost %v phantom %v duplicates %d", r, tt.lost, tt.phantom, tt.duplicates)
			}
			if r.OK() != (len(tt.lost)+len(tt.phantom) == 0) {
				t.Fatalf("OK() = %v for %+v", r.OK(), r)
			}
			t.Log(r)
		})
	}
}
