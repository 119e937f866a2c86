package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/expertiza/expertiza/sync/wire"
)

// --- tariff ---

// Tariff reads the tariff table, sorted.
func (q Q) Tariff(ctx context.Context) (wire.Tariff, error) {
	var t wire.Tariff
	err := q.q.QueryRow(ctx, `SELECT m.version, m.updated_at, coalesce(u.full_name, '')
		FROM tariff_meta m LEFT JOIN users u ON u.id = m.updated_by WHERE m.id = 1`).Scan(&t.Version, &t.UpdatedAt, &t.UpdatedByName)
	if err != nil {
		return t, mapErr(err, "tariff meta")
	}
	rows, err := q.q.Query(ctx, `SELECT expertise_kind, cost_from_kopecks, base_kopecks, rate_ppm FROM tariff_rows`)
	if err != nil {
		return t, mapErr(err, "tariff rows")
	}
	t.Rows, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (wire.TariffRow, error) {
		var x wire.TariffRow
		var kind string
		err := r.Scan(&kind, &x.CostFromKopecks, &x.BaseKopecks, &x.RatePPM)
		x.Kind = wire.ExpertiseKind(kind)
		return x, err
	})
	if err != nil {
		return t, mapErr(err, "tariff rows")
	}
	wire.SortTariff(t.Rows)
	return t, nil
}

// ReplaceTariff swaps the whole table if it is still at version; a stale
// version is a Conflict carrying the current one.
func (t *Tx) ReplaceTariff(ctx context.Context, rows []wire.TariffRow, version, by int64) error {
	var cur int64
	if err := t.q.QueryRow(ctx, `SELECT version FROM tariff_meta WHERE id = 1 FOR UPDATE`).Scan(&cur); err != nil {
		return mapErr(err, "lock tariff")
	}
	if cur != version {
		e := wire.E(wire.CodeConflict, "version", "Тариф уже изменён другим администратором — обновите его и повторите",
			"The tariff was changed by someone else — reload it and try again")
		e.Current = cur
		return e
	}
	if _, err := t.q.Exec(ctx, `DELETE FROM tariff_rows`); err != nil {
		return mapErr(err, "clear tariff")
	}
	for _, r := range rows {
		if _, err := t.q.Exec(ctx, `INSERT INTO tariff_rows (expertise_kind, cost_from_kopecks, base_kopecks, rate_ppm) VALUES ($1,$2,$3,$4)`,
			string(r.Kind), r.CostFromKopecks, r.BaseKopecks, r.RatePPM); err != nil {
			return mapErr(err, "insert tariff row")
		}
	}
	_, err := t.q.Exec(ctx, `UPDATE tariff_meta SET version = version + 1, updated_by = $1, updated_at = $2 WHERE id = 1`, nullID(by), t.now)
	return mapErr(err, "bump tariff version")
}

// --- the payment account of an application ---

// PaymentAccount is the declared cost and revision of one application's
// payment side; Revision 0 means nothing was recorded yet.
type PaymentAccount struct {
	CostKopecks   int64
	CostSetByName string
	CostSetAt     *time.Time
	Revision      int64
}

// PaymentAccount reads an application's account (zero when absent).
func (q Q) PaymentAccount(ctx context.Context, appID int64) (PaymentAccount, error) {
	var a PaymentAccount
	var cost *int64
	err := q.q.QueryRow(ctx, `SELECT cost_kopecks, cost_set_by_name, cost_set_at, revision FROM payment_accounts WHERE app_id = $1`, appID).
		Scan(&cost, &a.CostSetByName, &a.CostSetAt, &a.Revision)
	if errors.Is(err, pgx.ErrNoRows) {
		return PaymentAccount{}, nil
	}
	if cost != nil {
		a.CostKopecks = *cost
	}
	return a, mapErr(err, "payment account")
}

