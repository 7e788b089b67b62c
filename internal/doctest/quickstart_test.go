package doctest

import (
	"go/ast"
	"go/doc/comment"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// packageDocCode returns the code block that follows the heading of the package doc in dir's
// doc.go.
func packageDocCode(t *testing.T, dir, heading string) string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(repoRoot(t), dir, "doc.go"), nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	if f.Doc == nil {
		t.Fatalf("%s/doc.go has no package doc", dir)
	}
	var p comment.Parser
	d := p.Parse(f.Doc.Text())
	inSection := false
	for _, blk := range d.Content {
		switch x := blk.(type) {
		case *comment.Heading:
			inSection = headingText(x) == heading
		case *comment.Code:
			if inSection {
				return x.Text
			}
		}
	}
	t.Fatalf("%s/doc.go: no code block under the heading %q", dir, heading)
	return ""
}

func headingText(h *comment.Heading) string {
	var b strings.Builder
	for _, x := range h.Text {
		if p, ok := x.(comment.Plain); ok {
			b.WriteString(string(p))
		}
	}
	return b.String()
}

// TestQuickStartIsTheClientPackageDoc: the README's quick start and the one `go doc client`
// shows are one program, character for character, so the two can never drift apart again.
func TestQuickStartIsTheClientPackageDoc(t *testing.T) {
	readme := goBlocks(t, "README.md")
	if len(readme) == 0 || readme[0].Title != "Quick start" {
		t.Fatalf("the README's first Go block is not under its \"Quick start\" heading")
	}
	qs := readme[0].Src
	doc := packageDocCode(t, "client", "Quick start")
	if doc != qs {
		t.Errorf("client/doc.go's quick start differs from the README's.\nREADME:\n%s\nclient/doc.go:\n%s", qs, doc)
	}
	// What the quick start must show (issue 26): a client the store owns and closes, and the
	// readiness check, since Build never dials.
	for _, want := range []string{"client.OwnClient()", "defer st.Close()", "st.Ping(ctx)", `os.Getenv("REDIS_ADDR")`} {
		if !strings.Contains(qs, want) {
			t.Errorf("the quick start does not contain %s", want)
		}
	}
	// And it stays short: it is the README's quick start, not the tour.
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "quickstart.go", qs, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.Name == "main" {
			if n := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line - 1; n > 30 {
				t.Errorf("the quick start's main has %d lines; keep it about 20 (move the rest to docs/getting-started.md)", n)
			}
		}
	}
}
