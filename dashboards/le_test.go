package dashboards_test

import "strconv"

// formatLE formats a bucket bound as client_golang writes the le label.
func formatLE(b float64) string { return strconv.FormatFloat(b, 'g', -1, 64) }
