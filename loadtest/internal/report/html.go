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

// HTML writes the report as one self-contained page: the banner at the top (written into the
// page, so it shows without the script too), its data inline as the JSON document [JSON] writes,
// an inline script that draws the charts as SVG, and a Content Security Policy that allows no
// fetch at all.
func HTML(w io.Writer, r *Report) error {
	d := document(r)
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return page.Execute(w, struct {
		R      *Report
		Banner string
		Data   template.JS
	}{r, d.Banner, template.JS(data)})
}
