package ui

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/test"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/wire"
)

var (
	payApplicant = wire.User{ID: 20, FullName: "Иванов И. И.", Role: wire.RoleApplicant, OrgID: 7}
	payManager   = wire.User{ID: 40, FullName: "Менеджерова М. М.", Role: wire.RoleManager}
	payExpert    = wire.User{ID: 30, FullName: "Петров П. П.", Role: wire.RoleExpert}
)

// payContract is the contract of application 9 for 900 000 ₽ (750 000 +
// НДС 150 000); ready says whether its PDFs are rendered.
func payContract(ready bool) *wire.Contract {
	sum := func(s string) string {
		if ready {
			return s
		}
		return ""
	}
	return &wire.Contract{ID: 1, AppID: 9, Number: "Д-2026-000001", InvoiceNumber: "СЧ-2026-000001", Status: wire.ContractOffered,
		OfferedAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		Quote:     wire.FeeQuote{CostKopecks: 25_000_000_000, Declared: true, FeeKopecks: 75_000_000, VATKopecks: 15_000_000, TotalKopecks: 90_000_000},
		Documents: []wire.ContractDocument{{ID: 11, Kind: wire.DocContract, Name: "Договор № Д-2026-000001.pdf", SHA256: sum("aa")},
			{ID: 12, Kind: wire.DocInvoice, Name: "Счёт № СЧ-2026-000001.pdf", SHA256: sum("bb")}}}
}

// paymentCard opens the card of application 9 in status as me, with the
// server holding p (nil: the server refuses the payment side).
func paymentCard(t *testing.T, me wire.User, status wire.Status, p *wire.PaymentInfo) (*fakeBackend, *applicationCard) {
	t.Helper()
	e := newTestEnv(t, cardSize())
	be := newFakeBackend(me)
	be.store.ReplaceApplications(0, []wire.Application{{ID: 9, Number: "ГГЭ-2026-000009", OrgID: 7, Status: status, Version: 6}})
	be.card = app.Card{Channels: app.Channels(me.Role)}
	be.pay = map[int64]wire.PaymentInfo{}
	if p != nil {
		be.pay[9] = *p
	}
	c := newApplicationCard(e, be, 9)
	t.Cleanup(c.close)
	show(e, c.content(), cardSize())
	c.load()
	return be, c
}

func hasPaymentTab(c *applicationCard) bool {
	return slices.ContainsFunc(c.tabs.Items, func(it *container.TabItem) bool { return it.Text == "Оплата" })
}

func TestPaymentTabAcceptContract(t *testing.T) {
	be, c := paymentCard(t, payApplicant, wire.StatusAwaitingContract, &wire.PaymentInfo{AppID: 9, Revision: 3, CostKopecks: 25_000_000_000,
		Contract: payContract(true), BalanceKopecks: 90_000_000})
	v := c.payment
	if !hasPaymentTab(c) {
		t.Fatal("no «Оплата» tab for the applicant")
	}
	c.tabs.Select(v.tab)
	for _, want := range []string{"Сметная стоимость строительства: 250 000 000,00 руб.", "Стоимость без НДС: 750 000,00 руб.",
		"НДС 20 %: 150 000,00 руб.", "Итого к оплате: 900 000,00 руб.", "Договор № Д-2026-000001 от 02.03.2026 — направлен заявителю",
		"Договор № Д-2026-000001", "Счёт на оплату № СЧ-2026-000001", "Оплачено: 0,00 руб. из 900 000,00 руб.",
		"Остаток к оплате: 900 000,00 руб.", "Платежей пока нет"} {
		if !containsText(v.root, want) {
			t.Errorf("the tab does not show %q", want)
		}
	}
	// «Скачать» saves the invoice through the verified download.
	var asked string
	v.saveFile = func(name string, done func(string)) { asked = name; done("/tmp/invoice.pdf") }
	test.Tap(v.downloads[12])
	if asked != "Счёт № СЧ-2026-000001.pdf" || be.payDownload["/tmp/invoice.pdf"] != 12 {
		t.Errorf("download: asked %q, downloads %v", asked, be.payDownload)
	}
	if !containsObject(v.root, v.accept) || !containsObject(v.root, v.downloads[11]) {
		t.Fatal("no «Принять договор» or contract «Скачать»")
	}
	test.Tap(v.accept)
	v.lastDialog.(*dialog.ConfirmDialog).Confirm()
	if !slices.Equal(be.payCalls, []string{"accept:6:1"}) {
		t.Fatalf("calls %v, want the acceptance of contract 1 at version 6", be.payCalls)
	}
	if !containsText(v.root, "Договор № Д-2026-000001 от 02.03.2026 — принят заявителем") || containsObject(v.root, v.accept) {
		t.Error("after acceptance the tab still offers the contract")
	}
	if a, _ := be.store.Application(9); a.Status != wire.StatusAwaitingPayment {
		t.Errorf("status %s after acceptance", a.Status)
	}
}

