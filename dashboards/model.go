package dashboards

// Dashboard is one generated Grafana dashboard.
type Dashboard struct {
	// UID is Grafana's stable id; File is the JSON file name under grafana/dashboards.
	UID, File, Title, Description string
	Panels                        []Panel
}

// Panel is one time-series panel; its Description is what docs/operations.md
// says of it.
type Panel struct {
	Title, Description string
	// Unit is a Grafana unit id (ops, percentunit, s, short).
	Unit    string
	Targets []Target
}

// Target is one PromQL query of a panel and its legend.
type Target struct {
	Expr, Legend string
}

// Dashboards returns the three dashboards: Overview, Events & streams and Tenancy.
func Dashboards() []Dashboard {
	return []Dashboard{overview(), eventsAndStreams(), tenancy()}
}

func target(expr, legend string) Target { return Target{Expr: expr, Legend: legend} }

func legend(labels ...string) string {
	s := ""
	for i, l := range labels {
		if i > 0 {
			s += " "
		}
		s += "{{" + l + "}}"
	}
	return s
}
