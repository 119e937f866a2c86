package app

import (
	"context"
	"fmt"

	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// Support requests from the user to the administrators (the «Поддержка»
// screen). The server decides who sees what; the checks here catch an
// empty or over-long text before it is sent.

// SupportRequests lists the user's requests; for an administrator
// everyone's unless mine.
func (w *Workspace) SupportRequests(ctx context.Context, mine bool, status wire.SupportStatus) ([]wire.SupportRequest, error) {
	c, err := w.sess.client()
	if err != nil {
		return nil, err
	}
	rs, err := c.SupportRequests(ctx, mine, status)
	if err != nil {
		return nil, fmt.Errorf("list support requests: %w", err)
	}
	return rs, nil
}

// CreateSupportRequest opens a request; a retry after a lost answer opens
// it once.
func (w *Workspace) CreateSupportRequest(ctx context.Context, subject, body string) (wire.SupportRequest, error) {
	r := wire.CreateSupportRequest{Subject: subject, Body: body}
	if err := r.Validate(); err != nil {
		return wire.SupportRequest{}, err
	}
	c, err := w.sess.client()
	if err != nil {
		return wire.SupportRequest{}, err
	}
	key := client.NewIdempotencyKey()
	out, err := retryNetwork(ctx, func() (wire.SupportRequest, error) { return c.CreateSupportRequest(ctx, r, key) })
	if err != nil {
		return wire.SupportRequest{}, fmt.Errorf("open a support request: %w", err)
	}
	return out, nil
}

// SupportRequest reads a request with its thread.
func (w *Workspace) SupportRequest(ctx context.Context, id int64) (wire.SupportRequest, error) {
	c, err := w.sess.client()
	if err != nil {
		return wire.SupportRequest{}, err
	}
	r, err := c.SupportRequest(ctx, id)
	if err != nil {
		return wire.SupportRequest{}, fmt.Errorf("read support request %d: %w", id, err)
	}
	return r, nil
}

// ReplySupport adds a message to a request's thread, once even if
// retried.
func (w *Workspace) ReplySupport(ctx context.Context, id int64, body string) (wire.SupportRequest, error) {
	if err := (wire.SupportReplyRequest{Body: body}).Validate(); err != nil {
		return wire.SupportRequest{}, err
	}
	c, err := w.sess.client()
	if err != nil {
		return wire.SupportRequest{}, err
	}
	key := client.NewIdempotencyKey()
	r, err := retryNetwork(ctx, func() (wire.SupportRequest, error) { return c.ReplySupport(ctx, id, body, key) })
	if err != nil {
		return wire.SupportRequest{}, fmt.Errorf("reply to support request %d: %w", id, err)
	}
	return r, nil
}

// SetSupportStatus moves a request seen at version seen.
func (w *Workspace) SetSupportStatus(ctx context.Context, id, seen int64, to wire.SupportStatus) (wire.SupportRequest, error) {
	c, err := w.sess.client()
	if err != nil {
		return wire.SupportRequest{}, err
	}
	r, err := c.SetSupportStatus(ctx, id, wire.SupportStatusRequest{Version: seen, Status: to})
	if err != nil {
		return wire.SupportRequest{}, fmt.Errorf("move support request %d: %w", id, err)
	}
	return r, nil
}

// SupportMoves are the status changes the user may make by hand on r, in
// the order a screen offers them.
func SupportMoves(r wire.SupportRequest, admin bool) []wire.SupportStatus {
	var out []wire.SupportStatus
	for _, to := range wire.AllSupportStatuses {
		if wire.SupportMove(r.Status, to, admin) {
			out = append(out, to)
		}
	}
	return out
}
