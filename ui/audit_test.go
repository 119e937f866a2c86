package ui

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/wire"
)

// auditFake is the server side of the journal and personal data.
type auditFake struct {
	pages    []wire.AuditPage // answered in order, then empty pages
	queries  []wire.AuditQuery
	exported []app.AuditFilter
	pd       wire.PersonalData // masked, as stored
	full     wire.PersonalData // what a reveal answers
	reveals  int
	sets     []wire.SetPersonalDataRequest
	setErr   error
}

func (f *fakeBackend) AuditEntries(_ context.Context, q wire.AuditQuery) (wire.AuditPage, error) {
	f.audit.queries = append(f.audit.queries, q)
	if len(f.audit.pages) == 0 {
		return wire.AuditPage{}, nil
	}
	p := f.audit.pages[0]
	f.audit.pages = f.audit.pages[1:]
	return p, nil
}

func (f *fakeBackend) ExportAuditEntries(_ context.Context, fl app.AuditFilter, loc *time.Location) ([]byte, error) {
	f.audit.exported = append(f.audit.exported, fl)
	return app.ExportAuditCSV(sampleAudit(), loc), nil
}

func (f *fakeBackend) PersonalData(context.Context) (wire.PersonalData, error) {
	return f.audit.pd, nil
}

func (f *fakeBackend) SetPersonalData(_ context.Context, r wire.SetPersonalDataRequest) (wire.PersonalData, error) {
	f.audit.sets = append(f.audit.sets, r)
	if f.audit.setErr != nil {
		return wire.PersonalData{}, f.audit.setErr
	}
	if r.SNILS != nil {
		d, _ := wire.NormalizeSNILS(*r.SNILS)
		f.audit.pd.SNILS = wire.MaskSNILS(d)
	}
	return f.audit.pd, nil
}

func (f *fakeBackend) RevealPersonalData(context.Context) (wire.PersonalData, error) {
	f.audit.reveals++
	return f.audit.full, nil
}

var _ auditBackend = (*fakeBackend)(nil)

func sampleAudit() []wire.AuditEntry {
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	return []wire.AuditEntry{
		{ID: 12, At: at, ActorID: 20, ActorLogin: "ivanov", IP: "10.0.0.5", Device: "Рабочий ПК [dev-1]", Action: wire.AuditFileDownload,
			ObjectType: "document_version", ObjectID: "77", AppID: 9, Details: map[string]any{"sha256": "ab12", "app": float64(9)}},
		{ID: 11, At: at.Add(-time.Hour), ActorID: 20, ActorLogin: "ivanov", IP: "203.0.113.9", Device: "dev-2", Action: wire.AuditLoginFailed,
			ObjectType: "user", ObjectID: "20", Details: map[string]any{"reason": "wrong_password"}},
		{ID: 10, At: at.Add(-2 * time.Hour), ActorID: 31, ActorLogin: "petrova", IP: "10.0.0.7", Action: wire.AuditStatusChange,
			ObjectType: "application", ObjectID: "9", AppID: 9, Details: map[string]any{"from": "submitted", "to": "needs_correction"}},
	}
}

func newAuditFixture(t *testing.T, role wire.Role, own bool) (*env, *fakeBackend, *auditView) {
	t.Helper()
	e := newTestEnv(t, fyne.NewSize(1100, 600))
	be := newFakeBackend(wire.User{ID: 20, Login: "ivanov", FullName: "Иванов И. И.", Role: role})
	rows := sampleAudit()
	be.audit.pages = []wire.AuditPage{{Items: rows[:2], NextBefore: 11}, {Items: rows[2:]}}
	v := newAuditView(e, be, own)
	show(e, v.content(), fyne.NewSize(1100, 600))
	return e, be, v
}

func auditCell(v *auditView, row, col int) *widget.Label {
	l := v.table.CreateCell().(*widget.Label)
	v.table.UpdateCell(widget.TableCellID{Row: row, Col: col}, l)
	return l
}

