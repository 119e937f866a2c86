package app

import (
	"slices"
	"testing"
	"time"

	"github.com/expertiza/expertiza/sync/wire"
)

func TestNewUserFormValidate(t *testing.T) {
	ok := NewUserForm{CreateUserRequest: wire.CreateUserRequest{Login: "petrova", Password: "a long passphrase", FullName: "Петрова", Role: wire.RoleExpert}, Repeat: "a long passphrase"}
	tests := []struct {
		name  string
		edit  func(*NewUserForm)
		field string // "" valid
	}{
		{"valid", func(*NewUserForm) {}, ""},
		{"no login", func(f *NewUserForm) { f.Login = " " }, "login"},
		{"no name", func(f *NewUserForm) { f.FullName = "" }, "full_name"},
		{"no role", func(f *NewUserForm) { f.Role = "" }, "role"},
		{"applicant without organisation", func(f *NewUserForm) { f.Role = wire.RoleApplicant }, "org_id"},
		{"applicant with organisation", func(f *NewUserForm) { f.Role, f.OrgID = wire.RoleApplicant, 3 }, ""},
		{"no password", func(f *NewUserForm) { f.Password, f.Repeat = "", "" }, "password"},
		{"repeat differs", func(f *NewUserForm) { f.Repeat = "other" }, "password_repeat"},
		{"bad e-mail", func(f *NewUserForm) { f.Email = "не почта" }, "email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ok
			tt.edit(&f)
			err := f.Validate()
			we, _ := wire.AsError(err)
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("valid form refused: %v", err)
			case tt.field != "" && (we == nil || we.Field != tt.field || we.Message == ""):
				t.Fatalf("got %v, want a Russian error on %s", err, tt.field)
			}
		})
	}
}

