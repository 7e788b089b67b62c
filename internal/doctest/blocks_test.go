package doctest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// block is one ```go block of a Markdown page.
type block struct {
	Page  string // path from the repository root: "README.md", "docs/events.md"
	N     int    // 1-based position among the page's Go blocks
	Src   string
	Title string // the heading the block sits under
}

// Slug names the block in package paths and binaries: readme-1, events-2.
func (b block) Slug() string {
	name := strings.TrimSuffix(filepath.Base(b.Page), ".md")
	return strings.ToLower(name) + "-" + strconv.Itoa(b.N)
}

// Dir is the package directory the block is built as (it exists only in the build overlay).
func (b block) Dir() string { return filepath.Join("internal", "doctest", "blocks", b.Slug()) }

func (b block) String() string {
	return b.Page + " Go block " + strconv.Itoa(b.N) + " (" + b.Title + ")"
}

// IsTest reports whether the block is a test file (package x_test) rather than a program.
func (b block) IsTest() bool {
	first, _, _ := strings.Cut(b.Src, "\n")
	return strings.HasPrefix(first, "package ") && strings.HasSuffix(first, "_test")
}

// repoRoot is the module root, two levels up.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// docPages lists the pages whose Go blocks are tested: the README and every page of docs/.
func docPages(t testing.TB) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(repoRoot(t), "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages := []string{"README.md"}
	for _, d := range docs {
		pages = append(pages, filepath.ToSlash(filepath.Join("docs", filepath.Base(d))))
	}
	if len(pages) < 10 {
		t.Fatalf("found %d pages (README.md and docs/*.md); expected the README and the docs", len(pages))
	}
	return pages
}

// goBlocks returns the ```go blocks of a Markdown page, in order.
func goBlocks(t testing.TB, page string) []block {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), filepath.FromSlash(page)))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []block
	var cur *strings.Builder
	title := ""
	fence := ""
	for _, line := range strings.SplitAfter(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && fence == "" && strings.HasPrefix(trimmed, "```"):
			if trimmed == "```go" {
				cur = &strings.Builder{}
			} else if strings.HasPrefix(trimmed, "```go") {
				// ```go with anything after it would escape the build: say so.
				t.Errorf("%s: a Go block opens with %q; use exactly ```go", page, trimmed)
				fence = "```"
			} else {
				fence = "```"
			}
		case cur == nil && fence != "" && trimmed == fence:
			fence = ""
		case cur != nil && trimmed == "```":
			blocks = append(blocks, block{Page: page, N: len(blocks) + 1, Src: cur.String(), Title: title})
			cur = nil
		case cur != nil:
			cur.WriteString(line)
		case fence == "" && strings.HasPrefix(line, "#"):
			title = strings.TrimSpace(strings.TrimLeft(line, "#"))
		}
	}
	if cur != nil || fence != "" {
		t.Fatalf("%s: a ``` block is never closed", page)
	}
	return blocks
}

// allBlocks returns the Go blocks of every page.
func allBlocks(t testing.TB) []block {
	t.Helper()
	var all []block
	for _, p := range docPages(t) {
		all = append(all, goBlocks(t, p)...)
	}
	return all
}

// findBlock returns the one block of page that contains every string of has.
func findBlock(t testing.TB, page string, has ...string) block {
	t.Helper()
	var found []block
next:
	for _, b := range goBlocks(t, page) {
		for _, h := range has {
			if !strings.Contains(b.Src, h) {
				continue next
			}
		}
		found = append(found, b)
	}
	if len(found) != 1 {
		t.Fatalf("%s: %d Go blocks contain %q; expected exactly one", page, len(found), has)
	}
	return found[0]
}
