package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/httpapi"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var relations = []string{"anon", "member", "other", "lead", "assigned", "unassigned", "manager", "admin"}

type matrixRow struct {
	method, path, state string
	want                map[string]int
}

// readMatrix parses docs/authorization.md.
func readMatrix(t *testing.T) []matrixRow {
	t.Helper()
	f, err := os.Open("../../docs/authorization.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []matrixRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "| GET ") && !strings.HasPrefix(line, "| POST ") && !strings.HasPrefix(line, "| PUT ") &&
			!strings.HasPrefix(line, "| PATCH ") && !strings.HasPrefix(line, "| DELETE ") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		method, path, _ := strings.Cut(cells[0], " ")
		if path == "/api/v1/ws" {
			continue // the WebSocket has its own tests
		}
		if len(cells) != 2+len(relations) {
			t.Fatalf("row %q has %d cells, want %d", line, len(cells), 2+len(relations))
		}
		r := matrixRow{method: method, path: path, state: cells[1], want: map[string]int{}}
		for i, rel := range relations {
			code, err := strconv.Atoi(cells[2+i])
			if err != nil {
				t.Fatalf("row %q: %s: %v", line, rel, err)
			}
			r.want[rel] = code
		}
		rows = append(rows, r)
	}
	if len(rows) < 30 {
		t.Fatalf("only %d rows parsed from docs/authorization.md", len(rows))
	}
	return rows
}

// TestMatrixCoversEveryRoute fails when a route is added without a row.
func TestMatrixCoversEveryRoute(t *testing.T) {
	rows := readMatrix(t)
	api := httpapi.New(nil, nil, testenv.Logger(t), prometheus.NewRegistry())
	for _, route := range api.Routes() {
		method, path, _ := strings.Cut(route, " ")
		if path == "/api/v1/ws" {
			continue
		}
		if !slices.ContainsFunc(rows, func(r matrixRow) bool { return r.method == method && strings.SplitN(r.path, "?", 2)[0] == path }) {
			t.Errorf("route %s has no row in docs/authorization.md", route)
		}
	}
}

// world is one server with a user for every relation.
type world struct {
	t      *testing.T
	s      *boot.Server
	actors map[string]*testenv.Actor
	shared map[string]wire.Application
	spare  *testenv.Actor
	// versions holds the file uploaded to each fixture application.
	versions map[int64]int64
}

func newWorld(t *testing.T) *world {
	s := testenv.Start(t, testenv.Config())
	w := &world{t: t, s: s, actors: map[string]*testenv.Actor{}, shared: map[string]wire.Application{}, versions: map[int64]int64{}}
	w.actors["member"] = testenv.Applicant(t, s)
	w.actors["other"] = testenv.Applicant(t, s)
	for _, rel := range []string{"lead", "assigned", "unassigned"} {
		w.actors[rel] = testenv.Staff(t, s, wire.RoleExpert, 0)
	}
	w.actors["manager"] = testenv.Staff(t, s, wire.RoleManager, 0)
	w.actors["admin"] = testenv.Staff(t, s, wire.RoleAdmin, 0)
	w.spare = testenv.Staff(t, s, wire.RoleExpert, 0)
	return w
}