// SetCost records the declared cost if the account is still at revision
// (0 for one never written) and bumps the revision.
func (t *Tx) SetCost(ctx context.Context, appID, cost, revision, by int64, byName string) (int64, error) {
	var cur int64
	err := t.q.QueryRow(ctx, `SELECT revision FROM payment_accounts WHERE app_id = $1 FOR UPDATE`, appID).Scan(&cur)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, mapErr(err, "lock payment account")
	}
	if cur != revision {
		e := wire.E(wire.CodeConflict, "revision", "Сведения об оплате уже изменены — обновите вкладку «Оплата» и повторите",
			"The payment details were changed meanwhile — reload the Payment tab and try again")
		e.Current = cur
		return 0, e
	}
	var rev int64
	err = t.q.QueryRow(ctx, `INSERT INTO payment_accounts (app_id, cost_kopecks, cost_set_by, cost_set_by_name, cost_set_at, revision)
		VALUES ($1,$2,$3,$4,$5,1)
		ON CONFLICT (app_id) DO UPDATE SET cost_kopecks = $2, cost_set_by = $3, cost_set_by_name = $4, cost_set_at = $5,
			revision = payment_accounts.revision + 1
		RETURNING revision`, appID, cost, nullID(by), byName, t.now).Scan(&rev)
	return rev, mapErr(err, "set cost")
}

// BumpPaymentRevision marks a change of an application's payment side.
func (t *Tx) BumpPaymentRevision(ctx context.Context, appID int64) (int64, error) {
	var rev int64
	err := t.q.QueryRow(ctx, `INSERT INTO payment_accounts (app_id) VALUES ($1)
		ON CONFLICT (app_id) DO UPDATE SET revision = payment_accounts.revision + 1 RETURNING revision`, appID).Scan(&rev)
	return rev, mapErr(err, "bump payment revision")
}

// NextContractNumber allocates <prefix>-<year>-<NNNNNN>, numbered per
// prefix and year.
func (t *Tx) NextContractNumber(ctx context.Context, prefix string, year int) (string, error) {
	var n int
	err := t.q.QueryRow(ctx, `INSERT INTO contract_numbers (prefix, year, last) VALUES ($1, $2, 1)
		ON CONFLICT (prefix, year) DO UPDATE SET last = contract_numbers.last + 1 RETURNING last`, prefix, year).Scan(&n)
	if err != nil {
		return "", mapErr(err, "allocate "+prefix+" number")
	}
	return fmt.Sprintf("%s-%d-%06d", prefix, year, n), nil
}

// --- contracts ---

// NewContract is what InsertContract stores.
type NewContract struct {
	AppID                 int64
	Number, InvoiceNumber string
	Quote                 wire.FeeQuote
	OfferedBy             int64
}

// InsertContract records an offered contract.
func (t *Tx) InsertContract(ctx context.Context, c NewContract) (int64, error) {
	var cost *int64
	if c.Quote.Declared {
		cost = &c.Quote.CostKopecks
	}
	var id int64
	err := t.q.QueryRow(ctx, `INSERT INTO contracts (app_id, number, invoice_number, status, cost_kopecks, tariff_from, tariff_base,
		tariff_rate_ppm, fee_kopecks, vat_kopecks, total_kopecks, offered_by, offered_at)
		VALUES ($1,$2,$3,'offered',$4,$5,$6,$7,$8,$9,$10,$11,$12) RETURNING id`,
		c.AppID, c.Number, c.InvoiceNumber, cost, c.Quote.Row.CostFromKopecks, c.Quote.Row.BaseKopecks, c.Quote.Row.RatePPM,
		c.Quote.FeeKopecks, c.Quote.VATKopecks, c.Quote.TotalKopecks, nullID(c.OfferedBy), t.now).Scan(&id)
	return id, mapErr(err, "insert contract")
}

