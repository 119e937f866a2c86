package app

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// KindName names a notification kind in Russian or English, for the
// messages the client writes itself (validation errors, and desktop titles
// when the interface supplies none). The interface's own labels come from
// its translations and are tested against these.
func KindName(k wire.NotificationKind, english bool) string {
	ru, en := string(k), string(k)
	switch k {
	case wire.NotifyStatus:
		ru, en = "Статус заявления и файлы", "Application status and files"
	case wire.NotifyMessage:
		ru, en = "Сообщения в чате", "Chat messages"
	case wire.NotifyRemark:
		ru, en = "Замечания и ответы", "Remarks and answers"
	case wire.NotifyDeadline:
		ru, en = "Сроки", "Deadlines"
	case wire.NotifyAssigned:
		ru, en = "Назначения на экспертизу", "Review assignments"
	case wire.NotifyNewDevice:
		ru, en = "Вход с нового устройства", "Sign-in from a new device"
	}
	if english {
		return en
	}
	return ru
}

// EmailModes are the ways e-mail can be sent, in the order a screen offers
// them.
func EmailModes() []wire.EmailMode {
	return []wire.EmailMode{wire.EmailInstant, wire.EmailDaily, wire.EmailWeekly}
}

// ValidatePreferences checks a complete set of notification preferences
// before it is sent and returns it in the order of
// wire.AllNotificationKinds. Every kind must be present exactly once, and a
// kind that sends e-mail must say how (at once, daily or weekly digest).
// While e-mail is off the mode is kept for when it is turned on again; an
// empty one is sent as "at once", because the server stores a mode for
// every kind.
func ValidatePreferences(ps []wire.Preference) ([]wire.Preference, error) {
	byKind := make(map[wire.NotificationKind]wire.Preference, len(ps))
	for _, p := range ps {
		if !p.Kind.Valid() {
			return nil, wire.E(wire.CodeInvalid, "preferences.kind",
				fmt.Sprintf("Неизвестный вид уведомлений «%s»", p.Kind),
				fmt.Sprintf("Unknown notification kind %q", p.Kind))
		}
		if _, dup := byKind[p.Kind]; dup {
			return nil, wire.E(wire.CodeInvalid, "preferences.kind",
				fmt.Sprintf("Вид уведомлений «%s» указан дважды: оставьте одну строку", KindName(p.Kind, false)),
				fmt.Sprintf("Notification kind %q is given twice: keep one row", KindName(p.Kind, true)))
		}
		if p.EmailMode != "" && !slices.Contains(EmailModes(), p.EmailMode) {
			return nil, wire.E(wire.CodeInvalid, "preferences.email_mode",
				fmt.Sprintf("«%s»: неизвестный режим писем «%s»; выберите «сразу», «ежедневная сводка» или «еженедельная сводка»", KindName(p.Kind, false), p.EmailMode),
				fmt.Sprintf("%s: unknown e-mail mode %q; choose at once, daily digest or weekly digest", KindName(p.Kind, true), p.EmailMode))
		}
		if p.Email && p.EmailMode == "" {
			return nil, wire.E(wire.CodeInvalid, "preferences.email_mode",
				fmt.Sprintf("«%s»: письма включены — выберите, как их присылать: сразу, ежедневной или еженедельной сводкой", KindName(p.Kind, false)),
				fmt.Sprintf("%s: e-mail is on — choose how to send it: at once, daily or weekly digest", KindName(p.Kind, true)))
		}
		if p.EmailMode == "" {
			p.EmailMode = wire.EmailInstant
		}
		byKind[p.Kind] = p
	}
	out := make([]wire.Preference, 0, len(wire.AllNotificationKinds))
	for _, k := range wire.AllNotificationKinds {
		p, ok := byKind[k]
		if !ok {
			return nil, wire.E(wire.CodeInvalid, "preferences",
				fmt.Sprintf("Нет настроек для вида «%s»: сохраняются все виды уведомлений сразу", KindName(k, false)),
				fmt.Sprintf("No settings for %q: all notification kinds are saved together", KindName(k, true)))
		}
		out = append(out, p)
	}
	return out, nil
}

// knownPreferences keeps the kinds this client knows, in its order. A newer
// server may send kinds this client cannot show; leaving them out of a
// save leaves them as they are on the server.
func knownPreferences(ps []wire.Preference) []wire.Preference {
	out := make([]wire.Preference, 0, len(wire.AllNotificationKinds))
	for _, k := range wire.AllNotificationKinds {
		if i := slices.IndexFunc(ps, func(p wire.Preference) bool { return p.Kind == k }); i >= 0 {
			out = append(out, ps[i])
		}
	}
	return out
}

