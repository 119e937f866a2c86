package service

import (
	"context"
	"strings"

	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// Administration: the user list and the actions on accounts that the
// permission changes (audit_permissions.go) do not cover, organisations,
// the holiday calendar and the server's state. Every action is refused
// by role before anything is looked up, and every change is journaled.

// SearchUsers lists users for administrators, with their lockout and last
// sign-in.
func (s *Service) SearchUsers(ctx context.Context, by *Principal, q wire.UserQuery) ([]wire.AdminUser, error) {
	if _, err := requireAdmin(by, "Список учётных записей доступен администратору", "Only administrators list accounts"); err != nil {
		return nil, err
	}
	if q.Role != "" && !q.Role.Valid() {
		return nil, wire.E(wire.CodeInvalid, "role", "Роль: applicant, expert, manager или admin", "Role: applicant, expert, manager or admin")
	}
	return s.st.Read().SearchUsers(ctx, q)
}

// AdminUser reads one account as administrators see it.
func (s *Service) AdminUser(ctx context.Context, by *Principal, userID int64) (wire.AdminUser, error) {
	if _, err := requireAdmin(by, "Учётные записи просматривает администратор", "Only administrators read accounts"); err != nil {
		return wire.AdminUser{}, err
	}
	return s.st.Read().AdminUserByID(ctx, userID)
}

// CreateUser is an administrator creating an account from the app. The
// password must pass the policy; staff are created without a second
// factor, so their first sign-in only enrols one (Login gives such
// accounts an enrolment-only session).
func (s *Service) CreateUser(ctx context.Context, by *Principal, r wire.CreateUserRequest) (wire.AdminUser, error) {
	by, err := requireAdmin(by, "Пользователей создаёт администратор", "Only administrators create users")
	if err != nil {
		return wire.AdminUser{}, err
	}
	res, err := s.AddUser(ctx, by, NewUserInput{Login: r.Login, Password: r.Password, FullName: r.FullName, Email: strings.TrimSpace(r.Email),
		Phone: strings.TrimSpace(r.Phone), Role: r.Role, OrgID: r.OrgID})
	if err != nil {
		return wire.AdminUser{}, err
	}
	return s.st.Read().AdminUserByID(ctx, res.User.ID)
}

// UnlockUser clears the lockout after failed sign-ins, so the user may
// try again at once.
func (s *Service) UnlockUser(ctx context.Context, by *Principal, userID int64) (wire.AdminUser, error) {
	by, err := requireAdmin(by, "Блокировку входа снимает администратор", "Only administrators unlock accounts")
	if err != nil {
		return wire.AdminUser{}, err
	}
	_, err = write(ctx, s, nil, func(tx *store.Tx) (struct{}, error) {
		u, err := tx.UserByIDForUpdate(ctx, userID)
		if err != nil {
			return struct{}{}, err
		}
		if err := tx.Unlock(ctx, userID); err != nil {
			return struct{}{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: by.UserID, ActorLogin: by.Login, IP: by.IP, Device: by.Device, Action: wire.AuditUserUnlock,
			ObjectType: "user", ObjectID: itoa(userID), Details: map[string]any{"login": u.Login, "failed_logins": u.FailedLogins, "was_locked": u.LockedUntil != nil}})
		return struct{}{}, nil
	})
	if err != nil {
		return wire.AdminUser{}, err
	}
	return s.st.Read().AdminUserByID(ctx, userID)
}

// UserIDByLogin finds an account for the server's CLI.
func (s *Service) UserIDByLogin(ctx context.Context, login string) (int64, error) {
	u, err := s.st.Read().UserByLogin(ctx, strings.TrimSpace(login))
	if err != nil {
		return 0, wire.E(wire.CodeNotFound, "login", "Нет пользователя с логином «"+login+"»", "No user with login "+login)
	}
	return u.ID, nil
}

// Organisations lists organisations with their sizes (administrators).
func (s *Service) Organisations(ctx context.Context, by *Principal, text string) ([]wire.OrganisationSummary, error) {
	if _, err := requireAdmin(by, "Список организаций доступен администратору", "Only administrators list organisations"); err != nil {
		return nil, err
	}
	return s.st.Read().ListOrganisations(ctx, text)
}

// UpdateOrganisation corrects an organisation's details (administrators);
// the INN, which identifies it, stays.
func (s *Service) UpdateOrganisation(ctx context.Context, by *Principal, id int64, r wire.UpdateOrganisationRequest) (wire.Organisation, error) {
	by, err := requireAdmin(by, "Организации изменяет администратор", "Only administrators change organisations")
	if err != nil {
		return wire.Organisation{}, err
	}
	if err := r.Validate(); err != nil {
		return wire.Organisation{}, err
	}
	return write(ctx, s, by, func(tx *store.Tx) (wire.Organisation, error) {
		cur, err := tx.Organisation(ctx, id)
		if err != nil {
			return wire.Organisation{}, err
		}
		before := *cur
		next := *cur
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = strings.TrimSpace(*v)
			}
		}
		set(&next.Name, r.Name)
		set(&next.ShortName, r.ShortName)
		set(&next.OGRN, r.OGRN)
		set(&next.KPP, r.KPP)
		set(&next.Address, r.Address)
		set(&next.Email, r.Email)
		set(&next.Phone, r.Phone)
		if err := tx.UpdateOrganisation(ctx, next, r.Version); err != nil {
			return wire.Organisation{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: by.UserID, ActorLogin: by.Login, IP: by.IP, Device: by.Device, Action: wire.AuditOrgUpdate,
			ObjectType: "organisation", ObjectID: itoa(id), Details: map[string]any{"before": orgDetails(before), "after": orgDetails(next)}})
		out, err := tx.Organisation(ctx, id)
		if err != nil {
			return wire.Organisation{}, err
		}
		return *out, nil
	})
}

