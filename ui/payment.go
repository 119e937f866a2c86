package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/wire"
)

// paymentView is the card's «Оплата» tab: the declared cost and the fee
// the tariff gives, the contract and the invoice with «Скачать», «Принять
// договор» for the applicant while the contract awaits acceptance, the
// payments with their receipts and the balance, and for managers the form
// that records a payment. The tab appears once the payment side is known
// (experts, who may not read it, never get it).
type paymentView struct {
	env   *env
	be    backend
	appID int64
	tabs  *container.AppTabs // the card's tabs, to add this one to
	tab   *container.TabItem

	body    *fyne.Container
	errText *widget.Label
	root    fyne.CanvasObject
	seen    string

	// Inputs and actions, kept for tests.
	costEntry  *widget.Entry
	costSave   *widget.Button
	accept     *widget.Button
	amount     *widget.Entry
	paidOn     *widget.Entry
	order      *widget.Entry
	record     *widget.Button
	downloads  map[int64]*widget.Button // by document id
	lastDialog dialog.Dialog
	// saveFile stands for the system save dialog (tests replace it).
	saveFile func(name string, done func(path string))
}

func newPaymentView(e *env, be backend, appID int64, tabs *container.AppTabs) *paymentView {
	v := &paymentView{env: e, be: be, appID: appID, tabs: tabs, body: container.NewVBox(), downloads: map[int64]*widget.Button{}}
	v.errText = widget.NewLabel("")
	v.errText.Wrapping = fyne.TextWrapWord
	v.errText.Importance = widget.DangerImportance
	v.errText.Hide()
	v.costEntry = widget.NewEntry()
	v.costEntry.SetPlaceHolder(lang.L("payment.cost_placeholder"))
	v.costSave = widget.NewButton(lang.L("payment.cost_save"), v.saveCost)
	v.accept = widget.NewButtonWithIcon(lang.L("payment.accept"), theme.ConfirmIcon(), v.askAccept)
	v.accept.Importance = widget.HighImportance
	v.amount = widget.NewEntry()
	v.amount.SetPlaceHolder(lang.L("payment.amount"))
	v.paidOn = widget.NewEntry()
	v.paidOn.SetPlaceHolder(lang.L("payment.date"))
	v.order = widget.NewEntry()
	v.order.SetPlaceHolder(lang.L("payment.order"))
	v.record = widget.NewButtonWithIcon(lang.L("payment.record"), theme.ContentAddIcon(), v.doRecord)
	v.root = container.NewVScroll(container.NewVBox(v.errText, v.body))
	v.tab = container.NewTabItem(lang.L("card.tab.payment"), v.root)
	v.saveFile = func(name string, done func(string)) { systemSave(e, name, done) }
	return v
}

// load reads the payment side afresh; the tab appears when it arrives.
func (v *paymentView) load() {
	if !app.CanSeePayment(v.be.Me().Role) {
		return
	}
	call(v.env, "payment details", func(ctx context.Context) (wire.PaymentInfo, error) {
		return v.be.ContractFor(ctx, v.appID)
	}, func(_ wire.PaymentInfo, err error) {
		// A failure leaves what the Store has (offline: the last known
		// state, or no tab); the reason is in the log.
		v.refresh()
	})
}

// refresh redraws the tab when the application or its payment side changed.
func (v *paymentView) refresh() {
	st := v.be.Store()
	p, ok := st.PaymentInfo(v.appID)
	if !ok || !app.CanSeePayment(v.be.Me().Role) {
		return
	}
	v.ensureTab()
	a, _ := st.Application(v.appID)
	fp := fmt.Sprintf("%d/%s/%d", a.Version, a.Status, p.Revision)
	if fp == v.seen {
		return
	}
	v.seen = fp
	v.render(a, p)
}

func (v *paymentView) ensureTab() {
	for _, it := range v.tabs.Items {
		if it == v.tab {
			return
		}
	}
	v.tabs.Append(v.tab)
}

func payLabel(text string, imp widget.Importance, bold bool) *widget.Label {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: bold})
	l.Wrapping = fyne.TextWrapWord
	l.Importance = imp
	return l
}

func payRubles(k int64) string { return wire.FormatKopecks(k) }

// ruDateText is a date as the interface writes it.
func ruDateText(d wire.Date) string {
	return fmt.Sprintf("%02d.%02d.%04d", d.Day, int(d.Month), d.Year)
}

// amounts are the fee, VAT and total lines of a quote.
func payAmounts(q wire.FeeQuote) []fyne.CanvasObject {
	return []fyne.CanvasObject{
		payLabel(lang.L("payment.fee", map[string]any{"Amount": payRubles(q.FeeKopecks)}), widget.MediumImportance, false),
		payLabel(lang.L("payment.vat", map[string]any{"Percent": wire.VATPercent, "Amount": payRubles(q.VATKopecks)}), widget.MediumImportance, false),
		payLabel(lang.L("payment.total", map[string]any{"Amount": payRubles(q.TotalKopecks)}), widget.MediumImportance, true),
	}
}

