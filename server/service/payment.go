package service

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// Payee is the expertise office as it appears on contracts, invoices and
// receipts.
type Payee struct {
	Name          string `json:"name"`
	ShortName     string `json:"short_name"`
	INN           string `json:"inn"`
	KPP           string `json:"kpp"`
	OGRN          string `json:"ogrn"`
	Address       string `json:"address"`
	Bank          string `json:"bank"`
	BIK           string `json:"bik"`
	Account       string `json:"account"`      // расчётный счёт
	CorrAccount   string `json:"corr_account"` // корреспондентский счёт
	Signatory     string `json:"signatory"`    // who signs for the office
	SignatoryRole string `json:"signatory_role"`
	// Acting is how the contract names the signatory after «в лице»
	// (genitive, with the authority): «директора Петрова Ивана Ивановича,
	// действующего на основании Устава».
	Acting string `json:"acting"`
}

// DefaultPayee is a placeholder office for demos and tests; a deployment
// sets its own (expertiza-server serve --payee-file).
func DefaultPayee() Payee {
	return Payee{
		Name:      "Государственное автономное учреждение «Центр государственной экспертизы проектной документации»",
		ShortName: "ГАУ «Центр госэкспертизы»",
		INN:       "7710012345", KPP: "771001001", OGRN: "1027700012345",
		Address: "125009, г. Москва, ул. Тверская, д. 1",
		Bank:    "ПАО Сбербанк, г. Москва",
		BIK:     "044525225", Account: "40603810900000000001", CorrAccount: "30101810400000000225",
		Signatory: "И. И. Петров", SignatoryRole: "Директор",
		Acting: "директора Петрова Ивана Ивановича, действующего на основании Устава",
	}
}

// PaymentConfig configures payments.
type PaymentConfig struct {
	// Secret authenticates the payment gateway's callbacks (HMAC-SHA256 of
	// the timestamp and the raw body); empty refuses every callback.
	Secret []byte
	// Payee is printed on contracts, invoices and receipts; zero means
	// DefaultPayee.
	Payee Payee
}

// WithPayments sets the payment configuration.
func WithPayments(c PaymentConfig) Option {
	return func(s *Service) {
		if c.Payee == (Payee{}) {
			c.Payee = DefaultPayee()
		}
		s.payments = c
	}
}

func (s *Service) payee() Payee {
	if s.payments.Payee == (Payee{}) {
		return DefaultPayee()
	}
	return s.payments.Payee
}

// errGatewayAuth is every refusal of a callback's authentication; the
// detail says what to fix without revealing anything about the secret.
func errGatewayAuth(ru, en string) error { return wire.E(wire.CodeUnauthenticated, "", ru, en) }

// VerifyPaymentSignature authenticates a gateway callback: the timestamp
// header (Unix seconds) must be within wire.PaymentClockSkew of the server
// clock, and the signature header must be "v1=" and the hex HMAC-SHA256,
// keyed with the shared secret, of the timestamp, a dot and the raw body.
// The comparison takes constant time.
func (s *Service) VerifyPaymentSignature(body []byte, timestamp, signature string) error {
	if len(s.payments.Secret) == 0 {
		return errGatewayAuth("Приём уведомлений платёжного шлюза на сервере не настроен (нет общего секрета)",
			"The server does not accept payment gateway callbacks (no shared secret configured)")
	}
	ts, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return errGatewayAuth("Нет или неверен заголовок "+wire.HeaderPaymentTimestamp+" (время в секундах Unix)",
			"Missing or malformed "+wire.HeaderPaymentTimestamp+" header (Unix seconds)")
	}
	if d := s.now().Sub(time.Unix(ts, 0)); d > wire.PaymentClockSkew || d < -wire.PaymentClockSkew {
		return errGatewayAuth("Время уведомления отличается от времени сервера более чем на 5 минут: повторная доставка старого уведомления отклоняется",
			"The callback timestamp is more than 5 minutes from the server clock: replays of old callbacks are refused")
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(signature), wire.PaymentSignatureScheme)
	got, err := hex.DecodeString(hexSig)
	if !ok || err != nil || len(got) != sha256.Size {
		return errGatewayAuth("Нет или неверен заголовок "+wire.HeaderPaymentSignature+" (ожидается v1=<64 шестнадцатеричных символа>)",
			"Missing or malformed "+wire.HeaderPaymentSignature+" header (expected v1=<64 hex digits>)")
	}
	if !hmac.Equal(got, PaymentSignature(s.payments.Secret, timestamp, body)) {
		return errGatewayAuth("Подпись уведомления не совпадает: проверьте общий секрет и что подписано «время.тело» без изменений",
			"The callback signature does not match: check the shared secret and that \"timestamp.body\" is signed unchanged")
	}
	return nil
}

