package httpapi_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/expertiza/expertiza/pdfdoc/pdftest"
	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

// paySecret is the gateway secret of the payment tests' servers.
var paySecret = []byte("test-gateway-secret-0123456789abcdef0123456789")

// payCast is a server that accepts gateway callbacks, with everyone a
// contract involves.
type payCast struct {
	s                                                      *boot.Server
	member, member2, other, lead, assigned, manager, admin *testenv.Actor
}

func newPayCast(t *testing.T) *payCast {
	t.Helper()
	ctx := context.Background()
	s, err := boot.Start(ctx, boot.Config{Listen: "127.0.0.1:0", DatabaseURL: pgtest.NewDB(t), Service: testenv.Config(), Log: testenv.Logger(t),
		DataDir: t.TempDir(), ValidateWorker: testenv.ValidateWorker, PaymentSecret: paySecret})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	c := &payCast{s: s, member: testenv.Applicant(t, s), other: testenv.Applicant(t, s)}
	c.member2 = testenv.Member(t, s, c.member)
	c.lead = testenv.Staff(t, s, wire.RoleExpert, 0)
	c.assigned = testenv.Staff(t, s, wire.RoleExpert, 0)
	c.manager = testenv.Staff(t, s, wire.RoleManager, 0)
	c.admin = testenv.Staff(t, s, wire.RoleAdmin, 0)
	return c
}

