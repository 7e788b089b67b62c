package ops_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// tsCall matches a call written the TypeScript way: a lower-case identifier directly followed by
// "(" (build(), scope("organization", id), withAdapter()). A Go hint names an exported call
// (Build, WithAdapter, store.Scope("organization", id)). A %-verb before "(" is not a name.
var tsCall = regexp.MustCompile(`(?:^|[^%\w])([a-z]\w*)\(`)

// tsName matches a lowerCamel builder or store method of the original even without parentheses
// ("Call withService before build"): with…, add…, build, scope as a verb after "Call".
var tsName = regexp.MustCompile(`\b(?:with|add)[A-Z]\w*|\b[Cc]all (?:build|scope|create)\b`)

// goBuiltins may appear as calls in a Go hint ("len(keys) must be…").
var goBuiltins = map[string]bool{"len": true, "cap": true, "make": true, "new": true, "append": true, "close": true}

// tsStyle returns the TypeScript-style names in msg, or nil when it speaks Go.
func tsStyle(msg string) []string {
	var out []string
	for _, m := range tsCall.FindAllStringSubmatch(msg, -1) {
		if !goBuiltins[m[1]] {
			out = append(out, m[1]+"(")
		}
	}
	return append(out, tsName.FindAllString(msg, -1)...)
}

func TestTSStyleDetector(t *testing.T) {
	for _, msg := range []string{
		"Store adapter is required. Call withAdapter() before build().",
		"Service name is required. Call withService() before build().",
		`Scope "organization" is required. Call scope("organization", id) before using the store.`,
		"Call withService before build",
		"use addScope to declare it",
		"call store.scope(\"org\", id)",
	} {
		if tsStyle(msg) == nil {
			t.Errorf("not flagged: %q", msg)
		}
	}
	for _, msg := range []string{
		"Store adapter is required. Call WithAdapter before Build.",
		`Scope "organization" is required: use the store returned by Scope("organization", id).`,
		"Scope key %q is not defined. Available scopes: %s",
		"TTL must not be negative (got %v)",
		"len(keys) must be at most %d",
		"kv.get failed",
	} {
		if got := tsStyle(msg); got != nil {
			t.Errorf("flagged %v in Go-style %q", got, msg)
		}
	}
}

// hintSite is one place that builds a coded error, with the messages it can carry.
type hintSite struct {
	pos      string
	messages []string
	dynamic  bool // some part of the message is computed (err.Error(), a field…): not checkable
}

// TestErrorHintsNameGoCalls walks every non-test Go file of the repository (the module and its
// nested modules), finds every call that builds a coded error (ops.NewError, ops.Invalid, and
// NewError / Invalid inside package ops), resolves its message argument to the string literals
// it can be — through fmt.Sprintf formats, concatenation, local variables, package constants
// and the parameters of helper functions (followed to their callers) — and fails on any message
// that names a call the TypeScript way.
func TestErrorHintsNameGoCalls(t *testing.T) {
	sites := collectHintSites(t, "..")
	var messages, dynamic int
	seen := map[string]bool{}
	for _, s := range sites {
		if s.dynamic {
			dynamic++
		}
		for _, m := range s.messages {
			messages++
			seen[m] = true
			if bad := tsStyle(m); bad != nil {
				t.Errorf("%s: error message %q names %v the TypeScript way: name the Go call (WithAdapter, Build, Scope(…))", s.pos, m, bad)
			}
		}
	}
	t.Logf("%d error constructions, %d messages checked, %d with a computed part", len(sites), messages, dynamic)
	// The walk must find what it is meant to: a walker broken into finding nothing passes vacuously.
	if len(sites) < 100 || messages < 100 {
		t.Errorf("found %d constructions and %d messages: the walker misses the sources", len(sites), messages)
	}
	for _, want := range []string{
		"Store adapter is required. Call WithAdapter before Build.", // client/adapter.go
		"Service name is required. Call WithService before Build.",  // internal/keyspace
		"the store is closed", // inside ops
	} {
		if !seen[want] {
			t.Errorf("message %q not found by the walk", want)
		}
	}
}

// pkgFiles is one directory's parsed non-test files.
type pkgFiles struct {
	name  string // package name
	fset  *token.FileSet
	files []*ast.File
	rel   map[*ast.File]string
}

