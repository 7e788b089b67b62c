package doctest

import (
	"encoding/json"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// overlay writes the blocks into tmp and returns a go build overlay file that places each one
// in its package directory (main.go for a program, block_test.go for a test file), so nothing
// is written into the tree.
func overlay(t testing.TB, root, tmp string, blocks []block) string {
	t.Helper()
	replace := map[string]string{}
	for _, b := range blocks {
		src := filepath.Join(tmp, b.Slug()+".go")
		if err := os.WriteFile(src, []byte(b.Src), 0o644); err != nil {
			t.Fatal(err)
		}
		name := "main.go"
		if b.IsTest() {
			name = "block_test.go"
		}
		replace[filepath.Join(root, b.Dir(), name)] = src
	}
	ov, err := json.Marshal(map[string]any{"Replace": replace})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(path, ov, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func pkgPath(b block) string { return "./" + filepath.ToSlash(b.Dir()) }

// TestGoBlocksBuild compiles every Go block of the README and of docs/ as the file a user would
// paste into this module: a program (package main) with go build, a test file (package x_test)
// with go test -c, through a file overlay. A block that is not a whole file fails:
// fragments with unused results or unchecked errors are what users paste and then cannot
// compile. Blocks must also be gofmt-formatted, as pasted code is.
func TestGoBlocksBuild(t *testing.T) {
	root := repoRoot(t)
	blocks := allBlocks(t)
	if n := len(goBlocks(t, "README.md")); n != 1 {
		t.Errorf("the README has %d Go blocks; it should have the quick start only (the rest lives in docs/)", n)
	}
	if len(blocks) < 15 {
		t.Fatalf("README.md and docs/ have %d Go blocks; expected the quick start, the tour, events, streams, leases, observability, the recipes…", len(blocks))
	}
	var tests []block
	for _, b := range blocks {
		switch {
		case isProgram(b):
		case b.IsTest():
			tests = append(tests, b)
		default:
			t.Errorf("%s starts with neither \"package main\" nor \"package …_test\": every block must be a whole file\n%s", b, b.Src)
			continue
		}
		if formatted, err := format.Source([]byte(b.Src)); err != nil {
			t.Errorf("%s does not parse: %v", b, err)
		} else if string(formatted) != b.Src {
			t.Errorf("%s is not gofmt-formatted; gofmt gives:\n%s", b, formatted)
		}
	}
	if t.Failed() {
		return
	}
	if _, out, err := buildPrograms(t); err != nil {
		t.Errorf("Go blocks do not build as pasted (internal/doctest/blocks/<page>-<n> is block n of the page):\n%s", out)
	}
	if len(tests) == 0 {
		return
	}
	ov := overlay(t, root, t.TempDir(), tests)
	// -c: compile and link the test binaries without running them (go test would run them in
	// their package directory, which exists only in the overlay); vet needs it too.
	args := []string{"test", "-c", "-vet=off", "-overlay", ov, "-o", t.TempDir()}
	for _, b := range tests {
		args = append(args, pkgPath(b))
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("Go test blocks do not compile as pasted (internal/doctest/blocks/<page>-<n> is block n of the page):\n%s", out)
	}
}

func isProgram(b block) bool { return strings.HasPrefix(b.Src, "package main\n") }

// built holds the binaries of every program block, built once per test binary.
var built struct {
	once sync.Once
	dir  string
	out  []byte
	err  error
}

// buildPrograms builds every program block of the README and docs/ into one directory, once
// (go build links them in parallel), and returns the directory (binary <page>-<n> is block n of
// the page), go build's output and its error.
func buildPrograms(t testing.TB) (string, []byte, error) {
	t.Helper()
	root := repoRoot(t)
	blocks := allBlocks(t)
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "doctest-blocks-")
		if built.err != nil {
			return
		}
		var progs []block
		for _, b := range blocks {
			if isProgram(b) {
				progs = append(progs, b)
			}
		}
		ov := overlay(t, root, built.dir, progs)
		args := []string{"build", "-overlay", ov, "-o", built.dir + string(filepath.Separator)}
		for _, b := range progs {
			args = append(args, pkgPath(b))
		}
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		built.out, built.err = cmd.CombinedOutput()
	})
	return built.dir, built.out, built.err
}

// removeBuilt deletes the binaries (TestMain calls it).
func removeBuilt() {
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
}
