package archtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The house rule (issue 21): every goroutine the library starts that runs user code recovers a
// panic, turns it into STORE_CALLBACK_PANIC (ops.CallbackPanic, ops.Recover), reports it where
// that callback's errors go, and leaves the recipe working. The stream and event handlers keep
// their STORE_HANDLER_FAILED, which also recovers.
//
// TestEveryGoroutineIsAllowListed enforces the first half of it: every place the library starts
// a goroutine (a go statement, a .Go(f) of a WaitGroup or errgroup, time.AfterFunc and
// context.AfterFunc) must be on goroutineAllowList, keyed by file, enclosing function and what
// it starts (never by line), with whether it runs user code and where that code's panic is
// recovered. For a goroutine that runs user code the test also checks that each function named
// in recoveredIn exists and calls recover() or ops.Recover: removing the recover fails the test,
// not only a review. An entry that matches nothing fails too, so the list cannot go stale.
//
// User code here means the callbacks the recipes take: handlers, loaders, hooks (OnError,
// OnEvent, OnRefreshError), leader Run functions, resolvers, schema validators, and user ops
// middleware where a goroutine runs a chain call on its own. The instrumentation every
// goroutine may call (ops.Observer, the slog.Handler of the store's logger) is not listed per
// goroutine: it runs on all of them, and on callers' goroutines too.

// launch is one allow-listed place that starts a goroutine.
type launch struct {
	file   string // slash path from the module root
	fn     string // enclosing function: "f", "T.m" or "(*T).m"
	starts string // what it starts: "go func literal", "go c.ackLoop", "wg.Go(func literal)", "time.AfterFunc(w.expire)"
	count  int    // how many such places the function has; 0 means 1
	// userCode says which user code the goroutine runs; "" when it runs none.
	userCode string
	// recoveredIn names where that code's panic is recovered: "literal" (the func literal the
	// goroutine starts) or functions of the same package; each must call recover() or
	// ops.Recover. Required when userCode is set.
	recoveredIn []string
	// reason explains the goroutine: why it exists, and how a panic in what it runs is handled.
	reason string
}

