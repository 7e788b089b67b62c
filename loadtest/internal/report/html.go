package report

import (
	_ "embed"
	"encoding/json"
	"html/template"
	"io"
)

//go:embed report.html.tmpl
var pageSource string

var page = template.Must(template.New("report").Parse(pageSource))

// HTML writes the report as one self-contained page: its data inline as JSON, an inline script
// that draws the charts as SVG, and a Content Security Policy that allows no fetch at all.
func HTML(w io.Writer, r *Report) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return page.Execute(w, struct {
		R    *Report
		Data template.JS
	}{r, template.JS(data)})
}