func (v *paymentView) render(a wire.Application, p wire.PaymentInfo) {
	me := v.be.Me()
	var objs []fyne.CanvasObject
	// The declared cost.
	if p.CostKopecks > 0 {
		objs = append(objs, payLabel(lang.L("payment.cost", map[string]any{"Amount": payRubles(p.CostKopecks)}), widget.MediumImportance, true))
		if p.CostSetAt != nil {
			objs = append(objs, payLabel(lang.L("payment.cost_by", map[string]any{"Name": p.CostSetByName, "Date": timeText(*p.CostSetAt)}), widget.LowImportance, false))
		}
	} else {
		objs = append(objs, payLabel(lang.L("payment.cost_none"), widget.WarningImportance, true))
	}
	if app.CanSetCost(me, a, p) {
		objs = append(objs, container.NewBorder(nil, nil, nil, v.costSave, v.costEntry))
	}
	objs = append(objs, widget.NewSeparator())

	c := p.Contract
	if c == nil {
		objs = append(objs, payLabel(lang.L("payment.quote_title"), widget.MediumImportance, true))
		if !p.Quote.Declared {
			objs = append(objs, payLabel(lang.L("payment.base_fee"), widget.WarningImportance, false))
		}
		objs = append(objs, payAmounts(p.Quote)...)
		objs = append(objs, payLabel(lang.L("payment.no_contract"), widget.LowImportance, false))
		v.setBody(objs)
		return
	}

	// The contract, its documents and acceptance.
	objs = append(objs, payLabel(lang.L("payment.contract", map[string]any{"Number": c.Number, "Date": ruDateText(wire.DateOf(c.OfferedAt)),
		"Status": lang.X("payment.contract_status."+string(c.Status), c.Status.Label())}), contractImportance(c.Status), true))
	if c.AcceptedAt != nil {
		objs = append(objs, payLabel(lang.L("payment.accepted_by", map[string]any{"Name": c.AcceptedByName, "Time": timeText(*c.AcceptedAt)}), widget.LowImportance, false))
	}
	if !c.Quote.Declared {
		objs = append(objs, payLabel(lang.L("payment.base_fee"), widget.WarningImportance, false))
	}
	objs = append(objs, payAmounts(c.Quote)...)
	for _, d := range c.Documents {
		number := c.Number
		if d.Kind == wire.DocInvoice {
			number = c.InvoiceNumber
		}
		objs = append(objs, v.documentRow(lang.L("payment.doc."+string(d.Kind), map[string]any{"Number": number}), d))
	}
	if app.CanAcceptContract(me, a, p) {
		objs = append(objs, container.NewHBox(v.accept))
	} else if me.Role == wire.RoleApplicant && a.Status == wire.StatusAwaitingContract && c.Status == wire.ContractOffered {
		// Offered, but a PDF is still being rendered: the button comes
		// with the event that announces it.
		objs = append(objs, payLabel(lang.L("payment.accept_wait"), widget.LowImportance, false))
	}
	objs = append(objs, widget.NewSeparator())

	// Payments and the balance.
	objs = append(objs, payLabel(lang.L("payment.paid", map[string]any{"Paid": payRubles(p.PaidKopecks), "Total": payRubles(c.Quote.TotalKopecks)}), widget.MediumImportance, true))
	switch {
	case p.BalanceKopecks > 0:
		objs = append(objs, payLabel(lang.L("payment.balance", map[string]any{"Amount": payRubles(p.BalanceKopecks)}), widget.WarningImportance, true))
	case p.BalanceKopecks < 0:
		objs = append(objs, payLabel(lang.L("payment.overpaid", map[string]any{"Amount": payRubles(p.Overpaid())}), widget.DangerImportance, true))
	default:
		objs = append(objs, payLabel(lang.L("payment.fully_paid"), widget.SuccessImportance, true))
	}
	if len(p.Payments) == 0 {
		objs = append(objs, payLabel(lang.L("payment.none"), widget.LowImportance, false))
	}
	for _, pm := range p.Payments {
		by := pm.RecordedByName
		if pm.Source == wire.PaymentGateway {
			by = lang.L("payment.gateway")
		}
		order := pm.OrderNumber
		if order == "" {
			order = "—"
		}
		objs = append(objs, v.documentRow(lang.L("payment.row", map[string]any{"Date": ruDateText(pm.PaidOn), "Amount": payRubles(pm.AmountKopecks),
			"Order": order, "By": by}), pm.Receipt))
	}
	if app.CanRecordPayment(me, p) {
		if v.paidOn.Text == "" {
			v.paidOn.SetText(ruDateText(wire.DateOf(time.Now())))
		}
		objs = append(objs, widget.NewSeparator(), payLabel(lang.L("payment.record"), widget.MediumImportance, true),
			container.NewGridWithColumns(3, v.amount, v.paidOn, v.order), container.NewHBox(v.record))
	}
	v.setBody(objs)
}