// callback posts a gateway notice signed with secret at ts; tamper may
// change the request after signing. It returns the status and the body.
func (c *payCast) callback(t *testing.T, cb any, secret []byte, ts time.Time, tamper func(*http.Request)) (int, []byte) {
	t.Helper()
	body, err := json.Marshal(cb)
	if err != nil {
		t.Fatal(err)
	}
	stamp := strconv.FormatInt(ts.Unix(), 10)
	req, err := http.NewRequest(http.MethodPost, c.s.URL()+wire.APIPrefix+"/payments/callback", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(wire.HeaderPaymentTimestamp, stamp)
	req.Header.Set(wire.HeaderPaymentSignature, wire.PaymentSignatureScheme+hex.EncodeToString(service.PaymentSignature(secret, stamp, body)))
	if tamper != nil {
		tamper(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// pdfText downloads a contract document and returns its text with white
// space runs made single spaces, checking the digest on the way.
func pdfText(t *testing.T, by *testenv.Actor, d wire.ContractDocument) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	sum, err := by.C.ContractDocument(context.Background(), d.ID, &b)
	if err != nil {
		t.Fatalf("download %s: %v", d.Kind, err)
	}
	if sum != d.SHA256 {
		t.Errorf("%s: downloaded %s, the payment info names %s", d.Kind, sum, d.SHA256)
	}
	pages := pdftest.Pages(t, b.Bytes())
	return strings.Join(strings.Fields(strings.Join(pages, "\n")), " "), b.Bytes()
}

func expectCode(t *testing.T, err error, code wire.Code, what string) {
	t.Helper()
	if wire.ErrorCode(err) != code {
		t.Errorf("%s: %v, want %s", what, err, code)
	}
}

// TestContractAndPaymentPath walks the whole path on a real server: the
// declared cost, the contract and invoice PDFs on the manager's move, the
// applicant's acceptance, gateway callbacks (a partial payment, refused
// signatures, a replay, the rest with an overpayment) and the review clock
// started by full payment.
func TestContractAndPaymentPath(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newPayCast(t)
	a := contractFixture(t, c.member, c.manager, c.lead, c.assigned, wire.StatusSubmitted)

	// The cost: 250 млн ₽ → 450 000 + 0,2 % × 150 млн = 750 000 ₽ + НДС 150 000 ₽.
	info, err := c.member.C.PaymentInfo(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if info.Quote.Declared || info.Contract != nil {
		t.Fatalf("before any cost: %+v", info)
	}
	_, err = c.member.C.SetCost(ctx, a.ID, wire.SetCostRequest{Revision: info.Revision + 5, CostKopecks: 25_000_000_000}, "")
	expectCode(t, err, wire.CodeConflict, "a stale revision")
	_, err = c.member.C.SetCost(ctx, a.ID, wire.SetCostRequest{Revision: info.Revision, CostKopecks: 0}, "")
	expectCode(t, err, wire.CodeInvalid, "a zero cost")
	_, err = c.lead.C.SetCost(ctx, a.ID, wire.SetCostRequest{Revision: info.Revision, CostKopecks: 1}, "")
	expectCode(t, err, wire.CodeForbidden, "the lead expert's cost")
	if info, err = c.member.C.SetCost(ctx, a.ID, wire.SetCostRequest{Revision: info.Revision, CostKopecks: 25_000_000_000}, ""); err != nil {
		t.Fatal(err)
	}
	const total, vat = 90_000_000, 15_000_000
	if info.Quote.FeeKopecks != 75_000_000 || info.Quote.VATKopecks != vat || info.Quote.TotalKopecks != total || !info.Quote.Declared {
		t.Fatalf("quote after the cost: %+v", info.Quote)
	}
	if _, err := c.lead.C.PaymentInfo(ctx, a.ID); wire.ErrorCode(err) != wire.CodeForbidden {
		t.Errorf("the lead expert reads the payment side: %v, want forbidden", err)
	}

	// The manager's move offers the contract; the worker renders the PDFs.
	_, memberRec := c.member.Subscribe(t, nil)
	_, leadRec := c.lead.Subscribe(t, nil)
	if a, err = c.manager.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusAwaitingContract}, ""); err != nil {
		t.Fatal(err)
	}
	info = waitDocuments(t, c.member, a.ID)
	ct := info.Contract
	if ct.Status != wire.ContractOffered || ct.Quote.TotalKopecks != total || !strings.HasPrefix(ct.Number, "Д-") ||
		!strings.HasPrefix(ct.InvoiceNumber, "СЧ-") || info.BalanceKopecks != total {
		t.Fatalf("offered contract: %+v, balance %d", ct, info.BalanceKopecks)
	}
	waitEvent(t, memberRec, wire.EventContract, "the rendered contract at the applicant", func(x wire.PaymentInfo) bool {
		return x.Contract != nil && len(x.Contract.Documents) == 2 && x.Contract.Documents[0].Ready() && x.Contract.Documents[1].Ready()
	})
	// After the change is read, the lead saw none of it: fence with the
	// lead's own later event.
	fence(t, c.member, a.ID, leadRec)
	if n := len(testenv.Kinds(leadRec.Events(), wire.EventContract)); n != 0 {
		t.Errorf("the lead expert received %d contract events", n)
	}

	org, err := c.s.Service.Store().Read().Organisation(ctx, c.member.OrgID)
	if err != nil {
		t.Fatal(err)
	}
	contractDoc, _ := ct.Document(wire.DocContract)
	text, pdf := pdfText(t, c.member, contractDoc)
	for _, want := range []string{"Договор № " + ct.Number, "ИНН " + org.INN, "ОГРН " + org.OGRN, "ИНН 7710012345", "900 000,00",
		"Девятьсот тысяч рублей 00 копеек", "150 000,00", "Сто пятьдесят тысяч рублей 00 копеек", "счёту № " + ct.InvoiceNumber,
		"42 рабочих дня", "Страница 1 из"} {
		if !strings.Contains(text, want) {
			t.Errorf("the contract lacks %q:\n%s", want, text)
		}
	}
	if n := pdftest.PageCount(t, pdf); n < 1 {
		t.Errorf("contract pages: %d", n)
	}
	invoiceDoc, _ := ct.Document(wire.DocInvoice)
	text, _ = pdfText(t, c.member, invoiceDoc)
	for _, want := range []string{"Счёт на оплату № " + ct.InvoiceNumber, "ИНН " + org.INN, "БИК 044525225", "900 000,00",
		"Девятьсот тысяч рублей 00 копеек", "договор № " + ct.Number, "Страница 1 из"} {
		if !strings.Contains(text, want) {
			t.Errorf("the invoice lacks %q:\n%s", want, text)
		}
	}
	_, err = c.manager.C.SetCost(ctx, a.ID, wire.SetCostRequest{Revision: info.Revision, CostKopecks: 1_000_000}, "")
	expectCode(t, err, wire.CodeConflict, "changing the cost of an offered contract")

	// Acceptance: only the organisation's applicant, naming this contract.
	accept := wire.AcceptContractRequest{Version: a.Version, ContractID: ct.ID}
	_, err = c.other.C.AcceptContract(ctx, a.ID, accept, "")
	expectCode(t, err, wire.CodeNotFound, "another organisation's acceptance")
	_, err = c.manager.C.AcceptContract(ctx, a.ID, accept, "")
	expectCode(t, err, wire.CodeForbidden, "the manager's acceptance")
	_, err = c.assigned.C.AcceptContract(ctx, a.ID, accept, "")
	expectCode(t, err, wire.CodeForbidden, "an expert's acceptance")
	_, err = c.member.C.AcceptContract(ctx, a.ID, wire.AcceptContractRequest{Version: a.Version, ContractID: ct.ID + 1000}, "")
	expectCode(t, err, wire.CodeConflict, "accepting another contract")
	_, err = c.member.C.AcceptContract(ctx, a.ID, wire.AcceptContractRequest{Version: a.Version - 1, ContractID: ct.ID}, "")
	expectCode(t, err, wire.CodeConflict, "a stale application version")
	if info, err = c.member2.C.AcceptContract(ctx, a.ID, accept, ""); err != nil {
		t.Fatalf("a colleague of the same organisation accepts: %v", err)
	}
	if info.Contract.Status != wire.ContractAccepted || info.Contract.AcceptedBy != c.member2.ID || info.Contract.AcceptedAt == nil ||
		info.Contract.AcceptedByName != c.member2.FullName {
		t.Fatalf("after acceptance: %+v", info.Contract)
	}
	if a, err = c.member.C.Application(ctx, a.ID); err != nil || a.Status != wire.StatusAwaitingPayment {
		t.Fatalf("after acceptance the application is %s (%v)", a.Status, err)
	}
	_, err = c.member.C.AcceptContract(ctx, a.ID, wire.AcceptContractRequest{Version: a.Version, ContractID: ct.ID}, "")
	expectCode(t, err, wire.CodeConflict, "accepting twice")

	// A partial payment through the gateway keeps awaiting_payment.
	first := wire.PaymentCallback{PaymentID: "gw-1", InvoiceNumber: ct.InvoiceNumber, AmountKopecks: 30_000_000,
		PaidAt: time.Now().Add(-time.Hour), OrderNumber: "512", PayerINN: org.INN}
	st, body := c.callback(t, first, paySecret, time.Now(), nil)
	var res wire.PaymentCallbackResponse
	if st != http.StatusOK || json.Unmarshal(body, &res) != nil || res.Duplicate || res.AppStatus != wire.StatusAwaitingPayment ||
		res.BalanceLeft != total-30_000_000 {
		t.Fatalf("partial payment: HTTP %d %s", st, body)
	}

	// Refused deliveries record nothing.
	second := wire.PaymentCallback{PaymentID: "gw-2", InvoiceNumber: ct.InvoiceNumber, AmountKopecks: 70_000_000, PaidAt: time.Now()}
	for _, tc := range []struct {
		name   string
		secret []byte
		ts     time.Time
		tamper func(*http.Request)
	}{
		{"wrong secret", []byte("another secret of enough length, but wrong"), time.Now(), nil},
		{"stale timestamp", paySecret, time.Now().Add(-10 * time.Minute), nil},
		{"future timestamp", paySecret, time.Now().Add(10 * time.Minute), nil},
		{"no signature", paySecret, time.Now(), func(r *http.Request) { r.Header.Del(wire.HeaderPaymentSignature) }},
		{"no timestamp", paySecret, time.Now(), func(r *http.Request) { r.Header.Del(wire.HeaderPaymentTimestamp) }},
		{"timestamp changed after signing", paySecret, time.Now(), func(r *http.Request) {
			r.Header.Set(wire.HeaderPaymentTimestamp, strconv.FormatInt(time.Now().Unix()+1, 10))
		}},
		{"body changed after signing", paySecret, time.Now(), func(r *http.Request) {
			b, _ := json.Marshal(wire.PaymentCallback{PaymentID: "gw-2", InvoiceNumber: ct.InvoiceNumber, AmountKopecks: 7_000_000_000, PaidAt: second.PaidAt})
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		}},
		{"bearer token instead", paySecret, time.Now(), func(r *http.Request) {
			r.Header.Del(wire.HeaderPaymentSignature)
			r.Header.Set("Authorization", "Bearer "+c.manager.C.Token())
		}},
	} {
		st, body := c.callback(t, second, tc.secret, tc.ts, tc.tamper)
		var e wire.Error
		if st != http.StatusUnauthorized || json.Unmarshal(body, &e) != nil || e.Code != wire.CodeUnauthenticated || e.Message == "" {
			t.Errorf("%s: HTTP %d %s, want 401 unauthenticated", tc.name, st, body)
		}
	}
	if info, err = c.manager.C.PaymentInfo(ctx, a.ID); err != nil || len(info.Payments) != 1 || info.PaidKopecks != 30_000_000 {
		t.Fatalf("after refused callbacks: %d payments, paid %d (%v)", len(info.Payments), info.PaidKopecks, err)
	}

	// A replay of the first notice (a new timestamp, the same body) is
	// applied once; the same id with other content is a conflict.
	st, body = c.callback(t, first, paySecret, time.Now(), nil)
	if st != http.StatusOK || json.Unmarshal(body, &res) != nil || !res.Duplicate {
		t.Fatalf("replay: HTTP %d %s, want 200 duplicate", st, body)
	}
	changed := first
	changed.AmountKopecks++
	if st, body = c.callback(t, changed, paySecret, time.Now(), nil); st != http.StatusConflict {
		t.Errorf("a reused payment id with another amount: HTTP %d %s, want 409", st, body)
	}
	unknown := second
	unknown.InvoiceNumber = "СЧ-1999-000001"
	if st, body = c.callback(t, unknown, paySecret, time.Now(), nil); st != http.StatusNotFound {
		t.Errorf("an unknown invoice: HTTP %d %s, want 404", st, body)
	}
	strict := map[string]any{"payment_id": "gw-9", "invoice_number": ct.InvoiceNumber, "amount_kopecks": 1, "paid_at": time.Now(), "extra": 1}
	if st, body = c.callback(t, strict, paySecret, time.Now(), nil); st != http.StatusBadRequest {
		t.Errorf("an unknown field: HTTP %d %s, want 400", st, body)
	}
	if info, err = c.manager.C.PaymentInfo(ctx, a.ID); err != nil || len(info.Payments) != 1 {
		t.Fatalf("after the replay: %d payments (%v), want 1", len(info.Payments), err)
	}

	// The rest, 10 000 ₽ over: the review starts and its clock runs.
	if st, body = c.callback(t, second, paySecret, time.Now(), nil); st != http.StatusOK || json.Unmarshal(body, &res) != nil ||
		res.AppStatus != wire.StatusInReview || res.BalanceLeft != -10_000_000 {
		t.Fatalf("final payment: HTTP %d %s", st, body)
	}
	if a, err = c.member.C.Application(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	today := wire.DateOf(time.Now())
	wantDue := c.s.Service.Calendar().AddWorkdays(today, wire.ReviewTerm(wire.KindProjectDocs))
	if a.Status != wire.StatusInReview || a.PaidAt == nil || a.Deadline == nil || *a.Deadline != wantDue || a.DaysLeft == nil {
		t.Fatalf("after full payment: status %s, paid %v, deadline %v (want %v)", a.Status, a.PaidAt, a.Deadline, wantDue)
	}
	hist, err := c.member.C.History(ctx, a.ID)
	if err != nil || len(hist) == 0 || hist[len(hist)-1].To != wire.StatusInReview || hist[len(hist)-1].ActorID != 0 ||
		!strings.Contains(hist[len(hist)-1].Comment, "переплата 100 000,00") {
		t.Errorf("the last history row: %+v (%v)", hist[len(hist)-1], err)
	}
	info = waitDocuments(t, c.member, a.ID)
	if len(info.Payments) != 2 || info.PaidKopecks != 100_000_000 || info.Overpaid() != 10_000_000 || info.Payments[1].Source != wire.PaymentGateway {
		t.Fatalf("payments: %+v paid %d", info.Payments, info.PaidKopecks)
	}
	text, _ = pdfText(t, c.member, info.Payments[1].Receipt)
	for _, want := range []string{"Квитанция № " + info.Payments[1].ReceiptNumber, "700 000,00", "Семьсот тысяч рублей 00 копеек",
		"Переплата: 100 000,00", "счёт № " + ct.InvoiceNumber, "gw-2"} {
		if !strings.Contains(text, want) {
			t.Errorf("the second receipt lacks %q:\n%s", want, text)
		}
	}
	text, _ = pdfText(t, c.member, info.Payments[0].Receipt)
	if !strings.Contains(text, "Остаток к оплате: 600 000,00") || !strings.Contains(text, "512") {
		t.Errorf("the first receipt does not show the balance left or the order number:\n%s", text)
	}
}

// TestManualPayment: a manager records payments from a bank statement; a
// partial one keeps the application awaiting payment, the one that covers
// the invoice starts the review; bad entries are refused with the field.
func TestManualPayment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newPayCast(t)
	a := contractFixture(t, c.member, c.manager, c.lead, c.assigned, wire.StatusAwaitingPayment)
	info, err := c.manager.C.PaymentInfo(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	// No cost declared: the base fee of the bracket, 150 000 ₽ + НДС.
	if info.Contract.Quote.Declared || info.Contract.Quote.TotalKopecks != 18_000_000 {
		t.Fatalf("contract without a declared cost: %+v", info.Contract.Quote)
	}
	today := wire.DateOf(time.Now())
	for _, tc := range []struct {
		who   *testenv.Actor
		req   wire.RecordPaymentRequest
		code  wire.Code
		field string
	}{
		{c.member, wire.RecordPaymentRequest{AmountKopecks: 100, PaidOn: today}, wire.CodeForbidden, ""},
		{c.admin, wire.RecordPaymentRequest{AmountKopecks: 100, PaidOn: today}, wire.CodeForbidden, ""},
		{c.lead, wire.RecordPaymentRequest{AmountKopecks: 100, PaidOn: today}, wire.CodeForbidden, ""},
		{c.manager, wire.RecordPaymentRequest{AmountKopecks: 0, PaidOn: today}, wire.CodeInvalid, "amount_kopecks"},
		{c.manager, wire.RecordPaymentRequest{AmountKopecks: 100}, wire.CodeInvalid, "paid_on"},
		{c.manager, wire.RecordPaymentRequest{AmountKopecks: 100, PaidOn: today.AddDays(2)}, wire.CodeInvalid, "paid_on"},
	} {
		_, err := tc.who.C.RecordPayment(ctx, a.ID, tc.req, "")
		if we, ok := wire.AsError(err); !ok || we.Code != tc.code || (tc.field != "" && we.Field != tc.field) {
			t.Errorf("%s %+v: %v, want %s %s", tc.who.Role, tc.req, err, tc.code, tc.field)
		}
	}
	if info, err = c.manager.C.RecordPayment(ctx, a.ID, wire.RecordPaymentRequest{AmountKopecks: 8_000_000, PaidOn: today, OrderNumber: "77"}, "key-1"); err != nil {
		t.Fatal(err)
	}
	// The same idempotency key applies once.
	if info, err = c.manager.C.RecordPayment(ctx, a.ID, wire.RecordPaymentRequest{AmountKopecks: 8_000_000, PaidOn: today, OrderNumber: "77"}, "key-1"); err != nil {
		t.Fatal(err)
	}
	if a, err = c.member.C.Application(ctx, a.ID); err != nil || a.Status != wire.StatusAwaitingPayment || len(info.Payments) != 1 ||
		info.BalanceKopecks != 10_000_000 || info.Payments[0].Source != wire.PaymentManual || info.Payments[0].RecordedByName != c.manager.FullName {
		t.Fatalf("after a partial manual payment: %s, %+v (%v)", a.Status, info, err)
	}
	if info, err = c.manager.C.RecordPayment(ctx, a.ID, wire.RecordPaymentRequest{AmountKopecks: 10_000_000, PaidOn: today, OrderNumber: "78"}, ""); err != nil {
		t.Fatal(err)
	}
	if a, err = c.member.C.Application(ctx, a.ID); err != nil || a.Status != wire.StatusInReview || a.Deadline == nil || info.BalanceKopecks != 0 {
		t.Fatalf("after the manager's full payment: %s deadline %v balance %d (%v)", a.Status, a.Deadline, info.BalanceKopecks, err)
	}
	hist, _ := c.member.C.History(ctx, a.ID)
	if last := hist[len(hist)-1]; last.ActorID != c.manager.ID || last.To != wire.StatusInReview {
		t.Errorf("the move is recorded as %+v, want the manager's", last)
	}
	waitDocuments(t, c.member, a.ID)
}

// TestTariffEdit: administrators replace the table; contracts offered
// earlier keep their fee, later ones take the new one.
func TestTariffEdit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newPayCast(t)
	before := contractFixture(t, c.member, c.manager, c.lead, c.assigned, wire.StatusAwaitingContract)
	tr, err := c.member.C.Tariff(ctx)
	if err != nil || len(tr.Rows) != 10 {
		t.Fatalf("tariff: %+v %v", tr, err)
	}
	rows := append([]wire.TariffRow(nil), tr.Rows...)
	for i := range rows {
		if rows[i].Kind == wire.KindProjectDocs && rows[i].CostFromKopecks == 0 {
			rows[i].BaseKopecks = 20_000_000
		}
	}
	_, err = c.manager.C.SetTariff(ctx, wire.SetTariffRequest{Version: tr.Version, Rows: rows}, "")
	expectCode(t, err, wire.CodeForbidden, "a manager's tariff edit")
	_, err = c.admin.C.SetTariff(ctx, wire.SetTariffRequest{Version: tr.Version, Rows: rows[1:]}, "")
	expectCode(t, err, wire.CodeInvalid, "a table without a zero bracket")
	got, err := c.admin.C.SetTariff(ctx, wire.SetTariffRequest{Version: tr.Version, Rows: rows}, "")
	if err != nil || got.Version != tr.Version+1 || got.UpdatedByName != c.admin.FullName {
		t.Fatalf("admin edit: %+v %v", got, err)
	}
	_, err = c.admin.C.SetTariff(ctx, wire.SetTariffRequest{Version: tr.Version, Rows: rows}, "")
	expectCode(t, err, wire.CodeConflict, "a stale tariff version")

	old, err := c.member.C.PaymentInfo(ctx, before.ID)
	if err != nil || old.Contract.Quote.TotalKopecks != 18_000_000 || old.Quote.TotalKopecks != 24_000_000 {
		t.Errorf("the earlier contract: %+v, current quote %+v (%v)", old.Contract.Quote, old.Quote, err)
	}
	after := contractFixture(t, c.member, c.manager, c.lead, c.assigned, wire.StatusAwaitingContract)
	if info, err := c.member.C.PaymentInfo(ctx, after.ID); err != nil || info.Contract.Quote.TotalKopecks != 24_000_000 {
		t.Errorf("a contract offered after the edit: %+v (%v)", info.Contract, err)
	}
}

// TestConcurrentCallbackDeliveries: a gateway that delivers one notice
// several times at once gets it applied once — one answer records it,
// the others report a duplicate.
func TestConcurrentCallbackDeliveries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newPayCast(t)
	a := contractFixture(t, c.member, c.manager, c.lead, c.assigned, wire.StatusAwaitingPayment)
	info, err := c.member.C.PaymentInfo(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	cb := wire.PaymentCallback{PaymentID: "gw-race", InvoiceNumber: info.Contract.InvoiceNumber, AmountKopecks: info.Contract.Quote.TotalKopecks,
		PaidAt: time.Now()}
	const n = 6
	type answer struct {
		status int
		res    wire.PaymentCallbackResponse
	}
	answers := make(chan answer, n)
	for range n {
		go func() {
			st, body := c.callback(t, cb, paySecret, time.Now(), nil)
			var res wire.PaymentCallbackResponse
			_ = json.Unmarshal(body, &res)
			answers <- answer{st, res}
		}()
	}
	recorded := 0
	for range n {
		got := <-answers
		if got.status != http.StatusOK {
			t.Errorf("a delivery answered %d", got.status)
		}
		if !got.res.Duplicate {
			recorded++
		}
	}
	if recorded != 1 {
		t.Errorf("%d deliveries recorded the payment, want 1", recorded)
	}
	if info, err = c.member.C.PaymentInfo(ctx, a.ID); err != nil || len(info.Payments) != 1 || info.BalanceKopecks != 0 {
		t.Fatalf("after %d deliveries: %d payments, balance %d (%v)", n, len(info.Payments), info.BalanceKopecks, err)
	}
	if a, err = c.member.C.Application(ctx, a.ID); err != nil || a.Status != wire.StatusInReview {
		t.Errorf("status %s (%v), want in_review", a.Status, err)
	}
}
