package wire

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Administration: user accounts, organisations, the holiday calendar and
// the server's state, as the administrator's screen and the server's CLI
// see them (docs/authorization.md, «Administration»).

// AdminUser is a user as an administrator sees them: the account and
// what only an administrator needs (the lockout, the last sign-in).
type AdminUser struct {
	User
	// LockedUntil is set while sign-in is refused after failed attempts;
	// an administrator's unlock clears it.
	LockedUntil  *time.Time `json:"locked_until,omitempty"`
	FailedLogins int        `json:"failed_logins"`
	OrgName      string     `json:"org_name,omitempty"`
	LastLoginAt  *time.Time `json:"last_login_at,omitempty"`
}

// Locked reports whether sign-in is refused at now because of failed
// attempts.
func (u AdminUser) Locked(now time.Time) bool {
	return u.LockedUntil != nil && u.LockedUntil.After(now)
}

// MaxUserSearch bounds one page of the user search.
const MaxUserSearch = 500

// UserQuery filters the administrators' user list: a text matched against
// login, name and e-mail; a role; only disabled or only active accounts.
type UserQuery struct {
	Text     string
	Role     Role
	Disabled *bool
	Limit    int
}

// Values is the query string of q (GET /api/v1/admin/users).
func (q UserQuery) Values() url.Values {
	v := url.Values{}
	if s := strings.TrimSpace(q.Text); s != "" {
		v.Set("q", s)
	}
	if q.Role != "" {
		v.Set("role", string(q.Role))
	}
	if q.Disabled != nil {
		if *q.Disabled {
			v.Set("disabled", "true")
		} else {
			v.Set("disabled", "false")
		}
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// CreateUserRequest is an administrator creating an account. Staff
// (experts, managers, administrators) are created without a second
// factor: their first sign-in gets an enrolment-only session until they
// enrol one.
type CreateUserRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
	FullName string `json:"full_name"`
	Email    string `json:"email,omitempty"`
	Phone    string `json:"phone,omitempty"`
	Role     Role   `json:"role"`
	OrgID    int64  `json:"org_id,omitempty"` // applicants: their organisation
}

// OrganisationSummary is an organisation with its size, for the list.
type OrganisationSummary struct {
	Organisation
	Members      int `json:"members"`
	Applications int `json:"applications"`
}

// UpdateOrganisationRequest changes an organisation's details; nil fields
// are kept. The INN identifies the organisation and is not changed here.
type UpdateOrganisationRequest struct {
	Version   int64   `json:"version"`
	Name      *string `json:"name,omitempty"`
	ShortName *string `json:"short_name,omitempty"`
	OGRN      *string `json:"ogrn,omitempty"`
	KPP       *string `json:"kpp,omitempty"`
	Address   *string `json:"address,omitempty"`
	Email     *string `json:"email,omitempty"`
	Phone     *string `json:"phone,omitempty"`
}

// Validate checks the fields that are given.
func (r UpdateOrganisationRequest) Validate() error {
	if r.Version <= 0 {
		return E(CodeInvalid, "version", "Укажите версию организации, которую вы видели", "Give the organisation version you saw")
	}
	if r.Name != nil && strings.TrimSpace(*r.Name) == "" {
		return E(CodeInvalid, "name", "Укажите полное наименование организации", "Enter the organisation's full name")
	}
	if r.Name != nil && utf8.RuneCountInString(*r.Name) > 500 {
		return E(CodeInvalid, "name", "Наименование длиннее 500 символов", "The name is over 500 characters")
	}
	if r.OGRN != nil && !allDigits(*r.OGRN, 13, 15) {
		return E(CodeInvalid, "ogrn", "ОГРН — 13 цифр (ОГРНИП — 15)", "OGRN is 13 digits (15 for an individual entrepreneur)")
	}
	if r.KPP != nil && *r.KPP != "" && !allDigits(*r.KPP, 9, 9) {
		return E(CodeInvalid, "kpp", "КПП — 9 цифр", "KPP is 9 digits")
	}
	if r.Email != nil && *r.Email != "" {
		if err := ValidEmail("email", *r.Email); err != nil {
			return err
		}
	}
	return nil
}

func allDigits(s string, lens ...int) bool {
	ok := false
	for _, n := range lens {
		if len(s) == n {
			ok = true
		}
	}
	if !ok {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ExpertLoad is one active expert and the applications in work they hold,
// for the assignment dialog: those not yet finished (not a draft, not
// returned, completed, withdrawn or archived).
type ExpertLoad struct {
	ExpertID     int64  `json:"expert_id"`
	Login        string `json:"login"`
	FullName     string `json:"full_name"`
	Applications int    `json:"applications"` // each application once
	Lead         int    `json:"lead"`         // applications they lead
	Sections     int    `json:"sections"`     // section assignments
}

// SetCalendarDayRequest marks one date working or non-working
// (PUT /api/v1/admin/calendar/{date}).
type SetCalendarDayRequest struct {
	Working bool   `json:"working"`
	Note    string `json:"note,omitempty"`
}

// ImportCalendarRequest replaces a year's exceptions: the non-working
// weekdays (holidays) and the working weekend days (transfers) the
// government published. Days not listed follow the week.
type ImportCalendarRequest struct {
	Year int           `json:"year"`
	Days []CalendarDay `json:"days"`
}

// Validate checks every day is in the year, once, and that the import is
// plausible (a Russian year has at least one holiday).
func (r ImportCalendarRequest) Validate() error {
	if r.Year < 2000 || r.Year > 2100 {
		return E(CodeInvalid, "year", "Год — от 2000 до 2100", "The year is 2000 to 2100")
	}
	if len(r.Days) == 0 {
		return E(CodeInvalid, "days", "Список дней пуст: укажите праздники и переносы года", "The list is empty: give the year's holidays and transfers")
	}
	if len(r.Days) > 366 {
		return E(CodeInvalid, "days", "Дней больше, чем в году", "More days than a year has")
	}
	seen := map[Date]bool{}
	for _, d := range r.Days {
		if d.Day.Year != r.Year {
			return E(CodeInvalid, "days", "Дата "+d.Day.String()+" не из "+strconv.Itoa(r.Year)+" года", "Date "+d.Day.String()+" is not in "+strconv.Itoa(r.Year))
		}
		if seen[d.Day] {
			return E(CodeInvalid, "days", "Дата "+d.Day.String()+" указана дважды", "Date "+d.Day.String()+" is given twice")
		}
		seen[d.Day] = true
		if utf8.RuneCountInString(d.Note) > 200 {
			return E(CodeInvalid, "days", "Примечание к "+d.Day.String()+" длиннее 200 символов", "The note of "+d.Day.String()+" is over 200 characters")
		}
	}
	return nil
}

// ServerStatus is the server's state for administrators
// (GET /api/v1/admin/status): the process answering, its connections and
// hub queues, the work waiting in the database, and storage.
type ServerStatus struct {
	Version   string    `json:"version"`
	StartedAt time.Time `json:"started_at"`
	UptimeSec int64     `json:"uptime_seconds"`
	Now       time.Time `json:"now"`
	// WebSocket hub of this process.
	Clients     int   `json:"clients"`
	QueuedMax   int   `json:"queued_max"`   // the fullest connection's send queue, frames
	QueuedTotal int   `json:"queued_total"` // frames waiting across connections
	QueueCap    int   `json:"queue_cap"`    // a connection this far behind is dropped
	SlowDrops   int64 `json:"slow_drops"`   // connections dropped for not keeping up, since start
	Delivered   int64 `json:"delivered"`    // events queued to clients since start
	LastSeq     int64 `json:"last_seq"`
	// Work queued in the database, done by workers on any replica.
	MailPending         int `json:"mail_pending"`
	MailFailed          int `json:"mail_failed"`
	LettersPending      int `json:"letters_pending"`
	ContractDocsPending int `json:"contract_docs_pending"`
	ConclusionsPending  int `json:"conclusions_pending"`
	// Storage.
	FilesCount int64 `json:"files_count"` // distinct stored document files
	FilesBytes int64 `json:"files_bytes"`
	DBBytes    int64 `json:"db_bytes"`
	// Accounts.
	Users          int `json:"users"`
	ActiveSessions int `json:"active_sessions"`
	OpenSupport    int `json:"open_support"` // support requests not closed
}

// Audit actions of administration and support.
const (
	AuditUserUnlock     = "user_unlock"
	AuditOrgUpdate      = "org_update"
	AuditCalendarSet    = "calendar_set"
	AuditCalendarImport = "calendar_import"
	AuditSupportCreate  = "support_create"
	AuditSupportReply   = "support_reply"
	AuditSupportStatus  = "support_status"
)
