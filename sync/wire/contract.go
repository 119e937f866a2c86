package wire

import (
	"fmt"
	"strings"
	"time"
)

// Contract and payment (DESIGN.md §1: awaiting_contract → awaiting_payment
// → in_review). Money is always an integer number of kopecks.

// EventContract carries the whole payment picture of one application
// (PaymentInfo): sent when the declared cost is set, the contract is
// offered, accepted or cancelled, a document is rendered and a payment is
// recorded. Applicants of the organisation, managers and administrators
// receive it; experts do not.
const EventContract EventKind = "contract"

// VATPercent is the VAT rate applied to the fee (НДС 20 %).
const VATPercent = 20

// MaxCostKopecks bounds a declared construction cost (10 trillion
// roubles): far above any real object, low enough that the fee arithmetic
// cannot overflow.
const MaxCostKopecks = 1_000_000_000_000_000

// ContractStatus is where an offered contract stands.
type ContractStatus string

const (
	ContractOffered   ContractStatus = "offered"   // sent to the applicant, not yet accepted
	ContractAccepted  ContractStatus = "accepted"  // the applicant accepted it (who and when recorded)
	ContractCancelled ContractStatus = "cancelled" // the application was withdrawn before acceptance
)

// Label is the Russian label.
func (s ContractStatus) Label() string {
	switch s {
	case ContractOffered:
		return "Направлен заявителю"
	case ContractAccepted:
		return "Принят заявителем"
	case ContractCancelled:
		return "Аннулирован"
	}
	return string(s)
}

// ContractDocKind names a contract PDF.
type ContractDocKind string

const (
	DocContract ContractDocKind = "contract" // договор
	DocInvoice  ContractDocKind = "invoice"  // счёт на оплату
	DocReceipt  ContractDocKind = "receipt"  // квитанция о поступлении платежа
)

// ContractDocument is one PDF of a contract. SHA256 is empty while the
// server is still rendering it (an EventContract announces it when done).
type ContractDocument struct {
	ID     int64           `json:"id"`
	Kind   ContractDocKind `json:"kind"`
	Name   string          `json:"name"` // file name to save it under
	SHA256 string          `json:"sha256,omitempty"`
	Size   int64           `json:"size,omitempty"`
}

// Ready reports whether the document can be downloaded.
func (d ContractDocument) Ready() bool { return d.SHA256 != "" }

// TariffRow is one bracket of the tariff: for declared costs from
// CostFromKopecks up to the next row's, the fee without VAT is
// BaseKopecks + (cost − CostFromKopecks) × RatePPM / 1 000 000, rounded
// half up to the kopeck (docs/tariff.md).
type TariffRow struct {
	Kind            ExpertiseKind `json:"kind"`
	CostFromKopecks int64         `json:"cost_from_kopecks"`
	BaseKopecks     int64         `json:"base_kopecks"`
	RatePPM         int64         `json:"rate_ppm"` // parts per million of the cost above CostFromKopecks
}

// Tariff is the whole table with its version.
type Tariff struct {
	Rows          []TariffRow `json:"rows"`
	Version       int64       `json:"version"`
	UpdatedAt     time.Time   `json:"updated_at"`
	UpdatedByName string      `json:"updated_by_name,omitempty"`
}

// SetTariffRequest replaces the tariff table the caller saw at Version.
type SetTariffRequest struct {
	Version int64       `json:"version"`
	Rows    []TariffRow `json:"rows"`
}

// FeeQuote is the fee the tariff gives for a cost.
type FeeQuote struct {
	CostKopecks  int64     `json:"cost_kopecks"` // the cost used (0 when none was declared)
	Declared     bool      `json:"declared"`     // false: no cost declared, the bracket's base fee applies
	Row          TariffRow `json:"row"`
	FeeKopecks   int64     `json:"fee_kopecks"` // without VAT
	VATKopecks   int64     `json:"vat_kopecks"`
	TotalKopecks int64     `json:"total_kopecks"`
}

// Contract is the contract offered for one application, with its invoice.
type Contract struct {
	ID             int64          `json:"id"`
	AppID          int64          `json:"app_id"`
	Number         string         `json:"number"`         // Д-2026-000001
	InvoiceNumber  string         `json:"invoice_number"` // С-2026-000001
	Status         ContractStatus `json:"status"`
	Quote          FeeQuote       `json:"quote"`
	OfferedAt      time.Time      `json:"offered_at"`
	AcceptedAt     *time.Time     `json:"accepted_at,omitempty"`
	AcceptedBy     int64          `json:"accepted_by,omitempty"`
	AcceptedByName string         `json:"accepted_by_name,omitempty"`
	// Documents are the contract and the invoice, in that order.
	Documents []ContractDocument `json:"documents"`
}