func (v *paymentView) setBody(objs []fyne.CanvasObject) {
	v.body.Objects = objs
	v.body.Refresh()
}

func contractImportance(s wire.ContractStatus) widget.Importance {
	switch s {
	case wire.ContractAccepted:
		return widget.SuccessImportance
	case wire.ContractCancelled:
		return widget.LowImportance
	}
	return widget.WarningImportance
}

// documentRow is a document's line with «Скачать», or «формируется…»
// while the server renders it.
func (v *paymentView) documentRow(text string, d wire.ContractDocument) fyne.CanvasObject {
	l := payLabel(text, widget.MediumImportance, false)
	if !d.Ready() {
		return container.NewBorder(nil, nil, nil, payLabel(lang.L("payment.doc_pending"), widget.LowImportance, false), l)
	}
	b := widget.NewButtonWithIcon(lang.L("payment.download"), theme.DownloadIcon(), func() { v.download(d) })
	v.downloads[d.ID] = b
	return container.NewBorder(nil, nil, nil, b, l)
}

func (v *paymentView) download(d wire.ContractDocument) {
	v.saveFile(d.Name, func(dst string) {
		call(v.env, "contract document", func(ctx context.Context) (struct{}, error) {
			return struct{}{}, v.be.DownloadContractDocument(ctx, d, dst)
		}, func(_ struct{}, err error) { v.env.showError(err) })
	})
}

func (v *paymentView) showError(err error) {
	if err == nil {
		v.errText.Hide()
		return
	}
	v.errText.SetText(message(err))
	v.errText.Show()
}

func (v *paymentView) current() (wire.Application, wire.PaymentInfo) {
	a, _ := v.be.Store().Application(v.appID)
	p, _ := v.be.Store().PaymentInfo(v.appID)
	return a, p
}

func (v *paymentView) saveCost() {
	_, p := v.current()
	text := v.costEntry.Text
	v.costSave.Disable()
	call(v.env, "set cost", func(ctx context.Context) (wire.PaymentInfo, error) {
		return v.be.SetCost(ctx, p, text)
	}, func(_ wire.PaymentInfo, err error) {
		v.costSave.Enable()
		v.showError(err)
		if err == nil {
			v.costEntry.SetText("")
			v.refresh()
		}
	})
}

func (v *paymentView) askAccept() {
	a, p := v.current()
	if p.Contract == nil {
		return
	}
	d := dialog.NewConfirm(lang.L("payment.accept"), lang.L("payment.accept_confirm", map[string]any{"Number": p.Contract.Number,
		"Amount": payRubles(p.Contract.Quote.TotalKopecks)}), func(ok bool) {
		if !ok {
			return
		}
		v.accept.Disable()
		call(v.env, "accept contract", func(ctx context.Context) (wire.PaymentInfo, error) {
			return v.be.AcceptContract(ctx, a, p)
		}, func(_ wire.PaymentInfo, err error) {
			v.accept.Enable()
			v.showError(err)
			v.refresh()
		})
	}, v.env.win)
	v.lastDialog = d
	d.Show()
}

// parseRuDate reads ДД.ММ.ГГГГ.
func parseRuDate(s string) (wire.Date, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	bad := wire.E(wire.CodeInvalid, "paid_on", lang.L("payment.bad_date"), "The payment date is DD.MM.YYYY")
	if len(parts) != 3 {
		return wire.Date{}, bad
	}
	d, err1 := strconv.Atoi(parts[0])
	m, err2 := strconv.Atoi(parts[1])
	y, err3 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || y < 1000 {
		return wire.Date{}, bad
	}
	t := time.Date(y, time.Month(m), d, 12, 0, 0, 0, time.UTC)
	if t.Day() != d || int(t.Month()) != m {
		return wire.Date{}, bad // 31.02 and the like
	}
	return wire.Date{Year: y, Month: time.Month(m), Day: d}, nil
}

func (v *paymentView) doRecord() {
	on, err := parseRuDate(v.paidOn.Text)
	if err != nil {
		v.showError(err)
		return
	}
	amount, order := v.amount.Text, v.order.Text
	v.record.Disable()
	call(v.env, "record payment", func(ctx context.Context) (wire.PaymentInfo, error) {
		return v.be.RecordPayment(ctx, v.appID, amount, on, order)
	}, func(_ wire.PaymentInfo, err error) {
		v.record.Enable()
		v.showError(err)
		if err == nil {
			v.amount.SetText("")
			v.order.SetText("")
			v.refresh()
		}
	})
}