// Preferences reads where each kind of notification goes, in the order of
// wire.AllNotificationKinds.
func (w *Workspace) Preferences(ctx context.Context) ([]wire.Preference, error) {
	c, err := w.sess.client()
	if err != nil {
		return nil, err
	}
	ps, err := c.Preferences(ctx)
	if err != nil {
		return nil, fmt.Errorf("read notification preferences: %w", err)
	}
	return knownPreferences(ps), nil
}

// SetPreferences checks and stores the user's choices for every kind and
// returns what the server keeps. Nothing is sent when a choice is invalid.
func (w *Workspace) SetPreferences(ctx context.Context, ps []wire.Preference) ([]wire.Preference, error) {
	ps, err := ValidatePreferences(ps)
	if err != nil {
		return nil, err
	}
	c, err := w.sess.client()
	if err != nil {
		return nil, err
	}
	// A PUT of the whole set is idempotent, so a lost answer is retried.
	saved, err := retryNetwork(ctx, func() ([]wire.Preference, error) { return c.SetPreferences(ctx, ps) })
	if err != nil {
		return nil, fmt.Errorf("save notification preferences: %w", err)
	}
	return knownPreferences(saved), nil
}

// preferencesTimeout bounds one background read of the preferences.
const preferencesTimeout = 30 * time.Second

// NotifierConfig is what a Notifier needs.
type NotifierConfig struct {
	// Store is watched for notifications.
	Store *Store
	// Preferences reads the user's preferences (Workspace.Preferences). It
	// is called whenever the stream goes live (and at Start if it is), off
	// the Store's goroutine. Nil: each notification's own Desktop flag, set
	// by the server from the preferences when it was created, decides alone.
	Preferences func(context.Context) ([]wire.Preference, error)
	// Send shows one desktop notification. It is called on the goroutine
	// that changed the Store, so it must not block (the interface hands it
	// to its event loop).
	Send func(title, body string)
	// Title names a kind in the interface language; it heads the desktop
	// notification. Nil: KindName in Russian.
	Title func(wire.NotificationKind) string
	// Spawn runs background work (reading preferences); nil starts a
	// goroutine. Tests run it inline.
	Spawn func(func())
	Log   *slog.Logger
}

// Notifier shows a desktop notification for every unread notification that
// reaches the Store while the client runs: not for those loaded at start
// (from the cache, the replay of what happened while the client was closed,
// and the first load of the feed), never twice, not for kinds whose
// preference has Desktop off, and nothing while the user has desktop
// notifications switched off on this computer.
type Notifier struct {
	cfg NotifierConfig

	mu      sync.Mutex
	ctx     context.Context
	unwatch func()
	seen    map[int64]bool // notifications already accounted for
	count   int            // notifications in the Store at the last look
	top     int64          // the newest one's id then
	online  bool           // the stream was live at the last look
	enabled bool
	prefs   map[wire.NotificationKind]wire.Preference // nil until read
	prefGen int                                       // counts preference updates, so a slow read never wins over a newer one
}

// NewNotifier returns a stopped notifier with desktop notifications on.
func NewNotifier(cfg NotifierConfig) *Notifier {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Spawn == nil {
		cfg.Spawn = func(f func()) { go f() }
	}
	if cfg.Title == nil {
		cfg.Title = func(k wire.NotificationKind) string { return KindName(k, false) }
	}
	return &Notifier{cfg: cfg, enabled: true}
}

// Start takes what the Store holds now as already seen, reads the
// preferences (now if the stream is live, else when it goes live) and
// follows the Store until Stop or until ctx ends.
func (n *Notifier) Start(ctx context.Context) {
	n.mu.Lock()
	if n.unwatch != nil {
		n.mu.Unlock()
		return
	}
	n.ctx = ctx
	n.seen = map[int64]bool{}
	n.rebaseline()
	state, _ := n.cfg.Store.Connection()
	n.online = state == client.StateOnline
	n.mu.Unlock()
	unwatch := n.cfg.Store.OnChange(n.look)
	stopOnDone := context.AfterFunc(ctx, n.Stop)
	n.mu.Lock()
	n.unwatch = func() { unwatch(); stopOnDone() }
	online := n.online
	n.mu.Unlock()
	// Offline, the preferences are read when the stream goes live.
	if online {
		n.refreshPreferences()
	}
}