// PaymentSignature is the HMAC-SHA256 of timestamp + "." + body, the value
// the gateway sends hex-encoded after "v1=".
func PaymentSignature(secret []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strings.TrimSpace(timestamp)))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// validateCallback checks the gateway's fields.
func validateCallback(cb wire.PaymentCallback) error {
	id := strings.TrimSpace(cb.PaymentID)
	if id == "" || len(id) > 128 || strings.IndexFunc(id, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return wire.E(wire.CodeInvalid, "payment_id", "payment_id — непустой идентификатор платежа до 128 печатных символов",
			"payment_id must be a non-empty id of up to 128 printable characters")
	}
	if strings.TrimSpace(cb.InvoiceNumber) == "" {
		return wire.E(wire.CodeInvalid, "invoice_number", "Укажите номер счёта (invoice_number), по которому пришла оплата",
			"Give the invoice number (invoice_number) the payment is for")
	}
	if cb.PaidAt.IsZero() {
		return wire.E(wire.CodeInvalid, "paid_at", "Укажите время платежа (paid_at, RFC 3339)", "Give the payment time (paid_at, RFC 3339)")
	}
	return wire.ValidatePaymentInput(cb.AmountKopecks, wire.DateOf(cb.PaidAt), cb.OrderNumber)
}

// GatewayPayment records a payment the gateway reported (its signature
// already verified). A payment id seen before with the same body is a
// duplicate delivery: nothing changes and the answer says so; the same id
// with another body is a Conflict. bodySHA256 is the hex digest of the
// raw body.
func (s *Service) GatewayPayment(ctx context.Context, cb wire.PaymentCallback, bodySHA256, ip string) (wire.PaymentCallbackResponse, error) {
	if err := validateCallback(cb); err != nil {
		return wire.PaymentCallbackResponse{}, err
	}
	cb.PaymentID, cb.InvoiceNumber, cb.OrderNumber = strings.TrimSpace(cb.PaymentID), strings.TrimSpace(cb.InvoiceNumber), strings.TrimSpace(cb.OrderNumber)
	out, err := write(ctx, s, nil, func(tx *store.Tx) (wire.PaymentCallbackResponse, error) {
		c, err := tx.ContractByInvoice(ctx, cb.InvoiceNumber)
		if wire.ErrorCode(err) == wire.CodeNotFound {
			return wire.PaymentCallbackResponse{}, wire.E(wire.CodeNotFound, "invoice_number", "Счёт № "+cb.InvoiceNumber+" не найден",
				"Invoice "+cb.InvoiceNumber+" not found")
		}
		if err != nil {
			return wire.PaymentCallbackResponse{}, err
		}
		// The application's lock orders concurrent deliveries of one
		// payment: the second sees the first's row.
		a, err := tx.ApplicationForUpdate(ctx, c.AppID)
		if err != nil {
			return wire.PaymentCallbackResponse{}, err
		}
		if prev, err := tx.PaymentByGatewayID(ctx, cb.PaymentID); err == nil {
			if prev.BodySHA256 != bodySHA256 || prev.AppID != a.ID {
				return wire.PaymentCallbackResponse{}, wire.E(wire.CodeConflict, "payment_id",
					"Платёж "+cb.PaymentID+" уже зарегистрирован с другими сведениями", "Payment "+cb.PaymentID+" is already recorded with other details")
			}
			info, err := s.paymentInfo(ctx, tx.Q, a)
			if err != nil {
				return wire.PaymentCallbackResponse{}, err
			}
			return wire.PaymentCallbackResponse{PaymentID: prev.ID, Duplicate: true, AppStatus: a.Status, BalanceLeft: info.BalanceKopecks}, nil
		} else if wire.ErrorCode(err) != wire.CodeNotFound {
			return wire.PaymentCallbackResponse{}, err
		}
		id, err := s.applyPayment(ctx, tx, a, c, store.NewPayment{Amount: cb.AmountKopecks, PaidOn: wire.DateOf(cb.PaidAt),
			OrderNumber: cb.OrderNumber, Source: wire.PaymentGateway, GatewayID: cb.PaymentID, BodySHA256: bodySHA256,
			RecordedByName: "Платёжный шлюз"}, wire.Actor{System: true}, 0, "payment-gateway", ip)
		if err != nil {
			return wire.PaymentCallbackResponse{}, err
		}
		if a, err = tx.Application(ctx, a.ID); err != nil {
			return wire.PaymentCallbackResponse{}, err
		}
		info, err := s.paymentInfo(ctx, tx.Q, a)
		if err != nil {
			return wire.PaymentCallbackResponse{}, err
		}
		return wire.PaymentCallbackResponse{PaymentID: id, AppStatus: a.Status, BalanceLeft: info.BalanceKopecks}, nil
	})
	if err == nil && !out.Duplicate {
		s.kickContractDocs()
	}
	return out, err
}

