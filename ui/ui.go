// Package ui is the Fyne desktop interface of Expertiza: one struct per
// screen over the use cases of package app. It holds no rules of its own.
package ui

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// Preference keys kept between runs.
const (
	prefDeviceID  = "device.id"
	prefServer    = "server.url"
	prefLastLogin = "login.last"
)

// Options configures Create.
type Options struct {
	// ServerURL is the server address offered on the login screen; empty
	// means the one used last time, or app.DefaultServerURL.
	ServerURL string
	// Log receives the client's log; nil discards it.
	Log *slog.Logger
}

// UI is the running interface: it moves between the login, enrolment and
// main screens of one window.
type UI struct {
	env  *env
	sess *app.Session
	ws   *app.Workspace

	server string
	data   string             // the app's storage folder: cache and token file
	stop   context.CancelFunc // ends the event stream of the main screen
	main   *mainScreen
}

// Create builds the interface in w and shows the login screen. The caller
// shows the window and runs the app.
func Create(a fyne.App, w fyne.Window, opts Options) *UI {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	applyLanguage(a.Preferences())
	if err := loadTranslations(); err != nil {
		log.Error("translations not loaded", "err", err)
	}
	applyTheme(a)
	ctx, cancel := context.WithCancel(context.Background())
	e := &env{app: a, win: w, log: log, ctx: ctx, spawn: func(f func()) { go f() }}
	prefs := a.Preferences()
	device := prefs.String(prefDeviceID)
	if device == "" {
		device = app.NewDeviceID()
		prefs.SetString(prefDeviceID, device)
	}
	host, _ := os.Hostname()
	sess := app.NewSession(log, device, host)
	u := &UI{env: e, sess: sess, ws: app.NewWorkspace(log, sess, app.NewStore(log))}
	u.server = opts.ServerURL
	if u.server == "" {
		u.server = prefs.StringWithFallback(prefServer, app.DefaultServerURL)
	}
	if root := a.Storage().RootURI(); root != nil {
		u.data = root.Path()
		e.dataDir = u.data
	}
	e.renderers = app.NewRenderers(log, u.data)
	kr, where := app.OpenKeyring(log, u.data, device)
	sess.SetKeyring(kr)
	log.Info("session token storage", "where", where)
	w.SetTitle(lang.L("app.title"))
	w.SetOnClosed(func() {
		cancel()
		u.closeAtExit()
	})
	// A saved session opens straight on the cached data; the stream then
	// catches up, or ends with "sign in again" if the server dropped it.
	if _, err := sess.RestoreToken(u.server); err == nil {
		u.enterMain()
		return u
	}
	u.showLogin("")
	return u
}

// enterMain keeps the session for the next start, opens the local cache
// and shows the main screen.
func (u *UI) enterMain() {
	if err := u.sess.SaveToken(); err != nil {
		u.env.log.Warn("session token not saved", "err", err)
	}
	if u.data != "" {
		if err := u.ws.UseCache(filepath.Join(u.data, "cache")); err != nil {
			u.env.log.Warn("local cache not opened", "err", err)
		}
	}
	u.showMain()
}

// closeAtExit writes what the cache has pending when the window closes.
// The session stays: its token is in the keyring for the next start (the
// server still ends it after the idle limit); "Выйти" signs out for good.
func (u *UI) closeAtExit() {
	u.stopMain()
	if err := u.ws.Close(); err != nil {
		u.env.log.Warn("closing the local cache", "err", err)
	}
	if err := u.env.renderers.Close(); err != nil {
		u.env.log.Warn("closing the PDF renderer", "err", err)
	}
}

// showLogin shows the login screen, with note (if any) explaining why.
func (u *UI) showLogin(note string) {
	u.stopMain()
	prefs := u.env.app.Preferences()
	s := newLoginScreen(u.env, loginDeps{
		server: u.server,
		login:  prefs.String(prefLastLogin),
		signIn: u.sess.Login,
		onSignedIn: func(cr app.Credentials, in app.SignedIn) {
			if srv, err := app.NormalizeServerURL(cr.Server); err == nil {
				u.server = srv
				prefs.SetString(prefServer, srv)
			}
			prefs.SetString(prefLastLogin, cr.Login)
			if in.Enrolment {
				u.showEnrol()
				return
			}
			u.enterMain()
		},
		onRegister: u.showRegister,
	})
	s.note(note)
	u.env.win.SetContent(s.content())
	u.env.win.Resize(fyne.NewSize(560, 520))
	s.focus()
}

func (u *UI) showRegister(server string) {
	s := newRegisterScreen(u.env, registerDeps{
		server:   server,
		register: u.sess.Register,
		onDone: func(server string, user wire.User) {
			u.server = server
			u.env.app.Preferences().SetString(prefLastLogin, user.Login)
			u.showLogin(lang.L("register.done"))
		},
		onCancel: func() { u.showLogin("") },
	})
	u.env.win.SetContent(s.content())
	u.env.win.Resize(fyne.NewSize(640, 720))
}

func (u *UI) showEnrol() {
	s := newEnrolScreen(u.env, enrolDeps{
		enrol:    u.sess.EnrolTOTP,
		confirm:  u.sess.ConfirmTOTP,
		onDone:   u.enterMain,
		onLogout: func() { u.logout("") },
	})
	u.env.win.SetContent(s.content())
	u.env.win.Resize(fyne.NewSize(560, 640))
	s.start()
}

func (u *UI) showMain() {
	u.stopMain()
	ctx, cancel := context.WithCancel(u.env.ctx)
	u.stop = cancel
	u.main = newMainScreen(u.env, u.ws, func() { u.logout("") })
	u.env.win.SetContent(u.main.content())
	u.env.win.Resize(fyne.NewSize(1280, 800))
	u.env.spawn(func() {
		err := u.ws.Run(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		u.env.log.Warn("event stream ended", "err", err)
		if errors.Is(err, client.ErrTerminal) || app.IsSignedOut(err) {
			// The token is dead: forget it and the data, then ask again.
			note := message(err)
			u.env.onMain(func() {
				if ctx.Err() == nil { // not already left by the user
					u.logout(note)
				}
			})
		}
	})
}

// logout ends the session (best effort: an unreachable server expires it
// itself), forgets its data and returns to the login screen with note.
func (u *UI) logout(note string) {
	u.stopMain()
	call(u.env, "logout", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, u.ws.Logout(ctx)
	}, func(struct{}, error) { u.showLogin(note) })
}

func (u *UI) stopMain() {
	if u.stop != nil {
		u.stop()
		u.stop = nil
	}
	if u.main != nil {
		u.main.close()
		u.main = nil
	}
}
