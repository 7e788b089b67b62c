package redistest

import (
	"regexp"
	"strings"
)

// ignoredCommands are the commands a Go client sends that are not part of an operation.
var ignoredCommands = map[string]bool{"hello": true, "client": true, "ping": true, "multi": true, "exec": true, "select": true}

// Ignored reports whether a MONITOR command (its name first) is connection housekeeping rather
// than part of an operation: HELLO, CLIENT, PING, MULTI, EXEC, SELECT.
func Ignored(cmd []string) bool { return len(cmd) == 0 || ignoredCommands[strings.ToLower(cmd[0])] }

// OperationCommands returns cmds without the Ignored ones.
func OperationCommands(cmds [][]string) [][]string {
	var out [][]string
	for _, c := range cmds {
		if !Ignored(c) {
			out = append(out, c)
		}
	}
	return out
}

// keywords are the tokens compared without regard to case (go-redis sends "ex", ioredis "EX").
var keywords = map[string]bool{"EX": true, "PX": true, "NX": true, "MATCH": true, "COUNT": true, "MAXLEN": true,
	"~": true, "GROUP": true, "STREAMS": true, "CREATE": true, "MKSTREAM": true}

// isoTimestamp is an envelope timestamp as the original writes it; the golden file masks it as
// "<ts>", and the mask only applies where the format is exact.
var isoTimestamp = regexp.MustCompile(`"timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"`)

// MaskTimestamps replaces envelope timestamps with the golden file's "<ts>".
func MaskTimestamps(s string) string {
	return isoTimestamp.ReplaceAllString(s, `"timestamp":"<ts>"`)
}

// SameCommand reports whether a MONITOR command got matches want as the golden file writes
// commands: "<id>" matches a stream id, "<ts>" an exact envelope timestamp, and the command name
// and keywords compare without regard to case.
func SameCommand(want, got []string) bool {
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		switch {
		case want[i] == got[i]:
		case want[i] == "<id>" && strings.Contains(got[i], "-"):
		case strings.Contains(want[i], "<ts>") && MaskTimestamps(got[i]) == want[i]:
		case (i == 0 || keywords[strings.ToUpper(want[i])]) && strings.EqualFold(want[i], got[i]):
		default:
			return false
		}
	}
	return true
}
