package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// ErrQueued says a command was not answered yet: it waits in the outbox on
// disk and is sent, in order and under the same idempotency key, when the
// server can be reached. The screens show it as pending, not as a failure.
var ErrQueued = errors.New("queued until the server can be reached")

// IsQueued reports whether err only means "sent later".
func IsQueued(err error) bool { return errors.Is(err, ErrQueued) }

// Kinds of queued commands, as the screens group them.
const (
	CommandMessage    = "message"
	CommandTransition = "transition"
)

// flushRetry is how often a non-empty outbox is retried while the stream
// is live (a command can fail on a server that is restarting even though
// the stream has reconnected to another replica).
const flushRetry = 20 * time.Second

// PendingCommand is a command in the outbox as the screens show it: still
// waiting (Err nil) or refused by the server after it was queued (Err set;
// it stays listed until the user dismisses it, so an offline action the
// server turned down is never lost silently).
type PendingCommand struct {
	ID        uint64
	Kind      string
	AppID     int64
	QueuedAt  time.Time
	Attempts  int
	LastError string
	// Exactly one of these is set, after Kind.
	Message      *wire.PostMessageRequest
	Transition   *wire.TransitionRequestBody
	RemarkCreate *wire.CreateRemarkRequest
	RemarkAnswer *wire.AnswerRemarkRequest
	RemarkStatus *wire.RemarkStatusRequest
	RemarkID     int64              // the remark answered or judged
	Annot        *PendingAnnotation // annotation commands (annotations.go)
	// Err is the server's refusal of a command sent from the queue.
	Err *wire.Error
}

// OutboxPath is the file of the outbox of user userID on server in dir,
// next to the cache but kept apart: the cache may be thrown away and
// rebuilt, the outbox holds the user's unsent work.
func OutboxPath(dir, server string, userID int64) string {
	h := sha256.Sum256([]byte(server))
	return filepath.Join(dir, fmt.Sprintf("outbox-%s-%d.db", hex.EncodeToString(h[:6]), userID))
}

// openOutbox opens the user's outbox and shows what it holds.
func (w *Workspace) openOutbox(dir, server string, userID int64) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("outbox dir: %w", err)
	}
	path := OutboxPath(dir, server, userID)
	o, err := client.OpenOutbox(path)
	if err != nil {
		return err
	}
	w.omu.Lock()
	old := w.outbox
	w.outbox, w.outboxPath = o, path
	w.omu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	w.refreshPending()
	return nil
}

func (w *Workspace) box() *client.Outbox {
	w.omu.Lock()
	defer w.omu.Unlock()
	return w.outbox
}