func TestUserActions(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	later, earlier := now.Add(time.Hour), now.Add(-time.Hour)
	u := func(id int64, disabled, totp bool, locked *time.Time) wire.AdminUser {
		return wire.AdminUser{User: wire.User{ID: id, Disabled: disabled, TOTPEnabled: totp}, LockedUntil: locked}
	}
	tests := []struct {
		name string
		u    wire.AdminUser
		want []UserAction
	}{
		{"oneself", u(1, false, true, &later), nil},
		{"active with 2FA", u(2, false, true, nil), []UserAction{UserDisable, UserResetTOTP}},
		{"disabled", u(2, true, false, nil), []UserAction{UserEnable}},
		{"locked", u(2, false, false, &later), []UserAction{UserDisable, UserUnlock}},
		{"lock expired", u(2, false, false, &earlier), []UserAction{UserDisable}},
	}
	for _, tt := range tests {
		if got := UserActions(tt.u, 1, now); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestPercent(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ppm  int64
		bad  bool
		back string
	}{
		{"0,25", 2500, false, "0,25 %"},
		{"1.5 %", 15000, false, "1,5 %"},
		{"100", 1_000_000, false, "100 %"},
		{"0", 0, false, "0 %"},
		{"101", 0, true, ""},
		{"-1", 0, true, ""},
		{"много", 0, true, ""},
	} {
		got, err := ParsePercent(tc.in)
		if (err != nil) != tc.bad || got != tc.ppm {
			t.Errorf("ParsePercent(%q) = %d, %v", tc.in, got, err)
		}
		if !tc.bad && FormatPercent(got) != tc.back {
			t.Errorf("FormatPercent(%d) = %q, want %q", got, FormatPercent(got), tc.back)
		}
	}
}

func TestCalendarYear(t *testing.T) {
	days := []wire.CalendarDay{
		{Day: wire.Date{Year: 2026, Month: 1, Day: 1}, Working: false, Note: "official"},
		{Day: wire.Date{Year: 2026, Month: 1, Day: 3}, Working: true, Note: "перенос"}, // a Saturday
		{Day: wire.Date{Year: 2027, Month: 1, Day: 1}, Working: false},
	}
	cells := CalendarYear(2026, days)
	if len(cells) != 365 || cells[0].Day != (wire.Date{Year: 2026, Month: 1, Day: 1}) || cells[364].Day != (wire.Date{Year: 2026, Month: 12, Day: 31}) {
		t.Fatalf("%d cells from %v to %v", len(cells), cells[0].Day, cells[len(cells)-1].Day)
	}
	want := []CalendarCell{
		{Day: wire.Date{Year: 2026, Month: 1, Day: 1}, Working: false, Set: true, Note: "official"},
		{Day: wire.Date{Year: 2026, Month: 1, Day: 2}, Working: true},
		{Day: wire.Date{Year: 2026, Month: 1, Day: 3}, Working: true, Set: true, Note: "перенос"},
		{Day: wire.Date{Year: 2026, Month: 1, Day: 4}, Working: false},
	}
	if !slices.Equal(cells[:4], want) {
		t.Errorf("first days %+v, want %+v", cells[:4], want)
	}
	if n := len(CalendarYear(2028, nil)); n != 366 {
		t.Errorf("a leap year has %d days", n)
	}
}

func TestFormatBytesUptime(t *testing.T) {
	for _, tc := range []struct {
		n      int64
		ru, en string
	}{{0, "0 Б", "0 B"}, {1023, "1023 Б", "1023 B"}, {1536, "1,5 КиБ", "1.5 KiB"}, {5 << 30, "5,0 ГиБ", "5.0 GiB"}} {
		if got := FormatBytes(tc.n, false); got != tc.ru {
			t.Errorf("FormatBytes(%d) = %q, want %q", tc.n, got, tc.ru)
		}
		if got := FormatBytes(tc.n, true); got != tc.en {
			t.Errorf("FormatBytes(%d, en) = %q, want %q", tc.n, got, tc.en)
		}
	}
	if got := FormatUptime(3*86400 + 4*3600 + 5*60 + 9); got != "3 д 04:05" {
		t.Errorf("uptime %q", got)
	}
	if got := FormatUptime(59); got != "00:00" {
		t.Errorf("uptime %q", got)
	}
}

func TestSupportMoves(t *testing.T) {
	tests := []struct {
		from  wire.SupportStatus
		admin bool
		want  []wire.SupportStatus
	}{
		{wire.SupportNew, true, []wire.SupportStatus{wire.SupportInProgress, wire.SupportClosed}},
		{wire.SupportInProgress, true, []wire.SupportStatus{wire.SupportClosed}},
		{wire.SupportAnswered, true, []wire.SupportStatus{wire.SupportInProgress, wire.SupportClosed}},
		{wire.SupportClosed, true, []wire.SupportStatus{wire.SupportInProgress}},
		{wire.SupportNew, false, []wire.SupportStatus{wire.SupportClosed}},
		{wire.SupportAnswered, false, []wire.SupportStatus{wire.SupportClosed}},
		{wire.SupportClosed, false, nil},
	}
	for _, tt := range tests {
		if got := SupportMoves(wire.SupportRequest{Status: tt.from}, tt.admin); !slices.Equal(got, tt.want) {
			t.Errorf("from %s (admin %v): %v, want %v", tt.from, tt.admin, got, tt.want)
		}
	}
	for _, tc := range []struct {
		from    wire.SupportStatus
		byAdmin bool
		want    wire.SupportStatus
	}{
		{wire.SupportNew, true, wire.SupportAnswered}, {wire.SupportInProgress, true, wire.SupportAnswered},
		{wire.SupportNew, false, wire.SupportNew}, {wire.SupportAnswered, false, wire.SupportInProgress}, {wire.SupportInProgress, false, wire.SupportInProgress},
	} {
		if got := wire.SupportAfterReply(tc.from, tc.byAdmin); got != tc.want {
			t.Errorf("reply on %s by admin %v: %s, want %s", tc.from, tc.byAdmin, got, tc.want)
		}
	}
}