// TestAuditViewFiltersAndPages: the filter reaches the server as asked,
// pages append on «Показать ещё», cells read as a person would.
func TestAuditViewFiltersAndPages(t *testing.T) {
	_, be, v := newAuditFixture(t, wire.RoleAdmin, false)
	if v.scope.Text != "Все записи журнала аудита" {
		t.Errorf("scope %q", v.scope.Text)
	}
	v.actionSel.SetSelected("Скачивание файла")
	test.Type(v.text, "ivanov")
	v.fromDate.SetDate(ptrTime(time.Date(2026, 3, 1, 0, 0, 0, 0, time.Local)))
	v.toDate.SetDate(ptrTime(time.Date(2026, 3, 2, 0, 0, 0, 0, time.Local)))
	test.Tap(v.find)
	if len(be.audit.queries) != 1 {
		t.Fatalf("%d queries", len(be.audit.queries))
	}
	q := be.audit.queries[0]
	wantFrom, wantTo := time.Date(2026, 3, 1, 0, 0, 0, 0, time.Local), time.Date(2026, 3, 3, 0, 0, 0, 0, time.Local)
	if q.Action != wire.AuditFileDownload || q.Text != "ivanov" || !q.From.Equal(wantFrom) || !q.To.Equal(wantTo) || q.ActorID != 0 || q.Before != 0 {
		t.Errorf("query %+v", q)
	}
	if rows, cols := v.table.Length(); rows != 2 || cols != auditColCount {
		t.Fatalf("table %d×%d", rows, cols)
	}
	if v.more.Disabled() {
		t.Fatal("«Показать ещё» disabled with an older page to read")
	}
	if l := auditCell(v, 0, auditColAction); l.Text != "Скачивание файла" {
		t.Errorf("action cell %q", l.Text)
	}
	if l := auditCell(v, 0, auditColObject); l.Text != "Версия файла 77 · заявление № 9" {
		t.Errorf("object cell %q", l.Text)
	}
	if l := auditCell(v, 0, auditColDetails); l.Text != "app=9, sha256=ab12" {
		t.Errorf("details cell %q", l.Text)
	}
	if l := auditCell(v, 1, auditColAction); l.Text != "Неудачная попытка входа" || l.Importance != widget.DangerImportance {
		t.Errorf("failed login cell %q (%v)", l.Text, l.Importance)
	}
	test.Tap(v.more)
	if len(be.audit.queries) != 2 || be.audit.queries[1].Before != 11 || be.audit.queries[1].Action != wire.AuditFileDownload {
		t.Fatalf("next page query %+v", be.audit.queries)
	}
	if rows, _ := v.table.Length(); rows != 3 || !v.more.Disabled() {
		t.Errorf("after the last page: %d rows, more disabled %v", rows, v.more.Disabled())
	}
	if v.status.Text != "Показано 3 записи" {
		t.Errorf("status %q", v.status.Text)
	}
}

// TestAuditViewOwnAndExport: the account's «Мои действия» asks for the
// user's rows only, and the export writes every matching row as CSV for
// Excel to the chosen file.
func TestAuditViewOwnAndExport(t *testing.T) {
	_, be, v := newAuditFixture(t, wire.RoleExpert, true)
	v.load()
	if len(be.audit.queries) != 1 || be.audit.queries[0].ActorID != 20 {
		t.Fatalf("own query %+v", be.audit.queries)
	}
	if v.scope.Text != "Ваши действия: входы, файлы, изменения — кто, что, когда и откуда" {
		t.Errorf("scope %q", v.scope.Text)
	}
	dst := filepath.Join(t.TempDir(), "журнал.csv")
	var asked string
	v.saveFile = func(name string, done func(string)) { asked = name; done(dst) }
	v.actionSel.SetSelected("Неудачная попытка входа")
	test.Tap(v.csv)
	if !strings.HasPrefix(asked, "Журнал аудита ") || !strings.HasSuffix(asked, ".csv") {
		t.Errorf("suggested name %q", asked)
	}
	if len(be.audit.exported) != 1 || be.audit.exported[0].ActorID != 20 || be.audit.exported[0].Action != wire.AuditLoginFailed {
		t.Fatalf("export filter %+v", be.audit.exported)
	}
	data, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("\ufeff№ записи;Время (UTC);")) || !bytes.Contains(data, []byte("Неудачная попытка входа;login_failed;user;20;;203.0.113.9;dev-2;")) {
		t.Errorf("CSV:\n%s", data)
	}
	if !strings.HasPrefix(v.status.Text, "Сохранено: ") {
		t.Errorf("status %q", v.status.Text)
	}
}

