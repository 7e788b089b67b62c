package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/igniter-go/store"

type pkg struct {
	ImportPath string
	Standard   bool
	Deps       []string
	Imports    []string
}

// listPackages runs go list -deps -json on the module and returns its packages and a lookup of
// every package (module and standard library) by import path.
func listPackages(t *testing.T) (own []pkg, all map[string]pkg) {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json", module+"/...")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	all = map[string]pkg{}
	dec := json.NewDecoder(out)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		all[p.ImportPath] = p
		if strings.HasPrefix(p.ImportPath, module) {
			own = append(own, p)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go list: %v", err)
	}
	return own, all
}

func TestImportRules(t *testing.T) {
	own, all := listPackages(t)
	if len(own) < 5 {
		t.Fatalf("go list found only %d packages", len(own))
	}
	for _, p := range own {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		switch {
		case rel == "ops":
			for _, d := range p.Deps {
				if !all[d].Standard {
					t.Errorf("ops depends on %s: it may use only the standard library", d)
				}
			}
		case strings.HasPrefix(rel, "middleware/"):
			for _, d := range p.Deps {
				dr := strings.TrimPrefix(d, module+"/")
				if d != p.ImportPath && strings.HasPrefix(d, module+"/") &&
					(strings.HasPrefix(dr, "middleware/") || strings.HasPrefix(dr, "telemetry") || dr == "client") {
					t.Errorf("%s imports %s: a middleware imports ops and its one library only", rel, dr)
				}
			}
		case strings.HasPrefix(rel, "telemetry"):
			for _, d := range p.Deps {
				dr := strings.TrimPrefix(d, module+"/")
				if strings.HasPrefix(d, module+"/") && (strings.HasPrefix(dr, "middleware/") || dr == "client") {
					t.Errorf("%s imports %s: telemetry imports ops and its SDK only", rel, dr)
				}
			}
		}
		if rel == "client" || rel == "storetest" || rel == "events" {
			for _, d := range p.Deps {
				if strings.Contains(d, "prometheus") || strings.Contains(d, "opentelemetry") {
					t.Errorf("%s depends on %s: the telemetry SDKs are opt-in, wired through client.Instrument", rel, d)
				}
			}
		}
		if !talksToRedis(rel) {
			for _, imp := range p.Imports {
				if strings.HasPrefix(imp, "github.com/redis/go-redis") {
					t.Errorf("%s imports %s: only client and its internal executor and connections talk to go-redis", rel, imp)
				}
			}
		}
		if rel == "streams" {
			for _, imp := range p.Imports {
				if imp == module+"/client" {
					t.Errorf("streams imports client: it reaches the store through internal/storecore only")
				}
			}
		}
	}
}

// talksToRedis reports whether package rel may import go-redis: the client and the internal
// packages it runs on, test support, and the programs on top.
func talksToRedis(rel string) bool {
	switch rel {
	case "client", "internal/executor", "internal/blockconn", "storetest",
		"nearcache": // it runs go-redis's client-side cache (RESP3 tracking) on a client of its own
		return true
	}
	return strings.HasPrefix(rel, "internal/redistest") || strings.HasPrefix(rel, "loadtest") ||
		strings.HasPrefix(rel, "examples") || strings.HasPrefix(rel, "dashboards")
}