// Stop ends the watch.
func (n *Notifier) Stop() {
	n.mu.Lock()
	stop := n.unwatch
	n.unwatch = nil
	n.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// SetEnabled switches desktop notifications on this computer on or off.
// Notifications that arrive while off are not shown later.
func (n *Notifier) SetEnabled(on bool) {
	n.mu.Lock()
	n.enabled = on
	n.mu.Unlock()
}

// Enabled reports whether desktop notifications are on.
func (n *Notifier) Enabled() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.enabled
}

// UsePreferences installs preferences just read or saved elsewhere (the
// preferences screen), so a change applies to the next notification.
func (n *Notifier) UsePreferences(ps []wire.Preference) {
	m := make(map[wire.NotificationKind]wire.Preference, len(ps))
	for _, p := range ps {
		m[p.Kind] = p
	}
	n.mu.Lock()
	n.prefs = m
	n.prefGen++
	n.mu.Unlock()
}

// refreshPreferences reads the preferences in the background; a change
// made on another device is picked up at the next reconnection, and each
// notification's own Desktop flag reflects it meanwhile.
func (n *Notifier) refreshPreferences() {
	if n.cfg.Preferences == nil {
		return
	}
	n.mu.Lock()
	ctx, gen := n.ctx, n.prefGen
	n.mu.Unlock()
	n.cfg.Spawn(func() {
		ctx, cancel := context.WithTimeout(ctx, preferencesTimeout)
		defer cancel()
		ps, err := n.cfg.Preferences(ctx)
		if err != nil {
			n.cfg.Log.Warn("notification preferences not read", "err", err)
			return
		}
		m := make(map[wire.NotificationKind]wire.Preference, len(ps))
		for _, p := range ps {
			m[p.Kind] = p
		}
		n.mu.Lock()
		if n.prefGen == gen {
			n.prefs = m
			n.prefGen++
		}
		n.mu.Unlock()
	})
}

// look runs after every Store change: it finds notifications not seen
// before and shows those that are due.
func (n *Notifier) look() {
	st := n.cfg.Store
	state, _ := st.Connection()
	count, top, loaded := st.notesHead()

	n.mu.Lock()
	reconnected := state == client.StateOnline && !n.online
	n.online = state == client.StateOnline
	var due []wire.Notification
	switch {
	case count < n.count:
		// The Store was cleared or reloaded from the cache: start afresh.
		n.rebaseline()
	case count == n.count && top == n.top:
		// Only read marks or other data changed.
	case !loaded:
		// Still loading what happened before this start: the backlog.
		n.rebaseline()
	default:
		for _, x := range st.Notifications() {
			if n.seen[x.ID] {
				continue
			}
			n.seen[x.ID] = true
			if n.wants(x) {
				due = append(due, x)
			}
		}
		n.count, n.top = count, top
	}
	n.mu.Unlock()

	// Oldest first, as they happened.
	slices.SortFunc(due, func(a, b wire.Notification) int { return cmp.Compare(a.ID, b.ID) })
	for _, x := range due {
		n.cfg.Send(n.cfg.Title(x.Kind), desktopBody(x))
	}
	if reconnected {
		n.refreshPreferences()
	}
}

// rebaseline takes every notification in the Store as seen; the caller
// holds n.mu.
func (n *Notifier) rebaseline() {
	for _, x := range n.cfg.Store.Notifications() {
		n.seen[x.ID] = true
	}
	n.count, n.top, _ = n.cfg.Store.notesHead()
}

// wants decides whether x is shown on the desktop; the caller holds n.mu.
// The server set x.Desktop from the preferences when it created x; the
// preferences read since can only turn it off (the user changed them).
func (n *Notifier) wants(x wire.Notification) bool {
	if !n.enabled || x.Read || !x.Desktop {
		return false
	}
	if p, ok := n.prefs[x.Kind]; ok && !p.Desktop {
		return false
	}
	return true
}

// desktopBody is the server's own words about x: its title line (which
// names the application) and its text.
func desktopBody(x wire.Notification) string {
	return strings.TrimSpace(strings.TrimSpace(x.Title) + "\n" + strings.TrimSpace(x.Body))
}

// notesHead is how many notifications the Store holds, the newest one's
// id, and whether the lists have been loaded since the stream went live
// (until then every notification that arrives is backlog: cache, replay of
// what happened while the client was closed, the first load).
func (s *Store) notesHead() (count int, top int64, loaded bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.notes) > 0 {
		top = s.notes[0].ID
	}
	return len(s.notes), top, s.synced
}
