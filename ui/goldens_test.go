package ui

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestScreenMarkup pins the layout of each screen as markup in
// testdata/: a change to what a screen shows shows up in review as a diff
// of these files (regenerate from testdata/failed after checking it).
func TestScreenMarkup(t *testing.T) {
	applicant := wire.User{ID: 20, FullName: "Иванов И. И.", Role: wire.RoleApplicant}
	tests := []struct {
		golden string
		build  func(t *testing.T) *env
	}{
		{"card_details.xml", func(t *testing.T) *env {
			e, _, _ := openCard(t, applicant, 3, wire.Actor{Role: wire.RoleApplicant, Member: true})
			return e
		}},
		{"card_documents.xml", func(t *testing.T) *env {
			e, _, c := filesCard(t, applicant)
			c.tabs.SelectIndex(1)
			return e
		}},
		{"card_chat_pending.xml", func(t *testing.T) *env {
			e, be, c := openCard(t, applicant, 3, wire.Actor{Role: wire.RoleApplicant, Member: true})
			be.offline = true
			p := c.chats[wire.ChannelApplicant]
			test.Type(p.entry, "Загрузили исправленный том 3")
			test.Tap(p.send)
			c.tabs.Select(p.tab)
			return e
		}},
		{"card_offline_move.xml", func(t *testing.T) *env {
			e, be, c := openCard(t, applicant, 3, wire.Actor{Role: wire.RoleApplicant, Member: true})
			be.offline = true
			c.set(app.Card{App: c.app, Offline: true, Channels: app.Channels(applicant.Role), Transitions: be.transitions})
			test.Tap(c.buttons[wire.StatusWithdrawn])
			test.Type(c.askEntry, "Передумали")
			c.lastAsk.(interface{ Submit() }).Submit()
			return e
		}},
		{"card_draft_form.xml", func(t *testing.T) *env {
			e, _, c := draftCard(t)
			c.form.email.entry.SetText("не почта")
			test.Tap(c.saveBtn)
			return e
		}},
		{"card_remarks.xml", func(t *testing.T) *env {
			published := []wire.Remark{{ID: 3, AppID: 9, Number: 1, Section: "07.03", Text: "Нет разреза 2-2", NormRef: "ГОСТ Р 21.101-2020",
				Criticality: wire.CriticalityCritical, AuthorID: 31, AuthorName: "Сидорова А. В.", Status: wire.RemarkPublished, Version: 2,
				Anchor: &wire.RemarkAnchor{Page: 12}}}
			e, be, c := remarksCardEnv(t, remarksApplicant, wire.StatusRemarksIssued, published)
			be.store.SetNotices(9, []wire.Notice{{ID: 1, AppID: 9, Number: 1, RemarkIDs: []int64{3}, PublishedByName: "Петров П. П.",
				PublishedAt: time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)}})
			c.tabs.SelectIndex(2)
			return e
		}},
		{"account.xml", func(t *testing.T) *env {
			e, _, _ := newAccountFixture(t)
			return e
		}},
		{"register.xml", func(t *testing.T) *env {
			e := newTestEnv(t, fyne.NewSize(640, 720))
			s := newRegisterScreen(e, registerDeps{server: "http://127.0.0.1:8443",
				register: func(context.Context, string, wire.RegisterRequest) (wire.User, error) { return wire.User{}, nil },
				onDone:   func(string, wire.User) {}, onCancel: func() {}})
			show(e, s.content(), fyne.NewSize(640, 720))
			test.Type(s.inn.entry, "7707083894") // a wrong check digit: the hint shows
			return e
		}},
		{"enrol.xml", func(t *testing.T) *env {
			e := newTestEnv(t, fyne.NewSize(560, 640))
			s := newEnrolScreen(e, enrolDeps{
				enrol: func(context.Context) (wire.TOTPEnrolResponse, error) {
					return wire.TOTPEnrolResponse{Secret: "JBSWY3DPEHPK3PXP", OTPAuthURL: "otpauth://totp/x", QRPNG: testPNG(t)}, nil
				},
				confirm:  func(context.Context, string) (wire.User, error) { return wire.User{}, nil },
				onDone:   func() {},
				onLogout: func() {},
			})
			show(e, s.content(), fyne.NewSize(560, 640))
			s.start()
			return e
		}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			e := tt.build(t)
			test.AssertRendersToMarkup(t, tt.golden, e.win.Canvas())
		})
	}
}
