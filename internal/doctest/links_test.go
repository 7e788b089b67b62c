package doctest

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// mdLink matches a Markdown link or image: [text](target) or [text](target "title").
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)

// inlineLink is a link inside a heading, whose text is what the anchor is made of.
var inlineLink = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)

// slug is GitHub's anchor for a heading: its text lowercased, spaces turned into hyphens, and
// every character other than letters, digits, '-' and '_' dropped.
func slug(heading string) string {
	text := inlineLink.ReplaceAllString(heading, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdText returns the lines of a Markdown file outside fenced code blocks.
func mdText(t testing.TB, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	inFence := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
			continue
		}
		if !inFence {
			lines = append(lines, line)
		}
	}
	return lines
}

// anchors returns the anchors of a Markdown file's headings, with GitHub's -1, -2… suffixes
// for repeated ones.
func anchors(t testing.TB, file string) map[string]bool {
	t.Helper()
	seen := map[string]int{}
	out := map[string]bool{}
	for _, line := range mdText(t, file) {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.TrimLeft(line, "#")
		if !strings.HasPrefix(h, " ") {
			continue
		}
		s := slug(strings.TrimSpace(h))
		if n := seen[s]; n > 0 {
			out[s+"-"+strconv.Itoa(n)] = true
		} else {
			out[s] = true
		}
		seen[s]++
	}
	return out
}

// TestDocLinksResolve: every relative link of the README, of docs/ and of the other top-level
// Markdown files points at a file of the repository, and every #anchor at a heading of its page
// (GitHub's anchors), so moving a section cannot silently break a link to it.
func TestDocLinksResolve(t *testing.T) {
	root := repoRoot(t)
	pages := docPages(t)
	pages = append(pages, "BENCHMARKS.md", "RELIABILITY.md")
	cache := map[string]map[string]bool{}
	checked := 0
	for _, page := range pages {
		for _, line := range mdText(t, filepath.Join(root, page)) {
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				file, anchor, _ := strings.Cut(target, "#")
				resolved := page
				if file != "" {
					resolved = path.Join(path.Dir(page), file)
				}
				if strings.HasPrefix(resolved, "../") {
					t.Errorf("%s: link %s leaves the repository", page, target)
					continue
				}
				checked++
				full := filepath.Join(root, filepath.FromSlash(resolved))
				if _, err := os.Stat(full); err != nil {
					t.Errorf("%s: link %s: %s does not exist", page, target, resolved)
					continue
				}
				if anchor == "" || !strings.HasSuffix(resolved, ".md") {
					continue
				}
				if cache[resolved] == nil {
					cache[resolved] = anchors(t, full)
				}
				if !cache[resolved][anchor] {
					t.Errorf("%s: link %s: %s has no heading with the anchor #%s", page, target, resolved, anchor)
				}
			}
		}
	}
	if checked < 50 {
		t.Errorf("checked %d relative links; expected the docs' cross-links (is the link scan broken?)", checked)
	}
}