var goroutineAllowList = []launch{
	{file: "cache/cache.go", fn: "(*Cache).goBackground", starts: "go func literal",
		userCode:    "the loader, during an early or stale background refresh; OnRefreshError",
		recoveredIn: []string{"literal", "(*Cache).report"},
		reason: "the background refresh: its panic becomes STORE_CALLBACK_PANIC reported to OnRefreshError (or the log); " +
			"a panicking OnRefreshError is recovered and logged; the refresh slot is freed, so the next read refreshes again"},
	{file: "cache/getorload.go", fn: "callLoad", starts: "go func literal",
		userCode:    "the loader (foreground load and background refresh)",
		recoveredIn: []string{"literal"},
		reason: "the loader runs on a goroutine of its own, waited for at once, so that a loader calling runtime.Goexit " +
			"(t.FailNow) ends only that goroutine and is reported as STORE_CALLBACK_PANIC instead of wedging the key's " +
			"claim and waiters; its panic becomes STORE_CALLBACK_PANIC returned to every waiter (or OnRefreshError)"},
	{file: "leader/term.go", fn: "(*Election).begin", starts: "go func literal",
		userCode:    "user ops middleware, on the leader record's writes and removal (and, inside Lease.Hold, its extensions)",
		recoveredIn: []string{"literal"},
		reason: "the term's goroutine: Lease.Hold around the leader record's upkeep (keepRecord); a middleware panic becomes " +
			"STORE_CALLBACK_PANIC in Term.Err after Hold released the lease; the leader's Run function runs on Run's caller " +
			"goroutine, where its panic is the caller's (Run resigns first)"},
	{file: "client/subscriber.go", fn: "(*subscriber).add", starts: "go func literal",
		reason: "sends one SUBSCRIBE/PSUBSCRIBE on the shared pub/sub connection so that Subscribe can return at its deadline " +
			"while go-redis holds the connection's lock (a frozen server); go-redis code only, no user code"},
	{file: "client/subscriber.go", fn: "(*subscriber).add", starts: "go sb.cleanup",
		reason: "undoes a failed Subscribe after it returned: waits for the SUBSCRIBE in flight, sends UNSUBSCRIBE with a 1 s " +
			"timeout, replaces the connection if that fails; holds the subscriber's control lock until done; no user code"},
	{file: "leader/election.go", fn: "(*Election).Run", starts: "context.AfterFunc(t.end)",
		reason: "ends the term when Run's ctx ends: t.end is a context.CancelFunc, no user code"},
	{file: "client/subscriber.go", fn: "newSubscriber", starts: "go sb.receive",
		userCode:    "subscribe-side schema validators (schema.Func) of the events registry",
		recoveredIn: []string{"validate"},
		reason: "the pub/sub receive loop, one per Build: it reads the connection and queues messages to subscriptions; " +
			"a validator's panic becomes STORE_CALLBACK_PANIC, reported like an invalid message (OnError, SignalMessageInvalid, log), and the loop goes on"},
	{file: "client/subscription.go", fn: "spawn", starts: "go func literal",
		userCode:    "the subscription's handler (run) and its OnError callback (callbacks)",
		recoveredIn: []string{"(*subscription).call", "(*subscription).callback"},
		reason: "each subscription's handler goroutine and OnError goroutine: a handler panic becomes STORE_HANDLER_FAILED " +
			"(to OnError, signals, log); an OnError panic becomes STORE_CALLBACK_PANIC (to signals and the log, not back to OnError); both loops go on"},
	{file: "client/lease_hold.go", fn: "(*Lease).Hold", starts: "go func literal",
		reason: "the lease watchdog (watch): extends the lease, cancels fn's ctx when it is lost; library code only, " +
			"fn runs on Hold's caller goroutine (its panic releases the lease and goes on to the caller)"},
	{file: "client/lease_hold.go", fn: "(*Lease).watch", starts: "inflight.Go(func literal)",
		userCode:    "user ops middleware, on the chain call of one lease extension",
		recoveredIn: []string{"literal"},
		reason: "one extension, so a hung Redis cannot hold the watchdog past the lease: a middleware panic becomes STORE_CALLBACK_PANIC, " +
			"counted as a failed extension and kept in the STORE_LEASE_LOST cause"},
	{file: "streams/consume.go", fn: "(*consumer).run", starts: "go func literal",
		userCode:    "the consume handler",
		recoveredIn: []string{"(*consumer).call"},
		reason: "a consume loop's worker: a handler panic becomes STORE_HANDLER_FAILED, the entry stays pending " +
			"(redelivered, then dead-lettered), and the worker takes the next entry"},
	{file: "streams/consume.go", fn: "(*consumer).run", starts: "go c.ackLoop",
		reason: "a consume loop's ack goroutine (group commit of XACKs): library code only"},
	{file: "streams/consume.go", fn: "(*consumer).run", starts: "go c.touchLoop",
		reason: "a consume loop's refresh of the entries in flight (XCLAIM JUSTID): library code only"},
	{file: "internal/executor/pipeline.go", fn: "(*pipeline).abandon", starts: "go func literal",
		reason: "forgets an abandoned pipelined command once its batch completes: waits on a go-redis future, library code only"},
	{file: "internal/executor/lane.go", fn: "(*lane).submit", starts: "go l.loop",
		userCode:    "the go-redis hooks the application added to its ClusterClient (AddHook), which run inside each batch's Pipeline.Exec",
		recoveredIn: []string{"(*lane).run"},
		reason: "a pipeline lane (one per redis-server, or per cluster primary): runs one batch of concurrent callers' commands at a time until the store closes; " +
			"a hook's panic becomes STORE_OUTCOME_UNKNOWN (wrapping STORE_CALLBACK_PANIC) on the batch's commands without a reply, and the lane goes on"},
	{file: "internal/executor/cluster_batch.go", fn: "clusterMSet", starts: "wg.Go(func literal)",
		reason: "one MULTI/EXEC per hash slot of a cluster MSET, a bounded number at once: go-redis calls only"},
	{file: "internal/blockconn/pool.go", fn: "(*Pool).AfterClose", starts: "context.AfterFunc(f)",
		reason: "runs its caller's f when the store closes; the only caller (streams.Consume) passes a cancel of its loop, no user code"},
	{file: "internal/blockconn/pool.go", fn: "(*Lease).Watch", starts: "context.AfterFunc(func literal)",
		reason: "sends CLIENT UNBLOCK when a blocking read's ctx ends: a go-redis call, library code only"},
	{file: "middleware/timeout/shared.go", fn: "(*window).arm", starts: "time.AfterFunc(func literal)",
		reason: "the shared deadline window's timer: marks the window stale, then expires it; library code only"},
	{file: "middleware/timeout/shared.go", fn: "(*window).arm", starts: "time.AfterFunc(w.expire)",
		reason: "the window's timer when the first firing beat the store of the timer: closes done; library code only"},
}

