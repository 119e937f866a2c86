package boot_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/pgcluster"
	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

// startPD runs a server whose data folder the test knows, so it can look
// at the key file.
func startPD(t *testing.T) (*boot.Server, string, string) {
	t.Helper()
	ctx := context.Background()
	db, data := pgtest.NewDB(t), t.TempDir()
	s, err := boot.Start(ctx, boot.Config{Listen: "127.0.0.1:0", DatabaseURL: db, Service: testenv.Config(), Log: testenv.Logger(t), DataDir: data,
		ValidateWorker: testenv.ValidateWorker, FontCache: testenv.FontCache()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return s, db, data
}

// plaintextForms are the ways the test's values could be written.
var plaintextForms = []string{"11223344595", "112-233-445 95", "112-233-44595", "4506987654", "45 06 987654", "4506 987654", "987654"}

// TestPersonalDataEncryptedAtRest: the СНИЛС and passport a user sets are
// nowhere in the database — no table, no dump — only their ciphertexts;
// the key sits in a 0600 file under the data folder, outside the dump and
// the blobs; values are masked unless revealed; a ciphertext moved to
// another user does not open.
func TestPersonalDataEncryptedAtRest(t *testing.T) {
	ctx := context.Background()
	s, db, data := startPD(t)
	member := testenv.Applicant(t, s)
	other := testenv.Applicant(t, s)

	keyFile := boot.PDKeyFile(data)
	fi, err := os.Stat(keyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %s: %v %v", keyFile, fi, err)
	}
	if rel, _ := filepath.Rel(filepath.Join(data, "blobs"), keyFile); !strings.HasPrefix(rel, "..") {
		t.Fatalf("the key file %s is inside the blob folder", keyFile)
	}

	bad := "112-233-445 96"
	if _, err := member.C.SetPersonalData(ctx, wire.SetPersonalDataRequest{SNILS: &bad}); wire.ErrorCode(err) != wire.CodeInvalid {
		t.Fatalf("a СНИЛС with a wrong checksum: %v", err)
	}
	snils, passport := "112-233-445 95", "4506 987654"
	pd, err := member.C.SetPersonalData(ctx, wire.SetPersonalDataRequest{SNILS: &snils, Passport: &passport})
	if err != nil || pd.SNILS != "***-***-*** 95" || pd.Passport != "** ** ***654" || pd.Revealed {
		t.Fatalf("set: %+v %v", pd, err)
	}
	if pd, err = member.C.PersonalData(ctx); err != nil || pd.SNILS != "***-***-*** 95" || pd.Passport != "** ** ***654" {
		t.Fatalf("read: %+v %v", pd, err)
	}
	if pd, err = member.C.RevealPersonalData(ctx); err != nil || pd.SNILS != snils || pd.Passport != "45 06 987654" || !pd.Revealed {
		t.Fatalf("reveal: %+v %v", pd, err)
	}
	if _, err := other.C.UserPersonalData(ctx, member.ID); wire.ErrorCode(err) != wire.CodeForbidden {
		t.Fatalf("another applicant reading it: %v", err)
	}

	// Every row of every table, as text.
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 20 {
		t.Fatalf("tables %v %v", tables, err)
	}
	var all strings.Builder
	for _, tbl := range tables {
		rows, err := conn.Query(ctx, `SELECT t::text FROM `+pgx.Identifier{tbl}.Sanitize()+` t`)
		if err != nil {
			t.Fatal(err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range texts {
			all.WriteString(s)
			all.WriteByte('\n')
		}
	}
	var enc []byte
	if err := conn.QueryRow(ctx, `SELECT snils_enc FROM users WHERE id = $1`, member.ID).Scan(&enc); err != nil || len(enc) < 40 {
		t.Fatalf("no ciphertext stored: %x %v", enc, err)
	}
	// The dump, as `backup` makes it.
	bin, err := pgcluster.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	dump, err := exec.Command(filepath.Join(bin, "pg_dump"), "--format=plain", "--no-owner", "--dbname="+db).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	if !bytes.Contains(dump, []byte("snils_enc")) {
		t.Fatal("the dump has no snils_enc column: not the right database")
	}
	for _, form := range plaintextForms {
		if strings.Contains(all.String(), form) {
			t.Errorf("a table holds %q in the clear", form)
		}
		if bytes.Contains(dump, []byte(form)) {
			t.Errorf("the dump holds %q in the clear", form)
		}
	}
	key, _ := os.ReadFile(keyFile)
	if line := strings.TrimSpace(strings.Split(string(key), "\n")[1]); bytes.Contains(dump, []byte(line)) || strings.Contains(all.String(), line) {
		t.Error("the key is in the database")
	}

	// A ciphertext copied onto another user's row does not open there.
	if _, err := conn.Exec(ctx, `UPDATE users SET snils_enc = $1 WHERE id = $2`, enc, other.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := other.C.RevealPersonalData(ctx); wire.ErrorCode(err) != wire.CodeInternal {
		t.Fatalf("a moved ciphertext opened: %v", err)
	}
	if _, err := conn.Exec(ctx, `UPDATE users SET snils_enc = NULL WHERE id = $1`, other.ID); err != nil {
		t.Fatal(err)
	}

	// Rotation: a ring with a new key first re-encrypts the row; then the
	// new key alone opens it and the old one alone does not.
	old, _, err := boot.LoadPDKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := boot.NewPDKey()
	if err != nil {
		t.Fatal(err)
	}
	ring := func(keys ...[]byte) *service.Service {
		r, err := service.NewPDKeys(keys...)
		if err != nil {
			t.Fatal(err)
		}
		return service.New(s.Service.Store(), testenv.Config(), testenv.Logger(t), nil, service.WithPersonalData(r))
	}
	if n, err := ring(append([][]byte{fresh}, old...)...).ReencryptPersonalData(ctx); err != nil || n != 1 {
		t.Fatalf("re-encrypt: %d %v", n, err)
	}
	p := &service.Principal{UserID: member.ID, Login: member.User.Login, Role: wire.RoleApplicant, Scope: wire.ScopeFull}
	if pd, err := ring(fresh).RevealPersonalData(ctx, p, member.ID); err != nil || pd.SNILS != snils {
		t.Fatalf("after rotation, the new key: %+v %v", pd, err)
	}
	if _, err := ring(old...).RevealPersonalData(ctx, p, member.ID); err == nil {
		t.Fatal("after rotation, the old key still opens the data")
	}
}
