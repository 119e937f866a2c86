package app

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// Administration: what the «Администрирование» screen asks of the server.
// Each call is refused there for anyone but an administrator (the experts'
// load and assigning: managers); the checks here only catch what can be
// told before sending.

// SearchUsers lists accounts matching q.
func (w *Workspace) SearchUsers(ctx context.Context, q wire.UserQuery) ([]wire.AdminUser, error) {
	c, err := w.sess.client()
	if err != nil {
		return nil, err
	}
	us, err := c.SearchUsers(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("search accounts: %w", err)
	}
	return us, nil
}

// NewUserForm is the create-account dialog's input.
type NewUserForm struct {
	wire.CreateUserRequest
	Repeat string // the password again
}

// Validate checks what the client can: the required fields and the
// repeated password. The server checks the password policy and the login.
func (f NewUserForm) Validate() error {
	switch {
	case strings.TrimSpace(f.Login) == "":
		return wire.E(wire.CodeInvalid, "login", "Укажите логин", "Enter the login")
	case strings.TrimSpace(f.FullName) == "":
		return wire.E(wire.CodeInvalid, "full_name", "Укажите ФИО", "Enter the full name")
	case !f.Role.Valid():
		return wire.E(wire.CodeInvalid, "role", "Выберите роль", "Choose the role")
	case f.Role == wire.RoleApplicant && f.OrgID == 0:
		return wire.E(wire.CodeInvalid, "org_id", "Заявитель должен быть сотрудником организации: выберите её", "An applicant belongs to an organisation: choose it")
	case f.Password == "":
		return wire.E(wire.CodeInvalid, "password", "Задайте пароль", "Set the password")
	case f.Password != f.Repeat:
		return wire.E(wire.CodeInvalid, "password_repeat", "Пароли не совпадают", "The passwords differ")
	}
	if f.Email != "" {
		return wire.ValidEmail("email", f.Email)
	}
	return nil
}

// CreateUser creates an account after checking the form; a retry after a
// lost answer creates it once.
func (w *Workspace) CreateUser(ctx context.Context, f NewUserForm) (wire.AdminUser, error) {
	if err := f.Validate(); err != nil {
		return wire.AdminUser{}, err
	}
	c, err := w.sess.client()
	if err != nil {
		return wire.AdminUser{}, err
	}
	key := client.NewIdempotencyKey()
	u, err := retryNetwork(ctx, func() (wire.AdminUser, error) { return c.CreateUser(ctx, f.CreateUserRequest, key) })
	if err != nil {
		return wire.AdminUser{}, fmt.Errorf("create account %s: %w", f.Login, err)
	}
	return u, nil
}

// UserAction is one of the row actions of the accounts table.
type UserAction string

const (
	UserDisable   UserAction = "disable"
	UserEnable    UserAction = "enable"
	UserUnlock    UserAction = "unlock"
	UserResetTOTP UserAction = "reset_totp"
)

// UserActions are the actions that apply to u at now, as the table offers
// them: never on oneself (the server refuses one's own role change, and
// disabling oneself would end the session in use).
func UserActions(u wire.AdminUser, me int64, now time.Time) []UserAction {
	if u.ID == me {
		return nil
	}
	var out []UserAction
	if u.Disabled {
		out = append(out, UserEnable)
	} else {
		out = append(out, UserDisable)
	}
	if u.Locked(now) {
		out = append(out, UserUnlock)
	}
	if u.TOTPEnabled {
		out = append(out, UserResetTOTP)
	}
	return out
}

// ApplyUserAction runs a row action and returns the account as it is now.
func (w *Workspace) ApplyUserAction(ctx context.Context, userID int64, a UserAction) (wire.AdminUser, error) {
	c, err := w.sess.client()
	if err != nil {
		return wire.AdminUser{}, err
	}
	switch a {
	case UserDisable:
		err = c.DisableUser(ctx, userID)
	case UserEnable:
		err = c.EnableUser(ctx, userID)
	case UserUnlock:
		_, err = c.UnlockUser(ctx, userID)
	case UserResetTOTP:
		_, err = c.ResetTOTP(ctx, userID)
	default:
		return wire.AdminUser{}, fmt.Errorf("unknown account action %q", a)
	}
	if err != nil {
		return wire.AdminUser{}, fmt.Errorf("%s account %d: %w", a, userID, err)
	}
	return c.AdminUser(ctx, userID)
}

