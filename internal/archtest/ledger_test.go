package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// ledgerPath is the guarantee ledger: one table row per promise the docs make, each naming the
// tests that try to break it.
const ledgerPath = "docs/guarantees.md"

// ledgerTest matches a test reference in the ledger's "Checked by" column: `dir.TestName`, where
// dir is the package's folder from the repository root (`client.TestX`, `internal/history.TestY`).
var ledgerTest = regexp.MustCompile("`([a-z0-9_/]+)\\.(Test[A-Za-z0-9_]+)`")

// TestLedgerRowsNameTestsThatExist fails when a row of the guarantee ledger names a test that does
// not exist, or a row names no test at all: a promise whose test was renamed or deleted is a
// promise nobody checks any more.
func TestLedgerRowsNameTestsThatExist(t *testing.T) {
	root := filepath.Join("..", "..")
	data, err := os.ReadFile(filepath.Join(root, ledgerPath))
	if err != nil {
		t.Fatal(err)
	}
	rows, refs := 0, 0
	for n, line := range strings.Split(string(data), "\n") {
		if !isLedgerRow(line) {
			continue
		}
		rows++
		found := ledgerTest.FindAllStringSubmatch(line, -1)
		if len(found) == 0 {
			t.Errorf("%s:%d: the row names no test (write `dir.TestName`)", ledgerPath, n+1)
		}
		for _, m := range found {
			refs++
			if !testExists(t, filepath.Join(root, m[1]), m[2]) {
				t.Errorf("%s:%d: %s.%s does not exist", ledgerPath, n+1, m[1], m[2])
			}
		}
	}
	if rows == 0 {
		t.Fatalf("%s has no ledger rows", ledgerPath)
	}
	t.Logf("%d promises, %d test references", rows, refs)
}

// isLedgerRow reports whether line is a data row of a ledger table: a Markdown table row whose
// first cell is a promise id such as **G3**.
func isLedgerRow(line string) bool {
	return strings.HasPrefix(line, "| **G")
}

// testExists reports whether a _test.go file in dir declares func name.
func testExists(t *testing.T, dir, name string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && fn.Name.Name == name {
				return true
			}
		}
	}
	return false
}
