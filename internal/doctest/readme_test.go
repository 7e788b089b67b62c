package doctest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// goBlocks returns the ```go blocks of a Markdown file, in order.
func goBlocks(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	var cur *strings.Builder
	for _, line := range strings.SplitAfter(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && trimmed == "```go":
			cur = &strings.Builder{}
		case cur != nil && trimmed == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line)
		}
	}
	if cur != nil {
		t.Fatalf("%s: a ```go block is never closed", path)
	}
	return blocks
}

// TestReadmeGoBlocksBuild compiles every Go block of the README as the program a
// user would paste into a main.go inside this module (go build with a file overlay, so nothing
// is written into the tree). A block that is not a whole program fails: fragments with unused
// results or unchecked errors are what users paste and then cannot compile.
func TestReadmeGoBlocksBuild(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	blocks := goBlocks(t, filepath.Join(root, "README.md"))
	if len(blocks) < 5 {
		t.Fatalf("the README has %d Go blocks; expected the quick start, events, streams, observability and leases at least", len(blocks))
	}
	tmp := t.TempDir()
	overlay := map[string]string{}
	var pkgs []string
	for i, b := range blocks {
		if !strings.HasPrefix(b, "package main\n") {
			t.Errorf("README Go block %d does not start with \"package main\": every block must be a whole program\n%s", i+1, b)
			continue
		}
		src := filepath.Join(tmp, "block"+strconv.Itoa(i+1)+".go")
		if err := os.WriteFile(src, []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(root, "internal", "doctest", "readme"+strconv.Itoa(i+1))
		overlay[filepath.Join(dir, "main.go")] = src
		pkgs = append(pkgs, "./internal/doctest/readme"+strconv.Itoa(i+1))
	}
	if t.Failed() {
		return
	}
	ov, err := json.Marshal(map[string]any{"Replace": overlay})
	if err != nil {
		t.Fatal(err)
	}
	ovPath := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(ovPath, ov, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", append([]string{"build", "-overlay", ovPath}, pkgs...)...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("README Go blocks do not build as pasted (block N is internal/doctest/readmeN):\n%s", out)
	}
}
