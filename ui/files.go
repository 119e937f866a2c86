package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/pdfannot"
	"github.com/expertiza/expertiza/pdfdoc"
	"github.com/expertiza/expertiza/sync/wire"
)

// documentsView is the card's Документы tab: the files with their
// versions, a button to add a file (applicants), one row per upload in
// progress with its bar and a cancel button, and a download button per
// version.
type documentsView struct {
	env   *env
	be    backend
	appID int64

	list    *fyne.Container // the files
	uploads *fyne.Container // transfers in progress
	add     *widget.Button
	root    fyne.CanvasObject

	// pickFile and saveFile stand for the system file dialogs (tests
	// replace them: a headless test cannot drive a native dialog).
	pickFile func(done func(path string))
	saveFile func(name string, done func(path string))

	// The annotated-export dialog last shown, for tests.
	lastAnnot              *dialog.FormDialog
	lastFlatten, lastStamp *widget.Check

	// The upload form last shown, for tests.
	lastForm    *dialog.FormDialog
	lastSection *widget.Select
	lastName    *widget.Entry
	lastChoose  *widget.Button
}

func newDocumentsView(e *env, be backend, appID int64) *documentsView {
	v := &documentsView{env: e, be: be, appID: appID, list: container.NewVBox(), uploads: container.NewVBox()}
	v.pickFile = v.systemPick
	v.saveFile = v.systemSave
	v.add = widget.NewButtonWithIcon(lang.L("docs.add"), theme.UploadIcon(), v.askUpload)
	v.add.Importance = widget.HighImportance
	var top fyne.CanvasObject = v.uploads
	if be.Me().Role == wire.RoleApplicant {
		top = container.NewVBox(container.NewHBox(v.add), v.uploads)
	}
	v.root = container.NewBorder(top, nil, nil, nil, container.NewVScroll(v.list))
	return v
}

func (v *documentsView) content() fyne.CanvasObject { return v.root }

func (v *documentsView) render(docs []wire.Document) {
	act := versionActions{download: v.download, open: v.openVersion, compare: v.compareVersion}
	if v.be.Me().Role.Staff() {
		act.annotated = v.askAnnotated
	}
	renderDocuments(v.list, docs, act)
}

// sectionOptions are the choices of the section select, in classifier
// order, the application's own documents first.
func sectionOptions() (labels []string, codes []string) {
	labels = append(labels, sectionText(wire.SectionSupporting))
	codes = append(codes, wire.SectionSupporting)
	for _, s := range wire.Sections {
		labels = append(labels, s.Code+" "+s.Short+" — "+s.Title)
		codes = append(codes, s.Code)
	}
	return labels, codes
}

// askUpload asks for the section, the document's name and the file.
func (v *documentsView) askUpload() {
	labels, codes := sectionOptions()
	section := widget.NewSelect(labels, nil)
	section.PlaceHolder = lang.L("docs.choose_section")
	name := widget.NewEntry()
	name.SetPlaceHolder(lang.L("docs.name_placeholder"))
	path := ""
	pathLabel := widget.NewLabel(lang.L("docs.no_file"))
	pathLabel.Truncation = fyne.TextTruncateEllipsis
	choose := widget.NewButtonWithIcon(lang.L("docs.choose_file"), theme.FolderOpenIcon(), func() {
		v.pickFile(func(p string) {
			path = p
			pathLabel.SetText(filepath.Base(p))
			if strings.TrimSpace(name.Text) == "" {
				name.SetText(strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)))
			}
		})
	})
	items := []*widget.FormItem{
		widget.NewFormItem(lang.L("docs.section"), section),
		widget.NewFormItem(lang.L("docs.name"), name),
		widget.NewFormItem(lang.L("docs.file"), container.NewBorder(nil, nil, nil, choose, pathLabel)),
	}
	d := dialog.NewForm(lang.L("docs.add"), lang.L("docs.upload"), lang.L("dialog.cancel"), items, func(ok bool) {
		if !ok {
			return
		}
		i := section.SelectedIndex()
		if i < 0 {
			v.env.showError(wire.E(wire.CodeInvalid, "section", "Выберите раздел документации", "Choose a documentation section"))
			return
		}
		if path == "" {
			v.env.showError(wire.E(wire.CodeInvalid, "file", "Выберите файл", "Choose a file"))
			return
		}
		v.startUpload(app.UploadRequest{AppID: v.appID, Section: codes[i], Name: name.Text, Path: path})
	}, v.env.win)
	d.Resize(fyne.NewSize(620, 300))
	v.lastForm = d
	v.lastSection, v.lastName, v.lastChoose = section, name, choose
	d.Show()
}

// startUpload adds a row with a progress bar and a cancel button, and
// sends the file in the background.
func (v *documentsView) startUpload(r app.UploadRequest) *uploadRow {
	row := v.newUploadRow(r)
	v.run(row)
	return row
}

func (v *documentsView) newUploadRow(r app.UploadRequest) *uploadRow {
	ctx, cancel := context.WithCancel(v.env.ctx)
	row := &uploadRow{req: r, ctx: ctx, bar: widget.NewProgressBar(), cancel: cancel}
	row.label = widget.NewLabel(lang.L("docs.uploading", map[string]any{"Name": filepath.Base(r.Path)}))
	row.label.Truncation = fyne.TextTruncateEllipsis
	row.stop = widget.NewButtonWithIcon(lang.L("docs.cancel_upload"), theme.CancelIcon(), cancel)
	row.box = container.NewBorder(nil, nil, nil, row.stop, container.NewVBox(row.label, row.bar))
	v.uploads.Add(row.box)
	return row
}

