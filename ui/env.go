package ui

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"

	"github.com/expertiza/expertiza/app"
)

// callTimeout bounds one call to the server made for a screen.
const callTimeout = 30 * time.Second

// env is what every screen shares: the app, its window, the log and the
// way work leaves and comes back to the UI goroutine.
type env struct {
	app fyne.App
	win fyne.Window
	log *slog.Logger
	// ctx lives as long as the window; background calls derive from it so
	// closing the window stops them.
	ctx context.Context
	// spawn starts background work; tests run it inline so that a tap and
	// its result happen within one test step.
	spawn func(func())
	// dataDir is the app's own folder (cache, generated files); "" in
	// tests that need none.
	dataDir string
	// renderers is the PDF renderer of the run, started when the first
	// document is viewed (nil: viewing unavailable, as in most tests).
	renderers *app.Renderers
	// pdf typesets exported registers, made on first use.
	pdf pdfEngine
}

// onMain runs fn on the Fyne goroutine. It is the one place fyne.Do is
// called: every update that starts on another goroutine goes through here.
func (e *env) onMain(fn func()) { fyne.Do(fn) }

// call runs work off the UI goroutine with a timeout and hands its result
// to done on the UI goroutine.
func call[T any](e *env, what string, work func(context.Context) (T, error), done func(T, error)) {
	e.spawn(func() {
		ctx, cancel := context.WithTimeout(e.ctx, callTimeout)
		defer cancel()
		v, err := work(ctx)
		if err != nil {
			e.log.Warn("call failed", "what", what, "err", err)
		}
		e.onMain(func() { done(v, err) })
	})
}

// watch calls fn on the UI goroutine after store changes. A burst of
// changes (a replay of many events) yields one update, not one per event.
func (e *env) watch(s *app.Store, fn func()) (cancel func()) {
	var pending atomic.Bool
	return s.OnChange(func() {
		if pending.Swap(true) {
			return
		}
		e.onMain(func() {
			pending.Store(false)
			fn()
		})
	})
}

// english reports whether the interface is shown in English, to pick the
// server's English message over the Russian one.
func english() bool { return lang.L("lang.code") == "en" }

// message is the text shown to the user for err.
func message(err error) string { return app.UserMessage(err, english()) }

// showError shows err in a dialog over the window.
func (e *env) showError(err error) {
	if err == nil || errors.Is(err, context.Canceled) {
		return
	}
	dialog.NewInformation(lang.L("dialog.error"), message(err), e.win).Show()
}
