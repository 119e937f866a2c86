package ui

import (
	"time"

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// statusLabel is the status's name in the interface language; Russian
// comes from wire so the labels cannot drift from the design.
func statusLabel(s wire.Status) string { return lang.X("status."+string(s), s.Label()) }

// transitionLabel names the button that moves an application from one
// status to another: the action, not the target ("Принять к рассмотрению").
func transitionLabel(from, to wire.Status) string {
	return lang.X("transition."+string(from)+"."+string(to), statusLabel(to))
}

func roleLabel(r wire.Role) string { return lang.X("role."+string(r), string(r)) }

func worksLabel(k wire.WorksKind) string { return lang.X("works."+string(k), string(k)) }

func expertiseLabel(k wire.ExpertiseKind) string { return lang.X("expertise."+string(k), string(k)) }

func financingLabel(f wire.Financing) string { return lang.X("financing."+string(f), string(f)) }

func channelLabel(c wire.Channel) string { return lang.X("chat."+string(c), string(c)) }

func connectionLabel(s client.State) string { return lang.X("conn."+s.String(), s.String()) }

// statusImportance colours a status in lists.
func statusImportance(s wire.Status) widget.Importance {
	switch app.StatusTone(s) {
	case app.ToneActive:
		return widget.HighImportance
	case app.ToneAttention:
		return widget.WarningImportance
	case app.ToneSuccess:
		return widget.SuccessImportance
	case app.ToneFailure:
		return widget.DangerImportance
	}
	return widget.MediumImportance
}

// deadlineImportance colours days left: green, amber ≤ 5, red overdue.
func deadlineImportance(days int) widget.Importance {
	switch wire.ColourFor(days) {
	case wire.ColourRed:
		return widget.DangerImportance
	case wire.ColourAmber:
		return widget.WarningImportance
	}
	return widget.SuccessImportance
}

// daysLeftText says how many working days are left, or by how many the
// deadline is missed, with the language's plural forms.
func daysLeftText(days int) string {
	if days < 0 {
		return lang.XN("deadline.overdue", "overdue by {{.Count}}", -days, map[string]any{"Count": -days})
	}
	return lang.XN("deadline.left", "{{.Count}} left", days, map[string]any{"Count": days})
}

// timeText shows an instant in the user's time zone.
func timeText(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Local().Format("02.01.2006 15:04")
}

func dateText(d *wire.Date) string {
	if d == nil || d.IsZero() {
		return "—"
	}
	return d.Time().Format("02.01.2006")
}
