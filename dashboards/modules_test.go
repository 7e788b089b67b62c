package dashboards_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// testCommand is the repository's one test command (issue 26, item 14): go test in every Go
// module. `go test ./...` at the root stops at this module's go.mod and bench's.
const testCommand = "scripts/test.sh"

// goModules returns the directory of every go.mod under the repository, relative to it ("." for
// the root), as scripts/test.sh finds them.
func goModules(t *testing.T) []string {
	t.Helper()
	var mods []string
	err := filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.Name() == "go.mod" {
			rel, _ := filepath.Rel("..", filepath.Dir(p))
			mods = append(mods, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(mods)
	return mods
}

// TestTheTestCommandCoversEveryModule: scripts/test.sh tests every module of the repository,
// this one included, so a module added later cannot be left out of the README's command.
func TestTheTestCommandCoversEveryModule(t *testing.T) {
	want := goModules(t)
	for _, m := range []string{".", "bench", "dashboards"} {
		if !slices.Contains(want, m) {
			t.Fatalf("the walk found modules %v, missing %s", want, m)
		}
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash on PATH to run " + testCommand)
	}
	out, err := exec.Command("bash", filepath.Join("..", testCommand), "--list").Output()
	if err != nil {
		t.Fatalf("%s --list: %v", testCommand, err)
	}
	got := strings.Fields(string(out))
	if !slices.Equal(got, want) {
		t.Errorf("%s tests the modules %v; the repository has %v", testCommand, got, want)
	}
}

// TestREADMEAndCIRunTheTestCommand: the README gives scripts/test.sh as the command that tests
// the project, and CI runs that same command, not its own list of go test runs.
func TestREADMEAndCIRunTheTestCommand(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), testCommand) {
		t.Errorf("README.md does not give %s as the test command", testCommand)
	}
	ci, err := os.ReadFile("../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	runs := false
	for _, line := range strings.Split(string(ci), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "echo") {
			continue
		}
		if strings.Contains(line, testCommand) {
			runs = true
		}
		if strings.Contains(line, "go test") {
			t.Errorf(".ci/run runs go test itself (%q): run %s, the README's command", line, testCommand)
		}
	}
	if !runs {
		t.Errorf(".ci/run does not run %s", testCommand)
	}
}