// TestPaymentTabFollowsEvents: while the PDFs render the applicant sees
// «формируется…» and no acceptance; the event announcing them brings the
// button without a reload.
func TestPaymentTabFollowsEvents(t *testing.T) {
	be, c := paymentCard(t, payApplicant, wire.StatusAwaitingContract, &wire.PaymentInfo{AppID: 9, Revision: 1, Contract: payContract(false),
		BalanceKopecks: 90_000_000})
	v := c.payment
	if containsObject(v.root, v.accept) || !containsText(v.root, "формируется…") || len(v.downloads) != 0 {
		t.Fatal("documents being rendered are offered for download or acceptance")
	}
	ready := wire.PaymentInfo{AppID: 9, Revision: 2, Contract: payContract(true), BalanceKopecks: 90_000_000}
	b, _ := json.Marshal(ready)
	if err := be.store.Apply(wire.Event{Seq: 5, Kind: wire.EventContract, AppID: 9, Data: b}); err != nil {
		t.Fatal(err)
	}
	c.storeChanged() // what the Store's listener does on the UI goroutine
	if !containsObject(v.root, v.accept) || v.downloads[11] == nil {
		t.Error("the rendered documents did not bring «Принять договор» and «Скачать»")
	}
}

func TestPaymentTabManagerRecordsPayments(t *testing.T) {
	c0 := payContract(true)
	c0.Status = wire.ContractAccepted
	be, c := paymentCard(t, payManager, wire.StatusAwaitingPayment, &wire.PaymentInfo{AppID: 9, Revision: 4, Contract: c0, BalanceKopecks: 90_000_000})
	v := c.payment
	if containsObject(v.root, v.accept) || !containsObject(v.root, v.record) {
		t.Fatal("a manager: acceptance offered or no payment form")
	}
	if v.paidOn.Text != ruDateText(wire.DateOf(time.Now())) {
		t.Errorf("the payment date is not today by default: %q", v.paidOn.Text)
	}
	// A wrong date is refused on the spot.
	v.paidOn.SetText("31.02.2026")
	test.Type(v.amount, "300 000")
	test.Tap(v.record)
	if len(be.payCalls) != 0 || !v.errText.Visible() || v.errText.Text != "Дата платежа — в виде ДД.ММ.ГГГГ, например 02.03.2026" {
		t.Fatalf("a bad date: calls %v, error %q", be.payCalls, v.errText.Text)
	}
	v.paidOn.SetText("02.03.2026")
	test.Type(v.order, "512")
	test.Tap(v.record)
	if !slices.Equal(be.payCalls, []string{"record:300 000:2026-03-02:512"}) || v.errText.Visible() {
		t.Fatalf("calls %v, error %q", be.payCalls, v.errText.Text)
	}
	for _, want := range []string{"02.03.2026 · 300 000,00 руб. · п/п № 512 · Менеджерова М. М.", "Оплачено: 300 000,00 руб. из 900 000,00 руб.",
		"Остаток к оплате: 600 000,00 руб."} {
		if !containsText(v.root, want) {
			t.Errorf("after a partial payment the tab does not show %q", want)
		}
	}
	if v.amount.Text != "" || v.order.Text != "" {
		t.Error("the form was not cleared")
	}
	test.Type(v.amount, "700 000")
	test.Tap(v.record)
	if !containsText(v.root, "Переплата: 100 000,00 руб.") {
		t.Error("an overpayment is not shown")
	}
	// A refusal from the server is shown in the tab.
	be.payErr = wire.E(wire.CodeForbidden, "", "Платежи регистрирует менеджер", "Only a manager records payments")
	test.Type(v.amount, "1")
	test.Tap(v.record)
	if !v.errText.Visible() || v.errText.Text != "Платежи регистрирует менеджер" {
		t.Errorf("refusal shown as %q", v.errText.Text)
	}
}

