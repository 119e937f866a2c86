package service

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// deviceLabel is how a device appears in the audit journal: its name and,
// in brackets, the id the client chose for it.
func deviceLabel(name, id string) string {
	name, id = strings.TrimSpace(name), strings.TrimSpace(id)
	switch {
	case name != "" && id != "":
		return name + " [" + id + "]"
	case name != "":
		return name
	}
	return id
}

// truncateLogin bounds what an unknown sign-in attempt leaves in the
// journal: logins are at most 64 characters, anything longer is not one.
func truncateLogin(login string) string {
	login = strings.TrimSpace(login)
	if utf8.RuneCountInString(login) <= 64 {
		return login
	}
	return string([]rune(login)[:64])
}

// WithAuditOrigin marks ctx as a request of the principal who returns,
// once authenticated: audit rows that principal's commands write in it
// carry their device (and login and IP where a writer left them out). The
// HTTP layer marks every request; who returns nil until sign-in.
func WithAuditOrigin(ctx context.Context, who func() *Principal) context.Context {
	return store.WithAuditOriginFunc(ctx, func() (store.AuditOrigin, bool) {
		p := who()
		if p == nil {
			return store.AuditOrigin{}, false
		}
		return store.AuditOrigin{ActorID: p.UserID, Login: p.Login, IP: p.IP, Device: p.Device}, true
	})
}

// auditScope is the part of the journal p may read: administrators all of
// it; managers their own rows and every row about an application past
// the draft stage (not other people's sign-ins, sessions or accounts);
// everyone else their own rows.
func auditScope(p *Principal) store.AuditScope {
	switch p.Role {
	case wire.RoleAdmin:
		return store.AuditScope{All: true}
	case wire.RoleManager:
		return store.AuditScope{ActorID: p.UserID, Applications: true}
	}
	return store.AuditScope{ActorID: p.UserID}
}

// AuditEntries reads one page of the journal within the caller's scope,
// newest first. Reading beyond one's own rows is itself audited (once per
// read, on its first page).
func (s *Service) AuditEntries(ctx context.Context, p *Principal, f wire.AuditQuery) (wire.AuditPage, error) {
	if err := requireFull(p); err != nil {
		return wire.AuditPage{}, err
	}
	switch {
	case f.Limit < 0 || f.Limit > wire.MaxAuditLimit:
		return wire.AuditPage{}, wire.E(wire.CodeInvalid, "limit", "limit — от 1 до 500 записей на страницу", "limit must be 1 to 500 rows per page")
	case f.Limit == 0:
		f.Limit = wire.DefaultAuditLimit
	}
	if f.Before < 0 {
		return wire.AuditPage{}, wire.E(wire.CodeInvalid, "before", "before — идентификатор записи, положительное число", "before is a row id, a positive number")
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return wire.AuditPage{}, wire.E(wire.CodeInvalid, "to", "Конец периода должен быть позже начала", "The end of the period must be after its start")
	}
	scope := auditScope(p)
	want := f.Limit
	f.Limit = want + 1 // one more tells whether an older page exists
	rows, err := s.st.Read().AuditList(ctx, scope, f)
	if err != nil {
		return wire.AuditPage{}, err
	}
	page := wire.AuditPage{Items: make([]wire.AuditEntry, 0, min(len(rows), want))}
	for i, r := range rows {
		if i == want {
			page.NextBefore = page.Items[want-1].ID
			break
		}
		page.Items = append(page.Items, wire.AuditEntry{ID: r.ID, At: r.At.UTC(), ActorID: r.ActorID, ActorLogin: r.ActorLogin, IP: r.IP,
			Device: r.Device, Action: r.Action, ObjectType: r.ObjectType, ObjectID: r.ObjectID, AppID: r.AppID, Details: r.Details})
	}
	if scope.All || scope.Applications {
		if f.Before == 0 {
			if err := s.auditAccess(ctx, p, wire.AuditJournalRead, "audit_log", "", auditQueryDetails(f)); err != nil {
				return wire.AuditPage{}, err
			}
		}
	}
	return page, nil
}

// auditQueryDetails records the filter of a journal read.
func auditQueryDetails(f wire.AuditQuery) map[string]any {
	d := map[string]any{}
	add := func(k string, v any, set bool) {
		if set {
			d[k] = v
		}
	}
	add("from", f.From, !f.From.IsZero())
	add("to", f.To, !f.To.IsZero())
	add("actor_id", f.ActorID, f.ActorID != 0)
	add("actor", f.ActorLogin, f.ActorLogin != "")
	add("action", f.Action, f.Action != "")
	add("object_type", f.ObjectType, f.ObjectType != "")
	add("object_id", f.ObjectID, f.ObjectID != "")
	add("app", f.AppID, f.AppID != 0)
	add("text", f.Text, f.Text != "")
	return d
}

// auditAccess appends one row for a read (a download, a journal read, a
// look at personal data): reads change nothing else, so the row is the
// whole transaction. It never takes an idempotency key.
func (s *Service) auditAccess(ctx context.Context, p *Principal, action, objType, objID string, details map[string]any) error {
	_, err := write(ctx, s, nil, func(tx *store.Tx) (struct{}, error) {
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Device: p.Device, Action: action,
			ObjectType: objType, ObjectID: objID, Details: details})
		return struct{}{}, nil
	})
	return err
}

// AuditDownload records that p is being served a stored file: the object
// it belongs to (its application looked up for the journal's filter), the
// file's SHA-256 and the byte range asked for. The HTTP layer calls it
// before the first byte goes out, and serves nothing if it fails.
func (s *Service) AuditDownload(ctx context.Context, p *Principal, objType string, objID int64, sha, byteRange string) error {
	appID, err := s.st.Read().AppOfObject(ctx, objType, objID)
	if err != nil {
		return err
	}
	d := map[string]any{"sha256": sha}
	if appID != 0 {
		d["app"] = appID
	}
	if byteRange != "" {
		d["range"] = byteRange
	}
	return s.auditAccess(ctx, p, wire.AuditFileDownload, objType, itoa(objID), d)
}

// VerifyAudit checks the journal's hash chain. by is nil for the server's
// own CLI (run by whoever runs the database, so not journaled); otherwise
// only administrators may, and the check is journaled first, so its own
// row is verified with the rest.
func (s *Service) VerifyAudit(ctx context.Context, by *Principal) (wire.AuditVerifyReport, error) {
	if by != nil {
		if err := requireFull(by); err != nil {
			return wire.AuditVerifyReport{}, err
		}
		if by.Role != wire.RoleAdmin {
			return wire.AuditVerifyReport{}, errForbidden("Проверяет журнал администратор", "Only administrators verify the journal")
		}
		if err := s.auditAccess(ctx, by, "audit_verify", "audit_log", "", nil); err != nil {
			return wire.AuditVerifyReport{}, err
		}
	}
	n, problems, err := s.st.Read().VerifyAudit(ctx)
	if err != nil {
		return wire.AuditVerifyReport{}, err
	}
	rep := wire.AuditVerifyReport{Rows: n, Intact: len(problems) == 0, Problems: make([]wire.AuditProblem, 0, len(problems))}
	for _, pr := range problems {
		rep.Problems = append(rep.Problems, wire.AuditProblem{ID: pr.ID, Reason: pr.Reason})
	}
	return rep, nil
}

// uploadAction names a finished upload in the journal: a detached
// signature of a version, or a file.
func uploadAction(signsVersion int64) string {
	if signsVersion != 0 {
		return wire.AuditSignatureUpload
	}
	return wire.AuditFileUpload
}