func collectHintSites(t *testing.T, root string) []hintSite {
	t.Helper()
	pkgs := map[string]*pkgFiles{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel != "." && strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		dir := filepath.Dir(rel)
		p := pkgs[dir]
		if p == nil {
			p = &pkgFiles{fset: token.NewFileSet(), rel: map[*ast.File]string{}}
			pkgs[dir] = p
		}
		f, err := parser.ParseFile(p.fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		p.name = f.Name.Name
		p.files = append(p.files, f)
		p.rel[f] = filepath.ToSlash(rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var sites []hintSite
	for _, p := range pkgs {
		sites = append(sites, p.sites()...)
	}
	return sites
}

// funcNode is a function's type and body: a declaration or a literal.
type funcNode struct {
	typ  *ast.FuncType
	body *ast.BlockStmt
}

func (p *pkgFiles) sites() []hintSite {
	r := &resolver{p: p, funcs: map[string][]funcNode{}, globals: map[string]ast.Expr{}}
	for _, f := range p.files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Body != nil {
					r.funcs[d.Name.Name] = append(r.funcs[d.Name.Name], funcNode{d.Type, d.Body})
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					if vs, ok := s.(*ast.ValueSpec); ok {
						for i, n := range vs.Names {
							if i < len(vs.Values) {
								r.globals[n.Name] = vs.Values[i]
							}
						}
					}
				}
			}
		}
		// Function literals bound to a name (invalid := func(msg string) error {…}).
		ast.Inspect(f, func(n ast.Node) bool {
			if as, ok := n.(*ast.AssignStmt); ok && len(as.Lhs) == len(as.Rhs) {
				for i, rhs := range as.Rhs {
					if fl, ok := rhs.(*ast.FuncLit); ok {
						if id, ok := as.Lhs[i].(*ast.Ident); ok {
							r.funcs[id.Name] = append(r.funcs[id.Name], funcNode{fl.Type, fl.Body})
						}
					}
				}
			}
			return true
		})
	}

	var sites []hintSite
	for _, f := range p.files {
		var stack []ast.Node
		ast.Inspect(f, func(n ast.Node) bool {
			if n == nil {
				stack = stack[:len(stack)-1]
				return true
			}
			stack = append(stack, n)
			call, ok := n.(*ast.CallExpr)
			if !ok || !r.buildsError(call) || len(call.Args) < 3 {
				return true
			}
			enclosing := enclosingFuncs(stack)
			s := hintSite{pos: p.rel[f] + ":" + strconv.Itoa(p.fset.Position(call.Pos()).Line)}
			s.messages, s.dynamic = r.resolve(call.Args[2], enclosing, 0)
			sites = append(sites, s)
			return true
		})
	}
	return sites
}

type resolver struct {
	p       *pkgFiles
	funcs   map[string][]funcNode
	globals map[string]ast.Expr
}

// buildsError reports whether call is ops.NewError or ops.Invalid (unqualified inside ops).
func (r *resolver) buildsError(call *ast.CallExpr) bool {
	switch fn := call.Fun.(type) {
	case *ast.SelectorExpr:
		x, ok := fn.X.(*ast.Ident)
		return ok && x.Name == "ops" && (fn.Sel.Name == "NewError" || fn.Sel.Name == "Invalid")
	case *ast.Ident:
		return r.p.name == "ops" && (fn.Name == "NewError" || fn.Name == "Invalid")
	}
	return false
}

// resolve returns the strings e can be, and whether some part of it is computed. enclosing
// lists the functions around e, innermost first.
func (r *resolver) resolve(e ast.Expr, enclosing []funcNode, depth int) ([]string, bool) {
	if depth > 6 {
		return nil, true
	}
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			s, err := strconv.Unquote(e.Value)
			if err == nil {
				return []string{s}, false
			}
		}
		return nil, true
	case *ast.ParenExpr:
		return r.resolve(e.X, enclosing, depth+1)
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return nil, true
		}
		l, ld := r.resolve(e.X, enclosing, depth+1)
		rr, rd := r.resolve(e.Y, enclosing, depth+1)
		if len(l) == 0 {
			l = []string{"…"}
		}
		if len(rr) == 0 {
			rr = []string{"…"}
		}
		var out []string
		for _, a := range l {
			for _, b := range rr {
				out = append(out, a+b)
			}
		}
		return out, ld || rd
	case *ast.CallExpr:
		// fmt.Sprintf(format, args…): the format, and every argument that is a string.
		if sel, ok := e.Fun.(*ast.SelectorExpr); ok && len(e.Args) > 0 {
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "fmt" && (sel.Sel.Name == "Sprintf" || sel.Sel.Name == "Sprint") {
				var out []string
				dyn := false
				for _, a := range e.Args {
					s, d := r.resolve(a, enclosing, depth+1)
					out, dyn = append(out, s...), dyn || d
				}
				return out, dyn
			}
		}
		return nil, true
	case *ast.Ident:
		return r.resolveIdent(e.Name, enclosing, depth)
	}
	return nil, true
}

