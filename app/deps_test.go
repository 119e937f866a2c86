package app

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the core free of the interface toolkit and of the
// database driver (DESIGN.md §2): the screens are a thin layer over it and
// the database belongs to the server.
func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range file.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, banned := range []string{"fyne.io/", "github.com/jackc/pgx"} {
				if strings.HasPrefix(path, banned) {
					t.Errorf("%s imports %s", f, path)
				}
			}
		}
	}
}
