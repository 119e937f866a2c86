package boot_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestContractThroughTheDesktopCore runs the payment side through
// app.Workspace against a real server: the applicant declares the cost in
// roubles as typed, the contract offered by the manager's move reaches the
// applicant's Store live with its PDFs, the contract downloads verified by
// SHA-256, the applicant accepts it, and the manager's two payments (one
// partial) start the review — each step visible in both Stores by events.
func TestContractThroughTheDesktopCore(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := testenv.Start(t, testenv.Config())
	applicant := testenv.Applicant(t, s)
	manager := testenv.Staff(t, s, wire.RoleManager, 0)
	a := draft(t, applicant)

	log := testenv.Logger(t)
	open := func(login, password, code string) (*app.Workspace, *app.Store) {
		t.Helper()
		sess := app.NewSession(log, app.NewDeviceID(), "test")
		if _, err := sess.Login(ctx, app.Credentials{Server: s.URL(), Login: login, Password: password, TOTPCode: code}); err != nil {
			t.Fatal(err)
		}
		st := app.NewStore(log)
		ws := app.NewWorkspace(log, sess, st)
		if err := ws.UseCache(t.TempDir()); err != nil {
			t.Fatal(err)
		}
		go func() { _ = ws.Run(ctx) }()
		t.Cleanup(func() { _ = ws.Close() })
		return ws, st
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	online := func(st *app.Store) bool { c, _ := st.Connection(); return c == client.StateOnline }
	aws, ast := open(applicant.User.Login, applicant.Password, "")
	mws, mst := open(manager.User.Login, manager.Password, manager.NextCode(t))
	waitFor("both online", func() bool { return online(ast) && online(mst) })

	info, err := aws.ContractFor(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := aws.SetCost(ctx, info, "десять"); wire.ErrorCode(err) != wire.CodeInvalid {
		t.Errorf("a cost in words: %v, want invalid", err)
	}
	if info, err = aws.SetCost(ctx, info, "250 000 000,00 ₽"); err != nil {
		t.Fatal(err)
	}
	if info.CostKopecks != 25_000_000_000 || info.Quote.TotalKopecks != 90_000_000 {
		t.Fatalf("after the cost: %+v", info)
	}
	if a, err = applicant.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusSubmitted}, ""); err != nil {
		t.Fatal(err)
	}
	if a, err = manager.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusAwaitingContract}, ""); err != nil {
		t.Fatal(err)
	}
	// No reload: the contract and its rendered PDFs arrive by events.
	waitFor("the rendered contract in the applicant's Store", func() bool {
		p, ok := ast.PaymentInfo(a.ID)
		cur, _ := ast.Application(a.ID)
		return ok && app.CanAcceptContract(aws.Me(), cur, p)
	})
	info, _ = ast.PaymentInfo(a.ID)
	d, _ := info.Contract.Document(wire.DocContract)
	dst := filepath.Join(t.TempDir(), d.Name)
	if err := aws.DownloadContractDocument(ctx, d, dst); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(dst)
	if sum := sha256.Sum256(b); err != nil || hex.EncodeToString(sum[:]) != d.SHA256 || string(b[:5]) != "%PDF-" {
		t.Fatalf("downloaded contract: %d bytes, %v", len(b), err)
	}
	cur, _ := ast.Application(a.ID)
	if info, err = aws.AcceptContract(ctx, cur, info); err != nil {
		t.Fatal(err)
	}
	if info.Contract.Status != wire.ContractAccepted {
		t.Fatalf("after acceptance: %+v", info.Contract)
	}
	waitFor("awaiting payment at the manager", func() bool {
		x, ok := mst.Application(a.ID)
		return ok && x.Status == wire.StatusAwaitingPayment
	})
	if _, err := mws.ContractFor(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	today := wire.DateOf(time.Now())
	if _, err := mws.RecordPayment(ctx, a.ID, "0", today, "1"); wire.ErrorCode(err) != wire.CodeInvalid {
		t.Errorf("a zero payment: %v, want invalid", err)
	}
	if _, err := mws.RecordPayment(ctx, a.ID, "400 000", today, "101"); err != nil {
		t.Fatal(err)
	}
	waitFor("the partial payment at the applicant", func() bool {
		p, _ := ast.PaymentInfo(a.ID)
		return len(p.Payments) == 1 && p.BalanceKopecks == 50_000_000
	})
	if x, _ := ast.Application(a.ID); x.Status != wire.StatusAwaitingPayment {
		t.Errorf("after a partial payment the application is %s", x.Status)
	}
	if _, err := mws.RecordPayment(ctx, a.ID, "500000,00", today, "102"); err != nil {
		t.Fatal(err)
	}
	waitFor("the review at the applicant", func() bool {
		x, _ := ast.Application(a.ID)
		p, _ := ast.PaymentInfo(a.ID)
		return x.Status == wire.StatusInReview && x.Deadline != nil && p.BalanceKopecks == 0
	})
	waitFor("both receipts rendered", func() bool {
		p, _ := ast.PaymentInfo(a.ID)
		return len(p.Payments) == 2 && p.Payments[0].Receipt.Ready() && p.Payments[1].Receipt.Ready()
	})
}
