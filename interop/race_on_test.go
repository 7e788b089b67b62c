//go:build race

package interop_test

// raceNote marks figures measured with the race detector on: its overhead (5–10× on the Go
// side) is in every rate.
const raceNote = ", race detector on"
