package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/igniter-go/store/loadtest/internal/hist"
	"github.com/igniter-go/store/loadtest/internal/report"
)

// progress prints a one-line status each second on a terminal: ops/s, p99 and errors of the
// last second. It stays quiet when stderr is not a terminal (-progress auto).
type progress struct {
	w  io.Writer
	on bool
}

func newProgress(mode string, w *os.File) *progress {
	on := mode == "on"
	if mode == "auto" {
		if fi, err := w.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			on = true
		}
	}
	return &progress{w: w, on: on}
}

func (p *progress) tick(at time.Duration, total time.Duration, last hist.Second) {
	if !p.on {
		return
	}
	var n, errs int64
	var p99 time.Duration
	for op, o := range last.Ops {
		if background[op] {
			continue
		}
		n += o.Count
		errs += o.Errors
		p99 = max(p99, o.P99)
	}
	fmt.Fprintf(p.w, "\r\033[K%s of %s  %8d ops/s  p99 %s (worst op)  errors %d",
		at.Round(time.Second), total, n, report.Dur(p99), errs)
}

func (p *progress) done() {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