// app returns an application in the named state (the first word of the
// row's state cell); fresh ones for rows that change it.
func (w *world) app(state string, fresh bool) wire.Application {
	t := w.t
	t.Helper()
	target := wire.Status(strings.TrimRight(strings.Fields(state)[0], ","))
	if a, ok := w.shared[string(target)]; ok && !fresh {
		return a
	}
	ctx := context.Background()
	str := func(s string) *string { return &s }
	works, kind, fin := wire.WorksConstruction, wire.KindProjectDocs, wire.FinancingBudget
	m, mgr, lead := w.actors["member"], w.actors["manager"], w.actors["lead"]
	a, err := m.C.CreateApplication(ctx, wire.ApplicationInput{ObjectName: str("Школа"), ObjectAddress: str("г. Тверь"),
		WorksKind: &works, ExpertiseKind: &kind, Financing: &fin}, "")
	if err != nil {
		t.Fatal(err)
	}
	move := func(who *testenv.Actor, to wire.Status, comment string) {
		t.Helper()
		if a, err = who.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: to, Comment: comment}, ""); err != nil {
			t.Fatalf("fixture %s → %s: %v", a.Status, to, err)
		}
	}
	if target != wire.StatusDraft {
		up := w.upload(a.ID, true)
		w.versions[a.ID] = up.VersionID
		move(m, wire.StatusSubmitted, "")
		if a, err = mgr.C.Assign(ctx, a.ID, wire.AssignRequest{Version: a.Version, LeadExpertID: lead.ID,
			Assignments: []wire.Assignment{{Section: "07.04", ExpertID: w.actors["assigned"].ID}}}, ""); err != nil {
			t.Fatal(err)
		}
	}
	switch target {
	case wire.StatusDraft, wire.StatusSubmitted:
	case wire.StatusNeedsCorrection:
		move(mgr, wire.StatusNeedsCorrection, "Дополните комплект")
	case wire.StatusInReview, wire.StatusConclusion:
		move(mgr, wire.StatusAwaitingContract, "")
		move(m, wire.StatusAwaitingPayment, "")
		move(mgr, wire.StatusInReview, "")
		if target == wire.StatusConclusion {
			move(lead, wire.StatusConclusion, "")
		}
	default:
		t.Fatalf("no fixture for state %q", state)
	}
	if !fresh {
		w.shared[string(target)] = a
	}
	return a
}

// upload starts (and with finish, completes) a one-chunk upload by the member.
func (w *world) upload(appID int64, finish bool) wire.Upload {
	t := w.t
	t.Helper()
	ctx := context.Background()
	m := w.actors["member"]
	var up wire.Upload
	if err := m.C.Call(ctx, http.MethodPost, fmt.Sprintf("/applications/%d/uploads", appID), wire.CreateUploadRequest{Section: "07.01",
		FileName: "ПЗ.xml", Size: int64(len(fixtureFile)), SHA256: fixtureSum}, &up, ""); err != nil {
		t.Fatal(err)
	}
	if !finish {
		return up
	}
	if st := w.do(http.MethodPut, "/api/v1/uploads/"+up.ID+"/chunks/0", rawBody(fixtureFile), m.C.Token()); st != 200 {
		t.Fatalf("fixture chunk: HTTP %d", st)
	}
	if err := m.C.Call(ctx, http.MethodPost, "/uploads/"+up.ID+"/finish", nil, &up, ""); err != nil {
		t.Fatal(err)
	}
	return up
}

