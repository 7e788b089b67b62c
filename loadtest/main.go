package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/loadtest/internal/report"
)

// Exit codes.
const (
	exitOK          = 0
	exitFailed      = 1   // the run could not start or completed no operation
	exitUsage       = 2   // bad flags
	exitInterrupted = 130 // a signal ended the run; the partial report was printed
)

func main() {
	// go-redis logs every failed dial; during -chaos that is thousands of lines. The run counts
	// every failure by its STORE_* code instead.
	redis.SetLogger(quietLog{})
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

type quietLog struct{}

func (quietLog) Printf(context.Context, string, ...any) {}

// realMain parses args, runs, prints the report and returns the exit code. SIGINT and SIGTERM
// end the run early: the report of what was measured is printed, marked partial, and every
// process and goroutine the run started is stopped before it returns.
func realMain(args []string, stdout io.Writer, stderr *os.File) int {
	c, err := parseFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "loadtest: %v (see -h)\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if c.scenario == "check" {
		return checkMain(ctx, c, stdout, stderr)
	}
	r, err := run(ctx, c, stdout, stderr)
	if r != nil {
		report.Text(stdout, r)
		if werr := writeFiles(c, r); werr != nil {
			fmt.Fprintf(stderr, "loadtest: %v\n", werr)
			return exitFailed
		}
	}
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
		if ctx.Err() != nil {
			return exitInterrupted
		}
		return exitFailed
	case r.Partial:
		return exitInterrupted
	}
	return exitOK
}

// checkMain runs -scenario check and prints its summary. It exits non-zero when a history broke
// its model (an anomaly) or a check was inconclusive.
func checkMain(ctx context.Context, c config, stdout io.Writer, stderr *os.File) int {
	s, err := runCheck(ctx, c, stdout)
	if s != nil {
		s.print(stdout)
	}
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
		return exitFailed
	case s.anomalies > 0 || s.inconclusive > 0:
		fmt.Fprintf(stderr, "loadtest: %d anomalies, %d inconclusive checks (seed %d)\n", s.anomalies, s.inconclusive, s.seed)
		return exitFailed
	case s.partial:
		return exitInterrupted
	case s.rounds == 0:
		fmt.Fprintln(stderr, "loadtest: no round completed")
		return exitFailed
	}
	return exitOK
}

// writeFiles writes the -json and -html reports.
func writeFiles(c config, r *report.Report) error {
	write := func(name string, f func(io.Writer, *report.Report) error) error {
		if name == "" {
			return nil
		}
		out, err := os.Create(name)
		if err != nil {
			return err
		}
		if err := f(out, r); err != nil {
			_ = out.Close()
			return fmt.Errorf("%s: %w", name, err)
		}
		return out.Close()
	}
	if err := write(c.jsonFile, report.JSON); err != nil {
		return err
	}
	return write(c.htmlFile, report.HTML)
}
