package service

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/expertiza/expertiza/pdfdoc"
	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// The text of the contract, the invoice and the receipt. Amounts are in
// figures and in words («сумма прописью»); both parties appear with ИНН,
// КПП and ОГРН; pdfdoc numbers the pages.

// ruDate is a date as Russian documents write it.
func ruDate(d wire.Date) string { return fmt.Sprintf("%02d.%02d.%04d", d.Day, int(d.Month), d.Year) }

// amt writes an amount with no-break spaces, so a line never breaks
// inside a number.
func amt(k int64) string { return strings.ReplaceAll(wire.FormatKopecks(k), " ", "\u00a0") }

func rub(k int64) string { return amt(k) + "\u00a0руб." }

// partyLine names a legal entity with its registration numbers.
func partyLine(name, inn, kpp, ogrn string) string {
	parts := []string{"ИНН " + inn}
	if kpp != "" {
		parts = append(parts, "КПП "+kpp)
	}
	if ogrn != "" {
		parts = append(parts, "ОГРН "+ogrn)
	}
	return name + " (" + strings.Join(parts, ", ") + ")"
}

// objectLine is the object of expertise.
func objectLine(a *store.AppRow) string {
	s := "«" + a.ObjectName + "»"
	if a.ObjectAddress != "" {
		s += ", " + a.ObjectAddress
	}
	return s
}

// ratePercent writes parts per million as a percentage: 3000 → "0,3".
func ratePercent(ppm int64) string {
	whole, frac := ppm/10000, ppm%10000
	if frac == 0 {
		return strconv.FormatInt(whole, 10)
	}
	f := strings.TrimRight(fmt.Sprintf("%04d", frac), "0")
	return strconv.FormatInt(whole, 10) + "," + f
}

// feeBasis explains how the fee was computed (docs/tariff.md).
func feeBasis(q wire.FeeQuote) string {
	if !q.Declared {
		return "Сметная стоимость строительства заявителем не указана; применена базовая ставка тарифа " + rub(q.Row.BaseKopecks) + " без НДС."
	}
	s := "Стоимость определена по тарифу исходя из заявленной сметной стоимости строительства " + rub(q.CostKopecks) + ": " +
		rub(q.Row.BaseKopecks) + " плюс " + ratePercent(q.Row.RatePPM) + " %"
	if q.Row.CostFromKopecks > 0 {
		s += " от суммы, превышающей " + rub(q.Row.CostFromKopecks)
	} else {
		s += " от сметной стоимости"
	}
	return s + ", без НДС."
}

// feeBlocks are the amounts common to the contract and the invoice.
func feeBlocks(c *wire.Contract, what string) []pdfdoc.Block {
	vat := strconv.Itoa(wire.VATPercent)
	return []pdfdoc.Block{
		pdfdoc.Table{Columns: []pdfdoc.Column{{Header: "Наименование", Width: 300}, {Header: "Сумма, руб.", Width: 110, Align: pdfdoc.AlignRight}},
			Rows: [][]string{
				{what, amt(c.Quote.FeeKopecks)},
				{"НДС " + vat + " %", amt(c.Quote.VATKopecks)},
				{"Итого с НДС", amt(c.Quote.TotalKopecks)},
			}, Size: 9},
		pdfdoc.Paragraph{Text: "Всего к оплате: " + rub(c.Quote.TotalKopecks) + " (" + wire.AmountInWords(c.Quote.TotalKopecks) +
			"), в том числе НДС " + vat + " %: " + rub(c.Quote.VATKopecks) + " (" + wire.AmountInWords(c.Quote.VATKopecks) + ").", Bold: true, SpaceAfter: 8},
	}
}

// requisites is the table of the parties' details.
func requisites(p Payee, org *wire.Organisation) pdfdoc.Table {
	kpp := org.KPP
	if kpp == "" {
		kpp = "—"
	}
	return pdfdoc.Table{Columns: []pdfdoc.Column{{Header: "", Width: 70}, {Header: "Исполнитель", Width: 170}, {Header: "Заявитель", Width: 170}},
		Rows: [][]string{
			{"Наименование", p.Name, org.Name},
			{"ИНН / КПП / ОГРН", p.INN + " / " + p.KPP + " / " + p.OGRN, org.INN + " / " + kpp + " / " + org.OGRN},
			{"Адрес", p.Address, org.Address},
			{"Банковские реквизиты", p.Bank + ", БИК " + p.BIK + ", р/с " + p.Account + ", к/с " + p.CorrAccount, ""},
		}, Size: 8}
}

func serviceName(a *store.AppRow) string {
	return "Государственная экспертиза («" + a.ExpertiseKind.Label() + "») по заявлению № " + a.Number
}

