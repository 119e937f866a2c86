package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// serveEnv makes the test binary run `expertiza-server serve` with the
// arguments in it, so a test can kill a real server process with SIGKILL.
const serveEnv = "EXPERTIZA_TEST_SERVE_ARGS"

// startServe runs the server in a child process and waits until it answers.
func startServe(t *testing.T, db, data, addr string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), serveEnv+"=serve --listen "+addr+" --data "+data, boot.EnvDatabaseURL+"="+db, "GORACE=atexit_sleep_ms=0")
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for i := 0; i < 300; i++ {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server did not start:\n%s", logs.String())
	return nil
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestUploadSurvivesKill9: a server process killed with SIGKILL in the
// middle of an upload loses none of the acknowledged chunks; after a
// restart the client resumes, the file becomes a version byte for byte.
func TestUploadSurvivesKill9(t *testing.T) {
	ctx := context.Background()
	db, data, addr := pgtest.NewDB(t), t.TempDir(), freeAddr(t)
	srv := startServe(t, db, data, addr)
	c := client.New("http://" + addr)
	pw := "correct horse battery staple"
	if _, err := c.Register(ctx, wire.RegisterRequest{Login: "killer", Password: pw, FullName: "Тест", Email: "k@example.ru",
		Organisation: wire.OrganisationInput{Name: "ООО «Устойчивость»", INN: "7707083893", OGRN: "1027700132195", Address: "Москва"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(ctx, wire.LoginRequest{Login: "killer", Password: pw}); err != nil {
		t.Fatal(err)
	}
	obj, addrObj := "Дом", "Москва"
	works, kind, fin := wire.WorksConstruction, wire.KindProjectDocs, wire.FinancingBudget
	a, err := c.CreateApplication(ctx, wire.ApplicationInput{ObjectName: &obj, ObjectAddress: &addrObj, WorksKind: &works, ExpertiseKind: &kind, Financing: &fin}, "")
	if err != nil {
		t.Fatal(err)
	}
	// A 30 MB XML estimate: four 8 MiB chunks.
	var xml strings.Builder
	xml.WriteString(`<?xml version="1.0" encoding="UTF-8"?><смета>`)
	for i := 0; xml.Len() < 30<<20; i++ {
		fmt.Fprintf(&xml, "<позиция номер=\"%d\">Устройство фундаментов, м3</позиция>\n", i)
	}
	xml.WriteString("</смета>")
	path := t.TempDir() + "/Смета.xml"
	if err := os.WriteFile(path, []byte(xml.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	up, err := c.StartUpload(ctx, a.ID, "07.18", "Смета", path)
	if err != nil {
		t.Fatal(err)
	}
	// Send two chunks, then kill the server without warning.
	sent := 0
	cctx, cancel := context.WithCancel(ctx)
	_, _ = c.SendChunks(cctx, up, path, 1, func(done, total int64) {
		if sent++; sent == 2 {
			_ = srv.Process.Signal(syscall.SIGKILL)
			cancel()
		}
	})
	cancel()
	_ = srv.Wait()

	startServe(t, db, data, addr)
	st, err := c.UploadStatus(ctx, up.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Received) < 2 {
		t.Fatalf("acknowledged chunks lost in the kill: server holds %v", st.Received)
	}
	done, err := c.SendChunks(ctx, up, path, 2, nil)
	if err != nil || done.State != "done" {
		t.Fatalf("resume after kill: %+v %v", done, err)
	}
	var got bytes.Buffer
	sum, err := c.Download(ctx, done.VersionID, &got)
	want := sha256.Sum256([]byte(xml.String()))
	if err != nil || sum != hex.EncodeToString(want[:]) || got.String() != xml.String() {
		t.Fatalf("download after kill and resume: %v", err)
	}
}