const contractCols = `c.id, c.app_id, c.number, c.invoice_number, c.status, c.cost_kopecks, c.tariff_from, c.tariff_base, c.tariff_rate_ppm,
	c.fee_kopecks, c.vat_kopecks, c.total_kopecks, c.offered_at, c.accepted_at, coalesce(c.accepted_by, 0), c.accepted_by_name,
	a.expertise_kind`

func scanContract(row pgx.Row) (*wire.Contract, error) {
	var c wire.Contract
	var status, kind string
	var cost *int64
	err := row.Scan(&c.ID, &c.AppID, &c.Number, &c.InvoiceNumber, &status, &cost, &c.Quote.Row.CostFromKopecks, &c.Quote.Row.BaseKopecks,
		&c.Quote.Row.RatePPM, &c.Quote.FeeKopecks, &c.Quote.VATKopecks, &c.Quote.TotalKopecks, &c.OfferedAt, &c.AcceptedAt,
		&c.AcceptedBy, &c.AcceptedByName, &kind)
	if err != nil {
		return nil, err
	}
	c.Status, c.Quote.Row.Kind = wire.ContractStatus(status), wire.ExpertiseKind(kind)
	if cost != nil {
		c.Quote.CostKopecks, c.Quote.Declared = *cost, true
	}
	c.Documents = []wire.ContractDocument{}
	return &c, nil
}

// ContractByApp reads an application's contract (NotFound when none).
func (q Q) ContractByApp(ctx context.Context, appID int64) (*wire.Contract, error) {
	c, err := scanContract(q.q.QueryRow(ctx, `SELECT `+contractCols+` FROM contracts c JOIN applications a ON a.id = c.app_id WHERE c.app_id = $1`, appID))
	return c, mapErr(err, "contract")
}

// ContractByInvoice finds the contract an invoice number belongs to
// (NotFound when none).
func (q Q) ContractByInvoice(ctx context.Context, invoice string) (*wire.Contract, error) {
	c, err := scanContract(q.q.QueryRow(ctx, `SELECT `+contractCols+` FROM contracts c JOIN applications a ON a.id = c.app_id
		WHERE c.invoice_number = $1`, invoice))
	return c, mapErr(err, "contract by invoice")
}

// ContractByID reads one contract.
func (q Q) ContractByID(ctx context.Context, id int64) (*wire.Contract, error) {
	c, err := scanContract(q.q.QueryRow(ctx, `SELECT `+contractCols+` FROM contracts c JOIN applications a ON a.id = c.app_id WHERE c.id = $1`, id))
	return c, mapErr(err, "contract")
}

// AcceptContract records the applicant's acceptance of an offered
// contract; it reports false when the contract was not in offered.
func (t *Tx) AcceptContract(ctx context.Context, id, by int64, byName string) (bool, error) {
	tag, err := t.q.Exec(ctx, `UPDATE contracts SET status = 'accepted', accepted_by = $2, accepted_by_name = $3, accepted_at = $4
		WHERE id = $1 AND status = 'offered'`, id, nullID(by), byName, t.now)
	if err != nil {
		return false, mapErr(err, "accept contract")
	}
	return tag.RowsAffected() == 1, nil
}

// CancelContract marks an offered contract cancelled.
func (t *Tx) CancelContract(ctx context.Context, id int64) (bool, error) {
	tag, err := t.q.Exec(ctx, `UPDATE contracts SET status = 'cancelled' WHERE id = $1 AND status = 'offered'`, id)
	if err != nil {
		return false, mapErr(err, "cancel contract")
	}
	return tag.RowsAffected() == 1, nil
}

// --- payments ---

// NewPayment is what InsertPayment stores.
type NewPayment struct {
	AppID, ContractID int64
	Amount            int64
	PaidOn            wire.Date
	OrderNumber       string
	Source            wire.PaymentSource
	GatewayID         string // gateway payments only
	BodySHA256        string // the gateway's body, to tell a replay from a reused id
	ReceiptNumber     string
	RecordedBy        int64
	RecordedByName    string
}