// contractDocument is the contract the applicant accepts in the app.
func contractDocument(p Payee, org *wire.Organisation, a *store.AppRow, c *wire.Contract) *pdfdoc.Document {
	date := wire.DateOf(c.OfferedAt)
	term := wire.ReviewTerm(a.ExpertiseKind)
	acting := p.Acting
	if acting == "" {
		acting = strings.ToLower(p.SignatoryRole) + " " + p.Signatory
	}
	blocks := []pdfdoc.Block{
		pdfdoc.Paragraph{Text: partyLine(p.Name, p.INN, p.KPP, p.OGRN) + ", именуемое в дальнейшем «Исполнитель», в лице " +
			acting + ", с одной стороны, и " + partyLine(org.Name, org.INN, org.KPP, org.OGRN) +
			", именуемое в дальнейшем «Заявитель», с другой стороны, заключили настоящий договор о нижеследующем.", SpaceAfter: 8},
		pdfdoc.Paragraph{Text: "1. Предмет договора", Bold: true},
		pdfdoc.Paragraph{Text: "1.1. Исполнитель проводит государственную экспертизу («" + a.ExpertiseKind.Label() + "») по объекту " +
			objectLine(a) + " (заявление № " + a.Number + "), а Заявитель оплачивает её на условиях договора.", SpaceAfter: 8},
		pdfdoc.Paragraph{Text: "2. Стоимость и порядок оплаты", Bold: true},
		pdfdoc.Paragraph{Text: "2.1. " + feeBasis(c.Quote)},
	}
	blocks = append(blocks, feeBlocks(c, "Государственная экспертиза")...)
	blocks = append(blocks,
		pdfdoc.Paragraph{Text: "2.2. Заявитель оплачивает услуги по счёту № " + c.InvoiceNumber + " от " + ruDate(date) +
			" безналичным переводом на расчётный счёт Исполнителя. Частичная оплата допускается; экспертиза начинается после поступления оплаты в полном объёме. Сумма, уплаченная сверх счёта, возвращается Заявителю по его заявлению."},
		pdfdoc.Paragraph{Text: "2.3. Срок проведения экспертизы — " + strconv.Itoa(term) + " " +
			wire.PluralRU(uint64(term), "рабочий день", "рабочих дня", "рабочих дней") + " со дня поступления оплаты в полном объёме; " +
			"он может быть продлён однократно на 20 рабочих дней по заявлению Заявителя.", SpaceAfter: 8},
		pdfdoc.Paragraph{Text: "3. Заключение договора", Bold: true},
		pdfdoc.Paragraph{Text: "3.1. Договор заключается принятием его Заявителем в системе «Экспертиза» (действие «Принять договор»), " +
			"равнозначным подписанию; система фиксирует принявшего договор пользователя и время принятия.", SpaceAfter: 8},
		pdfdoc.Paragraph{Text: "4. Реквизиты сторон", Bold: true},
		requisites(p, org),
		pdfdoc.Paragraph{Text: "Исполнитель: " + p.SignatoryRole + "  ____________________  " + p.Signatory +
			"\nЗаявитель: договор принимается в системе «Экспертиза» (пункт 3.1)"},
	)
	return &pdfdoc.Document{
		Title:     "Договор № " + c.Number,
		Subtitle:  "на проведение государственной экспертизы",
		Meta:      []string{"г. Москва, " + ruDate(date), "Заявление № " + a.Number},
		Blocks:    blocks,
		Generated: c.OfferedAt.In(letterZone),
		Author:    p.ShortName,
	}
}

// paymentPurpose is what the payer writes in the payment order.
func paymentPurpose(a *store.AppRow, c *wire.Contract) string {
	return "Оплата по счёту № " + c.InvoiceNumber + " (договор № " + c.Number + ") за государственную экспертизу по заявлению № " + a.Number +
		", в т. ч. НДС " + strconv.Itoa(wire.VATPercent) + "\u00a0% " + rub(c.Quote.VATKopecks)
}