// helperPackages are test helpers, allowed to start goroutines without a per-site entry: they
// are imported only by tests (checked below), so no application runs them, and they run no
// application callbacks.
var helperPackages = map[string]string{
	"internal/faultproxy": "a TCP proxy that injects faults between tests and redis-server: its accept and copy goroutines run no user code",
	"internal/redistest":  "starts and watches redis-server processes for tests: its goroutines read process output",
	"internal/history":    "records and checks operation histories under faults for tests: Drive runs the test's own steps",
}

// excludedDirs are the module's top-level folders that are not the library: programs, load
// tests and dashboards generators.
var excludedDirs = []string{"bench", "examples", "loadtest", "dashboards"}

// site is one place in a file that starts a goroutine.
type site struct {
	file, fn, starts string
	pos              token.Position
	lit              *ast.FuncLit // the func literal it starts, if any
}

// recoverCalls reports whether n calls the builtin recover or ops.Recover.
func recoverCalls(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			switch f := c.Fun.(type) {
			case *ast.Ident:
				found = found || f.Name == "recover"
			case *ast.SelectorExpr:
				if x, ok := f.X.(*ast.Ident); ok && x.Name == "ops" && f.Sel.Name == "Recover" {
					found = true
				}
			}
		}
		return !found
	})
	return found
}

// funcName renders a declaration's name as "f", "T.m" or "(*T).m" (type parameters dropped).
func funcName(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return d.Name.Name
	}
	t := d.Recv.List[0].Type
	star := false
	if s, ok := t.(*ast.StarExpr); ok {
		star, t = true, s.X
	}
	switch g := t.(type) {
	case *ast.IndexExpr:
		t = g.X
	case *ast.IndexListExpr:
		t = g.X
	}
	name := types.ExprString(t)
	if star {
		return "(*" + name + ")." + d.Name.Name
	}
	return name + "." + d.Name.Name
}

// target renders a started function: "func literal" or the expression (c.ackLoop, t.end).
func target(e ast.Expr) (string, *ast.FuncLit) {
	if lit, ok := e.(*ast.FuncLit); ok {
		return "func literal", lit
	}
	return types.ExprString(e), nil
}

// startsOf returns what a call starts on a goroutine of its own, if it does: x.Go(f) (a
// sync.WaitGroup or an errgroup), time.AfterFunc(d, f), context.AfterFunc(ctx, f).
func startsOf(c *ast.CallExpr) (string, *ast.FuncLit, bool) {
	sel, ok := c.Fun.(*ast.SelectorExpr)
	if !ok || len(c.Args) == 0 {
		return "", nil, false
	}
	callee := types.ExprString(sel)
	switch {
	case sel.Sel.Name == "Go" && len(c.Args) == 1:
	case callee == "time.AfterFunc" || callee == "context.AfterFunc":
	default:
		return "", nil, false
	}
	t, lit := target(c.Args[len(c.Args)-1])
	return callee + "(" + t + ")", lit, true
}

