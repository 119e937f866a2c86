package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// messagesPage is the server's page size for chat messages.
const messagesPage = 1000

// Card is everything the application card shows when it opens. Later
// changes arrive in the Store; Transitions are re-read whenever the
// application's version changes.
type Card struct {
	App         wire.Application
	History     []wire.StatusChange
	Transitions []wire.Status
	// Channels are the chat channels the user may read, applicant first.
	Channels []wire.Channel
	Messages map[wire.Channel][]wire.Message
	// Documents are the application's files with every version.
	Documents []wire.Document
	// Offline is true when the server could not be reached and the card
	// was read from the local cache.
	Offline bool
}

// Workspace holds the use cases of a signed-in user: it reads and writes
// through the session's protocol client and keeps the Store current.
type Workspace struct {
	log   *slog.Logger
	sess  *Session
	store *Store
	now   func() time.Time

	mu  sync.RWMutex
	cal *wire.Calendar

	omu        sync.Mutex
	outbox     *client.Outbox // nil until UseCache
	outboxPath string
	files      string                        // downloaded contents by SHA-256; "" until UseCache
	verified   sync.Map                      // cached file path → fileStamp hashed in this run (LocalCopy)
	waiters    map[string]chan client.Result // submit calls by idempotency key
	kick       chan struct{}
	stream     *client.Stream        // while Run runs, for typing signals
	typedAt    map[chatKey]time.Time // last typing signal sent per chat
}

// NewWorkspace joins a session and a store. The store reloads through the
// workspace when the stream asks it to.
func NewWorkspace(log *slog.Logger, sess *Session, store *Store) *Workspace {
	w := &Workspace{log: log, sess: sess, store: store, now: time.Now, cal: wire.DefaultCalendar(),
		waiters: map[string]chan client.Result{}, kick: make(chan struct{}, 1), typedAt: map[chatKey]time.Time{}}
	store.SetReloader(w.Reload)
	return w
}

// Store is the state the screens show.
func (w *Workspace) Store() *Store { return w.store }

// Session is the signed-in session.
func (w *Workspace) Session() *Session { return w.sess }

// Me is the signed-in user.
func (w *Workspace) Me() wire.User {
	if u := w.store.Me(); u.ID != 0 {
		return u
	}
	return w.sess.User()
}

// UseCache opens the disk cache of the signed-in user in dir (one file per
// server and user) and loads it into the Store at once, before any
// request: the screens show the last known state while the network
// answers. Changes are then written back in the background, and Run
// resumes the stream from the cached position, so the events missed while
// the client was closed are replayed. Call it after Login or RestoreToken
// and before Run.
func (w *Workspace) UseCache(dir string) error {
	server, u := w.sess.Server(), w.sess.User()
	if server == "" || u.ID == 0 {
		return wire.E(wire.CodeUnauthenticated, "", "Войдите в систему", "Sign in first")
	}
	c, err := OpenCache(dir, server, u.ID)
	if err != nil {
		return err
	}
	if err := w.store.AttachCache(c, 0); err != nil {
		// An unreadable cache is only lost speed: start it afresh.
		w.log.Warn("cache unreadable, starting afresh", "err", err)
		_ = c.Wipe()
		if c, err = OpenCache(dir, server, u.ID); err != nil {
			return err
		}
		if err := w.store.AttachCache(c, 0); err != nil {
			_ = c.Close()
			return err
		}
	}
	if w.store.Me().ID != u.ID {
		w.store.SetMe(u)
	}
	if err := w.openOutbox(dir, server, u.ID); err != nil {
		_ = w.store.DetachCache(false)
		return err
	}
	w.omu.Lock()
	w.files = FilesDir(dir, server, u.ID)
	w.omu.Unlock()
	return nil
}

// FilesDir is the folder of user userID's downloaded files in dir.
func FilesDir(dir, server string, userID int64) string {
	return strings.TrimSuffix(CachePath(dir, server, userID), ".db") + ".files"
}

// Close writes what the cache still lacks and closes it (when the window
// closes; the session stays, to be restored next time).
func (w *Workspace) Close() error {
	return errors.Join(w.store.DetachCache(true), w.closeOutbox(false))
}