// TestPersonalDataBlock: masked values, a reveal that asks the server and
// a hide that does not, and the edit dialog's live СНИЛС check.
func TestPersonalDataBlock(t *testing.T) {
	e := newTestEnv(t, fyne.NewSize(800, 500))
	be := newFakeBackend(wire.User{ID: 20, Role: wire.RoleExpert})
	be.audit.pd = wire.PersonalData{UserID: 20, SNILS: "***-***-*** 95"}
	be.audit.full = wire.PersonalData{UserID: 20, SNILS: "112-233-445 95", Revealed: true}
	v := newPersonalDataView(e, be)
	show(e, v.content(), fyne.NewSize(800, 500))
	v.load()
	if v.snils.Text != "***-***-*** 95" || v.passport.Text != "не указан" || v.reveal.Text != "Показать полностью" {
		t.Fatalf("masked: %q %q %q", v.snils.Text, v.passport.Text, v.reveal.Text)
	}
	test.Tap(v.reveal)
	if be.audit.reveals != 1 || v.snils.Text != "112-233-445 95" || v.reveal.Text != "Скрыть" {
		t.Fatalf("revealed: %d %q %q", be.audit.reveals, v.snils.Text, v.reveal.Text)
	}
	test.Tap(v.reveal)
	if be.audit.reveals != 1 || v.snils.Text != "***-***-*** 95" {
		t.Fatalf("hidden again: %d calls, %q", be.audit.reveals, v.snils.Text)
	}

	test.Tap(v.edit)
	test.Type(v.snilsF.entry, "112-233-445 96") // a wrong check number
	if v.snilsF.hint.Hidden || !strings.Contains(v.snilsF.hint.Text, "СНИЛС") {
		t.Fatalf("no live hint for a wrong СНИЛС: %q", v.snilsF.hint.Text)
	}
	v.snilsF.entry.SetText("")
	test.Type(v.snilsF.entry, "112-233-445 95")
	if !v.snilsF.hint.Hidden {
		t.Fatalf("hint for a right СНИЛС: %q", v.snilsF.hint.Text)
	}
	be.audit.setErr = wire.E(wire.CodeInvalid, "passport", "Паспорт не подошёл", "Bad passport")
	test.Type(v.passportF.entry, "4506 987654")
	v.dlg.Submit()
	if len(be.audit.sets) != 1 || *be.audit.sets[0].SNILS != "112-233-445 95" || *be.audit.sets[0].Passport != "4506 987654" {
		t.Fatalf("request %+v", be.audit.sets)
	}
	if v.passportF.hint.Hidden || v.passportF.hint.Text != "Паспорт не подошёл" {
		t.Fatalf("the server's refusal is not under the passport: %q", v.passportF.hint.Text)
	}
	be.audit.setErr = nil
	v.passportF.entry.SetText("")
	v.dlg.Submit()
	if r := be.audit.sets[1]; r.SNILS == nil || r.Passport != nil {
		t.Fatalf("an empty field must be left alone: %+v", r)
	}
}

func TestEditRequest(t *testing.T) {
	s := func(p *string) string {
		if p == nil {
			return "<keep>"
		}
		return "«" + *p + "»"
	}
	tests := []struct {
		snils      string
		clearSNILS bool
		passport   string
		clearPas   bool
		want       string
	}{
		{"112-233-445 95", false, "", false, "«112-233-445 95» <keep>"},
		{"", true, " 4506 987654 ", false, "«» «4506 987654»"},
		{"", false, "", true, "<keep> «»"},
		{"112-233-445 95", true, "", false, "«112-233-445 95» <keep>"}, // a typed value wins over «delete»
	}
	for _, tt := range tests {
		r := editRequest(tt.snils, tt.clearSNILS, tt.passport, tt.clearPas)
		if got := s(r.SNILS) + " " + s(r.Passport); got != tt.want {
			t.Errorf("%+v: %s, want %s", tt, got, tt.want)
		}
	}
}

// TestJournalNavigation: the main window's «Журнал» opens the journal and
// reads it.
func TestJournalNavigation(t *testing.T) {
	e := newTestEnv(t, fyne.NewSize(1200, 700))
	be := newFakeBackend(wire.User{ID: 1, FullName: "Админ", Role: wire.RoleAdmin})
	be.audit.pages = []wire.AuditPage{{Items: sampleAudit()}}
	m := newMainScreen(e, be, func() {})
	defer m.close()
	show(e, m.content(), fyne.NewSize(1200, 700))
	if m.navJournal == nil || m.navJournal.Text != "Журнал" {
		t.Fatal("no «Журнал» in the navigation")
	}
	test.Tap(m.navJournal)
	if !containsObject(m.body, m.journal.table) || len(be.audit.queries) != 1 || m.navJournal.Importance != widget.HighImportance {
		t.Fatalf("journal shown %v, %d queries", containsObject(m.body, m.journal.table), len(be.audit.queries))
	}
}

// TestAuditMarkup pins the journal screen's layout.
func TestAuditMarkup(t *testing.T) {
	e, _, v := newAuditFixture(t, wire.RoleManager, false)
	v.load()
	settle(e.win)
	test.AssertRendersToMarkup(t, "audit.xml", e.win.Canvas())
}

func ptrTime(t time.Time) *time.Time { return &t }
