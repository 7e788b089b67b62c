package dashboards_test

import (
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/igniter-go/store/dashboards"
)

type composeFile struct {
	Services map[string]struct {
		Image   string   `yaml:"image"`
		Command []string `yaml:"command"`
		Volumes []string `yaml:"volumes"`
		Ports   []string `yaml:"ports"`
		Expose  []string `yaml:"expose"`
	} `yaml:"services"`
}

type promConfig struct {
	RuleFiles     []string `yaml:"rule_files"`
	ScrapeConfigs []struct {
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

func readYAML(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// mounts maps each container path of a service to the host path (relative to the repository).
func mounts(t *testing.T, volumes []string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, v := range volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || !strings.HasPrefix(parts[0], ".") {
			continue // a named volume
		}
		m[parts[1]] = filepath.Clean(parts[0])
	}
	return m
}

// flagValue returns the value after -name in a command.
func flagValue(cmd []string, name string) string {
	if i := slices.Index(cmd, "-"+name); i >= 0 && i+1 < len(cmd) {
		return cmd[i+1]
	}
	return ""
}

// TestComposeAgreesWithItsFiles checks docker-compose.yml without an engine: every file it
// mounts exists; Prometheus scrapes the load test's -metrics-addr port on the load test's
// service and loads the generated rules; Grafana's datasource is the Prometheus service's port
// and its dashboard provider reads the generated dashboards; and the load test accepts every
// flag the compose file gives it.
func TestComposeAgreesWithItsFiles(t *testing.T) {
	var c composeFile
	readYAML(t, "../docker-compose.yml", &c)
	for _, name := range []string{"redis", "loadtest", "prometheus", "grafana"} {
		if _, ok := c.Services[name]; !ok {
			t.Fatalf("docker-compose.yml has no %s service", name)
		}
	}
	for name, s := range c.Services {
		for container, host := range mounts(t, s.Volumes) {
			if _, err := os.Stat(filepath.Join("..", host)); err != nil {
				t.Errorf("%s mounts %s at %s: %v", name, host, container, err)
			}
		}
	}

	// The load test serves metrics on the port Prometheus scrapes.
	lt := c.Services["loadtest"]
	if flagValue(lt.Command, "scenario") != "mixed" {
		t.Errorf("the load test runs -scenario %q, want mixed", flagValue(lt.Command, "scenario"))
	}
	if r := flagValue(lt.Command, "redis"); r != "redis:6379" {
		t.Errorf("the load test's -redis is %q, want the redis service", r)
	}
	_, port, err := net.SplitHostPort(flagValue(lt.Command, "metrics-addr"))
	if err != nil {
		t.Fatalf("the load test's -metrics-addr: %v", err)
	}
	if !slices.Contains(lt.Expose, port) {
		t.Errorf("the load test exposes %v, not its metrics port %s", lt.Expose, port)
	}
	prom := c.Services["prometheus"]
	pm := mounts(t, prom.Volumes)
	var configFile string
	for _, arg := range prom.Command {
		if v, ok := strings.CutPrefix(arg, "--config.file="); ok {
			configFile = v
		}
	}
	hostConfig, ok := pm[configFile]
	if !ok {
		t.Fatalf("prometheus reads %q, which is not mounted (%v)", configFile, pm)
	}
	var pc promConfig
	readYAML(t, filepath.Join("..", hostConfig), &pc)
	var targets []string
	for _, sc := range pc.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			targets = append(targets, st.Targets...)
		}
	}
	if want := net.JoinHostPort("loadtest", port); !slices.Equal(targets, []string{want}) {
		t.Errorf("prometheus scrapes %v, want [%s]", targets, want)
	}
	for _, rf := range pc.RuleFiles {
		host, ok := pm[path.Join(path.Dir(configFile), rf)]
		if !ok {
			t.Errorf("rule file %s is not mounted next to %s", rf, configFile)
			continue
		}
		if host != filepath.Join("dashboards", dashboards.RulesFile) {
			t.Errorf("rule file %s is %s, want the generated %s", rf, host, dashboards.RulesFile)
		}
	}
	if len(pc.RuleFiles) == 0 {
		t.Error("prometheus loads no rules")
	}
	if !slices.Contains(prom.Ports, "9090:9090") {
		t.Errorf("prometheus ports %v", prom.Ports)
	}

	// Grafana: the datasource is the prometheus service, the provider reads the dashboards.
	gf := c.Services["grafana"]
	gm := mounts(t, gf.Volumes)
	prov, ok := gm["/etc/grafana/provisioning"]
	if !ok {
		t.Fatalf("grafana has no provisioning mount: %v", gm)
	}
	var ds struct {
		Datasources []struct {
			URL  string `yaml:"url"`
			Type string `yaml:"type"`
		} `yaml:"datasources"`
	}
	readYAML(t, filepath.Join("..", prov, "datasources", "prometheus.yml"), &ds)
	if len(ds.Datasources) != 1 || ds.Datasources[0].URL != "http://prometheus:9090" || ds.Datasources[0].Type != "prometheus" {
		t.Errorf("grafana datasources %+v", ds.Datasources)
	}
	var dp struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, filepath.Join("..", prov, "dashboards", "igniter-store.yml"), &dp)
	if len(dp.Providers) != 1 {
		t.Fatalf("grafana dashboard providers %+v", dp.Providers)
	}
	if host := gm[dp.Providers[0].Options.Path]; host != filepath.Join("dashboards", dashboards.DashboardDir) {
		t.Errorf("grafana's provider reads %s, mounted from %q, want the generated %s", dp.Providers[0].Options.Path, host, dashboards.DashboardDir)
	}

	// The load test accepts every flag the compose file gives it.
	var flags []string
	for _, arg := range lt.Command {
		if strings.HasPrefix(arg, "-") {
			flags = append(flags, strings.TrimPrefix(arg, "-"))
		}
	}
	_, help := loadtestBinary(t)
	requireFlags(t, help, flags...)
}
