package boot_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/keyring"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/seed"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// lockedBuffer collects log lines written from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLogsHoldNoSecrets runs a full working day through the server and the
// desktop core with every log at debug level — registration, sign-in with
// and without a second factor, a wrong password, an upload, chat, status
// changes, a password change, logout — and then scans every line the
// server and the client wrote for the secrets and personal data that went
// through: passwords (old and new), session tokens, TOTP secrets, e-mail
// addresses and phone numbers. None may appear.
func TestLogsHoldNoSecrets(t *testing.T) {
	ctx := context.Background()
	var logs lockedBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := boot.Start(ctx, boot.Config{Listen: "127.0.0.1:0", DatabaseURL: pgtest.NewDB(t), Service: testenv.Config(), Log: log,
		DataDir: t.TempDir(), ValidateWorker: testenv.ValidateWorker, FontCache: testenv.FontCache()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())

	// An applicant registers with a phone number and e-mail, and works
	// through the desktop core (which logs to the same place).
	const phone = "+7 921 555-44-33"
	ac := client.New(s.URL())
	password := "Весенний ручей 2026 журчит"
	u, err := ac.Register(ctx, wire.RegisterRequest{Login: "ivanova.logscan", Password: password, FullName: "Иванова Мария Петровна",
		Email: "ivanova.logscan@example.ru", Phone: phone,
		Organisation: wire.OrganisationInput{Name: "ООО «Лог»", INN: testenv.ValidINN(testenv.Unique()), OGRN: testenv.ValidOGRN(testenv.Unique()), Address: "г. Тула"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ac.Login(ctx, wire.LoginRequest{Login: u.Login, Password: "not the password at all"}); err == nil {
		t.Fatal("a wrong password was accepted")
	}
	sess := app.NewSession(log, app.NewDeviceID(), "test")
	sess.SetKeyring(keyring.NewArrayKeyring(nil))
	if _, err := sess.Login(ctx, app.Credentials{Server: s.URL(), Login: u.Login, Password: password}); err != nil {
		t.Fatal(err)
	}
	if err := sess.SaveToken(); err != nil {
		t.Fatal(err)
	}
	store := app.NewStore(log)
	ws := app.NewWorkspace(log, sess, store)
	if err := ws.UseCache(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { _ = ws.Run(runCtx); close(ran) }()
	str := func(s string) *string { return &s }
	works, kind, fin := wire.WorksConstruction, wire.KindProjectDocs, wire.FinancingBudget
	a, err := ws.CreateApplication(ctx, wire.ApplicationInput{ObjectName: str("Склад"), ObjectAddress: str("г. Тула"), WorksKind: &works,
		ExpertiseKind: &kind, Financing: &fin, ApplicantEmail: str("gip.logscan@example.ru"), ApplicantPhone: str(phone)})
	if err != nil {
		t.Fatal(err)
	}
	pdf := filepath.Join(t.TempDir(), "ПЗ.pdf")
	if err := os.WriteFile(pdf, seed.DemoPDF(2, "Пояснительная записка"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ws.Upload(ctx, app.UploadRequest{AppID: a.ID, Section: "07.01", Path: pdf}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ws.PostMessage(ctx, a.ID, wire.ChannelApplicant, "Документы загружены"); err != nil && !app.IsQueued(err) {
		t.Fatal(err)
	}
	if _, err := ws.Transition(ctx, a.ID, a.Version, wire.StatusSubmitted, ""); err != nil && !app.IsQueued(err) {
		t.Fatal(err)
	}

	// A manager with a second factor signs in, enrols nothing new, moves
	// the application on.
	manager := testenv.Staff(t, s, wire.RoleManager, 0)
	cur, err := manager.C.Application(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := manager.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: cur.Version, To: wire.StatusNeedsCorrection, Comment: "Нет ГПЗУ"}, ""); err != nil {
		t.Fatal(err)
	}
	// An expert enrols a second factor from scratch.
	expert := testenv.Staff(t, s, wire.RoleExpert, 0)
	enrol, err := expert.C.EnrolTOTP(ctx)
	if err != nil && wire.ErrorCode(err) != wire.CodeConflict {
		t.Fatal(err)
	}

	// The applicant changes the password and signs out.
	newPassword := "Осенний лист 2027 кружится"
	if err := ws.ChangePassword(ctx, password, newPassword, newPassword); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let the session revocation reach the stream and its logs
	stop()
	<-ran
	_ = ws.Logout(ctx)
	_ = ws.Close()

	secrets := map[string]string{
		"applicant password":     password,
		"new password":           newPassword,
		"wrong password":         "not the password at all",
		"manager password":       manager.Password,
		"expert password":        expert.Password,
		"manager session token":  manager.C.Token(),
		"expert session token":   expert.C.Token(),
		"manager TOTP secret":    manager.TOTPSecret,
		"applicant e-mail":       "ivanova.logscan@example.ru",
		"applicant e-mail (gip)": "gip.logscan@example.ru",
		"phone":                  phone,
		"phone digits":           "9215554433",
	}
	if enrol.Secret != "" {
		secrets["enrolment TOTP secret"] = enrol.Secret
	}
	if tok := ac.Token(); tok != "" {
		secrets["registration client token"] = tok
	}
	out := logs.String()
	if len(out) < 1000 {
		t.Fatalf("only %d bytes of logs: the scan would prove nothing", len(out))
	}
	for what, secret := range secrets {
		if secret == "" {
			continue
		}
		if i := strings.Index(out, secret); i >= 0 {
			start := max(0, strings.LastIndex(out[:i], "\n")+1)
			end := i + strings.Index(out[i:]+"\n", "\n")
			t.Errorf("the %s is in the logs: %s", what, out[start:end])
		}
	}
	t.Logf("scanned %d bytes, %d lines of debug logs for %d secrets", len(out), strings.Count(out, "\n"), len(secrets))
}