// SetUserRole gives an account another role; the user's sessions end.
func (w *Workspace) SetUserRole(ctx context.Context, userID int64, role wire.Role) (wire.AdminUser, error) {
	c, err := w.sess.client()
	if err != nil {
		return wire.AdminUser{}, err
	}
	if _, err := c.SetUserRole(ctx, userID, role); err != nil {
		return wire.AdminUser{}, fmt.Errorf("set role of account %d: %w", userID, err)
	}
	return c.AdminUser(ctx, userID)
}

// Organisations lists organisations matching text.
func (w *Workspace) Organisations(ctx context.Context, text string) ([]wire.OrganisationSummary, error) {
	c, err := w.sess.client()
	if err != nil {
		return nil, err
	}
	os, err := c.Organisations(ctx, text)
	if err != nil {
		return nil, fmt.Errorf("list organisations: %w", err)
	}
	return os, nil
}

// UpdateOrganisation saves an organisation's details seen at r.Version; a
// change made meanwhile comes back as a conflict, never overwritten.
func (w *Workspace) UpdateOrganisation(ctx context.Context, id int64, r wire.UpdateOrganisationRequest) (wire.Organisation, error) {
	if err := r.Validate(); err != nil {
		return wire.Organisation{}, err
	}
	c, err := w.sess.client()
	if err != nil {
		return wire.Organisation{}, err
	}
	o, err := c.UpdateOrganisation(ctx, id, r)
	if err != nil {
		return wire.Organisation{}, fmt.Errorf("save organisation %d: %w", id, err)
	}
	return o, nil
}

// ExpertLoads lists active experts with their current work.
func (w *Workspace) ExpertLoads(ctx context.Context) ([]wire.ExpertLoad, error) {
	c, err := w.sess.client()
	if err != nil {
		return nil, err
	}
	ls, err := c.ExpertLoads(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the experts' load: %w", err)
	}
	return ls, nil
}

// AssignExperts sets the lead and the section experts of an application
// seen at version seen (managers).
func (w *Workspace) AssignExperts(ctx context.Context, appID, seen, lead int64, as []wire.Assignment) (wire.Application, error) {
	if lead == 0 {
		return wire.Application{}, wire.E(wire.CodeInvalid, "lead_expert_id", "Выберите ведущего эксперта", "Choose the lead expert")
	}
	c, err := w.sess.client()
	if err != nil {
		return wire.Application{}, err
	}
	key := client.NewIdempotencyKey()
	a, err := retryNetwork(ctx, func() (wire.Application, error) {
		return c.Assign(ctx, appID, wire.AssignRequest{Version: seen, LeadExpertID: lead, Assignments: as}, key)
	})
	if err != nil {
		return wire.Application{}, fmt.Errorf("assign experts to application %d: %w", appID, err)
	}
	w.store.UpsertApplication(a)
	return a, nil
}

// Tariff reads the fee table.
func (w *Workspace) Tariff(ctx context.Context) (wire.Tariff, error) {
	c, err := w.sess.client()
	if err != nil {
		return wire.Tariff{}, err
	}
	t, err := c.Tariff(ctx)
	if err != nil {
		return wire.Tariff{}, fmt.Errorf("read the tariff: %w", err)
	}
	return t, nil
}

// SetTariff replaces the fee table seen at t.Version.
func (w *Workspace) SetTariff(ctx context.Context, t wire.Tariff) (wire.Tariff, error) {
	if err := wire.ValidateTariff(t.Rows); err != nil {
		return wire.Tariff{}, err
	}
	c, err := w.sess.client()
	if err != nil {
		return wire.Tariff{}, err
	}
	key := client.NewIdempotencyKey()
	out, err := retryNetwork(ctx, func() (wire.Tariff, error) {
		return c.SetTariff(ctx, wire.SetTariffRequest{Version: t.Version, Rows: t.Rows}, key)
	})
	if err != nil {
		return wire.Tariff{}, fmt.Errorf("save the tariff: %w", err)
	}
	return out, nil
}

