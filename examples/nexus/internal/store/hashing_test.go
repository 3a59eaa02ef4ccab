package store

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoPasswordHashingInTheStore: the store takes password hashes, never passwords, so
// no bcrypt (about 250 ms at cost 12) can run inside one of its transactions, where on
// SQLite it would hold the only write lock.
func TestNoPasswordHashingInTheStore(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.Contains(path, "bcrypt") || strings.HasSuffix(path, "/internal/auth") {
				t.Errorf("%s imports %s: hash passwords before opening a transaction", name, path)
			}
		}
	}
	if len(files) < 5 {
		t.Fatalf("only %d files found", len(files))
	}
}
