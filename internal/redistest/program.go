package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
)

// ErrSkipped is the error [Program.Do] returns when a set-up skipped: redis-server or
// redis-cli is not installed.
var ErrSkipped = errors.New("redistest: skipped")

// Program stands in for a test where this package's set-ups run outside one: in a program (the
// load harness's long mode starts a cluster or a Sentinel set-up with [StartClusterWith] and
// [StartSentinel]). Pass it as their testing.TB, inside [Program.Do]: a Fatalf or Skip ends the
// set-up with an error instead of failing a test. Cleanup registers what [Program.Close] runs;
// TempDir's directories are removed by Close.
//
// It implements only what this package's set-ups call (Helper, Fatal, Fatalf, Skip, TempDir,
// Cleanup, Context, Log, Logf, Errorf, Name); the other testing.TB methods are not for it.
type Program struct {
	testing.TB // never set: it only gives Program testing.TB's method set

	// Printf receives what Log and Logf print; nil discards it.
	Printf func(format string, args ...any)

	mu       sync.Mutex
	cleanups []func()
	dirs     []string
	errs     []error
}

// programFailure is the panic by which Fatalf and Skip end the set-up running under Do.
type programFailure struct{ err error }

// Do runs f (a set-up, or a call that can fail the way a set-up does) and returns the failure
// it reported: a Fatalf as an error, a Skip as an error wrapping [ErrSkipped], an Errorf
// (which does not stop f) joined with them.
func (p *Program) Do(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			pf, ok := r.(programFailure)
			if !ok {
				panic(r)
			}
			err = pf.err
		}
		p.mu.Lock()
		err = errors.Join(append(p.errs, err)...)
		p.errs = nil
		p.mu.Unlock()
	}()
	f()
	return nil
}

// Close runs the registered cleanups, last registered first, and removes the temporary
// directories. It is idempotent.
func (p *Program) Close() {
	p.mu.Lock()
	cleanups, dirs := p.cleanups, p.dirs
	p.cleanups, p.dirs = nil, nil
	p.mu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	for _, d := range dirs {
		_ = os.RemoveAll(d)
	}
}

// Helper does nothing.
func (p *Program) Helper() {}

// Name names the program in what the set-ups print.
func (p *Program) Name() string { return "program" }

// Fatalf ends the call running under [Program.Do] with the formatted error.
func (p *Program) Fatalf(format string, args ...any) {
	panic(programFailure{fmt.Errorf(format, args...)})
}

// Fatal ends the call running under [Program.Do] with the error of its arguments.
func (p *Program) Fatal(args ...any) { panic(programFailure{errors.New(fmt.Sprint(args...))}) }

// Skip ends the call running under [Program.Do] with an error wrapping [ErrSkipped].
func (p *Program) Skip(args ...any) {
	panic(programFailure{fmt.Errorf("%w: %s", ErrSkipped, fmt.Sprint(args...))})
}

// Errorf records an error that [Program.Do] returns, and lets the call go on.
func (p *Program) Errorf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errs = append(p.errs, fmt.Errorf(format, args...))
}

// Log prints its arguments through Printf.
func (p *Program) Log(args ...any) { p.Logf("%s", fmt.Sprint(args...)) }

// Logf prints through Printf.
func (p *Program) Logf(format string, args ...any) {
	if p.Printf != nil {
		p.Printf(format, args...)
	}
}

// TempDir returns a new directory that [Program.Close] removes.
func (p *Program) TempDir() string {
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		p.Fatalf("redistest: %v", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dirs = append(p.dirs, dir)
	return dir
}

// Cleanup registers f for [Program.Close].
func (p *Program) Cleanup(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cleanups = append(p.cleanups, f)
}

// Context returns a context that is never cancelled.
func (p *Program) Context() context.Context { return context.Background() }
