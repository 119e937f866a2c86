package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/sync/wire"
)

// contractDocRetryAfter is what a client asking for a document still being
// rendered is told to wait; the contract event normally tells it sooner.
const contractDocRetryAfter = "5"

// contractRoutes registers the tariff, contracts, payments and the payment
// gateway's callback.
func (a *API) contractRoutes() {
	p := wire.APIPrefix
	a.handle("GET "+p+"/tariff", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		return respond(w, http.StatusOK)(a.svc.Tariff(r.Context(), pr))
	}))
	a.handle("PUT "+p+"/tariff", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		var req wire.SetTariffRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.SetTariff(r.Context(), pr, req))
	}))
	a.handle("GET "+p+"/applications/{id}/contract", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		return respond(w, http.StatusOK)(a.svc.PaymentInfo(r.Context(), pr, id))
	}))
	a.handle("PUT "+p+"/applications/{id}/contract/cost", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.SetCostRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.SetCost(r.Context(), pr, id, req))
	}))
	a.handle("POST "+p+"/applications/{id}/contract/accept", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.AcceptContractRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.AcceptContract(r.Context(), pr, id, req))
	}))
	a.handle("POST "+p+"/applications/{id}/payments", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.RecordPaymentRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.RecordManualPayment(r.Context(), pr, id, req))
	}))
	a.handle("GET "+p+"/contract-documents/{id}", a.withApp(a.contractDocument))
	// The gateway has no session: it authenticates each request with an
	// HMAC of the raw body (docs/payment-callback.md).
	a.handle("POST "+p+"/payments/callback", a.public(a.paymentCallback))
}

// contractDocument serves a contract, invoice or receipt PDF like a file
// version: SHA-256 in X-Content-SHA256 and the ETag, Range support,
// immutable. A document still being rendered is a 409 with Retry-After.
func (a *API) contractDocument(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
	body, d, err := a.svc.ContractDoc(r.Context(), pr, id)
	if err != nil {
		if service.IsContractDocPending(err) {
			w.Header().Set("Retry-After", contractDocRetryAfter)
		}
		return err
	}
	defer body.Close()
	w.Header().Set(wire.HeaderContentSHA256, d.SHA256)
	w.Header().Set("ETag", `"`+d.SHA256+`"`)
	w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(d.Name))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, body)
	return nil
}

// paymentCallback authenticates the gateway's notice by its signature
// over the exact bytes received, and only then decodes them (strictly).
func (a *API) paymentCallback(w http.ResponseWriter, r *http.Request) error {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return bodyError(err)
	}
	if err := a.svc.VerifyPaymentSignature(raw, r.Header.Get(wire.HeaderPaymentTimestamp), r.Header.Get(wire.HeaderPaymentSignature)); err != nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	var cb wire.PaymentCallback
	if err := decode(r, &cb); err != nil {
		return err
	}
	sum := sha256.Sum256(raw)
	return respond(w, http.StatusOK)(a.svc.GatewayPayment(r.Context(), cb, hex.EncodeToString(sum[:]), a.clientIP(r)))
}
