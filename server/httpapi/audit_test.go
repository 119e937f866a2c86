package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// auditWant is the row an action must leave in the journal.
type auditWant struct {
	action     string
	actorID    int64  // 0: no actor (an unknown login)
	actorLogin string // who, as typed or as the account's login
	objectType string
	objectID   string
	appID      int64
	device     string // exact device; "" means any device of a test client ("dev-…")
	details    map[string]any
}

// lastAuditID is the newest journal row's id, read through the database:
// the cases look for rows written after it.
func lastAuditID(t *testing.T, w *world) int64 {
	t.Helper()
	var id int64
	if err := w.s.Pool.QueryRow(context.Background(), `SELECT coalesce(max(id), 0) FROM audit_log`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// findAudit reads, as the administrator and through GET /audit, the rows
// of an action newer than after.
func findAudit(t *testing.T, w *world, action string, after int64) []wire.AuditEntry {
	t.Helper()
	page, err := w.actors["admin"].C.AuditEntries(context.Background(), wire.AuditQuery{Action: action, Limit: wire.MaxAuditLimit})
	if err != nil {
		t.Fatalf("read the journal: %v", err)
	}
	var out []wire.AuditEntry
	for _, e := range page.Items {
		if e.ID > after {
			out = append(out, e)
		}
	}
	return out
}

// TestAuditCoverage performs every kind of audited action through the
// HTTP API and checks its row: who (id and login), what (action, object,
// details), when (UTC, during the case) and from where (IP and device).
func TestAuditCoverage(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	member, manager, admin := w.actors["member"], w.actors["manager"], w.actors["admin"]
	base := w.s.URL()
	itoa := func(id int64) string { return strconv.FormatInt(id, 10) }
	snils := "112-233-445 95"

	var viaLogin *client.Client // the session opened by the login case, ended by the logout case
	cases := []struct {
		name string
		do   func(t *testing.T) auditWant
	}{
		{"login", func(t *testing.T) auditWant {
			viaLogin = client.New(base, client.WithDeviceID("audit-dev-1"))
			if _, err := viaLogin.Login(ctx, wire.LoginRequest{Login: member.User.Login, Password: member.Password, DeviceName: "Ноутбук аудитора"}); err != nil {
				t.Fatal(err)
			}
			return auditWant{action: wire.AuditLogin, actorID: member.ID, actorLogin: member.User.Login, objectType: "session",
				device: "Ноутбук аудитора [audit-dev-1]", details: map[string]any{"scope": "full"}}
		}},
		{"failed login, wrong password", func(t *testing.T) auditWant {
			c := client.New(base, client.WithDeviceID("audit-dev-2"))
			if _, err := c.Login(ctx, wire.LoginRequest{Login: member.User.Login, Password: "not the password at all"}); wire.ErrorCode(err) != wire.CodeInvalidCredentials {
				t.Fatalf("wrong password: %v", err)
			}
			return auditWant{action: wire.AuditLoginFailed, actorID: member.ID, actorLogin: member.User.Login, objectType: "user", objectID: itoa(member.ID),
				device: "audit-dev-2", details: map[string]any{"reason": "wrong_password"}}
		}},
		{"failed login, unknown login", func(t *testing.T) auditWant {
			c := client.New(base, client.WithDeviceID("audit-dev-3"))
			if _, err := c.Login(ctx, wire.LoginRequest{Login: "nobody-here", Password: "whatever it is"}); wire.ErrorCode(err) != wire.CodeInvalidCredentials {
				t.Fatalf("unknown login: %v", err)
			}
			return auditWant{action: wire.AuditLoginFailed, actorLogin: "nobody-here", objectType: "user", device: "audit-dev-3",
				details: map[string]any{"reason": "unknown_login"}}
		}},
		{"logout", func(t *testing.T) auditWant {
			if err := viaLogin.Logout(ctx); err != nil {
				t.Fatal(err)
			}
			return auditWant{action: wire.AuditLogout, actorID: member.ID, actorLogin: member.User.Login, objectType: "session", device: "Ноутбук аудитора [audit-dev-1]"}
		}},
		{"assignment", func(t *testing.T) auditWant {
			a := w.app("submitted", true) // the fixture assigns the experts
			return auditWant{action: wire.AuditAssign, actorID: manager.ID, actorLogin: manager.User.Login, objectType: "application", objectID: itoa(a.ID), appID: a.ID,
				details: map[string]any{"lead": float64(w.actors["lead"].ID)}}
		}},
		{"status change", func(t *testing.T) auditWant {
			a := w.app("submitted", true)
			if _, err := manager.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusNeedsCorrection, Comment: "Дополните"}, ""); err != nil {
				t.Fatal(err)
			}
			return auditWant{action: wire.AuditStatusChange, actorID: manager.ID, actorLogin: manager.User.Login, objectType: "application", objectID: itoa(a.ID), appID: a.ID,
				details: map[string]any{"from": "submitted", "to": "needs_correction"}}
		}},
		{"file upload", func(t *testing.T) auditWant {
			a := w.app("needs_correction", true)
			up := w.upload(a.ID, true)
			return auditWant{action: wire.AuditFileUpload, actorID: member.ID, actorLogin: member.User.Login, objectType: "document_version", objectID: itoa(up.VersionID),
				appID: a.ID, details: map[string]any{"sha256": fixtureSum, "signature": false}}
		}},
		{"signature upload", func(t *testing.T) auditWant {
			a := w.app("needs_correction", false)
			vid := w.versions[a.ID]
			sig := conclSign(t, fixtureFile)
			sum := sha256.Sum256(sig)
			var up wire.Upload
			if err := member.C.Call(ctx, http.MethodPost, fmt.Sprintf("/applications/%d/uploads", a.ID), wire.CreateUploadRequest{FileName: "ПЗ.xml.sig",
				Size: int64(len(sig)), SHA256: hex.EncodeToString(sum[:]), SignsVersion: vid}, &up, ""); err != nil {
				t.Fatal(err)
			}
			if st := w.do(http.MethodPut, "/api/v1/uploads/"+up.ID+"/chunks/0", rawBody(sig), member.C.Token()); st != 200 {
				t.Fatalf("signature chunk: HTTP %d", st)
			}
			if err := member.C.Call(ctx, http.MethodPost, "/uploads/"+up.ID+"/finish", nil, &up, ""); err != nil {
				t.Fatal(err)
			}
			return auditWant{action: wire.AuditSignatureUpload, actorID: member.ID, actorLogin: member.User.Login, objectType: "document_version", objectID: itoa(vid),
				appID: a.ID, details: map[string]any{"sha256": hex.EncodeToString(sum[:]), "signature": true}}
		}},
		{"file download", func(t *testing.T) auditWant {
			a := w.app("submitted", false)
			vid := w.versions[a.ID]
			if st := w.do(http.MethodGet, fmt.Sprintf("/api/v1/versions/%d/content", vid), nil, w.actors["assigned"].C.Token()); st != 200 {
				t.Fatalf("download: HTTP %d", st)
			}
			return auditWant{action: wire.AuditFileDownload, actorID: w.actors["assigned"].ID, actorLogin: w.actors["assigned"].User.Login,
				objectType: "document_version", objectID: itoa(vid), appID: a.ID, details: map[string]any{"sha256": fixtureSum}}
		}},
		{"upload deleted", func(t *testing.T) auditWant {
			a := w.app("needs_correction", false)
			up := w.upload(a.ID, false)
			if st := w.do(http.MethodDelete, "/api/v1/uploads/"+up.ID, nil, member.C.Token()); st != 204 {
				t.Fatalf("cancel: HTTP %d", st)
			}
			return auditWant{action: wire.AuditUploadCancel, actorID: member.ID, actorLogin: member.User.Login, objectType: "upload", objectID: up.ID, appID: a.ID}
		}},
		{"user disabled", func(t *testing.T) auditWant {
			if err := admin.C.DisableUser(ctx, w.spare.ID); err != nil {
				t.Fatal(err)
			}
			return auditWant{action: wire.AuditUserDisable, actorID: admin.ID, actorLogin: admin.User.Login, objectType: "user", objectID: itoa(w.spare.ID)}
		}},
		{"user enabled", func(t *testing.T) auditWant {
			if err := admin.C.EnableUser(ctx, w.spare.ID); err != nil {
				t.Fatal(err)
			}
			return auditWant{action: wire.AuditUserEnable, actorID: admin.ID, actorLogin: admin.User.Login, objectType: "user", objectID: itoa(w.spare.ID)}
		}},
		{"role changed", func(t *testing.T) auditWant {
			u, err := admin.C.SetUserRole(ctx, w.spare.ID, wire.RoleManager)
			if err != nil || u.Role != wire.RoleManager {
				t.Fatalf("role: %+v %v", u, err)
			}
			return auditWant{action: wire.AuditUserRole, actorID: admin.ID, actorLogin: admin.User.Login, objectType: "user", objectID: itoa(w.spare.ID),
				details: map[string]any{"from": "expert", "to": "manager"}}
		}},
		{"second factor reset", func(t *testing.T) auditWant {
			u, err := admin.C.ResetTOTP(ctx, w.spare.ID)
			if err != nil || u.TOTPEnabled {
				t.Fatalf("reset: %+v %v", u, err)
			}
			return auditWant{action: wire.AuditTOTPReset, actorID: admin.ID, actorLogin: admin.User.Login, objectType: "user", objectID: itoa(w.spare.ID),
				details: map[string]any{"was_enabled": true}}
		}},
		{"personal data set", func(t *testing.T) auditWant {
			pd, err := member.C.SetPersonalData(ctx, wire.SetPersonalDataRequest{SNILS: &snils})
			if err != nil || pd.SNILS != "***-***-*** 95" {
				t.Fatalf("set: %+v %v", pd, err)
			}
			return auditWant{action: wire.AuditPersonalDataSet, actorID: member.ID, actorLogin: member.User.Login, objectType: "user", objectID: itoa(member.ID),
				details: map[string]any{"snils": "set"}}
		}},
		{"personal data revealed by its owner", func(t *testing.T) auditWant {
			pd, err := member.C.RevealPersonalData(ctx)
			if err != nil || pd.SNILS != snils || !pd.Revealed {
				t.Fatalf("reveal: %+v %v", pd, err)
			}
			return auditWant{action: wire.AuditPersonalDataReveal, actorID: member.ID, actorLogin: member.User.Login, objectType: "user", objectID: itoa(member.ID)}
		}},
		{"personal data revealed by an administrator", func(t *testing.T) auditWant {
			pd, err := admin.C.RevealUserPersonalData(ctx, member.ID)
			if err != nil || pd.SNILS != snils {
				t.Fatalf("reveal: %+v %v", pd, err)
			}
			return auditWant{action: wire.AuditPersonalDataReveal, actorID: admin.ID, actorLogin: admin.User.Login, objectType: "user", objectID: itoa(member.ID)}
		}},
		{"personal data seen masked by a manager", func(t *testing.T) auditWant {
			pd, err := manager.C.UserPersonalData(ctx, member.ID)
			if err != nil || pd.SNILS != "***-***-*** 95" || pd.Revealed {
				t.Fatalf("view: %+v %v", pd, err)
			}
			return auditWant{action: wire.AuditPersonalDataView, actorID: manager.ID, actorLogin: manager.User.Login, objectType: "user", objectID: itoa(member.ID)}
		}},
		{"journal read by an administrator", func(t *testing.T) auditWant {
			if _, err := admin.C.AuditEntries(ctx, wire.AuditQuery{Action: wire.AuditLogin}); err != nil {
				t.Fatal(err)
			}
			return auditWant{action: wire.AuditJournalRead, actorID: admin.ID, actorLogin: admin.User.Login, objectType: "audit_log",
				details: map[string]any{"action": "login"}}
		}},
		{"journal verified by an administrator", func(t *testing.T) auditWant {
			rep, err := admin.C.VerifyAudit(ctx)
			if err != nil || !rep.Intact || rep.Rows == 0 {
				t.Fatalf("verify: %+v %v", rep, err)
			}
			return auditWant{action: "audit_verify", actorID: admin.ID, actorLogin: admin.User.Login, objectType: "audit_log"}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			after := lastAuditID(t, w)
			start := time.Now().Add(-time.Second)
			want := tc.do(t)
			end := time.Now().Add(time.Second)
			rows := findAudit(t, w, want.action, after)
			i := slices.IndexFunc(rows, func(e wire.AuditEntry) bool {
				return e.ActorID == want.actorID && (want.objectID == "" || e.ObjectID == want.objectID) && e.ObjectType == want.objectType
			})
			if i < 0 {
				t.Fatalf("no %s row by %d on %s %s among %+v", want.action, want.actorID, want.objectType, want.objectID, rows)
			}
			e := rows[i]
			if e.ActorLogin != want.actorLogin || e.AppID != want.appID {
				t.Errorf("who/app: login %q app %d, want %q %d", e.ActorLogin, e.AppID, want.actorLogin, want.appID)
			}
			if e.At.Location() != time.UTC || e.At.Before(start) || e.At.After(end) {
				t.Errorf("when: %v (%v), want UTC within the case", e.At, e.At.Location())
			}
			if e.IP != "127.0.0.1" {
				t.Errorf("from where: IP %q", e.IP)
			}
			if (want.device != "" && e.Device != want.device) || (want.device == "" && !strings.HasPrefix(e.Device, "dev-")) {
				t.Errorf("from where: device %q, want %q", e.Device, want.device)
			}
			for k, v := range want.details {
				if fmt.Sprint(e.Details[k]) != fmt.Sprint(v) {
					t.Errorf("details[%s] = %v, want %v (all: %v)", k, e.Details[k], v, e.Details)
				}
			}
		})
	}
	rep, err := admin.C.VerifyAudit(ctx)
	if err != nil || !rep.Intact {
		t.Fatalf("the journal after every case: %+v %v", rep, err)
	}
}