func TestPaymentTabApplicantDeclaresCost(t *testing.T) {
	be, c := paymentCard(t, payApplicant, wire.StatusSubmitted, &wire.PaymentInfo{AppID: 9, Revision: 1,
		Quote: wire.FeeQuote{FeeKopecks: 15_000_000, VATKopecks: 3_000_000, TotalKopecks: 18_000_000}})
	v := c.payment
	for _, want := range []string{"Сметная стоимость строительства не указана", "Сметная стоимость не указана — применяется базовая ставка тарифа",
		"Итого к оплате: 180 000,00 руб.", "Договор и счёт будут направлены после проверки комплектности"} {
		if !containsText(v.root, want) {
			t.Errorf("before the cost the tab does not show %q", want)
		}
	}
	test.Type(v.costEntry, "250 000 000")
	test.Tap(v.costSave)
	if !slices.Equal(be.payCalls, []string{"cost:250 000 000"}) || !containsText(v.root, "Сметная стоимость строительства: 250 000 000,00 руб.") {
		t.Errorf("calls %v; the declared cost is not shown", be.payCalls)
	}
}

func TestPaymentTabHidden(t *testing.T) {
	for _, tc := range []struct {
		name string
		me   wire.User
		p    *wire.PaymentInfo
	}{
		{"an expert", payExpert, &wire.PaymentInfo{AppID: 9, Revision: 1}},
		{"nothing known and the server refuses", payApplicant, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, c := paymentCard(t, tc.me, wire.StatusInReview, tc.p)
			if hasPaymentTab(c) {
				t.Error("the «Оплата» tab is shown")
			}
		})
	}
}

// TestPaymentDynamicKeys: keys the tab builds from wire values exist (the
// translations test only finds literal keys).
func TestPaymentDynamicKeys(t *testing.T) {
	var keys []string
	for _, k := range []wire.ContractDocKind{wire.DocContract, wire.DocInvoice, wire.DocReceipt} {
		keys = append(keys, "payment.doc."+string(k))
	}
	for _, s := range []wire.ContractStatus{wire.ContractOffered, wire.ContractAccepted, wire.ContractCancelled} {
		keys = append(keys, "payment.contract_status."+string(s))
	}
	for _, name := range []string{"ru.json", "en.json"} {
		m := readTranslation(t, name)
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s lacks %q", name, k)
			}
		}
	}
}

// TestPaymentTabMarkup pins the layout of the tab for a manager with one
// partial payment (regenerate testdata/payment_tab.xml from
// testdata/failed after checking the change).
func TestPaymentTabMarkup(t *testing.T) {
	ct := payContract(true)
	ct.Status = wire.ContractAccepted
	at := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	ct.AcceptedAt, ct.AcceptedByName = &at, "Иванов И. И."
	_, c := paymentCard(t, payManager, wire.StatusAwaitingPayment, &wire.PaymentInfo{AppID: 9, Revision: 5, CostKopecks: 25_000_000_000,
		Contract: ct, PaidKopecks: 30_000_000, BalanceKopecks: 60_000_000, Payments: []wire.Payment{{ID: 1, AppID: 9, AmountKopecks: 30_000_000,
			PaidOn: wire.Date{Year: 2026, Month: 3, Day: 4}, OrderNumber: "512", Source: wire.PaymentGateway, ReceiptNumber: "КВ-2026-000001",
			Receipt: wire.ContractDocument{ID: 21, Kind: wire.DocReceipt, Name: "Квитанция № КВ-2026-000001.pdf", SHA256: "cc"}}}})
	c.payment.paidOn.SetText("05.03.2026") // not today: the golden must not depend on the date
	c.tabs.Select(c.payment.tab)
	test.AssertRendersToMarkup(t, "payment_tab.xml", c.env.win.Canvas())
}