// RecordManualPayment is a manager's entry of a payment from a bank
// statement.
func (s *Service) RecordManualPayment(ctx context.Context, p *Principal, appID int64, r wire.RecordPaymentRequest) (wire.PaymentInfo, error) {
	if err := requireFull(p); err != nil {
		return wire.PaymentInfo{}, err
	}
	r.OrderNumber = strings.TrimSpace(r.OrderNumber)
	info, err := write(ctx, s, p, func(tx *store.Tx) (wire.PaymentInfo, error) {
		a, err := s.loadVisible(ctx, tx.Q, p, appID, tx)
		if err != nil {
			return wire.PaymentInfo{}, err
		}
		if p.Role != wire.RoleManager {
			return wire.PaymentInfo{}, errForbidden("Платежи регистрирует менеджер", "Only a manager records payments")
		}
		if err := wire.ValidatePaymentInput(r.AmountKopecks, r.PaidOn, r.OrderNumber); err != nil {
			return wire.PaymentInfo{}, err
		}
		if r.PaidOn.After(wire.DateOf(tx.Now())) {
			return wire.PaymentInfo{}, wire.E(wire.CodeInvalid, "paid_on", "Дата платежа не может быть позже сегодняшней", "The payment date cannot be in the future")
		}
		c, err := tx.ContractByApp(ctx, appID)
		if wire.ErrorCode(err) == wire.CodeNotFound {
			return wire.PaymentInfo{}, wire.E(wire.CodeConflict, "contract", "По заявлению ещё не направлен договор — платёж не к чему отнести",
				"No contract has been offered for this application — the payment has nothing to pay")
		}
		if err != nil {
			return wire.PaymentInfo{}, err
		}
		act, err := s.actorFor(ctx, tx.Q, p, a)
		if err != nil {
			return wire.PaymentInfo{}, err
		}
		if _, err := s.applyPayment(ctx, tx, a, c, store.NewPayment{Amount: r.AmountKopecks, PaidOn: r.PaidOn, OrderNumber: r.OrderNumber,
			Source: wire.PaymentManual, RecordedBy: p.UserID, RecordedByName: p.Name}, act, p.UserID, p.Login, p.IP); err != nil {
			return wire.PaymentInfo{}, err
		}
		if a, err = tx.Application(ctx, appID); err != nil {
			return wire.PaymentInfo{}, err
		}
		return s.paymentInfo(ctx, tx.Q, a)
	})
	if err == nil {
		s.kickContractDocs()
	}
	return info, err
}