// TestAuditScope: each role reads only its part of the journal; pages
// follow the cursor newest first without gaps or repeats.
func TestAuditScope(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.app("submitted", false) // member files and submits, the manager assigns
	member, manager := w.actors["member"], w.actors["manager"]
	// Another applicant's sign-in: the manager must not see it.
	other := w.actors["other"]
	other.Login(t)

	all := func(c *client.Client, q wire.AuditQuery) []wire.AuditEntry {
		t.Helper()
		var out []wire.AuditEntry
		for {
			page, err := c.AuditEntries(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, page.Items...)
			if page.NextBefore == 0 {
				return out
			}
			q.Before = page.NextBefore
		}
	}
	for _, rel := range []string{"member", "assigned", "other"} {
		for _, e := range all(w.actors[rel].C, wire.AuditQuery{Limit: 3}) {
			if e.ActorID != w.actors[rel].ID {
				t.Errorf("%s sees a row of %d: %+v", rel, e.ActorID, e)
			}
		}
	}
	mrows := all(manager.C, wire.AuditQuery{})
	if !slices.ContainsFunc(mrows, func(e wire.AuditEntry) bool {
		return e.Action == wire.AuditFileUpload && e.ActorID == member.ID && e.AppID == a.ID
	}) {
		t.Error("the manager does not see the member's upload to a submitted application")
	}
	for _, e := range mrows {
		if e.ActorID != manager.ID && e.AppID == 0 {
			t.Errorf("the manager sees another's row outside applications: %+v", e)
		}
	}
	byApp := all(manager.C, wire.AuditQuery{AppID: a.ID})
	if len(byApp) == 0 || slices.ContainsFunc(byApp, func(e wire.AuditEntry) bool { return e.AppID != a.ID }) {
		t.Errorf("filter by application: %+v", byApp)
	}

	// Paging: limit 2 pages give exactly the rows of one big page, in order.
	admin := w.actors["admin"].C
	q := wire.AuditQuery{ActorID: member.ID}
	big, err := admin.AuditEntries(ctx, wire.AuditQuery{ActorID: member.ID, Limit: wire.MaxAuditLimit})
	if err != nil {
		t.Fatal(err)
	}
	q.Limit = 2
	paged := all(admin, q)
	if len(big.Items) < 3 || len(paged) != len(big.Items) {
		t.Fatalf("%d rows in pages of 2, %d in one page", len(paged), len(big.Items))
	}
	for i := range paged {
		if paged[i].ID != big.Items[i].ID || (i > 0 && paged[i].ID >= paged[i-1].ID) {
			t.Fatalf("row %d: paged %d, whole %d", i, paged[i].ID, big.Items[i].ID)
		}
	}
	// Date filters: nothing before the epoch of the test, everything since.
	if got := all(admin, wire.AuditQuery{ActorID: member.ID, To: time.Now().Add(-24 * time.Hour)}); len(got) != 0 {
		t.Errorf("rows before yesterday: %d", len(got))
	}
	if got := all(admin, wire.AuditQuery{ActorID: member.ID, From: time.Now().Add(-time.Hour), Text: member.User.Login}); len(got) != len(big.Items) {
		t.Errorf("rows of the last hour matching the login: %d, want %d", len(got), len(big.Items))
	}

	for _, bad := range []string{"limit=501", "limit=0", "before=-1", "from=yesterday", "app=x"} {
		if st := w.do(http.MethodGet, "/api/v1/audit?"+bad, nil, member.C.Token()); st != http.StatusBadRequest {
			t.Errorf("GET /audit?%s: HTTP %d, want 400", bad, st)
		}
	}
}

// auditRequest builds the matrix rows of audit.go's routes.
func (w *world) auditRequest(r matrixRow) (method, path string, body any, ok bool) {
	switch r.path {
	case "/api/v1/users/{id}/enable", "/api/v1/users/{id}/totp/reset", "/api/v1/users/{id}/personal-data", "/api/v1/users/{id}/personal-data/reveal":
		return r.method, strings.Replace(r.path, "{id}", strconv.FormatInt(w.spare.ID, 10), 1), nil, true
	case "/api/v1/users/{id}/role":
		return r.method, strings.Replace(r.path, "{id}", strconv.FormatInt(w.spare.ID, 10), 1), wire.SetRoleRequest{Role: wire.RoleExpert}, true
	case "/api/v1/me/language":
		return r.method, r.path, wire.SetLanguageRequest{Language: "en"}, true
	case "/api/v1/me/personal-data":
		if r.method == http.MethodPut {
			s := "112-233-445 95"
			return r.method, r.path, wire.SetPersonalDataRequest{SNILS: &s}, true
		}
	}
	return "", "", nil, false
}