// invoiceDocument is the invoice «Счёт на оплату».
func invoiceDocument(p Payee, org *wire.Organisation, a *store.AppRow, c *wire.Contract) *pdfdoc.Document {
	date := wire.DateOf(c.OfferedAt)
	blocks := []pdfdoc.Block{
		pdfdoc.Table{Columns: []pdfdoc.Column{{Header: "Реквизиты получателя", Width: 140}, {Header: "", Width: 270}},
			Rows: [][]string{
				{"Банк получателя", p.Bank},
				{"БИК", p.BIK},
				{"Корр. счёт", p.CorrAccount},
				{"Получатель", p.Name},
				{"ИНН / КПП получателя", p.INN + " / " + p.KPP},
				{"Расчётный счёт", p.Account},
			}, Size: 9, SpaceAfter: 8},
		pdfdoc.Paragraph{Text: "Исполнитель: " + partyLine(p.Name, p.INN, p.KPP, p.OGRN) + ", " + p.Address},
		pdfdoc.Paragraph{Text: "Заказчик: " + partyLine(org.Name, org.INN, org.KPP, org.OGRN) + ", " + org.Address},
		pdfdoc.Paragraph{Text: "Основание: договор № " + c.Number + " от " + ruDate(date), SpaceAfter: 8},
		pdfdoc.Table{Columns: []pdfdoc.Column{{Header: "№", Width: 20, Align: pdfdoc.AlignCenter}, {Header: "Наименование услуги", Width: 230},
			{Header: "Кол-во", Width: 40, Align: pdfdoc.AlignRight}, {Header: "Ед.", Width: 35, Align: pdfdoc.AlignCenter},
			{Header: "Сумма без НДС, руб.", Width: 85, Align: pdfdoc.AlignRight}},
			Rows: [][]string{{"1", serviceName(a) + ", объект " + objectLine(a), "1", "усл.", amt(c.Quote.FeeKopecks)}}, Size: 9},
	}
	blocks = append(blocks, feeBlocks(c, "Итого без НДС")...)
	blocks = append(blocks,
		pdfdoc.Paragraph{Text: "Назначение платежа: " + paymentPurpose(a, c)},
		pdfdoc.Paragraph{Text: "Счёт можно оплатить частями; экспертиза начинается после поступления полной суммы.", SpaceAfter: 18},
		pdfdoc.Paragraph{Text: p.SignatoryRole + "  ____________________  " + p.Signatory},
	)
	return &pdfdoc.Document{
		Title:     "Счёт на оплату № " + c.InvoiceNumber + " от " + ruDate(date),
		Meta:      []string{"Договор № " + c.Number, "Заявление № " + a.Number},
		Blocks:    blocks,
		Generated: c.OfferedAt.In(letterZone),
		Author:    p.ShortName,
	}
}

// receiptDocument is the receipt of one payment, with the totals as of
// that payment: what the invoice asked, what was paid so far, and what
// remains or was overpaid.
func receiptDocument(p Payee, org *wire.Organisation, a *store.AppRow, c *wire.Contract, ps []wire.Payment, paymentID int64) (*pdfdoc.Document, error) {
	var pm *wire.Payment
	var paid int64
	for i := range ps {
		if ps[i].ID <= paymentID {
			paid += ps[i].AmountKopecks
		}
		if ps[i].ID == paymentID {
			pm = &ps[i]
		}
	}
	if pm == nil {
		return nil, fmt.Errorf("receipt: payment %d not found", paymentID)
	}
	how := "Платёж внесён менеджером по банковской выписке: " + pm.RecordedByName
	if pm.Source == wire.PaymentGateway {
		how = "Платёж получен через платёжный шлюз, идентификатор " + pm.GatewayID
	}
	order := "—"
	if pm.OrderNumber != "" {
		order = pm.OrderNumber
	}
	balance := c.Quote.TotalKopecks - paid
	rest := "Остаток к оплате: " + rub(balance)
	switch {
	case balance == 0:
		rest = "Счёт оплачен полностью."
	case balance < 0:
		rest = "Переплата: " + rub(-balance) + " (" + wire.AmountInWords(-balance) + "); возвращается по заявлению плательщика."
	}
	return &pdfdoc.Document{
		Title:    "Квитанция № " + pm.ReceiptNumber,
		Subtitle: "о поступлении оплаты",
		Meta:     []string{"Дата платежа: " + ruDate(pm.PaidOn), "Заявление № " + a.Number},
		Blocks: []pdfdoc.Block{
			pdfdoc.Table{Columns: []pdfdoc.Column{{Header: "", Width: 120}, {Header: "", Width: 290}},
				Rows: [][]string{
					{"Плательщик", partyLine(org.Name, org.INN, org.KPP, org.OGRN)},
					{"Получатель", partyLine(p.Name, p.INN, p.KPP, p.OGRN)},
					{"Основание", "Договор № " + c.Number + ", счёт № " + c.InvoiceNumber},
					{"Платёжное поручение", order},
					{"Сумма платежа", rub(pm.AmountKopecks) + " (" + wire.AmountInWords(pm.AmountKopecks) + ")"},
					{"Сумма по счёту", rub(c.Quote.TotalKopecks)},
					{"Оплачено всего", rub(paid)},
				}, Size: 9, SpaceAfter: 8},
			pdfdoc.Paragraph{Text: rest, Bold: true},
			pdfdoc.Paragraph{Text: how + "."},
		},
		Generated: pm.CreatedAt.In(letterZone),
		Author:    p.ShortName,
	}, nil
}