// RecordPayment records a gateway payment of whatever the application
// still owes, with reference as the gateway's payment id (the demo data
// and administrative tools use it); an application without a contract is
// just moved on, as before contracts existed.
func (s *Service) RecordPayment(ctx context.Context, id int64, reference, ip string) (wire.Application, error) {
	out, err := write(ctx, s, nil, func(tx *store.Tx) (wire.Application, error) {
		a, err := tx.ApplicationForUpdate(ctx, id)
		if err != nil {
			return wire.Application{}, err
		}
		c, err := tx.ContractByApp(ctx, id)
		if wire.ErrorCode(err) == wire.CodeNotFound {
			return s.transition(ctx, tx, a, wire.Actor{System: true}, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusInReview,
				Comment: "Оплата получена: " + reference}, 0, "Платёжный шлюз", "payment-gateway", ip)
		}
		if err != nil {
			return wire.Application{}, err
		}
		info, err := s.paymentInfo(ctx, tx.Q, a)
		if err != nil {
			return wire.Application{}, err
		}
		if info.BalanceKopecks <= 0 {
			return wire.Application{}, wire.E(wire.CodeConflict, "", "Счёт уже оплачен", "The invoice is already paid")
		}
		sum := sha256.Sum256([]byte(reference))
		if _, err := s.applyPayment(ctx, tx, a, c, store.NewPayment{Amount: info.BalanceKopecks, PaidOn: wire.DateOf(tx.Now()),
			OrderNumber: reference, Source: wire.PaymentGateway, GatewayID: reference, BodySHA256: hex.EncodeToString(sum[:]),
			RecordedByName: "Платёжный шлюз"}, wire.Actor{System: true}, 0, "payment-gateway", ip); err != nil {
			return wire.Application{}, err
		}
		a, err = tx.Application(ctx, id)
		if err != nil {
			return wire.Application{}, err
		}
		return s.present(a), nil
	})
	if err == nil {
		s.kickContractDocs()
	}
	return out, err
}

// applyPayment writes a payment and its pending receipt, moves the
// application to in_review when the payments now cover the invoice, and
// announces the new payment picture. a must be locked by the caller.
func (s *Service) applyPayment(ctx context.Context, tx *store.Tx, a *store.AppRow, c *wire.Contract, np store.NewPayment,
	act wire.Actor, actorID int64, actorLogin, ip string) (int64, error) {
	receipt, err := tx.NextContractNumber(ctx, prefixReceipt, wire.DateOf(tx.Now()).Year)
	if err != nil {
		return 0, err
	}
	np.AppID, np.ContractID, np.ReceiptNumber = a.ID, c.ID, receipt
	id, err := tx.InsertPayment(ctx, np)
	if err != nil {
		return 0, err
	}
	if _, err := tx.InsertContractDocument(ctx, a.ID, c.ID, id, wire.DocReceipt); err != nil {
		return 0, err
	}
	tx.Audit(store.AuditEntry{ActorID: actorID, ActorLogin: actorLogin, IP: ip, Action: "payment_record", ObjectType: "payment", ObjectID: itoa(id),
		Details: map[string]any{"app": a.ID, "contract": c.Number, "amount_kopecks": np.Amount, "paid_on": np.PaidOn.String(),
			"order": np.OrderNumber, "source": np.Source, "gateway_id": np.GatewayID}})
	if err := s.startReviewIfPaid(ctx, tx, a, act, actorID, np.RecordedByName, actorLogin, ip); err != nil {
		return 0, err
	}
	if a, err = tx.Application(ctx, a.ID); err != nil {
		return 0, err
	}
	if _, err := s.emitPayment(ctx, tx, a); err != nil {
		return 0, err
	}
	return id, nil
}

// startReviewIfPaid moves an application awaiting payment to in_review
// (starting the review clock) when its payments cover the invoice; a
// partial payment leaves the status as it is.
func (s *Service) startReviewIfPaid(ctx context.Context, tx *store.Tx, a *store.AppRow, act wire.Actor, actorID int64, actorName, actorLogin, ip string) error {
	if a.Status != wire.StatusAwaitingPayment {
		return nil
	}
	info, err := s.paymentInfo(ctx, tx.Q, a)
	if err != nil || info.Contract == nil || info.BalanceKopecks > 0 {
		return err
	}
	comment := "Оплата получена: " + wire.FormatKopecks(info.PaidKopecks) + " руб. по счёту № " + info.Contract.InvoiceNumber
	if over := info.Overpaid(); over > 0 {
		comment += " (переплата " + wire.FormatKopecks(over) + " руб.)"
	}
	_, err = s.transition(ctx, tx, a, act, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusInReview, Comment: comment},
		actorID, actorName, actorLogin, ip)
	return err
}
