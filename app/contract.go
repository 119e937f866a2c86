package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// The «Оплата» side of an application: its declared cost, contract,
// invoice and payments. Commands here are formal acts made online (never
// queued): the applicant accepting a contract, a manager recording money.

// applyContract takes an EventContract into the Store (s.mu held).
func (s *Store) applyContract(e wire.Event) (bool, error) {
	var p wire.PaymentInfo
	if err := e.Decode(&p); err != nil {
		return false, err
	}
	if p.AppID == 0 {
		p.AppID = e.AppID
	}
	return s.setPayment(p), nil
}

// setPayment keeps the newest picture (highest revision) of an
// application (s.mu held).
func (s *Store) setPayment(p wire.PaymentInfo) bool {
	if old, ok := s.pay[p.AppID]; ok && old.Revision > p.Revision {
		return false
	}
	s.pay[p.AppID] = p
	return true
}

// SetPaymentInfo installs an application's payment side as loaded or
// returned by a command; an event of a later revision that arrived
// meanwhile is kept.
func (s *Store) SetPaymentInfo(p wire.PaymentInfo) {
	s.mu.Lock()
	changed := s.setPayment(p)
	s.mu.Unlock()
	if changed {
		s.changed()
	}
}

// PaymentInfo is an application's payment side as last known.
func (s *Store) PaymentInfo(appID int64) (wire.PaymentInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.pay[appID]
	return p, ok
}

// CanSeePayment reports whether the role reads the payment side at all
// (experts do not: the server answers them 403).
func CanSeePayment(r wire.Role) bool { return r != wire.RoleExpert }

// CanAcceptContract reports whether me may accept the contract of a now:
// an applicant of its organisation while it awaits the contract, the
// contract offered and its PDFs rendered.
func CanAcceptContract(me wire.User, a wire.Application, p wire.PaymentInfo) bool {
	if me.Role != wire.RoleApplicant || me.OrgID == 0 || me.OrgID != a.OrgID || a.Status != wire.StatusAwaitingContract {
		return false
	}
	c := p.Contract
	if c == nil || c.Status != wire.ContractOffered || len(c.Documents) == 0 {
		return false
	}
	for _, d := range c.Documents {
		if !d.Ready() {
			return false
		}
	}
	return true
}

// CanRecordPayment reports whether me records payments for a: managers,
// once a contract exists.
func CanRecordPayment(me wire.User, p wire.PaymentInfo) bool {
	return me.Role == wire.RoleManager && p.Contract != nil
}

// CanSetCost reports whether me may declare the cost of a now (the server
// has the same rule).
func CanSetCost(me wire.User, a wire.Application, p wire.PaymentInfo) bool {
	if p.Contract != nil {
		return false
	}
	switch me.Role {
	case wire.RoleApplicant:
		return me.OrgID != 0 && me.OrgID == a.OrgID &&
			(a.Status == wire.StatusDraft || a.Status == wire.StatusSubmitted || a.Status == wire.StatusNeedsCorrection)
	case wire.RoleManager:
		return a.Status == wire.StatusSubmitted || a.Status == wire.StatusNeedsCorrection
	}
	return false
}

// ContractFor loads an application's payment side into the Store.
func (w *Workspace) ContractFor(ctx context.Context, appID int64) (wire.PaymentInfo, error) {
	c, err := w.sess.client()
	if err != nil {
		return wire.PaymentInfo{}, err
	}
	p, err := c.PaymentInfo(ctx, appID)
	if err != nil {
		return wire.PaymentInfo{}, fmt.Errorf("payment details of application %d: %w", appID, err)
	}
	w.store.SetPaymentInfo(p)
	got, _ := w.store.PaymentInfo(appID)
	return got, nil
}

// SetCost declares the estimated construction cost, typed by the user in
// roubles ("250 000 000" or "1 234,56").
func (w *Workspace) SetCost(ctx context.Context, p wire.PaymentInfo, roubles string) (wire.PaymentInfo, error) {
	k, err := parseRoubles(roubles, "cost_kopecks")
	if err != nil {
		return wire.PaymentInfo{}, err
	}
	if err := wire.ValidateCost(k); err != nil {
		return wire.PaymentInfo{}, err
	}
	return w.paymentCommand(ctx, func(c *client.Client, key string) (wire.PaymentInfo, error) {
		return c.SetCost(ctx, p.AppID, wire.SetCostRequest{Revision: p.Revision, CostKopecks: k}, key)
	})
}

// AcceptContract accepts the contract offered for a, which moves it to
// awaiting payment.
func (w *Workspace) AcceptContract(ctx context.Context, a wire.Application, p wire.PaymentInfo) (wire.PaymentInfo, error) {
	if p.Contract == nil {
		return wire.PaymentInfo{}, wire.E(wire.CodeConflict, "contract_id", "Договор по заявлению ещё не направлен", "No contract has been offered yet")
	}
	return w.paymentCommand(ctx, func(c *client.Client, key string) (wire.PaymentInfo, error) {
		return c.AcceptContract(ctx, a.ID, wire.AcceptContractRequest{Version: a.Version, ContractID: p.Contract.ID}, key)
	})
}

