package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/expertiza/expertiza/pdfdoc"
	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// Contract PDFs — the contract, the invoice and a receipt per payment —
// are rendered after the commit that created their rows, by a worker on
// any replica, retried with a growing delay until stored (contract.go says
// why not inside the transition). The pending state lives in
// contract_documents (migration 00006); the worker is woken right after
// the commit and also polls, which picks up retries and the work of a
// replica that died.

// ContractDocsConfig turns contract PDFs on. They need the file store
// (WithFiles), where they are kept.
type ContractDocsConfig struct {
	// Renderer typesets the documents; nil means a pdfdoc engine with its
	// fonts under FontCache, made on first use.
	Renderer   LetterRenderer
	FontCache  string
	Poll       time.Duration // default 10 s
	Lease      time.Duration // default 2 minutes
	Backoff    time.Duration // first retry delay, doubled up to MaxBackoff; default 10 s
	MaxBackoff time.Duration // default 15 minutes
	Batch      int           // default 10
}

type contractDocs struct {
	cfg LetterConfig // the same scheduling knobs as notice letters
	renderWorker
}

// WithContractDocs turns contract PDFs on; RunContractDocs does the work.
func WithContractDocs(c ContractDocsConfig) Option {
	return func(s *Service) {
		lc := LetterConfig{Renderer: c.Renderer, FontCache: c.FontCache, Poll: c.Poll, Lease: c.Lease, Backoff: c.Backoff,
			MaxBackoff: c.MaxBackoff, Batch: c.Batch}
		lc.defaults()
		s.contractDocs = &contractDocs{cfg: lc, renderWorker: newRenderWorker(c.Renderer, lc.FontCache)}
	}
}

// kickContractDocs wakes the worker after a commit that queued documents.
func (s *Service) kickContractDocs() {
	if s.contractDocs == nil {
		return
	}
	s.contractDocs.wake()
}

// RunContractDocs renders pending contract documents until ctx ends; it
// returns at once when they are off.
func (s *Service) RunContractDocs(ctx context.Context) {
	if s.contractDocs == nil {
		return
	}
	s.contractDocs.loop(ctx, s, "contract documents", s.contractDocs.cfg.Poll, func(ctx context.Context) (time.Duration, error) {
		_, failed, err := s.RenderDueContractDocs(ctx)
		if failed > 0 || err != nil {
			return s.contractDocs.cfg.Backoff, err
		}
		return 0, nil
	})
}

// RenderDueContractDocs renders and stores every due document, claiming
// each in a short transaction, rendering with none open and recording it
// in a second one that announces it; it returns how many were stored and
// how many attempts failed.
func (s *Service) RenderDueContractDocs(ctx context.Context) (stored, failed int, err error) {
	if s.contractDocs == nil {
		return 0, 0, nil
	}
	cfg := &s.contractDocs.cfg
	return renderDue(ctx, s, renderJobs[store.ContractDocClaim]{
		what: "contract document", key: "document", batch: cfg.Batch, backoff: cfg.backoff,
		claim: func(ctx context.Context, tx *store.Tx) ([]store.ContractDocClaim, error) {
			return tx.ClaimDueContractDocs(ctx, cfg.Lease, cfg.Batch)
		},
		job:        func(c store.ContractDocClaim) (int64, int) { return c.ID, c.Attempts },
		do:         s.storeContractDoc,
		markFailed: s.st.Read().MarkContractDocFailed,
	})
}

func (s *Service) storeContractDoc(ctx context.Context, c store.ContractDocClaim) error {
	pdf, err := s.RenderContractDoc(ctx, c.ID)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(pdf)
	digest := hex.EncodeToString(sum[:])
	if _, _, err := s.files.Blobs.Put(ctx, bytes.NewReader(pdf), digest); err != nil {
		return fmt.Errorf("store contract document %d: %w", c.ID, err)
	}
	res, err := s.st.Tx(ctx, func(tx *store.Tx) error {
		ok, err := tx.SetContractDocument(ctx, c.ID, digest, int64(len(pdf)))
		if err != nil || !ok {
			return err
		}
		d, err := tx.ContractDocument(ctx, c.ID)
		if err != nil {
			return err
		}
		a, err := tx.Application(ctx, d.AppID)
		if err != nil {
			return err
		}
		tx.Audit(store.AuditEntry{ActorLogin: "system", Action: "contract_document", ObjectType: "contract_document", ObjectID: itoa(d.ID),
			Details: map[string]any{"app": d.AppID, "kind": d.Kind, "sha256": digest, "size": len(pdf), "attempts": c.Attempts}})
		_, err = s.emitPayment(ctx, tx, a)
		return err
	})
	if err != nil {
		return fmt.Errorf("record contract document %d: %w", c.ID, err)
	}
	if res.LastSeq > 0 && s.pub != nil {
		s.pub.Poke(res.LastSeq)
	}
	return nil
}

