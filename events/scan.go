package events

import "encoding/json"

// A minimal scanner over JSON that json.Valid has accepted: it walks the members of one object
// without decoding them, so an inbound envelope costs no map and no copies. Member names are
// compared exactly (case-sensitively, as JavaScript's `in`); a later duplicate wins, as in
// JSON.parse.

// members iterates over the members of the object that starts at b[0] ('{'); b must be valid
// JSON. A struct rather than a callback, so the caller's variables stay on the stack.
type members struct {
	b     []byte
	i     int
	done  bool
	name  []byte // the member's raw name, without quotes
	value []byte // the member's raw value
}

func newMembers(b []byte) members {
	i := skipSpace(b, 1)
	return members{b: b, i: i, done: b[i] == '}'}
}

// next advances to the next member and reports whether there is one.
func (m *members) next() bool {
	if m.done {
		return false
	}
	b, i := m.b, m.i
	end, esc := skipString(b, i)
	m.name = b[i+1 : end-1]
	if esc {
		var s string
		_ = json.Unmarshal(b[i:end], &s)
		m.name = []byte(s)
	}
	i = skipSpace(b, end)
	i = skipSpace(b, i+1) // ':'
	vend := skipValue(b, i)
	m.value = b[i:vend]
	i = skipSpace(b, vend)
	if b[i] != ',' {
		m.done = true // '}'
	}
	m.i = skipSpace(b, i+1)
	return true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index after the string that starts at b[i] ('"') and whether it holds
// escapes.
func skipString(b []byte, i int) (end int, esc bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			esc = true
			j++
		case '"':
			return j + 1, esc
		}
	}
	return len(b), esc
}

// skipValue returns the index after the value that starts at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		end, _ := skipString(b, i)
		return end
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _ := skipString(b, j)
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) {
		switch b[j] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return j
		}
		j++
	}
	return j
}

// plainString returns the contents of a JSON string token without escapes; ok is false for
// another token or a string with escapes.
func plainString(tok []byte) (s []byte, ok bool) {
	if len(tok) < 2 || tok[0] != '"' {
		return nil, false
	}
	for _, c := range tok[1 : len(tok)-1] {
		if c == '\\' {
			return nil, false
		}
	}
	return tok[1 : len(tok)-1], true
}
