package ui

import (
	"context"
	"path/filepath"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/wire"
)

// chatFiles is a chat's files: the paperclip beside «Отправить», the files
// chosen for the next message (each with «×» to drop it), the progress of
// their upload while the message is sent, and a button per file of each
// message shown, which saves it where the user says.
type chatFiles struct {
	env   *env
	be    backend
	appID int64
	ch    wire.Channel

	clip     *widget.Button  // choose files
	chosen   []string        // paths, in the order chosen
	list     *fyne.Container // the chosen files
	progress *fyne.Container // bar and cancel, while uploading
	bar      *widget.ProgressBar
	stop     *widget.Button
	cancel   context.CancelFunc // of the upload in progress

	// pickFiles and saveFile stand for the system file dialogs (tests
	// replace them: a headless test cannot drive a native dialog).
	pickFiles func(done func(paths []string))
	saveFile  func(name string, done func(path string))
}

func newChatFiles(e *env, be backend, appID int64, ch wire.Channel) *chatFiles {
	f := &chatFiles{env: e, be: be, appID: appID, ch: ch, list: container.NewVBox(), bar: widget.NewProgressBar()}
	f.pickFiles = f.systemPick
	f.saveFile = (&documentsView{env: e}).systemSave
	f.clip = widget.NewButtonWithIcon("", theme.MailAttachmentIcon(), f.choose)
	f.stop = widget.NewButtonWithIcon(lang.L("docs.cancel_upload"), theme.CancelIcon(), func() {
		if f.cancel != nil {
			f.cancel()
		}
	})
	f.progress = container.NewBorder(nil, nil, nil, f.stop, container.NewVBox(widget.NewLabel(lang.L("chat.uploading")), f.bar))
	f.progress.Hide()
	f.list.Hide() // hidden while empty, so it takes no room in the layout
	return f
}

// choose asks for files and adds them to the next message; a file chosen
// again is listed once.
func (f *chatFiles) choose() {
	f.pickFiles(func(paths []string) {
		for _, p := range paths {
			if p != "" && !slices.Contains(f.chosen, p) {
				f.chosen = append(f.chosen, p)
			}
		}
		f.showChosen()
	})
}

func (f *chatFiles) remove(path string) {
	f.chosen = slices.DeleteFunc(f.chosen, func(p string) bool { return p == path })
	f.showChosen()
}

func (f *chatFiles) showChosen() {
	objs := make([]fyne.CanvasObject, 0, len(f.chosen))
	for _, p := range f.chosen {
		name := widget.NewLabel(lang.L("chat.file_chosen", map[string]any{"Name": filepath.Base(p)}))
		name.Truncation = fyne.TextTruncateEllipsis
		drop := widget.NewButton("×", func() { f.remove(p) })
		drop.Importance = widget.LowImportance
		objs = append(objs, container.NewBorder(nil, nil, nil, drop, name))
	}
	f.list.Objects = objs
	f.list.Refresh()
	if len(objs) == 0 {
		f.list.Hide()
	} else {
		f.list.Show()
	}
}

// send uploads the chosen files and posts body with them. The entry and
// the files are cleared once the message is posted (or queued after the
// uploads); on a failure both stay, so the user can try again, and the
// reason is shown.
func (f *chatFiles) send(body string, sendBtn *widget.Button, sent func()) {
	paths := slices.Clone(f.chosen)
	ctx, cancel := context.WithCancel(f.env.ctx)
	f.cancel = cancel
	sendBtn.Disable()
	f.clip.Disable()
	f.bar.SetValue(0)
	f.progress.Show()
	f.env.spawn(func() {
		_, err := f.be.PostMessageWithFiles(ctx, f.appID, f.ch, body, paths, func(done, total int64) {
			if total <= 0 {
				return
			}
			v := float64(done) / float64(total)
			f.env.onMain(func() { f.bar.SetValue(v) })
		})
		cancel()
		f.env.onMain(func() {
			f.cancel = nil
			f.progress.Hide()
			sendBtn.Enable()
			f.clip.Enable()
			if err != nil && !app.IsQueued(err) {
				f.env.showError(err)
				return
			}
			f.chosen = nil
			f.showChosen()
			sent()
		})
	})
}

// buttons are a message's files, each saving it where the user says.
func (f *chatFiles) buttons(m wire.Message) []fyne.CanvasObject {
	out := make([]fyne.CanvasObject, 0, len(m.Files))
	for _, file := range m.Files {
		b := widget.NewButton(lang.L("chat.file", map[string]any{"Name": file.FileName, "Size": sizeText(file.Size)}), func() { f.save(m, file) })
		b.Alignment = widget.ButtonAlignLeading
		b.Importance = widget.LowImportance
		out = append(out, b)
	}
	return out
}

// save asks where to put a message's file and saves it there, verified.
func (f *chatFiles) save(m wire.Message, file wire.Attachment) {
	f.saveFile(file.FileName, func(dst string) {
		call(f.env, "download attachment", func(ctx context.Context) (struct{}, error) {
			return struct{}{}, f.be.DownloadAttachment(ctx, m, file, dst)
		}, func(_ struct{}, err error) {
			if err != nil {
				f.env.showError(err)
				return
			}
			dialog.ShowInformation(lang.L("docs.download"), lang.L("docs.saved", map[string]any{"Path": dst}), f.env.win)
		})
	})
}

// systemPick opens the system dialog for one file of any kind (chat files
// are not checked as documentation); the paperclip adds one per choice.
func (f *chatFiles) systemPick(done func([]string)) {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		_ = r.Close()
		done([]string{r.URI().Path()})
	}, f.env.win)
	d.Resize(fyne.NewSize(800, 560))
	d.Show()
}