// RenderContractDoc typesets one contract document from the database.
func (s *Service) RenderContractDoc(ctx context.Context, id int64) ([]byte, error) {
	if s.contractDocs == nil {
		return nil, wire.E(wire.CodeInternal, "", "Формирование документов договора не настроено", "Contract documents are not configured")
	}
	q := s.st.Read()
	d, err := q.ContractDocument(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := q.ContractByID(ctx, d.ContractID)
	if err != nil {
		return nil, err
	}
	a, err := q.Application(ctx, d.AppID)
	if err != nil {
		return nil, err
	}
	org, err := q.Organisation(ctx, a.OrgID)
	if err != nil {
		return nil, err
	}
	var doc *pdfdoc.Document
	switch d.Kind {
	case wire.DocContract:
		doc = contractDocument(s.payee(), org, a, c)
	case wire.DocInvoice:
		doc = invoiceDocument(s.payee(), org, a, c)
	case wire.DocReceipt:
		ps, err := q.Payments(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		doc, err = receiptDocument(s.payee(), org, a, c, ps, d.PaymentID)
		if err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("contract document %d: unknown kind %q", id, d.Kind)
	}
	eng, err := s.contractDocs.renderer(ctx)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := eng.Write(ctx, &b, doc); err != nil {
		return nil, fmt.Errorf("render contract document %d (%s): %w", id, d.Kind, err)
	}
	return b.Bytes(), nil
}

// documentPending is the refusal of a document not rendered yet.
func documentPending(k wire.ContractDocKind) error {
	what := map[wire.ContractDocKind]string{wire.DocContract: "Договор", wire.DocInvoice: "Счёт", wire.DocReceipt: "Квитанция"}[k]
	return wire.E(wire.CodeConflict, "sha256", what+" ещё формируется: документ станет доступен сам (событие contract), повторите позже",
		"The "+string(k)+" is still being prepared: it becomes available by itself (event contract); try again later")
}

// IsContractDocPending reports whether err is ContractDoc's refusal of a
// document not ready yet (the HTTP layer adds Retry-After).
func IsContractDocPending(err error) bool {
	we, ok := wire.AsError(err)
	return ok && we.Code == wire.CodeConflict && we.Field == "sha256"
}

// ContractDoc opens a contract document for a caller who may see the
// application's payment side; anyone who may not see the application gets
// NotFound, an expert Forbidden.
func (s *Service) ContractDoc(ctx context.Context, p *Principal, id int64) (io.ReadSeekCloser, wire.ContractDocument, error) {
	if err := s.requireFiles(); err != nil {
		return nil, wire.ContractDocument{}, err
	}
	q := s.st.Read()
	d, err := q.ContractDocument(ctx, id)
	if wire.ErrorCode(err) == wire.CodeNotFound {
		return nil, wire.ContractDocument{}, errNotFound("документ договора", "contract document")
	}
	if err != nil {
		return nil, wire.ContractDocument{}, err
	}
	if _, err := s.loadVisible(ctx, q, p, d.AppID, nil); err != nil {
		if wire.ErrorCode(err) == wire.CodeNotFound {
			return nil, wire.ContractDocument{}, errNotFound("документ договора", "contract document")
		}
		return nil, wire.ContractDocument{}, err
	}
	if err := seesPayment(p); err != nil {
		return nil, wire.ContractDocument{}, err
	}
	out := d.ContractDocument
	c, err := q.ContractByID(ctx, d.ContractID)
	if err != nil {
		return nil, out, err
	}
	receipt := ""
	if d.Kind == wire.DocReceipt {
		ps, err := q.Payments(ctx, d.AppID)
		if err != nil {
			return nil, out, err
		}
		for _, pm := range ps {
			if pm.ID == d.PaymentID {
				receipt = pm.ReceiptNumber
			}
		}
	}
	out.Name = docName(d.Kind, c.Number, c.InvoiceNumber, receipt)
	if out.SHA256 == "" {
		return nil, out, documentPending(d.Kind)
	}
	r, _, err := s.files.Blobs.Open(ctx, out.SHA256)
	if err != nil {
		return nil, out, fmt.Errorf("open contract document %d (blob %s): %w", id, out.SHA256, err)
	}
	return r, out, nil
}
