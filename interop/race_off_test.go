//go:build !race

package interop_test

// raceNote marks figures measured with the race detector on; this build has it off.
const raceNote = ""
