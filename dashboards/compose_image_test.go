package dashboards_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/igniter-go/store/dashboards"
)

// composeTop is what these tests read of docker-compose.yml beyond composeFile: the top-level
// keys and each service's build section.
type composeTop struct {
	Version  *string `yaml:"version"`
	Services map[string]struct {
		Image string `yaml:"image"`
		Build *struct {
			Context    string `yaml:"context"`
			Dockerfile string `yaml:"dockerfile"`
		} `yaml:"build"`
		Command    []string `yaml:"command"`
		Entrypoint []string `yaml:"entrypoint"`
	} `yaml:"services"`
}

// TestComposeLoadtestRunsABuiltImage: the load test runs from the image the Dockerfile builds
// (a small base holding the compiled binary), not from `go run` inside a golang image, which
// compiled and fetched modules on every start (issue 26, item 15); and the file has no obsolete
// top-level version key (Compose ignores it and warns).
func TestComposeLoadtestRunsABuiltImage(t *testing.T) {
	var c composeTop
	readYAML(t, "../docker-compose.yml", &c)
	if c.Version != nil {
		t.Errorf("docker-compose.yml has the obsolete top-level version key (%q)", *c.Version)
	}
	lt, ok := c.Services["loadtest"]
	if !ok {
		t.Fatal("docker-compose.yml has no loadtest service")
	}
	if lt.Build == nil || lt.Build.Context != "." {
		t.Fatalf("the loadtest service is not built from the repository (build: %+v)", lt.Build)
	}
	if strings.HasPrefix(lt.Image, "golang") {
		t.Errorf("the loadtest service runs the %s image", lt.Image)
	}
	for _, arg := range append(lt.Entrypoint, lt.Command...) {
		if arg == "go" || arg == "run" || strings.HasPrefix(arg, "./") {
			t.Errorf("the loadtest service runs %q: it should run the built image's binary with flags only (%v)", arg, lt.Command)
		}
	}
	dockerfile := lt.Build.Dockerfile
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	b, err := os.ReadFile(filepath.Join("..", lt.Build.Context, dockerfile))
	if err != nil {
		t.Fatal(err)
	}
	checkDockerfile(t, string(b))
}

// checkDockerfile checks the load-test Dockerfile: a golang build stage that builds ./loadtest,
// then a final stage on another (small) base whose entrypoint is that binary.
func checkDockerfile(t *testing.T, text string) {
	t.Helper()
	var froms []string
	var build, entry string
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			froms = append(froms, f[1])
		case "RUN":
			if strings.Contains(line, "go build") {
				build = line
			}
		case "ENTRYPOINT":
			entry = strings.Join(f[1:], " ")
		}
	}
	if len(froms) < 2 {
		t.Fatalf("the Dockerfile has %d stage(s) (%v): want a build stage and a run stage", len(froms), froms)
	}
	if !strings.HasPrefix(froms[0], "golang:") {
		t.Errorf("the build stage is FROM %s, want golang", froms[0])
	}
	if last := froms[len(froms)-1]; strings.HasPrefix(last, "golang") {
		t.Errorf("the run stage is FROM %s: run the binary from a small base, not the Go toolchain", last)
	}
	if !strings.Contains(build, "./loadtest") || !strings.Contains(build, "CGO_ENABLED=0") {
		t.Errorf("the Dockerfile does not build a static ./loadtest binary: %q", build)
	}
	if !strings.Contains(entry, "loadtest") {
		t.Errorf("the image's ENTRYPOINT is %q, want the loadtest binary", entry)
	}
}

// grafanaSchemaVersions is, for each Grafana release line the compose file may pin, the newest
// dashboard schemaVersion it knows (DASHBOARD_SCHEMA_VERSION in Grafana's
// public/app/features/dashboard/state/DashboardMigrator.ts, the version its migrator brings a
// dashboard to). A dashboard with a newer schemaVersion than its Grafana knows is not migrated
// and may be misread. Sources:
//   - 41 (timepicker.time_options removed): grafana/grafana#100135 (frontend) and #100554
//     (backend), merged February 2025, so in 11.6 (March 2025) and 12.0/12.1 (May, July 2025);
//     grafana-foundation-sdk's v11.6.x branch also generates schemaVersion 41.
//   - 42 (hideFrom.viz implies hideFrom.tooltip): grafana/grafana#106857, merged August 2025
//     (with grafana/scenes v6.29.6, 2025-08-11), backend #110517 (September 2025): first in 12.2.
//     Grafana's apps/dashboard/pkg/migration/schemaversion/README.md: "Schema version 42 is the
//     final version for the v1 dashboard API", so later lines stay at 42.
//
// Pinning a Grafana line missing here fails the test: add the line, with its source.
var grafanaSchemaVersions = map[string]int{
	"11.6": 41,
	"12.0": 41,
	"12.1": 41,
	"12.2": 42,
	"12.3": 42,
	"12.4": 42,
}

// TestDashboardsSchemaVersionSuitsTheGrafanaImage: every generated dashboard's schemaVersion is
// one the Grafana image pinned in docker-compose.yml knows (issue 26, item 15).
func TestDashboardsSchemaVersionSuitsTheGrafanaImage(t *testing.T) {
	var c composeTop
	readYAML(t, "../docker-compose.yml", &c)
	gf, ok := c.Services["grafana"]
	if !ok {
		t.Fatal("docker-compose.yml has no grafana service")
	}
	m := regexp.MustCompile(`^grafana/grafana(?:-oss)?:(\d+)\.(\d+)\.\d+$`).FindStringSubmatch(gf.Image)
	if m == nil {
		t.Fatalf("the grafana image %q is not pinned to a release (grafana/grafana:X.Y.Z)", gf.Image)
	}
	line := m[1] + "." + m[2]
	newest, ok := grafanaSchemaVersions[line]
	if !ok {
		t.Fatalf("Grafana %s (%s) is not in grafanaSchemaVersions: add its newest dashboard schemaVersion, with the source", line, gf.Image)
	}
	matches, err := filepath.Glob(filepath.Join(dashboards.DashboardDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(matches) == 0 {
		t.Fatalf("no dashboards in %s", dashboards.DashboardDir)
	}
	for _, path := range matches {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			SchemaVersion *int `json:"schemaVersion"`
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		switch {
		case d.SchemaVersion == nil:
			t.Errorf("%s has no schemaVersion", path)
		case *d.SchemaVersion > newest:
			t.Errorf("%s has schemaVersion %d; Grafana %s (%s) knows up to %d", path, *d.SchemaVersion, line, gf.Image, newest)
		default:
			t.Logf("%s: schemaVersion %d, Grafana %s knows up to %d", filepath.Base(path), *d.SchemaVersion, line, newest)
		}
	}
}
