package main

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/testenv"
)

// TestAdminCommands runs the account, organisation and calendar commands
// against a database and checks what they wrote.
func TestAdminCommands(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDB(t)
	t.Setenv(boot.EnvDatabaseURL, url)
	data := t.TempDir()
	if out, err := runCLI(t, "", "migrate", "--data", data); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `INSERT INTO organisations (name, inn, ogrn) VALUES ('ООО «Проект»', $1, $2)`, testenv.ValidINN(4242), testenv.ValidOGRN(4242)); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "a long enough passphrase\n", "user", "add", "--login", "petrov", "--name", "Петров Пётр", "--role", "expert", "--password-stdin", "--data", data); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	lockPetrov := func() {
		if _, err := pool.Exec(ctx, `UPDATE users SET failed_logins = 5, locked_until = now() + interval '1 hour' WHERE login = 'petrov'`); err != nil {
			t.Fatal(err)
		}
	}
	query := func(sql string) string {
		var s string
		if err := pool.QueryRow(ctx, sql).Scan(&s); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return s
	}

	tests := []struct {
		name    string
		before  func()
		args    []string
		wantErr bool
		want    []string // in the output
		check   string   // SQL answering "ok" when the command did its work
	}{
		{name: "list", args: []string{"user", "list"}, want: []string{"petrov", "expert", "active", "Петров Пётр", "1 users"}},
		{name: "list by role, none", args: []string{"user", "list", "--role", "manager"}, want: []string{"0 users"}},
		{name: "list by bad role", args: []string{"user", "list", "--role", "boss"}, wantErr: true},
		{name: "disable", args: []string{"user", "disable", "petrov"}, want: []string{`"petrov" disabled`},
			check: `SELECT CASE WHEN disabled THEN 'ok' ELSE 'no' END FROM users WHERE login = 'petrov'`},
		{name: "list shows disabled", args: []string{"user", "list", "--search", "ПЕТРОВ"}, want: []string{"disabled"}},
		{name: "enable", args: []string{"user", "enable", "petrov"}, want: []string{`"petrov" enabled`},
			check: `SELECT CASE WHEN NOT disabled THEN 'ok' ELSE 'no' END FROM users WHERE login = 'petrov'`},
		{name: "list shows locked", before: lockPetrov, args: []string{"user", "list"}, want: []string{"locked"}},
		{name: "unlock", args: []string{"user", "unlock", "petrov"}, want: []string{"unlocked"},
			check: `SELECT CASE WHEN locked_until IS NULL AND failed_logins = 0 THEN 'ok' ELSE 'no' END FROM users WHERE login = 'petrov'`},
		{name: "role", args: []string{"user", "role", "petrov", "manager"}, want: []string{"now manager"},
			check: `SELECT CASE WHEN role = 'manager' THEN 'ok' ELSE role END FROM users WHERE login = 'petrov'`},
		{name: "role unknown", args: []string{"user", "role", "petrov", "boss"}, wantErr: true},
		{name: "role without role", args: []string{"user", "role", "petrov"}, wantErr: true},
		{name: "reset-2fa", args: []string{"user", "reset-2fa", "petrov"}, want: []string{"reset"},
			check: `SELECT CASE WHEN NOT totp_enabled AND totp_secret = '' THEN 'ok' ELSE 'no' END FROM users WHERE login = 'petrov'`},
		{name: "unknown login", args: []string{"user", "disable", "nobody"}, wantErr: true},
		{name: "unknown user command", args: []string{"user", "frobnicate", "petrov"}, wantErr: true},
		{name: "org list", args: []string{"org", "list"}, want: []string{"ООО «Проект»", testenv.ValidINN(4242), "1 organisations"}},
		{name: "org list search", args: []string{"org", "list", "--search", "нет такой"}, want: []string{"0 organisations"}},
		{name: "calendar holiday", args: []string{"calendar", "set", "2030-03-12", "holiday", "--note", "Перенос"}, want: []string{"2030-03-12 (Tuesday) is now a non-working day"},
			check: `SELECT CASE WHEN NOT working AND note = 'Перенос' THEN 'ok' ELSE 'no' END FROM calendar_days WHERE day = '2030-03-12'`},
		{name: "calendar working", args: []string{"calendar", "set", "2030-03-16", "working"}, want: []string{"a working day"},
			check: `SELECT CASE WHEN working THEN 'ok' ELSE 'no' END FROM calendar_days WHERE day = '2030-03-16'`},
		{name: "calendar bad kind", args: []string{"calendar", "set", "2030-03-12", "maybe"}, wantErr: true},
		{name: "calendar bad date", args: []string{"calendar", "set", "12.03.2030", "holiday"}, wantErr: true},
		{name: "journal", args: []string{"audit", "verify"}, want: []string{"audit journal intact"},
			check: `SELECT CASE WHEN count(DISTINCT action) = 7 THEN 'ok' ELSE string_agg(DISTINCT action, ',') END FROM audit_log
				WHERE actor_login = 'cli' AND action IN ('user_disable','user_enable','user_unlock','user_role','totp_reset','calendar_set','user_add')`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.before != nil {
				tt.before()
			}
			out, err := runCLI(t, "", append(tt.args, "--data", data)...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v (want error: %v)\n%s", err, tt.wantErr, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if tt.check != "" {
				if got := query(tt.check); got != "ok" {
					t.Errorf("after the command: %s", got)
				}
			}
		})
	}
}
