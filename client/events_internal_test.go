package client

import "time"

// SetPubSubHealthInterval shortens the subscriber's health check for a test and returns the
// function that restores it.
func SetPubSubHealthInterval(d time.Duration) (restore func()) {
	old := healthInterval.Swap(int64(d))
	return func() { healthInterval.Store(old) }
}
