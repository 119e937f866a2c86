package ui

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/expertiza/expertiza/assets"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

func readTranslation(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := assets.Translations.ReadFile("translations/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// literalKeys returns the string literals passed as the first argument of
// lang.L, lang.X and lang.XN, and to the form helper item(), in ui/*.go.
func literalKeys(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			name := ""
			switch fn := call.Fun.(type) {
			case *ast.SelectorExpr:
				if x, ok := fn.X.(*ast.Ident); ok && x.Name == "lang" {
					name = fn.Sel.Name
				}
			case *ast.Ident:
				name = fn.Name
			}
			if name != "L" && name != "X" && name != "XN" && name != "item" {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, _ := strconv.Unquote(lit.Value)
			keys = append(keys, s)
			return true
		})
	}
	return keys
}

func TestTranslationsAreComplete(t *testing.T) {
	ru, en := readTranslation(t, "ru.json"), readTranslation(t, "en.json")
	if diff := symmetricDiff(slices.Collect(maps.Keys(ru)), slices.Collect(maps.Keys(en))); len(diff) > 0 {
		t.Errorf("keys only in one of ru.json and en.json: %v", diff)
	}
	if ru["lang.code"] != "ru" || en["lang.code"] != "en" {
		t.Errorf("lang.code must name each file's language")
	}

	need := literalKeys(t)
	if len(need) < 50 {
		t.Fatalf("found only %d literal keys: the scan is broken", len(need))
	}
	for _, s := range wire.AllStatuses {
		need = append(need, "status."+string(s))
		// Russian status names come from the design, through wire.
		if got := ru["status."+string(s)]; got != s.Label() {
			t.Errorf("ru status.%s = %q, want wire's %q", s, got, s.Label())
		}
		for _, to := range wire.AllStatuses {
			for _, a := range []wire.Actor{
				{Role: wire.RoleApplicant, Member: true}, {Role: wire.RoleManager}, {Role: wire.RoleAdmin},
				{Role: wire.RoleExpert, Assigned: true, Lead: true}, {System: true},
			} {
				if slices.Contains(wire.AllowedTransitions(s, a), to) {
					need = append(need, "transition."+string(s)+"."+string(to))
				}
			}
		}
	}
	for _, r := range wire.AllRoles {
		need = append(need, "role."+string(r))
	}
	for _, k := range []wire.ExpertiseKind{wire.KindProjectDocs, wire.KindSurveys, wire.KindProjectDocsAndSurvey, wire.KindEstimate} {
		need = append(need, "expertise."+string(k))
	}
	for _, k := range []wire.WorksKind{wire.WorksConstruction, wire.WorksReconstruction, wire.WorksOverhaul} {
		need = append(need, "works."+string(k))
	}
	for _, f := range []wire.Financing{wire.FinancingBudget, wire.FinancingNonBudget, wire.FinancingMixed} {
		need = append(need, "financing."+string(f))
	}
	for _, c := range []wire.Channel{wire.ChannelApplicant, wire.ChannelStaff} {
		need = append(need, "chat."+string(c))
	}
	for _, s := range []client.State{client.StateOffline, client.StateConnecting, client.StateOnline, client.StateStopped} {
		need = append(need, "conn."+s.String())
	}
	for _, k := range need {
		for name, m := range map[string]map[string]any{"ru.json": ru, "en.json": en} {
			if _, ok := m[k]; !ok {
				t.Errorf("%s lacks %q", name, k)
			}
		}
	}
}

func TestRussianPlurals(t *testing.T) {
	tests := []struct {
		days int
		want string
	}{
		{1, "1 рабочий день"},
		{3, "3 рабочих дня"},
		{5, "5 рабочих дней"},
		{21, "21 рабочий день"},
		{0, "0 рабочих дней"},
		{-1, "просрочено на 1 рабочий день"},
		{-12, "просрочено на 12 рабочих дней"},
	}
	for _, tt := range tests {
		if got := daysLeftText(tt.days); got != tt.want {
			t.Errorf("daysLeftText(%d) = %q, want %q", tt.days, got, tt.want)
		}
	}
}

func symmetricDiff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			out = append(out, x)
		}
	}
	return out
}

func TestInterfaceLanguageFollowsLocale(t *testing.T) {
	t.Cleanup(func() {
		os.Setenv("LC_ALL", "ru_RU.UTF-8")
		if err := loadTranslations(); err != nil {
			t.Fatal(err)
		}
	})
	refusal := wire.E(wire.CodeConflict, "version", "Заявление уже изменено", "Already changed")
	tests := []struct {
		locale                         string
		status, one, five, refusalText string
	}{
		{"ru_RU.UTF-8", "Черновик", "1 рабочий день", "5 рабочих дней", "Заявление уже изменено"},
		{"en_GB.UTF-8", "Draft", "1 working day left", "5 working days left", "Already changed"},
		// Russian is the default for a language the client has no file
		// for; that language's plural rules pick the neutral form.
		{"de_DE.UTF-8", "Черновик", "1 рабочий день", "5 раб. дн.", "Заявление уже изменено"},
	}
	for _, tt := range tests {
		t.Run(tt.locale, func(t *testing.T) {
			os.Setenv("LC_ALL", tt.locale)
			if err := loadTranslations(); err != nil {
				t.Fatal(err)
			}
			if got := statusLabel(wire.StatusDraft); got != tt.status {
				t.Errorf("status label %q, want %q", got, tt.status)
			}
			if got := daysLeftText(1); got != tt.one {
				t.Errorf("days left %q, want %q", got, tt.one)
			}
			if got := daysLeftText(5); got != tt.five {
				t.Errorf("days left %q, want %q", got, tt.five)
			}
			if got := message(refusal); got != tt.refusalText {
				t.Errorf("refusal shown as %q, want %q", got, tt.refusalText)
			}
		})
	}
}