// RecordPayment is a manager's entry of a payment: the amount in roubles
// as typed, the payment date and the payment order number.
func (w *Workspace) RecordPayment(ctx context.Context, appID int64, roubles string, paidOn wire.Date, order string) (wire.PaymentInfo, error) {
	k, err := parseRoubles(roubles, "amount_kopecks")
	if err != nil {
		return wire.PaymentInfo{}, err
	}
	order = strings.TrimSpace(order)
	if err := wire.ValidatePaymentInput(k, paidOn, order); err != nil {
		return wire.PaymentInfo{}, err
	}
	return w.paymentCommand(ctx, func(c *client.Client, key string) (wire.PaymentInfo, error) {
		return c.RecordPayment(ctx, appID, wire.RecordPaymentRequest{AmountKopecks: k, PaidOn: paidOn, OrderNumber: order}, key)
	})
}

// paymentCommand sends a command online with one idempotency key across
// network retries and keeps the answer in the Store.
func (w *Workspace) paymentCommand(ctx context.Context, do func(*client.Client, string) (wire.PaymentInfo, error)) (wire.PaymentInfo, error) {
	c, err := w.sess.client()
	if err != nil {
		return wire.PaymentInfo{}, err
	}
	key := client.NewIdempotencyKey()
	p, err := retryNetwork(ctx, func() (wire.PaymentInfo, error) { return do(c, key) })
	if err != nil {
		return wire.PaymentInfo{}, err
	}
	w.store.SetPaymentInfo(p)
	return p, nil
}

// DownloadContractDocument saves a contract, invoice or receipt PDF to
// dst, verified by its SHA-256 like any file (files.go): from the local
// cache when the copy there still hashes right, otherwise fetched and
// checked before dst appears.
func (w *Workspace) DownloadContractDocument(ctx context.Context, d wire.ContractDocument, dst string) error {
	if !d.Ready() {
		return wire.E(wire.CodeConflict, "sha256", "Документ ещё формируется — он появится сам через несколько секунд",
			"The document is still being prepared — it appears by itself in a few seconds")
	}
	if cached := w.cachedFile(d.SHA256); cached != "" {
		if err := copyVerified(cached, dst, d.SHA256); err == nil {
			return nil
		}
		_ = os.Remove(cached)
	}
	c, err := w.sess.client()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".download-*")
	if err != nil {
		return fmt.Errorf("save to %s: %w", dst, err)
	}
	defer os.Remove(tmp.Name())
	sum, err := c.ContractDocument(ctx, d.ID, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if errors.Is(err, client.ErrDigest) {
			return wire.E(wire.CodeInvalid, "file",
				"Полученный файл не совпадает с контрольной суммой на сервере; он не сохранён. Повторите загрузку.",
				"The received file does not match the server's checksum; it was not saved. Download it again.")
		}
		return fmt.Errorf("download %s: %w", d.Name, err)
	}
	if sum != d.SHA256 {
		return wire.E(wire.CodeInvalid, "file",
			"Документ на сервере отличается от известного клиенту; обновите вкладку «Оплата».",
			"The document on the server differs from what this client knows; reload the Payment tab.")
	}
	if dir := w.filesDir(); dir != "" {
		if err := copyVerified(tmp.Name(), filepath.Join(dir, sum), sum); err != nil {
			w.log.Warn("file cache not written", "err", err)
		}
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("save to %s: %w", dst, err)
	}
	return nil
}

// ParseRoubles reads an amount of roubles as people type it — spaces
// (also non-breaking) between groups, a comma or a dot before at most two
// kopeck digits, an optional «руб.» or «₽» — into kopecks, without floating
// point.
func ParseRoubles(s string) (int64, error) { return parseRoubles(s, "amount") }

// parseRoubles is ParseRoubles with its refusal on the named field.
func parseRoubles(s, field string) (int64, error) {
	bad := func() (int64, error) {
		return 0, wire.E(wire.CodeInvalid, field, "Сумма в рублях — например, 150 000 или 1 234,56", "An amount in roubles, e.g. 150 000 or 1 234.56")
	}
	s = strings.TrimSpace(s)
	for _, suffix := range []string{"₽", "руб.", "руб", "р."} {
		s = strings.TrimSpace(strings.TrimSuffix(s, suffix))
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '\u00a0' || r == '\u202f' {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return bad()
	}
	whole, frac, hasFrac := strings.Cut(strings.ReplaceAll(s, ",", "."), ".")
	if whole == "" || len(frac) > 2 || (hasFrac && frac == "") || strings.Contains(frac, ".") {
		return bad()
	}
	for _, part := range []string{whole, frac} {
		for _, r := range part {
			if r < '0' || r > '9' {
				return bad()
			}
		}
	}
	if len(whole) > 16 { // 10^16 roubles is above wire.MaxCostKopecks already
		return bad()
	}
	rub, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return bad()
	}
	kop := int64(0)
	if frac != "" {
		if len(frac) == 1 {
			frac += "0"
		}
		kop, _ = strconv.ParseInt(frac, 10, 64)
	}
	return rub*100 + kop, nil
}