// resolveIdent resolves a name: a parameter of an enclosing function (followed to every call
// of that function in the package), a local assignment, or a package-level constant.
func (r *resolver) resolveIdent(name string, enclosing []funcNode, depth int) ([]string, bool) {
	for i, fn := range enclosing {
		if idx := paramIndex(fn.typ, name); idx >= 0 {
			return r.resolveCallers(fn, idx, depth)
		}
		var out []string
		dyn, found := false, false
		ast.Inspect(fn.body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				return false // its own scope
			case *ast.AssignStmt:
				if len(n.Lhs) == len(n.Rhs) {
					for j, l := range n.Lhs {
						if id, ok := l.(*ast.Ident); ok && id.Name == name {
							s, d := r.resolve(n.Rhs[j], enclosing[i:], depth+1)
							out, dyn, found = append(out, s...), dyn || d, true
						}
					}
				}
			case *ast.ValueSpec:
				for j, id := range n.Names {
					if id.Name == name && j < len(n.Values) {
						s, d := r.resolve(n.Values[j], enclosing[i:], depth+1)
						out, dyn, found = append(out, s...), dyn || d, true
					}
				}
			}
			return true
		})
		if found {
			return out, dyn
		}
	}
	if g, ok := r.globals[name]; ok {
		return r.resolve(g, nil, depth+1)
	}
	return nil, true
}

// resolveCallers resolves argument idx of every call of fn (by its name) in the package.
func (r *resolver) resolveCallers(fn funcNode, idx, depth int) ([]string, bool) {
	var names []string
	for name, fns := range r.funcs {
		for _, f := range fns {
			if f.body == fn.body {
				names = append(names, name)
			}
		}
	}
	if len(names) == 0 {
		return nil, true
	}
	var out []string
	dyn := false
	for _, f := range r.p.files {
		var stack []ast.Node
		ast.Inspect(f, func(n ast.Node) bool {
			if n == nil {
				stack = stack[:len(stack)-1]
				return true
			}
			stack = append(stack, n)
			call, ok := n.(*ast.CallExpr)
			if !ok || idx >= len(call.Args) || !callsAny(call, names) {
				return true
			}
			enclosing := enclosingFuncs(stack)
			s, d := r.resolve(call.Args[idx], enclosing, depth+1)
			out, dyn = append(out, s...), dyn || d
			return true
		})
	}
	return out, dyn
}

func callsAny(call *ast.CallExpr, names []string) bool {
	var got string
	switch fn := call.Fun.(type) {
	case *ast.Ident:
		got = fn.Name
	case *ast.SelectorExpr:
		got = fn.Sel.Name
	}
	for _, n := range names {
		if n == got {
			return true
		}
	}
	return false
}

// paramIndex returns the position of the parameter called name in typ, or -1.
func paramIndex(typ *ast.FuncType, name string) int {
	i := 0
	for _, f := range typ.Params.List {
		if len(f.Names) == 0 {
			i++
			continue
		}
		for _, n := range f.Names {
			if n.Name == name {
				return i
			}
			i++
		}
	}
	return -1
}

// enclosingFuncs returns the functions around the innermost node of stack (an ast.Inspect path),
// innermost first.
func enclosingFuncs(stack []ast.Node) []funcNode {
	var out []funcNode
	for i := len(stack) - 1; i >= 0; i-- {
		switch fn := stack[i].(type) {
		case *ast.FuncDecl:
			out = append(out, funcNode{fn.Type, fn.Body})
		case *ast.FuncLit:
			out = append(out, funcNode{fn.Type, fn.Body})
		}
	}
	return out
}