// InsertPayment records a payment; a gateway payment id already recorded
// is a Conflict on field payment_id.
func (t *Tx) InsertPayment(ctx context.Context, p NewPayment) (int64, error) {
	var gid *string
	if p.GatewayID != "" {
		gid = &p.GatewayID
	}
	var id int64
	err := t.q.QueryRow(ctx, `INSERT INTO payments (app_id, contract_id, amount_kopecks, paid_on, order_number, source, gateway_payment_id,
		gateway_body_sha256, receipt_number, recorded_by, recorded_by_name, created_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) RETURNING id`,
		p.AppID, p.ContractID, p.Amount, p.PaidOn.Time(), p.OrderNumber, string(p.Source), gid, p.BodySHA256, p.ReceiptNumber,
		nullID(p.RecordedBy), p.RecordedByName, t.now).Scan(&id)
	if IsUniqueViolation(err, "payments_gateway_payment_id_key") {
		return 0, wire.E(wire.CodeConflict, "payment_id", "Платёж с этим идентификатором уже зарегистрирован", "A payment with this id is already recorded")
	}
	return id, mapErr(err, "insert payment")
}

// GatewayPayment is a recorded gateway payment found by its id.
type GatewayPayment struct {
	ID, AppID  int64
	BodySHA256 string
}

// PaymentByGatewayID finds a gateway payment (NotFound when none).
func (q Q) PaymentByGatewayID(ctx context.Context, gid string) (GatewayPayment, error) {
	var g GatewayPayment
	err := q.q.QueryRow(ctx, `SELECT id, app_id, gateway_body_sha256 FROM payments WHERE gateway_payment_id = $1`, gid).
		Scan(&g.ID, &g.AppID, &g.BodySHA256)
	return g, mapErr(err, "payment by gateway id")
}

// Payments lists an application's payments, oldest first, each with its
// receipt document (names are the service's to fill).
func (q Q) Payments(ctx context.Context, appID int64) ([]wire.Payment, error) {
	rows, err := q.q.Query(ctx, `SELECT p.id, p.app_id, p.contract_id, p.amount_kopecks, p.paid_on, p.order_number, p.source,
		coalesce(p.gateway_payment_id, ''), p.recorded_by_name, p.created_at, p.receipt_number,
		coalesce(d.id, 0), coalesce(d.sha256, ''), coalesce(d.size, 0)
		FROM payments p LEFT JOIN contract_documents d ON d.payment_id = p.id AND d.kind = 'receipt'
		WHERE p.app_id = $1 ORDER BY p.id`, appID)
	if err != nil {
		return nil, mapErr(err, "payments")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (wire.Payment, error) {
		var p wire.Payment
		var paid time.Time
		var src string
		err := r.Scan(&p.ID, &p.AppID, &p.ContractID, &p.AmountKopecks, &paid, &p.OrderNumber, &src, &p.GatewayID, &p.RecordedByName,
			&p.CreatedAt, &p.ReceiptNumber, &p.Receipt.ID, &p.Receipt.SHA256, &p.Receipt.Size)
		p.PaidOn, p.Source, p.Receipt.Kind = wire.DateOf(paid), wire.PaymentSource(src), wire.DocReceipt
		return p, err
	})
	if out == nil {
		out = []wire.Payment{}
	}
	return out, mapErr(err, "payments")
}

// --- documents ---

// InsertContractDocument queues a PDF for the worker (paymentID 0 for the
// contract and the invoice).
func (t *Tx) InsertContractDocument(ctx context.Context, appID, contractID, paymentID int64, kind wire.ContractDocKind) (int64, error) {
	var id int64
	err := t.q.QueryRow(ctx, `INSERT INTO contract_documents (app_id, contract_id, payment_id, kind, created_at)
		VALUES ($1,$2,$3,$4,$5) RETURNING id`, appID, contractID, nullID(paymentID), string(kind), t.now).Scan(&id)
	return id, mapErr(err, "insert contract document")
}

