package httpapi_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

// contractShared caches, per authorization world, the applications that
// read-only contract rows share.
var (
	contractSharedMu sync.Mutex
	contractShared   = map[*world]map[wire.Status]wire.Application{}
)

// contractApp returns an application of the world's member, with the
// world's lead and assigned experts assigned, moved to target
// (submitted, awaiting_contract with its PDFs rendered, or
// awaiting_payment); fresh ones for rows that change it.
func (w *world) contractApp(target wire.Status, fresh bool) wire.Application {
	t := w.t
	t.Helper()
	if !fresh {
		contractSharedMu.Lock()
		defer contractSharedMu.Unlock()
		if a, ok := contractShared[w][target]; ok {
			return a
		}
	}
	a := contractFixture(t, w.actors["member"], w.actors["manager"], w.actors["lead"], w.actors["assigned"], target)
	if !fresh {
		if contractShared[w] == nil {
			contractShared[w] = map[wire.Status]wire.Application{}
		}
		contractShared[w][target] = a
	}
	return a
}

// contractFixture takes a new application of member to target (see
// contractApp); in awaiting_contract it waits until the contract and the
// invoice are rendered.
func contractFixture(t testing.TB, member, manager, lead, assigned *testenv.Actor, target wire.Status) wire.Application {
	t.Helper()
	ctx := context.Background()
	str := func(s string) *string { return &s }
	works, kind, fin := wire.WorksConstruction, wire.KindProjectDocs, wire.FinancingNonBudget
	a, err := member.C.CreateApplication(ctx, wire.ApplicationInput{ObjectName: str("Жилой дом со встроенными помещениями"),
		ObjectAddress: str("г. Тверь, ул. Советская, д. 5"), WorksKind: &works, ExpertiseKind: &kind, Financing: &fin}, "")
	if err != nil {
		t.Fatal(err)
	}
	uploadPDF(t, member.C, a.ID, "07.01", "ПЗ", 1)
	move := func(who *testenv.Actor, to wire.Status) {
		t.Helper()
		if a, err = who.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: to}, ""); err != nil {
			t.Fatalf("fixture %s → %s: %v", a.Status, to, err)
		}
	}
	move(member, wire.StatusSubmitted)
	if a, err = manager.C.Assign(ctx, a.ID, wire.AssignRequest{Version: a.Version, LeadExpertID: lead.ID,
		Assignments: []wire.Assignment{{Section: "07.04", ExpertID: assigned.ID}}}, ""); err != nil {
		t.Fatal(err)
	}
	if target == wire.StatusSubmitted {
		return a
	}
	move(manager, wire.StatusAwaitingContract)
	info := waitDocuments(t, member, a.ID)
	if target == wire.StatusAwaitingContract {
		return a
	}
	if _, err := member.C.AcceptContract(ctx, a.ID, wire.AcceptContractRequest{Version: a.Version, ContractID: info.Contract.ID}, ""); err != nil {
		t.Fatalf("fixture acceptance: %v", err)
	}
	if a, err = member.C.Application(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	return a
}

// waitDocuments waits until the application's contract and invoice are
// rendered, and every receipt too.
func waitDocuments(t testing.TB, by *testenv.Actor, appID int64) wire.PaymentInfo {
	t.Helper()
	for deadline := time.Now().Add(hang); ; time.Sleep(20 * time.Millisecond) {
		info, err := by.C.PaymentInfo(context.Background(), appID)
		if err != nil {
			t.Fatalf("payment info: %v", err)
		}
		ready := info.Contract != nil && len(info.Contract.Documents) == 2
		if ready {
			for _, d := range info.Contract.Documents {
				ready = ready && d.Ready()
			}
			for _, p := range info.Payments {
				ready = ready && p.Receipt.Ready()
			}
		}
		if ready {
			return info
		}
		if time.Now().After(deadline) {
			t.Fatalf("the contract documents were not rendered within %v: %+v", hang, info.Contract)
		}
	}
}

// contractRequest builds the call of a contract row of the matrix; ok is
// false for other rows. Rows that change state get a fresh application per
// caller (anonymous callers are refused before any lookup and share).
func (w *world) contractRequest(r matrixRow, rel string) (method, path string, body any, ok bool) {
	p := r.path
	switch {
	case p == "/api/v1/tariff", p == "/api/v1/payments/callback", strings.HasPrefix(p, "/api/v1/contract-documents/"),
		strings.HasPrefix(p, "/api/v1/applications/{id}/contract"), p == "/api/v1/applications/{id}/payments":
	default:
		return "", "", nil, false
	}
	ctx := context.Background()
	fresh := rel != "anon"
	mgr := w.actors["manager"]
	set := func(n int64) { p = strings.Replace(p, "{id}", strconv.FormatInt(n, 10), 1) }
	switch {
	case p == "/api/v1/tariff":
		if r.method == http.MethodPut {
			tr, err := mgr.C.Tariff(ctx)
			if err != nil {
				w.t.Fatalf("fixture tariff: %v", err)
			}
			body = wire.SetTariffRequest{Version: tr.Version, Rows: tr.Rows}
		}
	case p == "/api/v1/payments/callback":
		body = wire.PaymentCallback{PaymentID: "matrix-" + rel, InvoiceNumber: "СЧ-2026-000001", AmountKopecks: 100, PaidAt: time.Now()}
	case strings.HasPrefix(p, "/api/v1/contract-documents/"):
		a := w.contractApp(wire.StatusAwaitingContract, false)
		info, err := mgr.C.PaymentInfo(ctx, a.ID)
		if err != nil || info.Contract == nil {
			w.t.Fatalf("fixture contract: %+v %v", info, err)
		}
		set(info.Contract.Documents[0].ID)
	case strings.HasSuffix(p, "/contract"):
		set(w.contractApp(wire.StatusAwaitingContract, false).ID)
	case strings.HasSuffix(p, "/contract/cost"):
		a := w.contractApp(wire.StatusSubmitted, false)
		info, err := mgr.C.PaymentInfo(ctx, a.ID)
		if err != nil {
			w.t.Fatal(err)
		}
		set(a.ID)
		body = wire.SetCostRequest{Revision: info.Revision, CostKopecks: 12_000_000_000}
	case strings.HasSuffix(p, "/contract/accept"):
		a := w.contractApp(wire.StatusAwaitingContract, fresh)
		info, err := mgr.C.PaymentInfo(ctx, a.ID)
		if err != nil || info.Contract == nil {
			w.t.Fatalf("fixture contract: %+v %v", info, err)
		}
		set(a.ID)
		body = wire.AcceptContractRequest{Version: a.Version, ContractID: info.Contract.ID}
	case strings.HasSuffix(p, "/payments"):
		set(w.contractApp(wire.StatusAwaitingPayment, false).ID)
		body = wire.RecordPaymentRequest{AmountKopecks: 100, PaidOn: wire.DateOf(time.Now()), OrderNumber: "1"}
	default:
		w.t.Fatalf("no contract fixture for %s %s", r.method, r.path)
	}
	return r.method, p, body, true
}