// fileSites parses one file and returns the places it starts goroutines, and its declarations
// by name.
func fileSites(fset *token.FileSet, rel string, src any) ([]site, map[string]*ast.FuncDecl, []string, error) {
	f, err := parser.ParseFile(fset, rel, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, nil, nil, err
	}
	var imports []string
	for _, is := range f.Imports {
		p, _ := strconv.Unquote(is.Path.Value)
		imports = append(imports, p)
	}
	decls := map[string]*ast.FuncDecl{}
	var sites []site
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		name := funcName(fd)
		decls[name] = fd
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				t, lit := target(n.Call.Fun)
				sites = append(sites, site{file: rel, fn: name, starts: "go " + t, pos: fset.Position(n.Pos()), lit: lit})
			case *ast.CallExpr:
				if s, lit, ok := startsOf(n); ok {
					sites = append(sites, site{file: rel, fn: name, starts: s, pos: fset.Position(n.Pos()), lit: lit})
				}
			}
			return true
		})
	}
	// Goroutines started at package level (a var initializer) have no enclosing function.
	for _, d := range f.Decls {
		if gd, ok := d.(*ast.GenDecl); ok {
			ast.Inspect(gd, func(n ast.Node) bool {
				if g, ok := n.(*ast.GoStmt); ok {
					t, lit := target(g.Call.Fun)
					sites = append(sites, site{file: rel, fn: "(package level)", starts: "go " + t, pos: fset.Position(g.Pos()), lit: lit})
				}
				return true
			})
		}
	}
	return sites, decls, imports, nil
}

