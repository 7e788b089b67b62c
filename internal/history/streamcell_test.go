package history_test

import (
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"

	"github.com/igniter-go/store/internal/history"
)

// The stream cell: appends recorded ok/failed/unknown, a consumer group's two consume loops
// handling them under each fault, and CheckStream: every acknowledged append handled, nothing
// handled that was never appended. runRound also fails when the loops handled nothing.
func TestHistoryStreamLostReplies(t *testing.T) { runStreamCell(t, history.LostReply) }
func TestHistoryStreamKilledConnections(t *testing.T) {
	runStreamCell(t, history.KillConnections)
}
func TestHistoryStreamFrozenServer(t *testing.T) { runStreamCell(t, history.Freeze) }
func TestHistoryStreamRestart(t *testing.T)      { runStreamCell(t, history.Restart) }

// After a restart without persistence the stream and its group are gone: acknowledged appends
// called before it may be lost (documented), every one called after it must be handled by the
// re-created group, and nothing may be handled that was not appended.
func TestHistoryStreamRestartWithoutPersistence(t *testing.T) {
	runStreamCell(t, history.RestartWipe)
}

func runStreamCell(t *testing.T, f history.Fault) {
	t.Parallel()
	r := runRound(t, newCell(history.StreamCell(), f)) // fails when no append was acknowledged or handled
	assertVerdict(t, history.Result{Verdict: r.Verdict, Report: r.Report}, true)
}

// The stream check catches a consumer that loses entries (acks every 7th delivery without
// handling it), under lost replies, and names the lost appends.
func TestHistoryPlantedStreamConsumerLosesEntries(t *testing.T) {
	t.Parallel()
	r := runRound(t, newCell(history.StreamCellLosing(7), history.LostReply))
	t.Logf("report:\n%s", r.Report)
	if r.Verdict != porcupine.Illegal || !strings.Contains(r.Report, "lost #") {
		t.Fatalf("verdict %s, want Illegal with the lost appends named", r.Verdict)
	}
}
