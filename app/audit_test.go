package app

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/expertiza/expertiza/sync/wire"
)

// auditServer pages a journal of n rows (ids n..1) by before/limit the way
// the sync server does, and answers personal-data calls.
type auditServer struct {
	n       int64
	queries []string
	sets    int
}

func (a *auditServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reply := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	switch {
	case r.URL.Path == wire.APIPrefix+"/auth/login":
		reply(wire.LoginResponse{Token: "tok", Scope: wire.ScopeFull, User: wire.User{ID: 7, Login: "ivanov"}})
	case r.URL.Path == wire.APIPrefix+"/audit":
		a.queries = append(a.queries, r.URL.RawQuery)
		before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
		limit, _ := strconv.ParseInt(r.URL.Query().Get("limit"), 10, 64)
		if before == 0 {
			before = a.n + 1
		}
		var page wire.AuditPage
		for id := before - 1; id >= 1 && int64(len(page.Items)) < limit; id-- {
			page.Items = append(page.Items, wire.AuditEntry{ID: id, Action: wire.AuditLogin, ActorLogin: "ivanov"})
		}
		if n := len(page.Items); n > 0 && page.Items[n-1].ID > 1 {
			page.NextBefore = page.Items[n-1].ID
		}
		reply(page)
	case r.URL.Path == wire.APIPrefix+"/me/personal-data" && r.Method == http.MethodPut:
		a.sets++
		reply(wire.PersonalData{UserID: 7, SNILS: "***-***-*** 95"})
	default:
		http.NotFound(w, r)
	}
}

func auditSignedIn(t *testing.T, h http.Handler) *Workspace {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	w := NewWorkspace(quietLog(), NewSession(quietLog(), "dev", "host"), NewStore(quietLog()))
	if _, err := w.Session().Login(context.Background(), Credentials{Server: srv.URL, Login: "ivanov", Password: "x"}); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestAllAuditEntriesPages(t *testing.T) {
	fake := &auditServer{n: 1203}
	w := auditSignedIn(t, fake)
	rows, err := w.AllAuditEntries(context.Background(), wire.AuditQuery{Action: wire.AuditLogin, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1203 || rows[0].ID != 1203 || rows[1202].ID != 1 {
		t.Fatalf("%d rows, first %d", len(rows), rows[0].ID)
	}
	if len(fake.queries) != 3 || !strings.Contains(fake.queries[0], "limit=500") || !strings.Contains(fake.queries[1], "before=704") ||
		!strings.Contains(fake.queries[2], "action=login") {
		t.Fatalf("queries %q", fake.queries)
	}
	fake.n = MaxAuditExport + 1
	if _, err := w.AllAuditEntries(context.Background(), wire.AuditQuery{}); wire.ErrorCode(err) != wire.CodeTooLarge {
		t.Fatalf("over the export bound: %v", err)
	}
}

func TestAuditFilterQuery(t *testing.T) {
	msk := time.FixedZone("MSK", 3*3600)
	q := AuditFilter{From: wire.Date{Year: 2026, Month: 3, Day: 1}, To: wire.Date{Year: 2026, Month: 3, Day: 31}, Action: "login", ActorID: 7}.Query(msk)
	if !q.From.Equal(time.Date(2026, 2, 28, 21, 0, 0, 0, time.UTC)) || !q.To.Equal(time.Date(2026, 3, 31, 21, 0, 0, 0, time.UTC)) ||
		q.Action != "login" || q.ActorID != 7 {
		t.Fatalf("query %+v", q)
	}
	if v := q.Values(); v.Get("from") != "2026-02-28T21:00:00Z" || v.Get("to") != "2026-03-31T21:00:00Z" || v.Get("actor_id") != "7" {
		t.Fatalf("values %v", v)
	}
	if q := (AuditFilter{}).Query(msk); !q.From.IsZero() || !q.To.IsZero() || len(q.Values()) != 0 {
		t.Fatalf("an empty filter filters: %+v", q)
	}
}

func TestExportAuditCSV(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 30, 5, 0, time.UTC)
	data := ExportAuditCSV([]wire.AuditEntry{
		{ID: 12, At: at, ActorID: 20, ActorLogin: "ivanov", IP: "10.0.0.5", Device: "ПК; кабинет [dev-1]", Action: wire.AuditFileDownload,
			ObjectType: "document_version", ObjectID: "77", AppID: 9, Details: map[string]any{"sha256": "ab12"}},
		{ID: 11, At: at, ActorLogin: "nobody", Action: wire.AuditLoginFailed, ObjectType: "user", Details: map[string]any{"reason": "unknown_login"}},
	}, time.FixedZone("MSK", 3*3600))
	want := "\ufeff№ записи;Время (UTC);Время (местное);Пользователь;ID пользователя;Действие;Код действия;Объект;ID объекта;Заявление;IP-адрес;Устройство;Подробности\r\n" +
		"12;2026-03-02 09:30:05;02.03.2026 12:30:05;ivanov;20;Скачивание файла;file_download;document_version;77;9;10.0.0.5;\"ПК; кабинет [dev-1]\";\"{\"\"sha256\"\":\"\"ab12\"\"}\"\r\n" +
		"11;2026-03-02 09:30:05;02.03.2026 12:30:05;nobody;;Неудачная попытка входа;login_failed;user;;;;;\"{\"\"reason\"\":\"\"unknown_login\"\"}\"\r\n"
	if !bytes.Equal(data, []byte(want)) {
		t.Fatalf("CSV:\n%q\nwant\n%q", data, want)
	}
}

// TestSetPersonalDataChecksFirst: a wrong СНИЛС or passport is refused
// under its field before any call; nothing given is refused too.
func TestSetPersonalDataChecksFirst(t *testing.T) {
	fake := &auditServer{}
	w := auditSignedIn(t, fake)
	ctx := context.Background()
	s := func(v string) *string { return &v }
	tests := []struct {
		r     wire.SetPersonalDataRequest
		field string // "" succeeds
	}{
		{wire.SetPersonalDataRequest{SNILS: s("112-233-445 96")}, "snils"},
		{wire.SetPersonalDataRequest{Passport: s("45 06 12345")}, "passport"},
		{wire.SetPersonalDataRequest{}, "snils"},
		{wire.SetPersonalDataRequest{SNILS: s(" 112-233-445 95 "), Passport: s("")}, ""},
	}
	for _, tt := range tests {
		_, err := w.SetPersonalData(ctx, tt.r)
		e, _ := wire.AsError(err)
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("%+v: %v", tt.r, err)
		case tt.field != "" && (e == nil || e.Field != tt.field):
			t.Errorf("%+v: %v, want an error on %s", tt.r, err, tt.field)
		}
	}
	if fake.sets != 1 {
		t.Fatalf("%d calls reached the server, want only the valid one", fake.sets)
	}
}