// closeOutbox closes the outbox file; wipe also deletes it (logout).
func (w *Workspace) closeOutbox(wipe bool) error {
	w.omu.Lock()
	o, path := w.outbox, w.outboxPath
	w.outbox, w.outboxPath = nil, ""
	w.omu.Unlock()
	if o == nil {
		return nil
	}
	err := o.Close()
	if wipe {
		if rerr := os.Remove(path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
		w.store.SetPending(nil, nil)
	}
	return err
}

// refreshPending copies the outbox's queue and refusals into the Store.
func (w *Workspace) refreshPending() {
	o := w.box()
	if o == nil {
		return
	}
	cmds, err := o.Pending()
	if err != nil {
		w.log.Warn("outbox unreadable", "err", err)
		return
	}
	fails, err := o.Failures()
	if err != nil {
		w.log.Warn("outbox refusals unreadable", "err", err)
		return
	}
	pending := make([]PendingCommand, 0, len(cmds))
	for _, c := range cmds {
		pending = append(pending, pendingOf(c))
	}
	refused := make([]PendingCommand, 0, len(fails))
	for _, f := range fails {
		p := pendingOf(f.Command)
		if we, ok := wire.AsError(f.Err); ok {
			p.Err = we
		} else {
			p.Err = &wire.Error{Code: wire.CodeInternal, Message: f.Err.Error(), MessageEN: f.Err.Error()}
		}
		refused = append(refused, p)
	}
	w.store.SetPending(pending, refused)
}

func pendingOf(c client.Command) PendingCommand {
	p := PendingCommand{ID: c.ID, Kind: c.Kind, AppID: c.AppID, QueuedAt: c.QueuedAt, Attempts: c.Attempts, LastError: c.LastError}
	switch c.Kind {
	case CommandMessage:
		var m wire.PostMessageRequest
		if json.Unmarshal(c.Body, &m) == nil {
			p.Message = &m
		}
	case CommandTransition:
		var t wire.TransitionRequestBody
		if json.Unmarshal(c.Body, &t) == nil {
			p.Transition = &t
		}
	case CommandRemarkCreate:
		var r wire.CreateRemarkRequest
		if json.Unmarshal(c.Body, &r) == nil {
			p.RemarkCreate = &r
		}
	case CommandRemarkAnswer:
		var r wire.AnswerRemarkRequest
		if json.Unmarshal(c.Body, &r) == nil {
			p.RemarkAnswer = &r
		}
		p.RemarkID = remarkIDOf(c.Path)
	case CommandRemarkStatus:
		var r wire.RemarkStatusRequest
		if json.Unmarshal(c.Body, &r) == nil {
			p.RemarkStatus = &r
		}
		p.RemarkID = remarkIDOf(c.Path)
	case CommandAnnotCreate, CommandAnnotUpdate, CommandAnnotDelete, CommandAnnotStatus, CommandAnnotReply:
		p.Annot = pendingAnnotationOf(c)
	}
	return p
}

// remarkIDOf reads the remark id of a path /remarks/{id}/....
func remarkIDOf(path string) int64 {
	rest, ok := strings.CutPrefix(path, "/remarks/")
	if !ok {
		return 0
	}
	id, _ := strconv.ParseInt(strings.SplitN(rest, "/", 2)[0], 10, 64)
	return id
}

// submit sends a command through the outbox: it is on disk before anything
// goes over the network, so a crash, a lost answer or a dropped connection
// never loses it and never applies it twice (the idempotency key is fixed
// when it is queued). Online, the queue is flushed at once and the answer
// returned; the server's refusal is returned as the error (and not kept as
// a refusal, since the caller shows it). Offline, or when the flush cannot
// reach the server, the error wraps ErrQueued.
func (w *Workspace) submit(ctx context.Context, kind string, appID int64, method, path string, body any) (json.RawMessage, error) {
	raw, _, err := w.submitCmd(ctx, kind, appID, method, path, body)
	return raw, err
}

// submitCmd is submit that also returns the queued command's id (to show
// or replace a command still waiting).
func (w *Workspace) submitCmd(ctx context.Context, kind string, appID int64, method, path string, body any) (json.RawMessage, uint64, error) {
	o := w.box()
	if o == nil {
		return nil, 0, errors.New("outbox not open")
	}
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return nil, 0, fmt.Errorf("encode %s: %w", kind, err)
		}
	}
	key := client.NewIdempotencyKey()
	wait := make(chan client.Result, 1)
	w.omu.Lock()
	w.waiters[key] = wait
	w.omu.Unlock()
	defer func() {
		w.omu.Lock()
		delete(w.waiters, key)
		w.omu.Unlock()
	}()
	queued, err := o.Enqueue(ctx, client.Command{Key: key, Method: method, Path: path, Body: raw, Kind: kind, AppID: appID})
	if err != nil {
		return nil, 0, fmt.Errorf("queue %s: %w", kind, err)
	}
	// Shown at once without re-reading the file: re-reading after every
	// command made queueing and sending a long queue quadratic.
	w.store.addPending(pendingOf(queued))
	var flushErr error
	if st, _ := w.store.Connection(); st == client.StateOnline {
		flushErr = w.FlushOutbox(ctx)
	} else {
		flushErr = errors.New("offline")
	}
	select {
	case r := <-wait:
		if r.Err == nil {
			return r.Response, queued.ID, nil
		}
		// Shown to the user now by the caller: not kept as a refusal.
		if err := o.Dismiss(r.Command.ID); err != nil {
			w.log.Warn("outbox: dismiss refusal", "err", err)
		}
		w.refreshPending()
		return nil, queued.ID, r.Err
	default:
		return nil, queued.ID, fmt.Errorf("%s: %w (%w)", kind, ErrQueued, flushErr)
	}
}