// Run follows the event stream until ctx ends or the server ends the
// session (then it returns an error wrapping client.ErrTerminal and the
// Store's connection state is client.StateStopped). The lists are loaded
// once the stream is live. With a cache (UseCache) the stream resumes after
// the cached sequence.
func (w *Workspace) Run(ctx context.Context) error {
	c, err := w.sess.client()
	if err != nil {
		return err
	}
	w.store.SetMe(w.sess.User())
	var after *int64
	if seq, ok := w.store.Seq(); ok {
		after = &seq
	}
	h := &streamHandler{Store: w.store, online: w.kickFlush}
	h.st = c.NewStream(h, after)
	w.omu.Lock()
	w.stream = h.st
	w.omu.Unlock()
	defer func() {
		w.omu.Lock()
		w.stream = nil
		w.omu.Unlock()
	}()
	loopCtx, stopLoop := context.WithCancel(ctx)
	defer stopLoop()
	go w.flushLoop(loopCtx)
	err = h.st.Run(ctx)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// streamHandler is the Store as the stream's handler, also noting the
// position of a stream that went live without replay (its welcome's
// sequence reaches the Store through no event).
type streamHandler struct {
	*Store
	st     *client.Stream
	online func() // sends the outbox
}

func (h *streamHandler) State(st client.State, err error) {
	if st == client.StateOnline {
		h.noteSeq(h.st.Seq())
	}
	h.Store.State(st, err)
	if st == client.StateOnline {
		h.online()
	}
}

// Reload loads the calendar, the applications and the notifications.
func (w *Workspace) Reload(ctx context.Context) error {
	if err := w.loadCalendar(ctx); err != nil {
		// Deadlines then count with the built-in calendar: a small error
		// only in years the administrator edited.
		w.log.Warn("calendar not loaded", "err", err)
	}
	return errors.Join(w.LoadApplications(ctx), w.LoadNotifications(ctx))
}

func (w *Workspace) loadCalendar(ctx context.Context) error {
	c, err := w.sess.client()
	if err != nil {
		return err
	}
	days, err := c.Calendar(ctx)
	if err != nil {
		return fmt.Errorf("load calendar: %w", err)
	}
	if len(days) == 0 {
		return nil
	}
	var off, on []wire.Date
	for _, d := range days {
		if d.Working {
			on = append(on, d.Day)
		} else {
			off = append(off, d.Day)
		}
	}
	w.mu.Lock()
	w.cal = wire.NewCalendar(off, on)
	w.mu.Unlock()
	return nil
}

// LoadApplications reloads the list of applications.
func (w *Workspace) LoadApplications(ctx context.Context) error {
	c, err := w.sess.client()
	if err != nil {
		return err
	}
	since := w.store.Tick()
	list, err := c.Applications(ctx, client.Filter{})
	if err != nil {
		return fmt.Errorf("load applications: %w", err)
	}
	w.store.ReplaceApplications(since, list)
	return nil
}

// LoadNotifications reloads the notification feed.
func (w *Workspace) LoadNotifications(ctx context.Context) error {
	c, err := w.sess.client()
	if err != nil {
		return err
	}
	ns, err := c.Notifications(ctx)
	if err != nil {
		return fmt.Errorf("load notifications: %w", err)
	}
	w.store.SetNotifications(ns)
	return nil
}

// Channels lists the chat channels a role may read: staff also have the
// staff-only channel.
func Channels(r wire.Role) []wire.Channel {
	if r.Staff() {
		return []wire.Channel{wire.ChannelApplicant, wire.ChannelStaff}
	}
	return []wire.Channel{wire.ChannelApplicant}
}

// CanPost reports whether a role may write in application chats (the
// administrator reads but does not take part).
func CanPost(r wire.Role) bool { return r != wire.RoleAdmin }

// OpenApplication reads an application with its history, the moves the user
// may make and its chat, and puts them in the Store.
func (w *Workspace) OpenApplication(ctx context.Context, id int64) (Card, error) {
	c, err := w.sess.client()
	if err != nil {
		return Card{}, err
	}
	card := Card{Channels: Channels(w.Me().Role), Messages: map[wire.Channel][]wire.Message{}}
	if card.App, err = c.Application(ctx, id); err != nil {
		if errors.Is(err, client.ErrNetwork) {
			if cached, ok := w.cachedCard(id); ok {
				return cached, nil
			}
		}
		return Card{}, fmt.Errorf("open application %d: %w", id, err)
	}
	w.store.UpsertApplication(card.App)
	if card.History, err = c.History(ctx, id); err != nil {
		return Card{}, fmt.Errorf("history of application %d: %w", id, err)
	}
	w.store.SetHistory(id, card.History)
	if card.Transitions, err = c.Transitions(ctx, id); err != nil {
		return Card{}, fmt.Errorf("transitions of application %d: %w", id, err)
	}
	if card.Documents, err = c.Documents(ctx, id); err != nil {
		return Card{}, fmt.Errorf("files of application %d: %w", id, err)
	}
	w.store.SetDocuments(id, card.Documents)
	marks, err := c.ReadMarks(ctx, id)
	if err != nil {
		return Card{}, fmt.Errorf("read marks of application %d: %w", id, err)
	}
	w.store.SetReadMarks(id, marks)
	if err := w.loadReview(ctx, c, id); err != nil {
		return Card{}, err
	}
	for _, ch := range card.Channels {
		ms, err := w.messages(ctx, c, id, ch)
		if err != nil {
			return Card{}, err
		}
		card.Messages[ch] = ms
		w.store.SetMessages(id, ch, ms)
	}
	return card, nil
}

// cachedCard is the card as the Store last knew it, for reading offline.
// Its moves come from the workflow table (OfflineTransitions); a move made
// from it is queued and checked by the server when it is sent.
func (w *Workspace) cachedCard(id int64) (Card, bool) {
	a, ok := w.store.Application(id)
	if !ok {
		return Card{}, false
	}
	card := Card{
		App: a, Offline: true,
		History:     w.store.History(id),
		Transitions: OfflineTransitions(a, w.Me()),
		Channels:    Channels(w.Me().Role),
		Messages:    map[wire.Channel][]wire.Message{},
		Documents:   w.store.Documents(id),
	}
	for _, ch := range card.Channels {
		card.Messages[ch] = w.store.Messages(id, ch)
	}
	return card, true
}

// Transitions re-reads the moves the user may make now; without the
// server, the workflow table answers from the last known status.

func (w *Workspace) Transitions(ctx context.Context, id int64) ([]wire.Status, error) {
	c, err := w.sess.client()
	if err != nil {
		return nil, err
	}
	ts, err := c.Transitions(ctx, id)
	if err != nil {
		if a, ok := w.store.Application(id); ok && errors.Is(err, client.ErrNetwork) {
			return OfflineTransitions(a, w.Me()), nil
		}
		return nil, fmt.Errorf("transitions of application %d: %w", id, err)
	}
	return ts, nil
}

func (w *Workspace) messages(ctx context.Context, c *client.Client, id int64, ch wire.Channel) ([]wire.Message, error) {
	var all []wire.Message
	after := int64(0)
	for {
		page, err := c.Messages(ctx, id, ch, after)
		if err != nil {
			return nil, fmt.Errorf("%s chat of application %d: %w", ch, id, err)
		}
		all = append(all, page...)
		if len(page) < messagesPage {
			return all, nil
		}
		after = page[len(page)-1].ID
	}
}

// Transition moves an application the user saw at version seen to status
// to. A comment is checked here when the workflow requires one. If someone
// changed the application meanwhile the server refuses with a conflict
// (IsConflict): the caller shows it and reopens the card — nothing is
// retried over the other person's change.
func (w *Workspace) Transition(ctx context.Context, id, seen int64, to wire.Status, comment string) (wire.Application, error) {
	comment = strings.TrimSpace(comment)
	if wire.CommentRequired(to) && comment == "" {
		return wire.Application{}, wire.E(wire.CodeCommentRequired, "comment",
			fmt.Sprintf("Для перехода в статус «%s» укажите комментарий с причинами.", to.Label()),
			fmt.Sprintf("Moving to %s requires a comment giving the reasons.", to))
	}
	body := wire.TransitionRequestBody{Version: seen, To: to, Comment: comment}
	if w.box() != nil {
		raw, err := w.submit(ctx, CommandTransition, id, http.MethodPost, transitionPath(id), body)
		if err != nil {
			return wire.Application{}, fmt.Errorf("move application %d to %s: %w", id, to, err)
		}
		var a wire.Application
		if err := json.Unmarshal(raw, &a); err != nil {
			return wire.Application{}, fmt.Errorf("move application %d: decode answer: %w", id, err)
		}
		w.store.UpsertApplication(a)
		return a, nil
	}
	c, err := w.sess.client()
	if err != nil {
		return wire.Application{}, err
	}
	key := client.NewIdempotencyKey()
	a, err := retryNetwork(ctx, func() (wire.Application, error) {
		return c.Transition(ctx, id, body, key)
	})
	if err != nil {
		return wire.Application{}, fmt.Errorf("move application %d to %s: %w", id, to, err)
	}
	w.store.UpsertApplication(a)
	return a, nil
}

// PostMessage posts to an application's chat.
func (w *Workspace) PostMessage(ctx context.Context, id int64, ch wire.Channel, body string) (wire.Message, error) {
	body = strings.TrimSpace(body)
	if body == "" {
		return wire.Message{}, wire.E(wire.CodeInvalid, "body", "Пустое сообщение: напишите текст", "Empty message: write some text")
	}
	req := wire.PostMessageRequest{Channel: ch, Body: body}
	if w.box() != nil {
		raw, err := w.submit(ctx, CommandMessage, id, http.MethodPost, messagesPath(id), req)
		if err != nil {
			return wire.Message{}, fmt.Errorf("post to %s chat of application %d: %w", ch, id, err)
		}
		var m wire.Message
		if err := json.Unmarshal(raw, &m); err != nil {
			return wire.Message{}, fmt.Errorf("post to chat: decode answer: %w", err)
		}
		w.store.AddMessage(m)
		return m, nil
	}
	c, err := w.sess.client()
	if err != nil {
		return wire.Message{}, err
	}
	key := client.NewIdempotencyKey()
	m, err := retryNetwork(ctx, func() (wire.Message, error) {
		return c.PostMessage(ctx, id, req, key)
	})
	if err != nil {
		return wire.Message{}, fmt.Errorf("post to %s chat of application %d: %w", ch, id, err)
	}
	w.store.AddMessage(m)
	return m, nil
}

// MarkNotificationsRead marks every notification the user has seen read.
func (w *Workspace) MarkNotificationsRead(ctx context.Context) error {
	upTo := int64(0)
	for _, n := range w.store.Notifications() {
		if !n.Read {
			upTo = max(upTo, n.ID)
		}
	}
	if upTo == 0 {
		return nil
	}
	c, err := w.sess.client()
	if err != nil {
		return err
	}
	ids, err := c.MarkNotificationsRead(ctx, wire.MarkNotificationsReadRequest{UpTo: upTo})
	if err != nil {
		return fmt.Errorf("mark notifications read: %w", err)
	}
	w.store.MarkRead(ids)
	return nil
}

// Logout ends the session and forgets its data: the Store, the cache file
// and the remembered token.
func (w *Workspace) Logout(ctx context.Context) error {
	err := w.sess.Logout(ctx)
	if werr := w.store.WipeCache(); werr != nil {
		w.log.Warn("cache not deleted", "err", werr)
	}
	if werr := w.closeOutbox(true); werr != nil {
		w.log.Warn("outbox not deleted", "err", werr)
	}
	w.omu.Lock()
	files := w.files
	w.files = ""
	w.omu.Unlock()
	if files != "" {
		if werr := os.RemoveAll(files); werr != nil {
			w.log.Warn("downloaded files not deleted", "err", werr)
		}
	}
	w.store.Clear()
	return err
}

// DaysLeft is how many working days are left for the application's current
// stage (negative: overdue), counted today by the server's calendar; false
// when no clock runs.
func (w *Workspace) DaysLeft(a wire.Application) (int, bool) {
	w.mu.RLock()
	cal := w.cal
	w.mu.RUnlock()
	return DaysLeft(a, cal, wire.DateOf(w.now()))
}

// DaysLeft counts the working days left until a's deadline on date today.
// The server's days_left was computed when the application was read, so the
// client counts again itself: a list left open overnight stays right.
func DaysLeft(a wire.Application, cal *wire.Calendar, today wire.Date) (int, bool) {
	if a.Deadline != nil && !a.Deadline.IsZero() {
		return cal.WorkdaysUntil(today, *a.Deadline), true
	}
	if a.DaysLeft != nil {
		return *a.DaysLeft, true
	}
	return 0, false
}

// networkRetries is how many times a command is sent when the answer was
// lost; the idempotency key makes the repeats harmless.
const networkRetries = 3

// retryNetwork repeats fn while the network fails, with the same
// idempotency key captured by fn.
func retryNetwork[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	delay := 300 * time.Millisecond
	for attempt := 1; ; attempt++ {
		v, err := fn()
		if err == nil || !errors.Is(err, client.ErrNetwork) || attempt == networkRetries {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, errors.Join(err, ctx.Err())
		case <-time.After(delay):
		}
		delay *= 2
	}
}