// request builds the call a relation makes for a row.
func (w *world) request(r matrixRow, rel string) (method, path string, body any) {
	if m, p, b, ok := w.reviewRequest(r, rel); ok {
		return m, p, b
	}
	if m, p, b, ok := w.conclusionRequest(r, rel); ok {
		return m, p, b
	}
	if m, p, b, ok := w.contractRequest(r, rel); ok {
		return m, p, b
	}
	if m, p, b, ok := w.chatFileRequest(r); ok {
		return m, p, b
	}
	if m, p, b, ok := w.auditRequest(r); ok {
		return m, p, b
	}
	if m, p, b, ok := w.reportRequest(r); ok {
		return m, p, b
	}
	if m, p, b, ok := w.adminRequest(r); ok {
		return m, p, b
	}
	path = r.path
	query := ""
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path, query = path[:i], path[i:]
	}
	staffChannel := strings.Contains(query, "channel=staff")
	mutating := r.method != http.MethodGet && strings.Contains(path, "{id}") && strings.HasPrefix(path, "/api/v1/applications/") &&
		!strings.HasSuffix(path, "/messages") && !strings.HasSuffix(path, "/read") && !strings.HasSuffix(path, "/uploads")
	me := w.actors[rel]
	switch {
	case strings.HasPrefix(path, "/api/v1/uploads/{uid}"):
		a := w.app("needs_correction", false)
		up := w.upload(a.ID, false)
		path = strings.Replace(path, "{uid}", up.ID, 1)
		switch {
		case strings.HasSuffix(path, "/chunks/{idx}"):
			path = strings.Replace(path, "{idx}", "0", 1)
			body = rawBody(fixtureFile)
		case strings.HasSuffix(path, "/finish"):
			if st := w.do(http.MethodPut, "/api/v1/uploads/"+up.ID+"/chunks/0", rawBody(fixtureFile), w.actors["member"].C.Token()); st != 200 {
				w.t.Fatalf("fixture chunk: HTTP %d", st)
			}
		}
	case strings.HasPrefix(path, "/api/v1/versions/{id}"):
		a := w.app(r.state, r.method != http.MethodGet)
		vid := w.versions[a.ID]
		path = strings.Replace(path, "{id}", strconv.FormatInt(vid, 10), 1)
		if strings.HasSuffix(path, "/review") {
			var docs []wire.Document
			if err := w.actors["manager"].C.Call(context.Background(), http.MethodGet, fmt.Sprintf("/applications/%d/documents", a.ID), nil, &docs, ""); err != nil || len(docs) == 0 {
				w.t.Fatalf("fixture documents: %v", err)
			}
			body = wire.ReviewRequest{Version: docs[0].Versions[0].Version, Status: wire.ReviewAccepted}
		}
	case strings.HasPrefix(path, "/api/v1/applications/{id}"):
		a := w.app(r.state, mutating)
		path = strings.Replace(path, "{id}", strconv.FormatInt(a.ID, 10), 1)
		switch {
		case strings.HasSuffix(path, "/transition"):
			body = wire.TransitionRequestBody{Version: a.Version, To: wire.StatusNeedsCorrection, Comment: "Дополните комплект"}
		case strings.HasSuffix(path, "/verdict"):
			body = wire.VerdictRequest{Version: a.Version, Verdict: wire.StatusCompletedPositive}
		case strings.HasSuffix(path, "/extend"):
			body = wire.ExtendRequest{Version: a.Version}
		case strings.HasSuffix(path, "/uploads"):
			body = wire.CreateUploadRequest{Section: "07.02", FileName: "ПЗУ.pdf", Size: 100, SHA256: fixtureSum}
		case strings.HasSuffix(path, "/assignments"):
			body = wire.AssignRequest{Version: a.Version, LeadExpertID: w.actors["lead"].ID}
		case strings.HasSuffix(path, "/messages/read"):
			body = wire.MarkReadRequest{Channel: wire.ChannelApplicant, LastReadID: 1}
		case strings.HasSuffix(path, "/messages") && r.method == http.MethodPost:
			ch := wire.ChannelApplicant
			if staffChannel {
				ch = wire.ChannelStaff
			}
			body = wire.PostMessageRequest{Channel: ch, Body: "Проверка доступа"}
			query = ""
		case r.method == http.MethodPatch:
			name := "Школа на 1100 мест"
			body = wire.UpdateApplicationRequest{Version: a.Version, ApplicationInput: wire.ApplicationInput{ObjectName: &name}}
		case r.method == http.MethodDelete:
			query = "?version=" + strconv.FormatInt(a.Version, 10)
		}
	case path == "/api/v1/applications" && r.method == http.MethodPost:
		str := func(s string) *string { return &s }
		works, kind, fin := wire.WorksConstruction, wire.KindProjectDocs, wire.FinancingBudget
		body = wire.ApplicationInput{ObjectName: str("Объект"), ObjectAddress: str("г. Москва"), WorksKind: &works, ExpertiseKind: &kind, Financing: &fin}
	case path == "/api/v1/auth/register":
		n := testenv.Unique()
		body = wire.RegisterRequest{Login: fmt.Sprintf("reg%d", n), Password: "correct horse battery staple", FullName: "Регистрация Тест",
			Email: fmt.Sprintf("reg%d@example.ru", n), Organisation: wire.OrganisationInput{Name: "ООО «Новая»", INN: testenv.ValidINN(900000 + n),
				OGRN: testenv.ValidOGRN(900000 + n), Address: "г. Москва"}}
	case path == "/api/v1/auth/login":
		who := me
		if who == nil {
			who = w.actors["member"]
		}
		body = wire.LoginRequest{Login: who.User.Login, Password: who.Password}
		if who.TOTPSecret != "" {
			body = wire.LoginRequest{Login: who.User.Login, Password: who.Password, TOTPCode: who.NextCode(w.t)}
		}
	case path == "/api/v1/auth/totp/confirm":
		body = wire.TOTPConfirmRequest{Code: "123456"}
	case path == "/api/v1/auth/password":
		if me != nil {
			body = wire.PasswordChangeRequest{Old: me.Password, New: me.Password}
		} else {
			body = wire.PasswordChangeRequest{Old: "x", New: "y"}
		}
	case path == "/api/v1/auth/sessions/{id}":
		id := int64(1)
		if me != nil {
			second := client.New(w.s.URL())
			req := wire.LoginRequest{Login: me.User.Login, Password: me.Password}
			if me.TOTPSecret != "" {
				req.TOTPCode = me.NextCode(w.t)
			}
			resp, err := second.Login(context.Background(), req)
			if err != nil {
				w.t.Fatalf("second session of %s: %v", rel, err)
			}
			ss, err := second.Sessions(context.Background())
			if err != nil {
				w.t.Fatal(err)
			}
			for _, s := range ss {
				if s.Current {
					id = s.ID
				}
			}
			_ = resp
		}
		path = strings.Replace(path, "{id}", strconv.FormatInt(id, 10), 1)
	case path == "/api/v1/users/{id}/disable":
		path = strings.Replace(path, "{id}", strconv.FormatInt(w.spare.ID, 10), 1)
	case path == "/api/v1/notifications/read":
		body = wire.MarkNotificationsReadRequest{UpTo: 1 << 40}
	case path == "/api/v1/notifications/preferences" && r.method == http.MethodPut:
		body = wire.PreferencesRequest{Preferences: []wire.Preference{{Kind: wire.NotifyMessage, InApp: true, EmailMode: wire.EmailDaily}}}
	}
	return r.method, path + query, body
}