func (v *documentsView) run(row *uploadRow) {
	v.env.spawn(func() {
		_, err := v.be.Upload(row.ctx, row.req, func(done, total int64) {
			if total <= 0 {
				return
			}
			f := float64(done) / float64(total)
			v.env.onMain(func() { row.bar.SetValue(f) })
		})
		row.cancel()
		v.env.onMain(func() { v.finished(row, row.req, err) })
	})
}

// finished removes a successful or cancelled upload's row; a failed one
// stays with the reason until the user closes it.
func (v *documentsView) finished(row *uploadRow, r app.UploadRequest, err error) {
	row.done, row.err = true, err
	if err == nil || errors.Is(err, context.Canceled) {
		v.uploads.Remove(row.box)
		return
	}
	v.env.log.Warn("upload failed", "err", err)
	row.label.SetText(lang.L("docs.upload_failed", map[string]any{"Name": filepath.Base(r.Path), "Reason": message(err)}))
	row.label.Importance = widget.DangerImportance
	row.label.Truncation = fyne.TextTruncateOff
	row.label.Wrapping = fyne.TextWrapWord
	row.label.Refresh()
	row.stop.SetText(lang.L("pending.dismiss"))
	row.stop.SetIcon(nil)
	row.stop.OnTapped = func() { v.uploads.Remove(row.box) }
}

// uploadRow is one transfer on screen.
type uploadRow struct {
	req    app.UploadRequest
	ctx    context.Context
	box    *fyne.Container
	label  *widget.Label
	bar    *widget.ProgressBar
	stop   *widget.Button
	cancel context.CancelFunc
	done   bool
	err    error
}

// askAnnotated saves a copy of a PDF version with its annotations as
// standard PDF annotations, optionally burnt in and stamped «КОПИЯ».
func (v *documentsView) askAnnotated(ver wire.DocumentVersion) {
	flatten := widget.NewCheck(lang.L("docs.annotated_flatten"), nil)
	stamp := widget.NewCheck(lang.L("docs.annotated_stamp"), nil)
	d := dialog.NewForm(lang.L("docs.annotated"), lang.L("docs.download"), lang.L("dialog.cancel"), []*widget.FormItem{
		widget.NewFormItem("", flatten), widget.NewFormItem("", stamp),
	}, func(ok bool) {
		if !ok {
			return
		}
		opt := pdfannot.Options{Flatten: flatten.Checked, StampCopy: stamp.Checked}
		if v.env.dataDir != "" {
			opt.FontCacheDir = filepath.Join(v.env.dataDir, "pdfdoc")
		}
		if english() {
			opt.Lang = pdfdoc.LangEN
		}
		name := strings.TrimSuffix(ver.FileName, filepath.Ext(ver.FileName)) + " " + lang.L("docs.annotated_suffix") + ".pdf"
		v.saveFile(name, func(dst string) {
			call(v.env, "export annotated", func(ctx context.Context) (int, error) {
				return v.be.ExportAnnotated(ctx, ver, dst, opt)
			}, func(n int, err error) {
				if err != nil {
					v.env.showError(err)
					return
				}
				dialog.ShowInformation(lang.L("docs.annotated"), lang.L("docs.annotated_done", map[string]any{"Count": n, "Path": dst}), v.env.win)
			})
		})
	}, v.env.win)
	v.lastForm = nil
	v.lastAnnot, v.lastFlatten, v.lastStamp = d, flatten, stamp
	d.Show()
}

// download asks where to save a version and saves it there, verified.
func (v *documentsView) download(ver wire.DocumentVersion) {
	v.saveFile(ver.FileName, func(dst string) {
		call(v.env, "download", func(ctx context.Context) (struct{}, error) {
			return struct{}{}, v.be.Download(ctx, ver, dst)
		}, func(_ struct{}, err error) {
			if err != nil {
				v.env.showError(err)
				return
			}
			dialog.ShowInformation(lang.L("docs.download"), lang.L("docs.saved", map[string]any{"Path": dst}), v.env.win)
		})
	})
}

func (v *documentsView) systemPick(done func(string)) {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		_ = r.Close()
		done(r.URI().Path())
	}, v.env.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".pdf", ".PDF", ".xml", ".XML", ".zip", ".ZIP", ".sig", ".p7s", ".jpg", ".jpeg", ".png", ".tif", ".tiff", ".doc", ".docx", ".xls", ".xlsx"}))
	d.Resize(fyne.NewSize(800, 560))
	d.Show()
}

func (v *documentsView) systemSave(name string, done func(string)) { systemSave(v.env, name, done) }

// systemSave asks where to save a file named name and hands the path on.
func systemSave(e *env, name string, done func(string)) {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		// Fyne creates the file; Download writes beside it and renames
		// over it, so an interrupted download never leaves half a file.
		_ = w.Close()
		done(w.URI().Path())
	}, e.win)
	d.SetFileName(name)
	d.Resize(fyne.NewSize(800, 560))
	d.Show()
}

// writeFileAtomic writes data next to path and renames it into place, so
// an interrupted export never leaves half a file under the chosen name.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".export-*")
	if err != nil {
		return fmt.Errorf("save to %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("save to %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save to %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}
