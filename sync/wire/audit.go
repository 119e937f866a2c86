package wire

import (
	"net/url"
	"strconv"
	"time"
)

// AuditEntry is one row of the audit journal as a client sees it: who
// (actor id and login), what (action, object, details), when (UTC) and
// from where (IP address and device).
type AuditEntry struct {
	ID         int64          `json:"id"`
	At         time.Time      `json:"at"` // UTC
	ActorID    int64          `json:"actor_id,omitempty"`
	ActorLogin string         `json:"actor_login"`
	IP         string         `json:"ip,omitempty"`
	Device     string         `json:"device,omitempty"`
	Action     string         `json:"action"`
	ObjectType string         `json:"object_type,omitempty"`
	ObjectID   string         `json:"object_id,omitempty"`
	AppID      int64          `json:"app_id,omitempty"`
	Details    map[string]any `json:"details,omitempty"`
}

// AuditPage is one page of the journal, newest first. NextBefore, when not
// zero, is the cursor of the next (older) page: pass it as before=.
type AuditPage struct {
	Items      []AuditEntry `json:"items"`
	NextBefore int64        `json:"next_before,omitempty"`
}

// Audit page sizes: DefaultAuditLimit rows unless limit= says otherwise,
// never more than MaxAuditLimit.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 500
)

// AuditQuery filters the journal (GET /audit). Zero fields do not filter.
// From and To bound the time, From inclusive and To exclusive.
type AuditQuery struct {
	From       time.Time
	To         time.Time
	ActorID    int64
	ActorLogin string
	Action     string
	ObjectType string
	ObjectID   string
	AppID      int64
	Text       string // a substring of login, action, object, IP, device or details
	Before     int64  // cursor: rows with a smaller id
	Limit      int
}

// AuditVerifyReport is the outcome of checking the journal's hash chain.
type AuditVerifyReport struct {
	Rows     int64          `json:"rows"`
	Intact   bool           `json:"intact"`
	Problems []AuditProblem `json:"problems"`
}

// AuditProblem names one damaged row of the journal.
type AuditProblem struct {
	ID     int64  `json:"id"`
	Reason string `json:"reason"`
}

// Audit actions written by the server. Other parts add their own (for
// example "contract_offer"); these are the ones clients label.
const (
	AuditLogin              = "login"
	AuditLoginFailed        = "login_failed"
	AuditLogout             = "logout"
	AuditFileUpload         = "file_upload"
	AuditFileDownload       = "file_download"
	AuditSignatureUpload    = "signature_upload"
	AuditUploadCancel       = "upload_cancel"
	AuditStatusChange       = "status_change"
	AuditAssign             = "assign"
	AuditUserAdd            = "user_add"
	AuditUserDisable        = "user_disable"
	AuditUserEnable         = "user_enable"
	AuditUserRole           = "user_role"
	AuditTOTPReset          = "totp_reset"
	AuditPersonalDataSet    = "personal_data_set"
	AuditPersonalDataView   = "personal_data_view"
	AuditPersonalDataReveal = "personal_data_reveal"
	AuditJournalRead        = "audit_read"
)

// SetRoleRequest gives a user another role (administrators only).
type SetRoleRequest struct {
	Role Role `json:"role"`
}

// Values writes the query as GET /audit parameters: from, to (RFC 3339),
// actor_id, actor (login), action, object_type, object_id, app, q (text),
// before and limit.
func (q AuditQuery) Values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	num := func(k string, n int64) {
		if n != 0 {
			v.Set(k, strconv.FormatInt(n, 10))
		}
	}
	if !q.From.IsZero() {
		v.Set("from", q.From.UTC().Format(time.RFC3339Nano))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.UTC().Format(time.RFC3339Nano))
	}
	num("actor_id", q.ActorID)
	set("actor", q.ActorLogin)
	set("action", q.Action)
	set("object_type", q.ObjectType)
	set("object_id", q.ObjectID)
	num("app", q.AppID)
	set("q", q.Text)
	num("before", q.Before)
	num("limit", int64(q.Limit))
	return v
}