// Document returns the contract's PDF of kind k.
func (c Contract) Document(k ContractDocKind) (ContractDocument, bool) {
	for _, d := range c.Documents {
		if d.Kind == k {
			return d, true
		}
	}
	return ContractDocument{}, false
}

// PaymentSource says who recorded a payment.
type PaymentSource string

const (
	PaymentManual  PaymentSource = "manual"  // entered by a manager from a bank statement
	PaymentGateway PaymentSource = "gateway" // reported by the payment gateway's callback
)

// Payment is money received for a contract.
type Payment struct {
	ID             int64            `json:"id"`
	AppID          int64            `json:"app_id"`
	ContractID     int64            `json:"contract_id"`
	AmountKopecks  int64            `json:"amount_kopecks"`
	PaidOn         Date             `json:"paid_on"`
	OrderNumber    string           `json:"order_number,omitempty"` // платёжное поручение №
	Source         PaymentSource    `json:"source"`
	GatewayID      string           `json:"gateway_id,omitempty"`
	RecordedByName string           `json:"recorded_by_name"`
	CreatedAt      time.Time        `json:"created_at"`
	ReceiptNumber  string           `json:"receipt_number"`
	Receipt        ContractDocument `json:"receipt"`
}

// PaymentInfo is the payment side of one application, what the «Оплата»
// tab shows.
type PaymentInfo struct {
	AppID int64 `json:"app_id"`
	// Revision grows with every change; a client keeps the highest it saw,
	// and SetCostRequest names it.
	Revision int64 `json:"revision"`
	// CostKopecks is the declared estimated construction cost (0: none).
	CostKopecks   int64      `json:"cost_kopecks,omitempty"`
	CostSetByName string     `json:"cost_set_by_name,omitempty"`
	CostSetAt     *time.Time `json:"cost_set_at,omitempty"`
	// Quote is the fee the current tariff gives for the declared cost
	// (what a contract offered now would say); the contract keeps its own.
	Quote    FeeQuote  `json:"quote"`
	Contract *Contract `json:"contract,omitempty"`
	Payments []Payment `json:"payments"`
	// PaidKopecks is the sum of the payments; BalanceKopecks what remains
	// to pay (negative: overpaid by that much). Both 0 without a contract.
	PaidKopecks    int64 `json:"paid_kopecks"`
	BalanceKopecks int64 `json:"balance_kopecks"`
}

// Overpaid is the amount paid above the invoice, 0 if none.
func (p PaymentInfo) Overpaid() int64 { return max(0, -p.BalanceKopecks) }

// SetCostRequest declares the estimated construction cost the fee is
// computed from, naming the PaymentInfo revision the caller saw.
type SetCostRequest struct {
	Revision    int64 `json:"revision"`
	CostKopecks int64 `json:"cost_kopecks"`
}

// AcceptContractRequest accepts the offered contract ContractID; Version
// is the application's version, as for any transition.
type AcceptContractRequest struct {
	Version    int64 `json:"version"`
	ContractID int64 `json:"contract_id"`
}

// RecordPaymentRequest is a manager's entry of a payment from a bank
// statement.
type RecordPaymentRequest struct {
	AmountKopecks int64  `json:"amount_kopecks"`
	PaidOn        Date   `json:"paid_on"`
	OrderNumber   string `json:"order_number"`
}

// Payment gateway callback (docs/payment-callback.md).
const (
	HeaderPaymentTimestamp = "X-Expertiza-Timestamp"
	HeaderPaymentSignature = "X-Expertiza-Signature"
	// PaymentSignatureScheme prefixes the hex HMAC in the signature header.
	PaymentSignatureScheme = "v1="
	// PaymentClockSkew is how far a callback's timestamp may be from the
	// server's clock; older deliveries are refused as possible replays.
	PaymentClockSkew = 5 * time.Minute
)

// PaymentCallback is the body the payment gateway posts.
type PaymentCallback struct {
	PaymentID     string    `json:"payment_id"`     // the gateway's id, unique per payment
	InvoiceNumber string    `json:"invoice_number"` // С-2026-000001, from the invoice
	AmountKopecks int64     `json:"amount_kopecks"`
	PaidAt        time.Time `json:"paid_at"`
	OrderNumber   string    `json:"order_number,omitempty"`
	PayerINN      string    `json:"payer_inn,omitempty"`
}

// PaymentCallbackResponse answers the gateway.
type PaymentCallbackResponse struct {
	PaymentID   int64  `json:"payment_id"`
	Duplicate   bool   `json:"duplicate"` // this payment id was recorded before; nothing changed
	AppStatus   Status `json:"app_status"`
	BalanceLeft int64  `json:"balance_kopecks"`
}