// FlushOutbox sends the queued commands in order. Answers are applied to
// the Store; refusals are kept for the user to see (Store.Refused). It
// returns nil when the queue is empty or has no outbox.
func (w *Workspace) FlushOutbox(ctx context.Context) error {
	o := w.box()
	if o == nil {
		return nil
	}
	c, err := w.sess.client()
	if err != nil {
		return err
	}
	w.store.setFlushing(true)
	defer w.store.setFlushing(false)
	_, err = o.Flush(ctx, c, w.applyResult)
	w.refreshPending()
	if err != nil {
		return fmt.Errorf("send queued commands: %w", err)
	}
	return nil
}

// applyResult puts a sent command's answer into the Store and hands the
// result to the submit call waiting for it, if any.
func (w *Workspace) applyResult(r client.Result) {
	if r.Err == nil {
		switch r.Command.Kind {
		case CommandMessage:
			var m wire.Message
			if err := json.Unmarshal(r.Response, &m); err == nil {
				w.store.AddMessage(m)
			}
		case CommandTransition:
			var a wire.Application
			if err := json.Unmarshal(r.Response, &a); err == nil {
				w.store.UpsertApplication(a)
			}
		case CommandRemarkCreate, CommandRemarkAnswer, CommandRemarkStatus:
			var rm wire.Remark
			if err := json.Unmarshal(r.Response, &rm); err == nil {
				w.store.UpsertRemark(rm)
			}
		case CommandAnnotCreate, CommandAnnotUpdate, CommandAnnotDelete, CommandAnnotStatus, CommandAnnotReply:
			w.applyAnnotationResult(r)
		}
	} else {
		w.log.Info("queued command refused", "kind", r.Command.Kind, "app_id", r.Command.AppID, "code", wire.ErrorCode(r.Err))
	}
	var refused *PendingCommand
	if r.Err != nil {
		p := pendingOf(r.Command)
		p.Err, _ = wire.AsError(r.Err)
		if p.Err == nil {
			p.Err = &wire.Error{Code: wire.CodeInternal, Message: r.Err.Error(), MessageEN: r.Err.Error()}
		}
		refused = &p
	}
	// The one command settled is taken off the queue shown; FlushOutbox
	// re-reads the file once at its end.
	w.store.settlePending(r.Command.ID, refused)
	w.omu.Lock()
	wait := w.waiters[r.Command.Key]
	w.omu.Unlock()
	if wait != nil {
		wait <- r
	}
}

// DiscardPending removes a queued command the user no longer wants sent.
// It reports false when the command was already sent.
func (w *Workspace) DiscardPending(id uint64) (bool, error) {
	o := w.box()
	if o == nil {
		return false, nil
	}
	ok, err := o.Discard(id)
	w.refreshPending()
	return ok, err
}

// DismissRefused forgets a refusal the user has read.
func (w *Workspace) DismissRefused(id uint64) error {
	o := w.box()
	if o == nil {
		return nil
	}
	err := o.Dismiss(id)
	w.refreshPending()
	return err
}

// kickFlush asks the flush loop to send the queue now.
func (w *Workspace) kickFlush() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// flushLoop sends the queue whenever the stream goes live, and retries a
// non-empty queue now and then while it stays live.
func (w *Workspace) flushLoop(ctx context.Context) {
	t := time.NewTicker(flushRetry)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
		case <-t.C:
			if len(w.store.Pending()) == 0 {
				continue
			}
		}
		if st, _ := w.store.Connection(); st != client.StateOnline {
			continue
		}
		if err := w.FlushOutbox(ctx); err != nil && ctx.Err() == nil {
			w.log.Info("queued commands not sent yet", "err", err)
		}
	}
}

// OfflineTransitions are the moves the workflow table allows the user from
// the application's last known status, for a card opened from the cache
// without the server: a move queued this way is checked again by the
// server when it is sent.
func OfflineTransitions(a wire.Application, me wire.User) []wire.Status {
	act := wire.Actor{Role: me.Role, Member: me.Role == wire.RoleApplicant && me.OrgID != 0 && me.OrgID == a.OrgID}
	if me.Role == wire.RoleExpert {
		act.Lead = a.LeadExpertID == me.ID
		act.Assigned = act.Lead
		for _, as := range a.Assignments {
			if as.ExpertID == me.ID {
				act.Assigned = true
			}
		}
	}
	return wire.AllowedTransitions(a.Status, act)
}

func transitionPath(id int64) string {
	return "/applications/" + strconv.FormatInt(id, 10) + "/transition"
}

func messagesPath(id int64) string {
	return "/applications/" + strconv.FormatInt(id, 10) + "/messages"
}