// rawBody marks a request body sent as bytes, not JSON.
type rawBody []byte

var fixtureFile = []byte(`<?xml version="1.0" encoding="UTF-8"?><ПЗ>Пояснительная записка</ПЗ>`)

var fixtureSum = func() string { s := sha256.Sum256(fixtureFile); return hex.EncodeToString(s[:]) }()

func (w *world) do(method, path string, body any, token string) int {
	var rdr io.Reader
	if raw, ok := body.(rawBody); ok {
		rdr = bytes.NewReader(raw)
	} else if body != nil {
		b, _ := json.Marshal(body)
		rdr = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, w.s.URL()+path, rdr)
	if err != nil {
		w.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// TestAuthorizationMatrix calls every endpoint as every caller.
func TestAuthorizationMatrix(t *testing.T) {
	rows := readMatrix(t)
	// Rows that end sessions run last, in this order.
	last := []string{"/api/v1/auth/sessions/{id}", "/api/v1/auth/password", "/api/v1/auth/logout"}
	slices.SortStableFunc(rows, func(a, b matrixRow) int {
		return slices.Index(last, a.path) - slices.Index(last, b.path)
	})
	w := newWorld(t)
	for _, r := range rows {
		for _, rel := range relations {
			method, path, body := w.request(r, rel)
			token := ""
			if a := w.actors[rel]; a != nil {
				token = a.C.Token()
			}
			if got := w.do(method, path, body, token); got != r.want[rel] {
				t.Errorf("%s %s (%s) as %s: HTTP %d, want %d", r.method, r.path, r.state, rel, got, r.want[rel])
			}
		}
	}
}

// TestListVisibility checks the content of the list per relation.
func TestListVisibility(t *testing.T) {
	w := newWorld(t)
	a := w.app("submitted", false)
	want := map[string]bool{"member": true, "other": false, "lead": true, "assigned": true, "unassigned": false, "manager": true, "admin": true}
	for rel, visible := range want {
		items, err := w.actors[rel].C.Applications(context.Background(), client.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		got := slices.ContainsFunc(items, func(x wire.Application) bool { return x.ID == a.ID })
		if got != visible {
			t.Errorf("%s sees the application in the list: %v, want %v", rel, got, visible)
		}
	}
}

func clientFilter() client.Filter { return client.Filter{} }
