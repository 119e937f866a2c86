package wire_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyRule enforces DESIGN.md §2: sync/wire imports only the
// standard library; sync/ and server/ never import Fyne; app/ and ui/ never
// import pgx.
func TestDependencyRule(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not available")
	}
	tests := []struct {
		pattern   string
		forbidden func(dep string) bool
		why       string
	}{
		{"github.com/expertiza/expertiza/sync/wire", func(d string) bool { return strings.Contains(strings.SplitN(d, "/", 2)[0], ".") },
			"sync/wire imports only the standard library"},
		{"github.com/expertiza/expertiza/sync/...", func(d string) bool { return strings.HasPrefix(d, "fyne.io/") }, "sync/ never imports Fyne"},
		{"github.com/expertiza/expertiza/server/...", func(d string) bool { return strings.HasPrefix(d, "fyne.io/") }, "server/ never imports Fyne"},
		{"github.com/expertiza/expertiza/app/...", func(d string) bool { return strings.HasPrefix(d, "github.com/jackc/") }, "app/ never imports pgx"},
		{"github.com/expertiza/expertiza/app/...", func(d string) bool { return strings.HasPrefix(d, "fyne.io/") }, "app/ never imports Fyne"},
		{"github.com/expertiza/expertiza/ui/...", func(d string) bool { return strings.HasPrefix(d, "github.com/jackc/") }, "ui/ never imports pgx"},
		{"github.com/expertiza/expertiza/pdfdoc/...", func(d string) bool {
			return strings.HasPrefix(d, "fyne.io/") || strings.HasPrefix(d, "github.com/jackc/")
		}, "pdfdoc/ (used by client and server) imports neither Fyne nor pgx"},
		{"github.com/expertiza/expertiza/pdfannot/...", func(d string) bool {
			return strings.HasPrefix(d, "fyne.io/") || strings.HasPrefix(d, "github.com/jackc/")
		}, "pdfannot/ (annotated PDF export) imports neither Fyne nor pgx"},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			cmd := exec.Command("go", "list", "-tags", "ci,migrated_fynedo", "-e", "-json=ImportPath,Deps", tt.pattern)
			cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list %s: %v", tt.pattern, err)
			}
			dec := json.NewDecoder(strings.NewReader(string(out)))
			for dec.More() {
				var p struct {
					ImportPath string
					Deps       []string
				}
				if err := dec.Decode(&p); err != nil {
					t.Fatal(err)
				}
				for _, d := range p.Deps {
					if tt.forbidden(d) {
						t.Errorf("%s depends on %s: %s", p.ImportPath, d, tt.why)
					}
				}
			}
		})
	}
}