// ValidatePaymentInput checks what a manager or the gateway reports.
func ValidatePaymentInput(amount int64, paidOn Date, orderNumber string) error {
	if amount <= 0 {
		return E(CodeInvalid, "amount_kopecks", "Сумма платежа должна быть больше нуля (в копейках)", "The amount must be positive (in kopecks)")
	}
	if amount > MaxCostKopecks {
		return E(CodeInvalid, "amount_kopecks", "Сумма платежа неправдоподобно велика — проверьте, что она указана в копейках", "The amount is implausibly large — check it is in kopecks")
	}
	if paidOn.IsZero() {
		return E(CodeInvalid, "paid_on", "Укажите дату платежа", "Give the payment date")
	}
	if len([]rune(orderNumber)) > 64 {
		return E(CodeInvalid, "order_number", "Номер платёжного поручения длиннее 64 символов", "The payment order number is over 64 characters")
	}
	return nil
}

// ValidateCost checks a declared construction cost.
func ValidateCost(kopecks int64) error {
	if kopecks <= 0 {
		return E(CodeInvalid, "cost_kopecks", "Сметная стоимость строительства должна быть больше нуля", "The construction cost must be positive")
	}
	if kopecks > MaxCostKopecks {
		return E(CodeInvalid, "cost_kopecks", "Сметная стоимость неправдоподобно велика — проверьте единицы (копейки)", "The cost is implausibly large — check the units (kopecks)")
	}
	return nil
}

// ValidateTariff checks a whole tariff table: every expertise kind has a
// bracket starting at 0, brackets of a kind are distinct, rates are at most
// 100 % and amounts within bounds. It returns the first fault.
func ValidateTariff(rows []TariffRow) error {
	seen := map[ExpertiseKind]map[int64]bool{}
	for i, r := range rows {
		field := fmt.Sprintf("rows[%d]", i)
		if !r.Kind.Valid() {
			return E(CodeInvalid, field+".kind", fmt.Sprintf("Строка %d: неизвестный предмет экспертизы %q", i+1, r.Kind),
				fmt.Sprintf("Row %d: unknown expertise kind %q", i+1, r.Kind))
		}
		if r.CostFromKopecks < 0 || r.CostFromKopecks > MaxCostKopecks {
			return E(CodeInvalid, field+".cost_from_kopecks", fmt.Sprintf("Строка %d: нижняя граница стоимости вне допустимого диапазона", i+1),
				fmt.Sprintf("Row %d: the lower cost bound is out of range", i+1))
		}
		if r.BaseKopecks < 0 || r.BaseKopecks > MaxCostKopecks {
			return E(CodeInvalid, field+".base_kopecks", fmt.Sprintf("Строка %d: базовая ставка вне допустимого диапазона", i+1),
				fmt.Sprintf("Row %d: the base fee is out of range", i+1))
		}
		if r.RatePPM < 0 || r.RatePPM > 1_000_000 {
			return E(CodeInvalid, field+".rate_ppm", fmt.Sprintf("Строка %d: ставка — от 0 до 1 000 000 миллионных долей (0–100 %%)", i+1),
				fmt.Sprintf("Row %d: the rate is 0 to 1,000,000 parts per million (0–100 %%)", i+1))
		}
		if seen[r.Kind] == nil {
			seen[r.Kind] = map[int64]bool{}
		}
		if seen[r.Kind][r.CostFromKopecks] {
			return E(CodeInvalid, field+".cost_from_kopecks", fmt.Sprintf("Строка %d: для «%s» уже есть интервал с той же нижней границей", i+1, r.Kind.Label()),
				fmt.Sprintf("Row %d: %s already has a bracket with this lower bound", i+1, r.Kind))
		}
		seen[r.Kind][r.CostFromKopecks] = true
	}
	var missing []string
	for _, k := range AllExpertiseKinds {
		if !seen[k][0] {
			missing = append(missing, "«"+k.Label()+"»")
		}
	}
	if len(missing) > 0 {
		return E(CodeInvalid, "rows", "Нет интервала, начинающегося с нуля, для: "+strings.Join(missing, ", "),
			"Every expertise kind needs a bracket starting at 0")
	}
	return nil
}

// AllExpertiseKinds lists every expertise kind.
var AllExpertiseKinds = []ExpertiseKind{KindProjectDocs, KindSurveys, KindProjectDocsAndSurvey, KindEstimate}

// Label is the Russian name of an expertise kind.
func (k ExpertiseKind) Label() string {
	switch k {
	case KindProjectDocs:
		return "Проектная документация"
	case KindSurveys:
		return "Результаты инженерных изысканий"
	case KindProjectDocsAndSurvey:
		return "Проектная документация и результаты инженерных изысканий"
	case KindEstimate:
		return "Проверка достоверности сметной стоимости"
	}
	return string(k)
}
