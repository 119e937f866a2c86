package service

import (
	"context"
	"unicode"

	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// Contract and payment (DESIGN.md §1): when the manager accepts the
// documentation (submitted → awaiting_contract) the contract is offered
// with the fee of the tariff (docs/tariff.md); the applicant accepts it
// (awaiting_contract → awaiting_payment); payments recorded by a manager or
// reported by the payment gateway move the application to in_review once
// they cover the invoice, which starts the review clock.
//
// The contract ROW — its number, invoice number and amount — is written in
// the transition's own transaction, so the offer and the move commit or
// fail together. Its PDFs (contract, invoice, and later a receipt per
// payment) are rendered after the commit by a retrying worker
// (contract_docs.go), for the reasons review_letter.go gives for notice
// letters: a rendering or blob-store failure must neither undo nor block
// the transition, and typesetting must not hold the application's row lock.

// Prefixes of the numbers allocated per year (store.NextContractNumber).
const (
	prefixContract = "Д"
	prefixInvoice  = "СЧ"
	prefixReceipt  = "КВ"
)

// seesPayment refuses callers who may see the application but not its
// money: experts. Applicants of the organisation, managers and
// administrators see it.
func seesPayment(p *Principal) error {
	if p.Role == wire.RoleExpert {
		return errForbidden("Сведения о договоре и оплате доступны заявителю, менеджерам и администраторам",
			"Contract and payment details are for the applicant, managers and administrators")
	}
	return nil
}

// PaymentInfo returns the payment side of an application.
func (s *Service) PaymentInfo(ctx context.Context, p *Principal, appID int64) (wire.PaymentInfo, error) {
	q := s.st.Read()
	a, err := s.loadVisible(ctx, q, p, appID, nil)
	if err != nil {
		return wire.PaymentInfo{}, err
	}
	if err := seesPayment(p); err != nil {
		return wire.PaymentInfo{}, err
	}
	return s.paymentInfo(ctx, q, a)
}

// paymentInfo assembles what the «Оплата» tab shows.
func (s *Service) paymentInfo(ctx context.Context, q store.Q, a *store.AppRow) (wire.PaymentInfo, error) {
	acc, err := q.PaymentAccount(ctx, a.ID)
	if err != nil {
		return wire.PaymentInfo{}, err
	}
	tariff, err := q.Tariff(ctx)
	if err != nil {
		return wire.PaymentInfo{}, err
	}
	out := wire.PaymentInfo{AppID: a.ID, Revision: acc.Revision, CostKopecks: acc.CostKopecks, CostSetByName: acc.CostSetByName,
		CostSetAt: acc.CostSetAt, Payments: []wire.Payment{}}
	if out.Quote, err = wire.QuoteFee(tariff.Rows, a.ExpertiseKind, acc.CostKopecks); err != nil {
		return wire.PaymentInfo{}, err
	}
	c, err := q.ContractByApp(ctx, a.ID)
	switch {
	case wire.ErrorCode(err) == wire.CodeNotFound:
		return out, nil
	case err != nil:
		return wire.PaymentInfo{}, err
	}
	docs, err := q.ContractDocuments(ctx, c.ID)
	if err != nil {
		return wire.PaymentInfo{}, err
	}
	for _, k := range []wire.ContractDocKind{wire.DocContract, wire.DocInvoice} {
		for _, d := range docs {
			if d.Kind == k {
				cd := d.ContractDocument
				cd.Name = docName(k, c.Number, c.InvoiceNumber, "")
				c.Documents = append(c.Documents, cd)
			}
		}
	}
	out.Contract = c
	if out.Payments, err = q.Payments(ctx, a.ID); err != nil {
		return wire.PaymentInfo{}, err
	}
	for i := range out.Payments {
		pm := &out.Payments[i]
		pm.Receipt.Name = docName(wire.DocReceipt, "", "", pm.ReceiptNumber)
		out.PaidKopecks += pm.AmountKopecks
	}
	out.BalanceKopecks = c.Quote.TotalKopecks - out.PaidKopecks
	return out, nil
}

// docName is the file name a document is saved under.
func docName(k wire.ContractDocKind, contract, invoice, receipt string) string {
	switch k {
	case wire.DocContract:
		return "Договор № " + contract + ".pdf"
	case wire.DocInvoice:
		return "Счёт № " + invoice + ".pdf"
	}
	return "Квитанция № " + receipt + ".pdf"
}

// emitPayment bumps the application's payment revision and sends its
// payment picture to the organisation's applicants, managers and
// administrators (no experts: ExpertIDs is empty).
func (s *Service) emitPayment(ctx context.Context, tx *store.Tx, a *store.AppRow) (wire.PaymentInfo, error) {
	if _, err := tx.BumpPaymentRevision(ctx, a.ID); err != nil {
		return wire.PaymentInfo{}, err
	}
	info, err := s.paymentInfo(ctx, tx.Q, a)
	if err != nil {
		return wire.PaymentInfo{}, err
	}
	tx.Emit(store.EventRow{Kind: wire.EventContract, AppID: a.ID, OrgID: a.OrgID, OrgOnly: a.Status == wire.StatusDraft, Payload: mustJSON(info)})
	return info, nil
}

// costStatuses are the statuses in which each role may declare the cost:
// the applicant while preparing and correcting the application, the
// manager while checking it — always before a contract is offered.
var costStatuses = map[wire.Role][]wire.Status{
	wire.RoleApplicant: {wire.StatusDraft, wire.StatusSubmitted, wire.StatusNeedsCorrection},
	wire.RoleManager:   {wire.StatusSubmitted, wire.StatusNeedsCorrection},
}

// SetCost declares the estimated construction cost the fee is computed
// from.
func (s *Service) SetCost(ctx context.Context, p *Principal, appID int64, r wire.SetCostRequest) (wire.PaymentInfo, error) {
	return write(ctx, s, p, func(tx *store.Tx) (wire.PaymentInfo, error) {
		a, err := s.loadVisible(ctx, tx.Q, p, appID, tx)
		if err != nil {
			return wire.PaymentInfo{}, err
		}
		allowed, ok := costStatuses[p.Role]
		if !ok {
			return wire.PaymentInfo{}, errForbidden("Сметную стоимость указывает заявитель или менеджер", "Only the applicant or a manager declares the cost")
		}
		if err := wire.ValidateCost(r.CostKopecks); err != nil {
			return wire.PaymentInfo{}, err
		}
		if _, err := tx.ContractByApp(ctx, appID); err == nil {
			return wire.PaymentInfo{}, wire.E(wire.CodeConflict, "cost_kopecks", "Договор уже направлен: стоимость экспертизы в нём зафиксирована",
				"The contract is already offered: its fee is fixed")
		} else if wire.ErrorCode(err) != wire.CodeNotFound {
			return wire.PaymentInfo{}, err
		}
		if !containsStatus(allowed, a.Status) {
			return wire.PaymentInfo{}, wire.E(wire.CodeConflict, "status", "Сметную стоимость сейчас изменить нельзя (статус «"+a.Status.Label()+"»)",
				"The cost cannot be changed in status "+string(a.Status))
		}
		if _, err := tx.SetCost(ctx, appID, r.CostKopecks, r.Revision, p.UserID, p.Name); err != nil {
			return wire.PaymentInfo{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "cost_set", ObjectType: "application", ObjectID: itoa(appID),
			Details: map[string]any{"cost_kopecks": r.CostKopecks}})
		// SetCost bumped the revision already; emitPayment bumps it once
		// more, which is harmless: revisions only need to grow.
		return s.emitPayment(ctx, tx, a)
	})
}

func containsStatus(list []wire.Status, s wire.Status) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// contractStep is the contract's part of a workflow move, run inside
// transition() after the status is written: the offer on the manager's
// acceptance of the documentation, acceptance on the applicant's move to
// awaiting_payment (by the accept endpoint or a plain transition), and
// cancellation of an offer when the application is withdrawn. What it
// changes it announces (EventContract) in the same transaction.
func (s *Service) contractStep(ctx context.Context, tx *store.Tx, a *store.AppRow, to wire.Status, actorID int64, actorName string) error {
	changed, err := s.contractChange(ctx, tx, a, to, actorID, actorName)
	if err != nil || !changed {
		return err
	}
	cur, err := tx.Application(ctx, a.ID)
	if err != nil {
		return err
	}
	_, err = s.emitPayment(ctx, tx, cur)
	return err
}

func (s *Service) contractChange(ctx context.Context, tx *store.Tx, a *store.AppRow, to wire.Status, actorID int64, actorName string) (bool, error) {
	switch {
	case a.Status == wire.StatusSubmitted && to == wire.StatusAwaitingContract:
		return true, s.offerContract(ctx, tx, a, actorID)
	case a.Status == wire.StatusAwaitingContract && to == wire.StatusAwaitingPayment:
		c, err := tx.ContractByApp(ctx, a.ID)
		if wire.ErrorCode(err) == wire.CodeNotFound {
			return false, nil // an application offered before contracts existed
		}
		if err != nil {
			return false, err
		}
		ok, err := tx.AcceptContract(ctx, c.ID, actorID, actorName)
		if err != nil || !ok {
			return false, err
		}
		tx.Audit(store.AuditEntry{ActorID: actorID, Action: "contract_accept", ObjectType: "contract", ObjectID: itoa(c.ID),
			Details: map[string]any{"app": a.ID, "number": c.Number, "total_kopecks": c.Quote.TotalKopecks}})
		return true, nil
	case to == wire.StatusWithdrawn:
		c, err := tx.ContractByApp(ctx, a.ID)
		if wire.ErrorCode(err) == wire.CodeNotFound {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return tx.CancelContract(ctx, c.ID)
	}
	return false, nil
}

// offerContract writes the contract row with the fee the tariff gives now
// for the declared cost, and queues its contract and invoice PDFs.
func (s *Service) offerContract(ctx context.Context, tx *store.Tx, a *store.AppRow, by int64) error {
	acc, err := tx.PaymentAccount(ctx, a.ID)
	if err != nil {
		return err
	}
	tariff, err := tx.Tariff(ctx)
	if err != nil {
		return err
	}
	quote, err := wire.QuoteFee(tariff.Rows, a.ExpertiseKind, acc.CostKopecks)
	if err != nil {
		return err
	}
	year := wire.DateOf(tx.Now()).Year
	number, err := tx.NextContractNumber(ctx, prefixContract, year)
	if err != nil {
		return err
	}
	invoice, err := tx.NextContractNumber(ctx, prefixInvoice, year)
	if err != nil {
		return err
	}
	id, err := tx.InsertContract(ctx, store.NewContract{AppID: a.ID, Number: number, InvoiceNumber: invoice, Quote: quote, OfferedBy: by})
	if err != nil {
		return err
	}
	for _, k := range []wire.ContractDocKind{wire.DocContract, wire.DocInvoice} {
		if _, err := tx.InsertContractDocument(ctx, a.ID, id, 0, k); err != nil {
			return err
		}
	}
	tx.Audit(store.AuditEntry{ActorID: by, Action: "contract_offer", ObjectType: "contract", ObjectID: itoa(id),
		Details: map[string]any{"app": a.ID, "number": number, "invoice": invoice, "cost_kopecks": acc.CostKopecks,
			"fee_kopecks": quote.FeeKopecks, "vat_kopecks": quote.VATKopecks, "total_kopecks": quote.TotalKopecks}})
	return nil
}

// AcceptContract is the applicant's acceptance of the offered contract:
// it records who accepted it and when, and moves the application
// awaiting_contract → awaiting_payment through the workflow table, in one
// transaction. The caller names the contract it read, which must be the
// one offered, with its PDFs ready: nobody accepts a text they could not
// open.
func (s *Service) AcceptContract(ctx context.Context, p *Principal, appID int64, r wire.AcceptContractRequest) (wire.PaymentInfo, error) {
	info, err := write(ctx, s, p, func(tx *store.Tx) (wire.PaymentInfo, error) {
		a, err := s.loadVisible(ctx, tx.Q, p, appID, tx)
		if err != nil {
			return wire.PaymentInfo{}, err
		}
		if p.Role != wire.RoleApplicant {
			return wire.PaymentInfo{}, errForbidden("Договор принимает заявитель (сотрудник организации-заявителя)",
				"Only an applicant of the applying organisation accepts the contract")
		}
		c, err := tx.ContractByApp(ctx, appID)
		if wire.ErrorCode(err) == wire.CodeNotFound {
			return wire.PaymentInfo{}, wire.E(wire.CodeConflict, "contract_id", "Договор по заявлению ещё не направлен", "No contract has been offered yet")
		}
		if err != nil {
			return wire.PaymentInfo{}, err
		}
		if c.ID != r.ContractID {
			return wire.PaymentInfo{}, wire.E(wire.CodeConflict, "contract_id", "По заявлению направлен другой договор (№ "+c.Number+") — обновите вкладку «Оплата»",
				"Another contract ("+c.Number+") is offered — reload the Payment tab")
		}
		if c.Status != wire.ContractOffered {
			return wire.PaymentInfo{}, wire.E(wire.CodeConflict, "contract_id", "Договор № "+c.Number+" уже "+lowerFirst(c.Status.Label()),
				"Contract "+c.Number+" is already "+string(c.Status))
		}
		docs, err := tx.ContractDocuments(ctx, c.ID)
		if err != nil {
			return wire.PaymentInfo{}, err
		}
		for _, d := range docs {
			if d.SHA256 == "" {
				return wire.PaymentInfo{}, documentPending(d.Kind)
			}
		}
		act, err := s.actorFor(ctx, tx.Q, p, a)
		if err != nil {
			return wire.PaymentInfo{}, err
		}
		if _, err := s.transition(ctx, tx, a, act, wire.TransitionRequestBody{Version: r.Version, To: wire.StatusAwaitingPayment,
			Comment: "Договор № " + c.Number + " принят"}, p.UserID, p.Name, p.Login, p.IP); err != nil {
			return wire.PaymentInfo{}, err
		}
		// Money that arrived before the acceptance may already cover the
		// invoice: then the review starts now.
		if a, err = tx.ApplicationForUpdate(ctx, appID); err != nil {
			return wire.PaymentInfo{}, err
		}
		if err := s.startReviewIfPaid(ctx, tx, a, wire.Actor{System: true}, 0, "Платёжный шлюз", "system", p.IP); err != nil {
			return wire.PaymentInfo{}, err
		}
		return s.paymentInfo(ctx, tx.Q, a)
	})
	return info, err
}

func lowerFirst(s string) string {
	r := []rune(s)
	if len(r) > 0 {
		r[0] = unicode.ToLower(r[0])
	}
	return string(r)
}
