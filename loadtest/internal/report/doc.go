// Package report writes a load run's report: the text table for the terminal, JSON for
// machines, and one self-contained HTML page (inline script drawing SVG charts, a Content
// Security Policy that forbids any network fetch) for people.
package report
