package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestAuditVerifyFindsTampering: rows edited and deleted behind the
// append-only trigger (lifted as the database superuser would) are named
// by row id, both by `audit verify` and by the service function behind it.
func TestAuditVerifyFindsTampering(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	t.Setenv(boot.EnvDatabaseURL, db)
	data := t.TempDir()
	pool, err := pgxpool.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	st := store.New(pool)
	// Rows as the server writes them, device and application included.
	for i := range 6 {
		if _, err := st.Tx(ctx, func(tx *store.Tx) error {
			tx.Audit(store.AuditEntry{ActorID: 0, ActorLogin: fmt.Sprint("user", i), IP: "10.0.0.1", Device: "ПК [dev-1]", Action: "status_change",
				ObjectType: "application", ObjectID: fmt.Sprint(100 + i), Details: map[string]any{"from": "draft", "to": "submitted"}})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	var ids []int64
	rows, err := pool.Query(ctx, `SELECT id FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if rows.Err() != nil || len(ids) != 6 {
		t.Fatalf("%d rows: %v", len(ids), rows.Err())
	}
	if out, err := runCLI(t, "", "audit", "verify", "--data", data); err != nil || !strings.Contains(out, "audit journal intact: 6 rows verified") {
		t.Fatalf("clean journal: %v\n%s", err, out)
	}

	// Tamper as a superuser would: lift the trigger, edit, delete, restore.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`ALTER TABLE audit_log DISABLE TRIGGER USER`,
		fmt.Sprintf(`UPDATE audit_log SET details = '{"from":"draft","to":"completed_positive"}' WHERE id = %d`, ids[1]),
		fmt.Sprintf(`UPDATE audit_log SET device = 'elsewhere' WHERE id = %d`, ids[2]),
		fmt.Sprintf(`UPDATE audit_log SET app_id = 999 WHERE id = %d`, ids[3]),
		fmt.Sprintf(`DELETE FROM audit_log WHERE id = %d`, ids[4]),
		`ALTER TABLE audit_log ENABLE TRIGGER USER`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.Release()

	want := []wire.AuditProblem{
		{ID: ids[1], Reason: "edited"},
		{ID: ids[2], Reason: "edited"},
		{ID: ids[3], Reason: "application id does not match"},
		{ID: ids[5], Reason: "deleted"}, // the row after the deleted one
	}
	svc := service.New(st, testenv.Config(), testenv.Logger(t), nil)
	rep, err := svc.VerifyAudit(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Intact || len(rep.Problems) != len(want) {
		t.Fatalf("service: %+v, want %d problems", rep, len(want))
	}
	for i, w := range want {
		if rep.Problems[i].ID != w.ID || !strings.Contains(rep.Problems[i].Reason, w.Reason) {
			t.Errorf("service problem %d: %+v, want row %d %q", i, rep.Problems[i], w.ID, w.Reason)
		}
	}

	out, err := runCLI(t, "", "audit", "verify", "--data", data)
	if err == nil || !strings.Contains(err.Error(), "4 problems in 5 rows") {
		t.Fatalf("CLI on a damaged journal: %v\n%s", err, out)
	}
	var named []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "row ") {
			named = append(named, strings.SplitN(line, ":", 2)[0])
		}
	}
	var wantNamed []string
	for _, w := range want {
		wantNamed = append(wantNamed, fmt.Sprintf("row %d", w.ID))
	}
	if !slices.Equal(named, wantNamed) {
		t.Fatalf("CLI named %v, want %v\n%s", named, wantNamed, out)
	}
}

// TestPDKeyRotate: `pd-key rotate` puts a new key first in the key file and
// re-encrypts stored personal data under it, so the new key alone opens it.
func TestPDKeyRotate(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	t.Setenv(boot.EnvDatabaseURL, db)
	t.Setenv(boot.EnvPDKey, "")
	data := t.TempDir()
	if out, err := runCLI(t, "a long enough passphrase\n", "user", "add", "--login", "expert1", "--name", "Эксперт", "--role", "expert", "--password-stdin", "--data", data); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	keyFile := boot.PDKeyFile(data)
	old, created, err := boot.LoadPDKeyFile(keyFile)
	if err != nil || !created {
		t.Fatalf("key file: %v %v", created, err)
	}
	pool, err := pgxpool.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	withKeys := func(keys ...[]byte) *service.Service {
		r, err := service.NewPDKeys(keys...)
		if err != nil {
			t.Fatal(err)
		}
		return service.New(store.New(pool), testenv.Config(), testenv.Logger(t), nil, service.WithPersonalData(r))
	}
	var id int64
	if err := pool.QueryRow(ctx, `SELECT id FROM users WHERE login = 'expert1'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	p := &service.Principal{UserID: id, Login: "expert1", Role: wire.RoleExpert, Scope: wire.ScopeFull}
	snils := "112-233-445 95"
	if _, err := withKeys(old...).SetPersonalData(ctx, p, wire.SetPersonalDataRequest{SNILS: &snils}); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "", "pd-key", "rotate", "--data", data)
	if err != nil || !strings.Contains(out, "personal data of 1 users re-encrypted") {
		t.Fatalf("rotate: %v\n%s", err, out)
	}
	keys, _, err := boot.LoadPDKeyFile(keyFile)
	if err != nil || len(keys) != 2 || !slices.EqualFunc(keys[1:], old, func(a, b []byte) bool { return string(a) == string(b) }) {
		t.Fatalf("key file after rotation: %d keys, %v", len(keys), err)
	}
	if pd, err := withKeys(keys[0]).RevealPersonalData(ctx, p, id); err != nil || pd.SNILS != snils {
		t.Fatalf("the new key alone: %+v %v", pd, err)
	}
	if out, err := runCLI(t, "", "pd-key", "reencrypt", "--data", data); err != nil || !strings.Contains(out, "of 0 users") {
		t.Fatalf("nothing left to re-encrypt: %v\n%s", err, out)
	}
}
