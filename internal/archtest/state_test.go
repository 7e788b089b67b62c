package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// allowedVars are the package-level variables of mutable types that the library may have, with
// why each holds no per-store state. Anything else belongs in a field of the store that owns it.
var allowedVars = map[string]string{
	"internal/codec.encoders":        "a sync.Pool of reusable encoders: a cache of buffers, no store's state",
	"telemetry.bufPool":              "a sync.Pool of attribute buffers: a cache, no store's state",
	"telemetry.signals":              "the read-only catalog of signal names and levels, never written after declaration",
	"internal/keyspace.slotTagsOnce": "computes a constant table (hash tag per cluster slot) once; no store's state",
	"internal/executor.builders":     "a sync.Pool of scratch go-redis pipelines that only build a command (never executed, discarded after each use): a cache, no store's state",
	"internal/executor.clusterHooks": "one drop hook per go-redis ClusterClient (weakly keyed, gone with the client): go-redis cannot remove a hook, so stores register with it instead of adding their own (issue 22)",
}

// libraryDirs returns the module's library package directories (relative, slash-separated):
// every folder with non-test Go files but the programs on top and the test support.
func libraryDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	for _, rel := range libraryFiles(t, filepath.Join("..", "..")) {
		if dir := filepath.ToSlash(filepath.Dir(rel)); !isProgramOrSupport(dir) && !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
	}
	return dirs
}

func isProgramOrSupport(rel string) bool {
	for _, p := range []string{"loadtest", "examples", "dashboards", "bench", "internal/redistest", "internal/archtest"} {
		if rel == p || strings.HasPrefix(rel, p+"/") {
			return true
		}
	}
	return false
}

// TestNoPackageLevelState keeps per-store state in the store: no library package declares a
// package-level variable of a map, sync or atomic type (outside allowedVars), and none has an
// init function.
func TestNoPackageLevelState(t *testing.T) {
	dirs := libraryDirs(t)
	if len(dirs) < 8 {
		t.Fatalf("found only %d library packages: %v", len(dirs), dirs)
	}
	for _, dir := range dirs {
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, filepath.Join("..", "..", dir), func(fi os.FileInfo) bool {
			return !strings.HasSuffix(fi.Name(), "_test.go")
		}, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, pkg := range pkgs {
			for _, f := range pkg.Files {
				checkFile(t, fset, dir, f)
			}
		}
	}
}

func checkFile(t *testing.T, fset *token.FileSet, dir string, f *ast.File) {
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil && d.Name.Name == "init" {
				t.Errorf("%s: an init function in library package %s: make the state explicit instead", fset.Position(d.Pos()), dir)
			}
		case *ast.GenDecl:
			if d.Tok != token.VAR {
				continue
			}
			for _, spec := range d.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					var value ast.Expr
					if i < len(vs.Values) {
						value = vs.Values[i]
					}
					if !mutable(vs.Type) && !mutable(value) {
						continue
					}
					if _, ok := allowedVars[dir+"."+name.Name]; ok {
						continue
					}
					t.Errorf("%s: package-level %s in %s has a mutable type (map, sync, atomic): keep it in the store that owns it", fset.Position(name.Pos()), name.Name, dir)
				}
			}
		}
	}
}

// mutable reports whether a type or value expression is of a map, sync or atomic type.
func mutable(e ast.Expr) bool {
	switch x := e.(type) {
	case nil:
		return false
	case *ast.MapType:
		return true
	case *ast.StarExpr:
		return mutable(x.X)
	case *ast.UnaryExpr:
		return mutable(x.X)
	case *ast.CompositeLit:
		return mutable(x.Type)
	case *ast.CallExpr:
		if id, ok := x.Fun.(*ast.Ident); ok && (id.Name == "make" || id.Name == "new") && len(x.Args) > 0 {
			return mutable(x.Args[0])
		}
		return false
	case *ast.IndexExpr:
		return mutable(x.X)
	case *ast.SelectorExpr:
		if pkg, ok := x.X.(*ast.Ident); ok {
			return pkg.Name == "sync" || pkg.Name == "atomic"
		}
	}
	return false
}