// ParsePercent reads a rate typed as a percentage ("0,25", "1.5 %") into
// parts per million.
func ParsePercent(s string) (int64, error) {
	t := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	t = strings.ReplaceAll(t, ",", ".")
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 || f > 100 || math.IsNaN(f) {
		return 0, wire.E(wire.CodeInvalid, "rate", "Ставка — число процентов от 0 до 100, например 0,25", "The rate is a percentage from 0 to 100, such as 0.25")
	}
	return int64(math.Round(f * 10000)), nil
}

// FormatPercent shows parts per million as a percentage with a decimal
// comma ("0,25 %").
func FormatPercent(ppm int64) string {
	s := strconv.FormatFloat(float64(ppm)/10000, 'f', -1, 64)
	return strings.ReplaceAll(s, ".", ",") + " %"
}

// CalendarDays reads the calendar's exceptions.
func (w *Workspace) CalendarDays(ctx context.Context) ([]wire.CalendarDay, error) {
	c, err := w.sess.client()
	if err != nil {
		return nil, err
	}
	ds, err := c.Calendar(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the calendar: %w", err)
	}
	return ds, nil
}

// SetCalendarDay marks a date working or not and returns the exceptions.
func (w *Workspace) SetCalendarDay(ctx context.Context, day wire.Date, working bool, note string) ([]wire.CalendarDay, error) {
	c, err := w.sess.client()
	if err != nil {
		return nil, err
	}
	ds, err := c.SetCalendarDay(ctx, day, wire.SetCalendarDayRequest{Working: working, Note: note})
	if err != nil {
		return nil, fmt.Errorf("set %s in the calendar: %w", day, err)
	}
	return ds, nil
}

// CalendarCell is one day of the year view.
type CalendarCell struct {
	Day     wire.Date
	Working bool
	Set     bool // an exception stored in the calendar, not the weekday's rule
	Note    string
}

// CalendarYear lays a year out day by day from the stored exceptions: a
// stored day is what it says, any other follows the week.
func CalendarYear(year int, days []wire.CalendarDay) []CalendarCell {
	set := map[wire.Date]wire.CalendarDay{}
	for _, d := range days {
		if d.Day.Year == year {
			set[d.Day] = d
		}
	}
	var out []CalendarCell
	for d := (wire.Date{Year: year, Month: time.January, Day: 1}); d.Year == year; d = d.AddDays(1) {
		c := CalendarCell{Day: d, Working: d.Weekday() != time.Saturday && d.Weekday() != time.Sunday}
		if s, ok := set[d]; ok {
			c.Working, c.Set, c.Note = s.Working, true, s.Note
		}
		out = append(out, c)
	}
	return out
}

// ServerStatus reads the server's state.
func (w *Workspace) ServerStatus(ctx context.Context) (wire.ServerStatus, error) {
	c, err := w.sess.client()
	if err != nil {
		return wire.ServerStatus{}, err
	}
	st, err := c.ServerStatus(ctx)
	if err != nil {
		return wire.ServerStatus{}, fmt.Errorf("read the server's state: %w", err)
	}
	return st, nil
}

// FormatBytes shows a size in binary units with one decimal ("1,5 ГиБ").
func FormatBytes(n int64, english bool) string {
	units := []string{"Б", "КиБ", "МиБ", "ГиБ", "ТиБ"}
	if english {
		units = []string{"B", "KiB", "MiB", "GiB", "TiB"}
	}
	f, i := float64(n), 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return strconv.FormatInt(n, 10) + " " + units[0]
	}
	s := strconv.FormatFloat(f, 'f', 1, 64)
	if !english {
		s = strings.ReplaceAll(s, ".", ",")
	}
	return s + " " + units[i]
}

// FormatUptime shows a duration in days, hours and minutes ("3 д 04:05").
func FormatUptime(sec int64) string {
	d := sec / 86400
	h := (sec % 86400) / 3600
	m := (sec % 3600) / 60
	if d > 0 {
		return fmt.Sprintf("%d д %02d:%02d", d, h, m)
	}
	return fmt.Sprintf("%02d:%02d", h, m)
}
