package history

import (
	"math/rand/v2"
	"time"

	"github.com/igniter-go/store/client"
)

// StreamCellLosing is [StreamCell] with a planted defect: every nth delivery is acked without
// being handled, as a handler that acks before its work and crashes.
func StreamCellLosing(n int) Cell { return streamCell{consumers: 2, losing: n} }

// LeaderCellWith is [LeaderCell] with other candidates (a planted broken leader) that keep
// every term they win for hold, or until it ends.
func LeaderCellWith(label string, hold time.Duration, candidates func(st *client.Store, name string, n int) ([]LeaderCandidate, error)) Cell {
	return leaderCell{label: label, candidates: candidates, hold: func(*rand.Rand) time.Duration { return hold }}
}