func orgDetails(o wire.Organisation) map[string]string {
	return map[string]string{"name": o.Name, "short_name": o.ShortName, "inn": o.INN, "ogrn": o.OGRN, "kpp": o.KPP, "address": o.Address,
		"email": o.Email, "phone": o.Phone}
}

// ExpertLoads lists active experts with their current work, for the
// assignment dialog (managers, who assign, and administrators).
func (s *Service) ExpertLoads(ctx context.Context, by *Principal) ([]wire.ExpertLoad, error) {
	if err := requireFull(by); err != nil {
		return nil, err
	}
	if by.Role != wire.RoleManager && by.Role != wire.RoleAdmin {
		return nil, errForbidden("Загрузку экспертов видят менеджеры и администраторы", "Only managers and administrators see the experts' load")
	}
	return s.st.Read().ExpertLoads(ctx)
}

// SetCalendarDay marks one date working or non-working (administrators).
// A date that then agrees with its weekday is stored anyway: the office
// confirmed it, and the year view shows it as set by hand.
func (s *Service) SetCalendarDay(ctx context.Context, by *Principal, day wire.Date, r wire.SetCalendarDayRequest) ([]wire.CalendarDay, error) {
	by, err := requireAdmin(by, "Производственный календарь изменяет администратор", "Only administrators change the working-day calendar")
	if err != nil {
		return nil, err
	}
	if day.IsZero() {
		return nil, wire.E(wire.CodeInvalid, "date", "Дата — ГГГГ-ММ-ДД", "The date is YYYY-MM-DD")
	}
	note := strings.TrimSpace(r.Note)
	if len([]rune(note)) > 200 {
		return nil, wire.E(wire.CodeInvalid, "note", "Примечание длиннее 200 символов", "The note is over 200 characters")
	}
	if note == "" {
		note = "admin"
	}
	wasWorking := s.Calendar().IsWorkday(day)
	if _, err := write(ctx, s, by, func(tx *store.Tx) (struct{}, error) {
		if err := tx.SetCalendarDay(ctx, wire.CalendarDay{Day: day, Working: r.Working, Note: note}); err != nil {
			return struct{}{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: by.UserID, ActorLogin: by.Login, IP: by.IP, Device: by.Device, Action: wire.AuditCalendarSet,
			ObjectType: "calendar", ObjectID: day.String(), Details: map[string]any{"working": r.Working, "was_working": wasWorking, "note": note}})
		return struct{}{}, nil
	}); err != nil {
		return nil, err
	}
	return s.reloadCalendar(ctx)
}

// ImportCalendarYear replaces a year's exceptions with the published
// ones (administrators).
func (s *Service) ImportCalendarYear(ctx context.Context, by *Principal, r wire.ImportCalendarRequest) ([]wire.CalendarDay, error) {
	by, err := requireAdmin(by, "Производственный календарь изменяет администратор", "Only administrators change the working-day calendar")
	if err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if _, err := write(ctx, s, by, func(tx *store.Tx) (struct{}, error) {
		days := make([]wire.CalendarDay, len(r.Days))
		holidays := 0
		for i, d := range r.Days {
			d.Note = strings.TrimSpace(d.Note)
			if d.Note == "" {
				d.Note = "import"
			}
			if !d.Working {
				holidays++
			}
			days[i] = d
		}
		before, err := tx.ReplaceCalendarYear(ctx, r.Year, days)
		if err != nil {
			return struct{}{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: by.UserID, ActorLogin: by.Login, IP: by.IP, Device: by.Device, Action: wire.AuditCalendarImport,
			ObjectType: "calendar", ObjectID: itoa(int64(r.Year)), Details: map[string]any{"days": len(days), "non_working": holidays, "replaced": before}})
		return struct{}{}, nil
	}); err != nil {
		return nil, err
	}
	return s.reloadCalendar(ctx)
}

// reloadCalendar puts the stored calendar in force in this process and
// returns it. Other replicas read it at their next start; deadlines
// already set keep their dates.
func (s *Service) reloadCalendar(ctx context.Context) ([]wire.CalendarDay, error) {
	if err := s.LoadCalendar(ctx); err != nil {
		return nil, err
	}
	return s.st.Read().CalendarDays(ctx)
}

// ServerStatus fills the database part of the server's state
// (administrators); the HTTP layer adds the process's own figures.
func (s *Service) ServerStatus(ctx context.Context, by *Principal) (wire.ServerStatus, error) {
	if _, err := requireAdmin(by, "Состояние сервера видит администратор", "Only administrators see the server's state"); err != nil {
		return wire.ServerStatus{}, err
	}
	var st wire.ServerStatus
	st.Now = s.now().UTC()
	if err := s.st.Read().ServerCounts(ctx, st.Now, &st); err != nil {
		return wire.ServerStatus{}, err
	}
	return st, nil
}
