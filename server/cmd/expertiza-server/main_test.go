package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/server/validate"
	"github.com/expertiza/expertiza/sync/wire"
)

func TestMain(m *testing.M) {
	switch {
	case len(os.Args) > 1 && os.Args[1] == "validate-worker":
		// The server re-runs its own executable as the PDF worker.
		os.Exit(validate.WorkerMain())
	case os.Getenv(serveEnv) != "":
		// A server process that a test may kill.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := run(ctx, strings.Fields(os.Getenv(serveEnv)), os.Stdin, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	testenv.Main(m)
}

func runCLI(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String() + errOut.String(), err
}

// TestCommandsOnExternalDatabase runs the admin commands against a
// database named by EXPERTIZA_DATABASE_URL.
func TestCommandsOnExternalDatabase(t *testing.T) {
	t.Setenv(boot.EnvDatabaseURL, pgtest.NewDB(t))
	data := t.TempDir()

	out, err := runCLI(t, "", "seed-demo", "--data", data)
	if err != nil || !strings.Contains(out, "13 applications") {
		t.Fatalf("seed-demo: %v\n%s", err, out)
	}
	creds, err := os.ReadFile(filepath.Join(data, "demo-credentials.txt"))
	if err != nil || !strings.Contains(string(creds), "demo-manager") || !strings.Contains(string(creds), "totp-secret") {
		t.Fatalf("credentials file: %v\n%s", err, creds)
	}
	if out, err := runCLI(t, "", "seed-demo", "--data", data); err != nil || !strings.Contains(out, "already loaded") {
		t.Fatalf("second seed-demo must be a no-op: %v\n%s", err, out)
	}
	if after, _ := os.ReadFile(filepath.Join(data, "demo-credentials.txt")); !bytes.Equal(after, creds) {
		t.Fatal("second seed-demo overwrote the credentials")
	}

	tests := []struct {
		name    string
		stdin   string
		args    []string
		wantErr bool
		want    string
	}{
		{"user add manager", "a long enough passphrase\n", []string{"user", "add", "--login", "ivanova", "--name", "Иванова Мария", "--role", "manager", "--totp", "--password-stdin", "--data", data}, false, "otpauth://totp/"},
		{"duplicate login", "another long passphrase\n", []string{"user", "add", "--login", "IVANOVA", "--name", "Другая", "--role", "expert", "--password-stdin", "--data", data}, true, ""},
		{"common password", "password123\n", []string{"user", "add", "--login", "petrov", "--name", "Петров", "--role", "expert", "--password-stdin", "--data", data}, true, ""},
		{"no password, no terminal", "", []string{"user", "add", "--login", "sidorov", "--name", "Сидоров", "--role", "expert", "--data", data}, true, ""},
		{"applicant needs organisation", "a long enough passphrase\n", []string{"user", "add", "--login", "lonely", "--name", "Одинокий", "--role", "applicant", "--password-stdin", "--data", data}, true, ""},
		{"missing flags", "", []string{"user", "add", "--login", "x", "--data", data}, true, ""},
		{"audit verify", "", []string{"audit", "verify", "--data", data}, false, "audit journal intact"},
		{"totp-code demo", "", []string{"totp-code", "--login", "demo-manager", "--data", data}, false, ""},
		{"totp-code refuses real accounts", "", []string{"totp-code", "--login", "ivanova", "--data", data}, true, ""},
		{"unknown command", "", []string{"frobnicate"}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runCLI(t, tt.stdin, tt.args...)
			if (err != nil) != tt.wantErr || !strings.Contains(out, tt.want) {
				t.Fatalf("err %v (want error: %v)\n%s", err, tt.wantErr, out)
			}
		})
	}

	backups := t.TempDir()
	if out, err := runCLI(t, "", "backup", "--out", backups, "--data", data); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	dumps, _ := filepath.Glob(filepath.Join(backups, "expertiza-*", "database.dump"))
	if len(dumps) != 1 {
		t.Fatalf("backup wrote %v", dumps)
	}
	if fi, err := os.Stat(dumps[0]); err != nil || fi.Size() < 10000 {
		t.Fatalf("dump too small or missing: %v %v", fi, err)
	}
}

// TestEmbeddedDatabase: without a URL the commands start, use and stop the
// embedded cluster under --data, and it keeps the data between runs.
func TestEmbeddedDatabase(t *testing.T) {
	t.Setenv(boot.EnvDatabaseURL, "")
	data := t.TempDir()
	if out, err := runCLI(t, "a long enough passphrase\n", "user", "add", "--login", "admin1", "--name", "Админ", "--role", "admin", "--password-stdin", "--data", data); err != nil {
		t.Fatalf("user add on a new data folder: %v\n%s", err, out)
	}
	out, err := runCLI(t, "another long passphrase\n", "user", "add", "--login", "admin1", "--name", "Админ", "--role", "admin", "--password-stdin", "--data", data)
	if err == nil || !strings.Contains(out+err.Error(), "taken") {
		t.Fatalf("second run did not see the first one's user: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(data, "postgres", "pgdata", "PG_VERSION")); err != nil {
		t.Fatalf("embedded cluster not under --data: %v", err)
	}
}

// TestVerifyFileStore: verify passes on an intact store and names a blob
// whose bytes changed on disk.
func TestVerifyFileStore(t *testing.T) {
	ctx := context.Background()
	db, data := pgtest.NewDB(t), t.TempDir()
	t.Setenv(boot.EnvDatabaseURL, db)
	s, err := boot.Start(ctx, boot.Config{Listen: "127.0.0.1:0", DatabaseURL: db, Service: testenv.Config(), Log: testenv.Logger(t), DataDir: data,
		ValidateWorker: testenv.ValidateWorker})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(ctx)
	app := testenv.Applicant(t, s)
	obj, addr := "Дом", "Москва"
	works, kind, fin := wire.WorksConstruction, wire.KindProjectDocs, wire.FinancingBudget
	a, err := app.C.CreateApplication(ctx, wire.ApplicationInput{ObjectName: &obj, ObjectAddress: &addr, WorksKind: &works, ExpertiseKind: &kind, Financing: &fin}, "")
	if err != nil {
		t.Fatal(err)
	}
	content := []byte(`<?xml version="1.0"?><note>a small file for the scrubber</note>`)
	sum := sha256.Sum256(content)
	digest := hex.EncodeToString(sum[:])
	var up wire.Upload
	if err := app.C.Call(ctx, http.MethodPost, "/applications/"+strconv.FormatInt(a.ID, 10)+"/uploads",
		wire.CreateUploadRequest{Section: "07.01", FileName: "ПЗ.xml", Size: int64(len(content)), SHA256: digest}, &up, ""); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, s.URL()+wire.APIPrefix+"/uploads/"+up.ID+"/chunks/0", bytes.NewReader(content))
	req.Header.Set("Authorization", "Bearer "+app.C.Token())
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("chunk: %v %v", resp, err)
	}
	if err := app.C.Call(ctx, http.MethodPost, "/uploads/"+up.ID+"/finish", nil, &up, ""); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "", "verify", "--data", data); err != nil || !strings.Contains(out, "1 files verified") {
		t.Fatalf("verify of an intact store: %v\n%s", err, out)
	}
	path := filepath.Join(data, "blobs", digest[:2], digest[2:4], digest)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("blob layout changed? %v", err)
	}
	b, _ := os.ReadFile(path)
	b[3] ^= 0xff
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "", "verify", "--data", data)
	if err == nil || !strings.Contains(out, "corrupt: "+digest) {
		t.Fatalf("verify missed a tampered file: %v\n%s", err, out)
	}
}
