package ops_test

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/igniter-go/store/ops"
)

// declaredCodes returns every constant of type Code declared in codes.go, read from its AST,
// so a code added there without being added to ops.Codes fails the test below.
func declaredCodes(t *testing.T) map[ops.Code]bool {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "codes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[ops.Code]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
			return true
		}
		for _, v := range vs.Values {
			if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				out[ops.Code(lit.Value[1:len(lit.Value)-1])] = true
			}
		}
		return true
	})
	return out
}

// Every code is in ops.Codes, once, and every error the ops constructors build for it carries
// the category and status CategoryOf and StatusOf give for the code.
func TestEveryCodeErrorAgreesWithCategoryOfAndStatusOf(t *testing.T) {
	declared := declaredCodes(t)
	listed := map[ops.Code]bool{}
	for _, c := range ops.Codes() {
		if listed[c] {
			t.Errorf("%s listed twice", c)
		}
		listed[c] = true
		if !declared[c] {
			t.Errorf("%s listed but not declared", c)
		}
	}
	for c := range declared {
		if !listed[c] {
			t.Errorf("%s declared in codes.go but missing from ops.Codes", c)
		}
	}
	if len(declared) != len(ops.Codes()) || len(ops.OriginalCodes()) != 45 {
		t.Errorf("%d codes declared, %d listed, %d original (want 45)", len(declared), len(ops.Codes()), len(ops.OriginalCodes()))
	}

	check := func(e *ops.Error, how string) {
		t.Helper()
		cat, status := ops.CategoryOf(e.Code), ops.StatusOf(e.Code)
		if e.Category != cat || e.Status != status {
			t.Errorf("%s %s: category %v status %d, CategoryOf/StatusOf say %v %d", how, e.Code, e.Category, e.Status, cat, status)
		}
		if !errors.Is(e, cat) {
			t.Errorf("%s %s: errors.Is(err, %v) is false", how, e.Code, cat)
		}
		if status != 400 && status != 500 {
			t.Errorf("%s: status %d", e.Code, status)
		}
	}
	for _, c := range ops.Codes() {
		check(ops.NewError(c, "op", "m", io.EOF), "NewError")
		check(ops.NewError(c, "op", "m", nil).WithDetails(map[string]any{"k": 1}), "NewError.WithDetails")
		if ops.CategoryOf(c) == ops.ErrInvalid {
			check(ops.Invalid(c, "op", "m", nil), "Invalid")
		}
	}
	for _, k := range ops.Kinds() {
		for _, cat := range []error{ops.ErrUnavailable, ops.ErrFailed, nil} {
			for _, cause := range []error{io.EOF, context.Canceled, context.DeadlineExceeded} {
				check(ops.Failure(k, cat, cause), "Failure("+k.Operation()+")")
			}
		}
	}
}

// The decisions the table encodes, where the original or the categories' meaning decide.
func TestCategoryAndStatusOfConfigurationCodes(t *testing.T) {
	for _, c := range []struct {
		code   ops.Code
		cat    error
		status int
	}{
		{ops.CodeAdapterRequired, ops.ErrInvalid, 500},      // the original's build() throws it with 500
		{ops.CodeServiceRequired, ops.ErrInvalid, 500},      // idem
		{ops.CodeConfigurationInvalid, ops.ErrInvalid, 500}, // the configuration group's status
		{ops.CodeServiceInvalid, ops.ErrInvalid, 400},
		{ops.CodeEnvironmentRequired, ops.ErrInvalid, 400},
		{ops.CodeSchemaValidationFailed, ops.ErrInvalid, 400},
		{ops.CodeSerializationFailed, ops.ErrInvalid, 400},
		{ops.CodeDeserializationFailed, ops.ErrFailed, 500},
		{ops.CodeClaimNotOwner, ops.ErrConflict, 500},
		{ops.CodeCircuitOpen, ops.ErrRejected, 500},
	} {
		if got, st := ops.CategoryOf(c.code), ops.StatusOf(c.code); got != c.cat || st != c.status {
			t.Errorf("%s: %v %d, want %v %d", c.code, got, st, c.cat, c.status)
		}
	}
}

// Errors are built only through the constructors of package ops: no *ops.Error composite
// literal in the library's non-test sources. pending lists the files still to convert; remove
// a file from it when its literals are gone (the test fails if a listed file has none).
func TestNoHandBuiltErrorsOutsideOps(t *testing.T) {
	pending := map[string]bool{}
	found := map[string]int{}
	root := ".."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == "ops" || rel != "." && strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			cl, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			if sel, ok := cl.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Error" {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "ops" && len(cl.Elts) > 1 {
					found[filepath.ToSlash(rel)]++
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for file, n := range found {
		if !pending[file] {
			t.Errorf("%s builds %d *ops.Error by hand: use ops.NewError / ops.Invalid / ops.Failure", file, n)
		}
	}
	for file := range pending {
		if found[file] == 0 {
			t.Errorf("%s has no hand-built *ops.Error any more: remove it from pending", file)
		}
	}
}
