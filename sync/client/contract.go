package client

import (
	"context"
	"io"
	"net/http"

	"github.com/expertiza/expertiza/sync/wire"
)

// Tariff reads the fee table.
func (c *Client) Tariff(ctx context.Context) (wire.Tariff, error) {
	var t wire.Tariff
	return t, c.Call(ctx, http.MethodGet, "/tariff", nil, &t, "")
}

// SetTariff replaces the fee table (administrators).
func (c *Client) SetTariff(ctx context.Context, r wire.SetTariffRequest, key string) (wire.Tariff, error) {
	var t wire.Tariff
	return t, c.Call(ctx, http.MethodPut, "/tariff", r, &t, key)
}

// PaymentInfo reads an application's contract, payments and balance.
func (c *Client) PaymentInfo(ctx context.Context, appID int64) (wire.PaymentInfo, error) {
	var p wire.PaymentInfo
	return p, c.Call(ctx, http.MethodGet, appPath(appID, "/contract"), nil, &p, "")
}

// SetCost declares the estimated construction cost.
func (c *Client) SetCost(ctx context.Context, appID int64, r wire.SetCostRequest, key string) (wire.PaymentInfo, error) {
	var p wire.PaymentInfo
	return p, c.Call(ctx, http.MethodPut, appPath(appID, "/contract/cost"), r, &p, key)
}

// AcceptContract accepts the offered contract, moving the application to
// awaiting_payment.
func (c *Client) AcceptContract(ctx context.Context, appID int64, r wire.AcceptContractRequest, key string) (wire.PaymentInfo, error) {
	var p wire.PaymentInfo
	return p, c.Call(ctx, http.MethodPost, appPath(appID, "/contract/accept"), r, &p, key)
}

// RecordPayment is a manager's entry of a payment.
func (c *Client) RecordPayment(ctx context.Context, appID int64, r wire.RecordPaymentRequest, key string) (wire.PaymentInfo, error) {
	var p wire.PaymentInfo
	return p, c.Call(ctx, http.MethodPost, appPath(appID, "/payments"), r, &p, key)
}

// ContractDocument downloads a contract, invoice or receipt PDF into dst
// and returns its SHA-256, checked against the one the server sends
// (ErrDigest on a mismatch: discard what dst received). A document the
// server is still rendering is a conflict on field sha256.
func (c *Client) ContractDocument(ctx context.Context, id int64, dst io.Writer) (string, error) {
	return c.verifiedGet(ctx, idPath("contract-documents", id, ""), "contract document", dst)
}