// libraryFiles walks the module from root and returns the non-test .go files of the library,
// as slash paths from root, leaving out excludedDirs, testdata and hidden folders.
func libraryFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			name := d.Name()
			if rel != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" ||
				slices.Contains(excludedDirs, rel)) {
				return filepath.SkipDir
			}
			if rel != "." {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir // another module
				}
			}
			return nil
		}
		if strings.HasSuffix(rel, ".go") && !strings.HasSuffix(rel, "_test.go") {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func helperOf(rel string) (string, bool) {
	for dir := range helperPackages {
		if strings.HasPrefix(rel, dir+"/") {
			return dir, true
		}
	}
	return "", false
}

func TestEveryGoroutineIsAllowListed(t *testing.T) {
	root := filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from the test's folder: %v", err)
	}
	fset := token.NewFileSet()
	var sites []site
	decls := map[string]map[string]*ast.FuncDecl{} // package folder → declarations
	helpersSeen := map[string]bool{}
	for _, rel := range libraryFiles(t, root) {
		src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		fs, ds, imports, err := fileSites(fset, rel, src)
		if err != nil {
			t.Fatal(err)
		}
		helper, isHelper := helperOf(rel)
		if isHelper {
			helpersSeen[helper] = true
		}
		// Test helpers must stay test helpers: a library file (not one of theirs) that imports
		// one would ship its goroutines without an entry.
		for _, imp := range imports {
			if dir, ok := strings.CutPrefix(imp, module+"/"); ok {
				if _, importsHelper := helperPackages[dir]; importsHelper && !isHelper {
					t.Errorf("%s imports %s, a test helper whose goroutines are allowed only because no library code imports it", rel, dir)
				}
			}
		}
		if isHelper {
			continue
		}
		pkg := filepath.ToSlash(filepath.Dir(rel))
		if decls[pkg] == nil {
			decls[pkg] = map[string]*ast.FuncDecl{}
		}
		for name, d := range ds {
			decls[pkg][name] = d
		}
		sites = append(sites, fs...)
	}
	for dir := range helperPackages {
		if !helpersSeen[dir] {
			t.Errorf("helperPackages lists %s, which has no library file any more: remove it", dir)
		}
	}
	if len(sites) < 5 {
		t.Fatalf("found only %d goroutine starts: is the module root right?", len(sites))
	}

	type key struct{ file, fn, starts string }
	found := map[key][]site{}
	for _, s := range sites {
		k := key{s.file, s.fn, s.starts}
		found[k] = append(found[k], s)
	}
	listed := map[key]bool{}
	for _, e := range goroutineAllowList {
		k := key{e.file, e.fn, e.starts}
		if listed[k] {
			t.Errorf("allow-list: %s %s %q is listed twice: use count", e.file, e.fn, e.starts)
		}
		listed[k] = true
		if strings.TrimSpace(e.reason) == "" {
			t.Errorf("allow-list: %s %s %q has no reason", e.file, e.fn, e.starts)
		}
		got := found[k]
		want := max(e.count, 1)
		switch {
		case len(got) == 0:
			t.Errorf("allow-list: %s %s %q matches nothing: the goroutine moved or is gone; update or remove the entry (stale list)",
				e.file, e.fn, e.starts)
			continue
		case len(got) != want:
			t.Errorf("allow-list: %s %s %q: %d such places, the entry says %d", e.file, e.fn, e.starts, len(got), want)
		}
		if e.userCode == "" {
			if len(e.recoveredIn) > 0 {
				t.Errorf("allow-list: %s %s %q names recoveredIn without userCode", e.file, e.fn, e.starts)
			}
			continue
		}
		if len(e.recoveredIn) == 0 {
			t.Errorf("allow-list: %s %s %q runs user code (%s) and names no recover: the house rule wants one", e.file, e.fn, e.starts, e.userCode)
		}
		pkg := filepath.ToSlash(filepath.Dir(e.file))
		for _, where := range e.recoveredIn {
			if where == "literal" {
				for _, s := range got {
					if s.lit == nil || !recoverCalls(s.lit) {
						t.Errorf("%s: %s in %s runs user code (%s) but the goroutine's func literal calls neither recover() nor ops.Recover",
							s.pos, s.starts, s.fn, e.userCode)
					}
				}
				continue
			}
			d := decls[pkg][where]
			switch {
			case d == nil:
				t.Errorf("allow-list: %s %s %q: recoveredIn names %s, which package %s does not declare", e.file, e.fn, e.starts, where, pkg)
			case !recoverCalls(d.Body):
				t.Errorf("allow-list: %s %s %q: %s is said to recover %s but calls neither recover() nor ops.Recover",
					e.file, e.fn, e.starts, where, e.userCode)
			}
		}
	}
	var unlisted []string
	for k, ss := range found {
		if !listed[k] {
			for _, s := range ss {
				unlisted = append(unlisted, fmt.Sprintf("%s: %s in %s", s.pos, s.starts, s.fn))
			}
		}
	}
	slices.Sort(unlisted)
	for _, u := range unlisted {
		t.Errorf("%s starts a goroutine that is not on goroutineAllowList (internal/archtest/goroutines_test.go): "+
			"add {file, fn, starts} with whether it runs user code, where that code's panic is recovered "+
			"(ops.Recover → STORE_CALLBACK_PANIC, reported where the callback's errors go), and why it exists", u)
	}
}

// The scanner itself: every kind of goroutine start is found, under its enclosing function.
func TestGoroutineScannerFindsEveryKind(t *testing.T) {
	const src = `package p

import ("context"; "sync"; "time")

type T[K any] struct{}

func (t *T[K]) run(ctx context.Context, wg *sync.WaitGroup) {
	go t.loop()
	go func() { defer func() { _ = recover() }() }()
	wg.Go(func() {})
	time.AfterFunc(time.Second, t.loop)
	stop := context.AfterFunc(ctx, func() {})
	_ = stop
}

func (t T[K]) loop() {}

func plain() { go plain() }
`
	sites, decls, _, err := fileSites(token.NewFileSet(), "p/p.go", src)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range sites {
		got = append(got, s.fn+" | "+s.starts)
	}
	want := []string{
		"(*T).run | go t.loop",
		"(*T).run | go func literal",
		"(*T).run | wg.Go(func literal)",
		"(*T).run | time.AfterFunc(t.loop)",
		"(*T).run | context.AfterFunc(func literal)",
		"plain | go plain",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("found\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !recoverCalls(sites[1].lit) || recoverCalls(sites[2].lit) {
		t.Error("recover detection in func literals")
	}
	if decls["T.loop"] == nil || decls["(*T).run"] == nil {
		t.Errorf("declarations %v", decls)
	}
}
