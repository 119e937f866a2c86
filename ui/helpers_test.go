package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/app/pdfrender"
	"github.com/expertiza/expertiza/pdfannot"
	"github.com/expertiza/expertiza/sync/wire"
)

func TestMain(m *testing.M) {
	// The interface language follows the locale; tests pin Russian, the
	// product's language, so goldens and labels do not depend on the
	// machine. LC_ALL wins over LANG=C.UTF-8 set for CI.
	os.Setenv("LC_ALL", "ru_RU.UTF-8")
	if err := loadTranslations(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// newTestEnv returns an env over a test window of the given size whose
// background work runs inline, so a tap and its answer happen in one step.
func newTestEnv(t *testing.T, size fyne.Size) *env {
	t.Helper()
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	w.Resize(size)
	return &env{app: a, win: w, log: slog.New(slog.DiscardHandler), ctx: context.Background(), spawn: func(f func()) { f() }}
}

// show puts content in the env's window and lays it out.
func show(e *env, o fyne.CanvasObject, size fyne.Size) {
	e.win.SetContent(o)
	e.win.Resize(size)
}

// settle lays the window out again, as the real driver does on every frame
// when a minimum size changed (the test canvas does not), so markup shows
// what the user would see.
func settle(w fyne.Window) { w.Content().Refresh() }

type move struct {
	id, seen int64
	to       wire.Status
	comment  string
}

// fakeBackend stands in for app.Workspace and the server behind it.
type fakeBackend struct {
	store        *app.Store
	me           wire.User
	days         map[int64]int
	card         app.Card
	opens        int
	transitions  []wire.Status
	moves        []move
	moveErr      error
	posted       []string
	markCalls    int
	sessions     []wire.Session
	logins       []wire.LoginEvent
	ended        []int64
	accountErr   error
	offline      bool // commands are queued, as with the network cut
	pending      []app.PendingCommand
	refused      []app.PendingCommand
	nextCmd      uint64
	uploads      []app.UploadRequest
	atHalf       func() // when set, called after half the bytes; the upload then waits for its ctx to end
	uploadErr    error
	downloads    map[string]int64 // destination → version id
	created      []wire.ApplicationInput
	createErr    error
	updates      []update
	updateErr    error
	deleted      [][2]int64
	markedRead   []wire.Channel
	typed        int
	remarkCalls  []string
	pwCalls      []string
	pwErr        error
	mailLangs    []string
	annotExports []string
	concl        conclFake        // the conclusion tab's server (conclusion_test.go)
	viewFiles    map[int64]string // version id → local PDF the viewer opens
	viewOpens    []int64
	pay          map[int64]wire.PaymentInfo // the server's payment side; absent: ContractFor is refused (payment_test.go)
	payCalls     []string
	payErr       error
	payDownload  map[string]int64 // destination → contract document id
	annot        *annotFake       // the annotations' server (viewer_annot_test.go)

	// Chat files (chat_files_test.go).
	sentFiles [][]string                 // paths of each message sent with files
	filesErr  error                      // when set, PostMessageWithFiles fails with it
	saved     map[string]wire.Attachment // destination → attachment saved there

	// The audit journal and personal data (audit_test.go).
	audit auditFake
	// The office reports (reports_test.go).
	rep reportsFake
}

type update struct {
	id, seen int64
	in       wire.ApplicationInput
}

func newFakeBackend(me wire.User) *fakeBackend {
	s := app.NewStore(slog.New(slog.DiscardHandler))
	s.SetMe(me)
	return &fakeBackend{store: s, me: me, days: map[int64]int{}}
}

func (f *fakeBackend) Store() *app.Store { return f.store }
func (f *fakeBackend) Me() wire.User     { return f.me }
func (f *fakeBackend) DaysLeft(a wire.Application) (int, bool) {
	d, ok := f.days[a.ID]
	return d, ok
}
func (f *fakeBackend) LoadApplications(context.Context) error { return nil }
func (f *fakeBackend) OpenApplication(_ context.Context, id int64) (app.Card, error) {
	f.opens++
	c := f.card
	if a, ok := f.store.Application(id); ok {
		c.App = a
	}
	c.Transitions = f.transitions
	f.store.SetHistory(id, c.History)
	f.store.SetDocuments(id, c.Documents)
	for ch, ms := range c.Messages {
		f.store.SetMessages(id, ch, ms)
	}
	return c, nil
}
func (f *fakeBackend) Transitions(context.Context, int64) ([]wire.Status, error) {
	return f.transitions, nil
}
func (f *fakeBackend) Transition(_ context.Context, id, seen int64, to wire.Status, comment string) (wire.Application, error) {
	f.moves = append(f.moves, move{id, seen, to, comment})
	if f.offline {
		return wire.Application{}, f.queue(app.PendingCommand{Kind: app.CommandTransition, AppID: id,
			Transition: &wire.TransitionRequestBody{Version: seen, To: to, Comment: comment}})
	}
	if f.moveErr != nil {
		return wire.Application{}, f.moveErr
	}
	a, _ := f.store.Application(id)
	a.Status, a.Version = to, a.Version+1
	f.store.UpsertApplication(a)
	return a, nil
}
func (f *fakeBackend) PostMessage(_ context.Context, id int64, ch wire.Channel, body string) (wire.Message, error) {
	f.posted = append(f.posted, body)
	if f.offline {
		return wire.Message{}, f.queue(app.PendingCommand{Kind: app.CommandMessage, AppID: id,
			Message: &wire.PostMessageRequest{Channel: ch, Body: body}})
	}
	m := wire.Message{ID: int64(100 + len(f.posted)), AppID: id, Channel: ch, AuthorName: f.me.FullName, Body: body}
	f.store.AddMessage(m)
	return m, nil
}
func (f *fakeBackend) PostMessageWithFiles(ctx context.Context, id int64, ch wire.Channel, body string, paths []string, progress func(done, total int64)) (wire.Message, error) {
	if len(paths) == 0 {
		return f.PostMessage(ctx, id, ch, body)
	}
	f.sentFiles = append(f.sentFiles, slices.Clone(paths))
	if f.filesErr != nil {
		return wire.Message{}, f.filesErr
	}
	const each = 1000
	m := wire.Message{ID: int64(100 + len(f.posted) + len(f.sentFiles)), AppID: id, Channel: ch, AuthorID: f.me.ID, AuthorName: f.me.FullName, Body: body}
	for i, p := range paths {
		progress(int64(i+1)*each, int64(len(paths))*each)
		sha := fmt.Sprintf("%064x", i+1)
		m.Attachments = append(m.Attachments, sha)
		m.Files = append(m.Files, wire.Attachment{SHA256: sha, FileName: filepath.Base(p), Size: 2 << 20})
	}
	f.store.AddMessage(m)
	return m, nil
}
func (f *fakeBackend) DownloadAttachment(_ context.Context, m wire.Message, a wire.Attachment, dst string) error {
	if f.saved == nil {
		f.saved = map[string]wire.Attachment{}
	}
	f.saved[dst] = a
	return nil
}
func (f *fakeBackend) MarkNotificationsRead(context.Context) error {
	f.markCalls++
	var ids []int64
	for _, n := range f.store.Notifications() {
		ids = append(ids, n.ID)
	}
	f.store.MarkRead(ids)
	return nil
}

func (f *fakeBackend) Sessions(context.Context) ([]wire.Session, error) {
	return slices.Clone(f.sessions), f.accountErr
}
func (f *fakeBackend) EndSession(_ context.Context, id int64) error {
	if f.accountErr != nil {
		return f.accountErr
	}
	f.ended = append(f.ended, id)
	f.sessions = slices.DeleteFunc(f.sessions, func(s wire.Session) bool { return s.ID == id })
	return nil
}
func (f *fakeBackend) Logins(context.Context) ([]wire.LoginEvent, error) {
	return slices.Clone(f.logins), f.accountErr
}

func (f *fakeBackend) CreateApplication(_ context.Context, in wire.ApplicationInput) (wire.Application, error) {
	f.created = append(f.created, in)
	if f.createErr != nil {
		return wire.Application{}, f.createErr
	}
	a := wire.Application{ID: 50, Number: "ГГЭ-2026-000050", OrgID: f.me.OrgID, ObjectName: *in.ObjectName, ObjectAddress: *in.ObjectAddress,
		WorksKind: *in.WorksKind, ExpertiseKind: *in.ExpertiseKind, Financing: *in.Financing, Status: wire.StatusDraft, Version: 1}
	f.store.UpsertApplication(a)
	return a, nil
}
func (f *fakeBackend) UpdateApplication(_ context.Context, id, seen int64, in wire.ApplicationInput) (wire.Application, error) {
	f.updates = append(f.updates, update{id, seen, in})
	if f.updateErr != nil {
		return wire.Application{}, f.updateErr
	}
	a, _ := f.store.Application(id)
	if in.ObjectName != nil {
		a.ObjectName = *in.ObjectName
	}
	if in.ApplicantEmail != nil {
		a.ApplicantEmail = *in.ApplicantEmail
	}
	a.Version++
	f.store.UpsertApplication(a)
	return a, nil
}
func (f *fakeBackend) CreateRemark(_ context.Context, appID int64, r wire.CreateRemarkRequest) (wire.Remark, error) {
	if f.offline {
		return wire.Remark{}, f.queue(app.PendingCommand{Kind: app.CommandRemarkCreate, AppID: appID, RemarkCreate: &r})
	}
	f.remarkCalls = append(f.remarkCalls, "create:"+r.Text)
	rm := wire.Remark{ID: int64(500 + len(f.remarkCalls)), AppID: appID, Section: r.Section, Text: r.Text, NormRef: r.NormRef,
		Criticality: r.Criticality, AuthorID: f.me.ID, AuthorName: f.me.FullName, Status: wire.RemarkDraft, Version: 1}
	f.store.UpsertRemark(rm)
	return rm, nil
}
func (f *fakeBackend) AnswerRemark(_ context.Context, rm wire.Remark, text string, versionIDs []int64) (wire.Remark, error) {
	if f.offline {
		return wire.Remark{}, f.queue(app.PendingCommand{Kind: app.CommandRemarkAnswer, AppID: rm.AppID, RemarkID: rm.ID,
			RemarkAnswer: &wire.AnswerRemarkRequest{Version: rm.Version, Text: text, VersionIDs: versionIDs}})
	}
	f.remarkCalls = append(f.remarkCalls, fmt.Sprintf("answer:%d:%s:%v", rm.ID, text, versionIDs))
	rm.Status, rm.Version = wire.RemarkAnswered, rm.Version+1
	rm.Answers = append(rm.Answers, wire.RemarkAnswer{Text: text, VersionIDs: versionIDs, AuthorName: f.me.FullName})
	f.store.UpsertRemark(rm)
	return rm, nil
}
func (f *fakeBackend) SetRemarkStatus(_ context.Context, rm wire.Remark, to wire.RemarkStatus, comment string) (wire.Remark, error) {
	f.remarkCalls = append(f.remarkCalls, fmt.Sprintf("status:%d:%s:%s", rm.ID, to, comment))
	rm.Status, rm.Version, rm.Resolution = to, rm.Version+1, comment
	f.store.UpsertRemark(rm)
	return rm, nil
}
func (f *fakeBackend) DownloadNoticeLetter(_ context.Context, n wire.Notice, dst string) error {
	f.remarkCalls = append(f.remarkCalls, fmt.Sprintf("letter:%d:%s", n.ID, filepath.Base(dst)))
	return nil
}
func (f *fakeBackend) PublishRemarks(_ context.Context, a wire.Application, ids []int64, comment string) (wire.Notice, error) {
	f.remarkCalls = append(f.remarkCalls, fmt.Sprintf("publish:%d:%v", a.Version, ids))
	return wire.Notice{ID: 1, AppID: a.ID, Number: 1, RemarkIDs: ids}, nil
}
func (f *fakeBackend) MarkChatRead(_ context.Context, appID int64, ch wire.Channel) error {
	f.markedRead = append(f.markedRead, ch)
	ms := f.store.Messages(appID, ch)
	if len(ms) > 0 {
		f.store.SetReadMarks(appID, []wire.ReadMark{{AppID: appID, Channel: ch, LastReadID: ms[len(ms)-1].ID}})
	}
	return nil
}
func (f *fakeBackend) Typing(appID int64, ch wire.Channel) { f.typed++ }
func (f *fakeBackend) SetMailLanguage(_ context.Context, lang string) error {
	f.mailLangs = append(f.mailLangs, lang)
	return nil
}
func (f *fakeBackend) ChangePassword(_ context.Context, old, new, repeat string) error {
	f.pwCalls = append(f.pwCalls, old+"→"+new)
	if new != repeat {
		return wire.E(wire.CodeInvalid, "repeat", "Новый пароль и повтор не совпадают", "differ")
	}
	return f.pwErr
}
func (f *fakeBackend) DeleteDraft(_ context.Context, id, seen int64) error {
	f.deleted = append(f.deleted, [2]int64{id, seen})
	return nil
}
func (f *fakeBackend) Upload(ctx context.Context, r app.UploadRequest, progress func(done, total int64)) (wire.Upload, error) {
	f.uploads = append(f.uploads, r)
	const total = 1000
	progress(total/2, total)
	if f.atHalf != nil {
		f.atHalf()
		<-ctx.Done()
		return wire.Upload{}, ctx.Err()
	}
	if f.uploadErr != nil {
		return wire.Upload{}, f.uploadErr
	}
	progress(total, total)
	return wire.Upload{ID: "u1", AppID: r.AppID, State: "done", VersionID: 99}, nil
}
func (f *fakeBackend) ExportAnnotated(_ context.Context, v wire.DocumentVersion, dst string, opt pdfannot.Options) (int, error) {
	f.annotExports = append(f.annotExports, fmt.Sprintf("%d:%s:flatten=%v:stamp=%v", v.ID, filepath.Base(dst), opt.Flatten, opt.StampCopy))
	return 3, nil
}
func (f *fakeBackend) Download(_ context.Context, v wire.DocumentVersion, dst string) error {
	if f.downloads == nil {
		f.downloads = map[string]int64{}
	}
	f.downloads[dst] = v.ID
	return nil
}

// OpenVersion opens the local file standing for the version, as
// app.Workspace does once the version is in its file cache.
func (f *fakeBackend) OpenVersion(ctx context.Context, r pdfrender.Renderer, v wire.DocumentVersion) (*app.Viewer, error) {
	f.viewOpens = append(f.viewOpens, v.ID)
	p, ok := f.viewFiles[v.ID]
	if !ok {
		return nil, wire.E(wire.CodeNotFound, "", "Версия не найдена", "Version not found")
	}
	return app.OpenViewer(ctx, r, p, v)
}

// queue stands in for the outbox while f.offline: the command is kept and
// shown as pending, and the caller gets app.ErrQueued.
func (f *fakeBackend) queue(p app.PendingCommand) error {
	f.nextCmd++
	p.ID = f.nextCmd
	f.pending = append(f.pending, p)
	f.store.SetPending(slices.Clone(f.pending), slices.Clone(f.refused))
	return app.ErrQueued
}
func (f *fakeBackend) DiscardPending(id uint64) (bool, error) {
	n := len(f.pending)
	f.pending = slices.DeleteFunc(f.pending, func(p app.PendingCommand) bool { return p.ID == id })
	f.store.SetPending(slices.Clone(f.pending), slices.Clone(f.refused))
	return len(f.pending) < n, nil
}
func (f *fakeBackend) DismissRefused(id uint64) error {
	f.refused = slices.DeleteFunc(f.refused, func(p app.PendingCommand) bool { return p.ID == id })
	f.store.SetPending(slices.Clone(f.pending), slices.Clone(f.refused))
	return nil
}

// --- the «Оплата» tab (payment_test.go) ---

func (f *fakeBackend) ContractFor(_ context.Context, appID int64) (wire.PaymentInfo, error) {
	p, ok := f.pay[appID]
	if !ok {
		return wire.PaymentInfo{}, wire.E(wire.CodeForbidden, "", "нет доступа", "forbidden")
	}
	f.store.SetPaymentInfo(p)
	return p, nil
}
func (f *fakeBackend) savePay(p wire.PaymentInfo) wire.PaymentInfo {
	p.Revision++
	f.pay[p.AppID] = p
	f.store.SetPaymentInfo(p)
	return p
}
func (f *fakeBackend) SetCost(_ context.Context, p wire.PaymentInfo, roubles string) (wire.PaymentInfo, error) {
	f.payCalls = append(f.payCalls, "cost:"+roubles)
	k, err := app.ParseRoubles(roubles)
	if err != nil {
		return wire.PaymentInfo{}, err
	}
	p = f.pay[p.AppID]
	p.CostKopecks = k
	return f.savePay(p), nil
}
func (f *fakeBackend) AcceptContract(_ context.Context, a wire.Application, p wire.PaymentInfo) (wire.PaymentInfo, error) {
	f.payCalls = append(f.payCalls, fmt.Sprintf("accept:%d:%d", a.Version, p.Contract.ID))
	if f.payErr != nil {
		return wire.PaymentInfo{}, f.payErr
	}
	p = f.pay[a.ID]
	c := *p.Contract
	c.Status, c.AcceptedByName = wire.ContractAccepted, f.me.FullName
	p.Contract = &c
	a.Status, a.Version = wire.StatusAwaitingPayment, a.Version+1
	f.store.UpsertApplication(a)
	return f.savePay(p), nil
}
func (f *fakeBackend) RecordPayment(_ context.Context, appID int64, roubles string, paidOn wire.Date, order string) (wire.PaymentInfo, error) {
	f.payCalls = append(f.payCalls, fmt.Sprintf("record:%s:%s:%s", roubles, paidOn, order))
	if f.payErr != nil {
		return wire.PaymentInfo{}, f.payErr
	}
	k, err := app.ParseRoubles(roubles)
	if err != nil {
		return wire.PaymentInfo{}, err
	}
	p := f.pay[appID]
	p.Payments = append(slices.Clone(p.Payments), wire.Payment{ID: int64(len(p.Payments) + 1), AppID: appID, AmountKopecks: k, PaidOn: paidOn,
		OrderNumber: order, Source: wire.PaymentManual, RecordedByName: f.me.FullName, Receipt: wire.ContractDocument{ID: int64(90 + len(p.Payments)), Kind: wire.DocReceipt}})
	p.PaidKopecks += k
	p.BalanceKopecks -= k
	return f.savePay(p), nil
}
func (f *fakeBackend) DownloadContractDocument(_ context.Context, d wire.ContractDocument, dst string) error {
	if f.payDownload == nil {
		f.payDownload = map[string]int64{}
	}
	f.payDownload[dst] = d.ID
	return nil
}

var _ backend = (*fakeBackend)(nil)

// sampleApps are three applications in different states, the newest first
// as the Store sorts them.
func sampleApps() []wire.Application {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	return []wire.Application{
		{ID: 3, Number: "ГГЭ-2026-000003", ObjectName: "Детский сад на 220 мест", OrgName: "ООО «СтройПроект»", OrgINN: "7707083893",
			Status: wire.StatusSubmitted, Version: 2, ExpertiseKind: wire.KindProjectDocs, WorksKind: wire.WorksConstruction,
			Financing: wire.FinancingBudget, CreatedAt: at},
		{ID: 2, Number: "ГГЭ-2026-000002", ObjectName: "Школа на 1100 мест", OrgName: "АО «Горпроект»",
			Status: wire.StatusInReview, Version: 7, CreatedAt: at},
		{ID: 1, Number: "ГГЭ-2026-000001", ObjectName: "Поликлиника", OrgName: "ООО «Медстрой»",
			Status: wire.StatusCompletedPositive, Version: 12, CreatedAt: at},
	}
}

// containsText reports whether a label or text under o shows s.
func containsText(o fyne.CanvasObject, s string) bool {
	for _, x := range append([]fyne.CanvasObject{o}, test.LaidOutObjects(o)...) {
		switch v := x.(type) {
		case *widget.Label:
			if v.Text == s {
				return true
			}
		case *canvas.Text:
			if v.Text == s {
				return true
			}
		}
	}
	return false
}

// containsObject reports whether target is laid out under root.
func containsObject(root, target fyne.CanvasObject) bool {
	for _, x := range test.LaidOutObjects(root) {
		if x == target {
			return true
		}
	}
	return false
}

func mustEvent(t *testing.T, kind wire.EventKind, appID int64, data any) wire.Event {
	t.Helper()
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	return wire.Event{Seq: 1, Kind: kind, AppID: appID, Data: b}
}
