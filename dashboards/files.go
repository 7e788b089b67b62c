package dashboards

import (
	"os"
	"path/filepath"
)

// Generated paths, relative to the dashboards directory.
const (
	DashboardDir = "grafana/dashboards"
	RulesFile    = "prometheus/rules.yml"
)

// Files returns every generated file by its path relative to the dashboards directory (which
// must be the working directory): the dashboards, the rules, their unit tests, and the operations
// page (docs/operations.md) with its panel descriptions regenerated.
func Files() (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, d := range Dashboards() {
		b, err := d.JSON()
		if err != nil {
			return nil, err
		}
		files[filepath.Join(DashboardDir, d.File)] = b
	}
	rules, err := RulesYAML()
	if err != nil {
		return nil, err
	}
	files[RulesFile] = rules
	tests, err := RuleTestsYAML()
	if err != nil {
		return nil, err
	}
	files[RuleTestsFile] = tests
	readme, err := os.ReadFile(ReadmeFile)
	if err != nil {
		return nil, err
	}
	if files[ReadmeFile], err = readmeWithPanels(readme); err != nil {
		return nil, err
	}
	return files, nil
}

// Write writes [Files] under dir.
func Write(dir string) error {
	files, err := Files()
	if err != nil {
		return err
	}
	for name, b := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