// ContractDoc is one contract PDF row.
type ContractDoc struct {
	wire.ContractDocument
	AppID, ContractID, PaymentID int64
	Attempts                     int
	Error                        string
}

const contractDocCols = `id, kind, coalesce(sha256, ''), size, app_id, contract_id, coalesce(payment_id, 0), attempts, error`

func scanContractDoc(row pgx.Row) (*ContractDoc, error) {
	var d ContractDoc
	var kind string
	err := row.Scan(&d.ID, &kind, &d.SHA256, &d.Size, &d.AppID, &d.ContractID, &d.PaymentID, &d.Attempts, &d.Error)
	d.Kind = wire.ContractDocKind(kind)
	return &d, err
}

// ContractDocument reads one document row.
func (q Q) ContractDocument(ctx context.Context, id int64) (*ContractDoc, error) {
	d, err := scanContractDoc(q.q.QueryRow(ctx, `SELECT `+contractDocCols+` FROM contract_documents WHERE id = $1`, id))
	return d, mapErr(err, "contract document")
}

// ContractDocuments lists a contract's contract and invoice rows.
func (q Q) ContractDocuments(ctx context.Context, contractID int64) ([]ContractDoc, error) {
	rows, err := q.q.Query(ctx, `SELECT `+contractDocCols+` FROM contract_documents WHERE contract_id = $1 AND kind <> 'receipt' ORDER BY id`, contractID)
	if err != nil {
		return nil, mapErr(err, "contract documents")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ContractDoc, error) {
		d, err := scanContractDoc(r)
		if err != nil {
			return ContractDoc{}, err
		}
		return *d, nil
	})
	return out, mapErr(err, "contract documents")
}

// ContractDocClaim is a pending document a worker has leased.
type ContractDocClaim struct {
	ID       int64
	Attempts int // rendering attempts so far, this one included
}

// ClaimDueContractDocs leases up to limit pending documents that are due
// and not leased by another worker, counting the attempt (SKIP LOCKED:
// the workers of several replicas claim side by side).
func (t *Tx) ClaimDueContractDocs(ctx context.Context, lease time.Duration, limit int) ([]ContractDocClaim, error) {
	rows, err := t.q.Query(ctx, `UPDATE contract_documents SET locked_until = $1, attempts = attempts + 1
		WHERE id IN (SELECT id FROM contract_documents WHERE sha256 IS NULL
			AND (next_at IS NULL OR next_at <= $2)
			AND (locked_until IS NULL OR locked_until <= $2)
			ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING id, attempts`, t.now.Add(lease), t.now, limit)
	if err != nil {
		return nil, mapErr(err, "claim contract documents")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ContractDocClaim, error) {
		var c ContractDocClaim
		err := r.Scan(&c.ID, &c.Attempts)
		return c, err
	})
	if err != nil {
		return nil, mapErr(err, "claim contract documents")
	}
	slices.SortFunc(out, func(a, b ContractDocClaim) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// SetContractDocument records a rendered document; false when another
// worker recorded it first.
func (t *Tx) SetContractDocument(ctx context.Context, id int64, sha string, size int64) (bool, error) {
	tag, err := t.q.Exec(ctx, `UPDATE contract_documents SET sha256 = $2, size = $3, locked_until = NULL, error = ''
		WHERE id = $1 AND sha256 IS NULL`, id, sha, size)
	if err != nil {
		return false, mapErr(err, "set contract document")
	}
	return tag.RowsAffected() == 1, nil
}

// MarkContractDocFailed releases a failed attempt and schedules the next.
func (q Q) MarkContractDocFailed(ctx context.Context, id int64, msg string, next time.Time) error {
	_, err := q.q.Exec(ctx, `UPDATE contract_documents SET locked_until = NULL, next_at = $2, error = $3 WHERE id = $1 AND sha256 IS NULL`,
		id, next, msg)
	return mapErr(err, "mark contract document failed")
}
