package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/wire"
)

// renderDocuments shows the application's files: each logical file with
// its versions (newest first), their review status and any detached
// signatures with the checker's verdict. download (nil: no button) saves
// a version; open (nil: no button) shows a PDF version in the viewer;
// compare (optional) compares a PDF version with the one before it.
// versionActions are what the user may do with a version of a file; a
// nil action has no button.
type versionActions struct {
	download  func(wire.DocumentVersion)
	open      func(wire.DocumentVersion)                // PDF versions
	compare   func(wire.Document, wire.DocumentVersion) // PDF versions with an earlier PDF one
	annotated func(wire.DocumentVersion)                // PDF versions: a copy with the annotations (staff)
}

func renderDocuments(box *fyne.Container, docs []wire.Document, act versionActions) {
	objs := make([]fyne.CanvasObject, 0, len(docs)*4)
	low := func(text string, icon fyne.Resource, f func()) *widget.Button {
		b := widget.NewButtonWithIcon(text, icon, f)
		b.Importance = widget.LowImportance
		return b
	}
	for _, d := range docs {
		objs = append(objs, widget.NewLabelWithStyle(sectionText(d.Section)+" · "+d.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		for _, v := range d.Versions {
			line := fmt.Sprintf("%s %d · %s · %s", lang.L("docs.version"), v.Number, v.FileName, sizeText(v.Size))
			if v.Pages > 0 {
				line += " · " + lang.L("docs.pages", map[string]any{"N": v.Pages})
			}
			buttons := container.NewHBox()
			if app.IsPDF(v) {
				if prev, ok := app.PreviousVersion(d, v); ok && act.compare != nil && app.IsPDF(prev) {
					d := d
					buttons.Add(low(lang.L("compare.button"), theme.ContentCopyIcon(), func() { act.compare(d, v) }))
				}
				if act.open != nil {
					buttons.Add(low(lang.L("viewer.open"), theme.VisibilityIcon(), func() { act.open(v) }))
				}
				if act.annotated != nil {
					buttons.Add(low(lang.L("docs.annotated"), theme.DocumentPrintIcon(), func() { act.annotated(v) }))
				}
			}
			if act.download != nil {
				buttons.Add(low(lang.L("docs.download"), theme.DownloadIcon(), func() { act.download(v) }))
			}
			if len(buttons.Objects) > 0 {
				objs = append(objs, container.NewBorder(nil, nil, nil, buttons, widget.NewLabel(line)))
			} else {
				objs = append(objs, widget.NewLabel(line))
			}
			review := widget.NewLabel(reviewText(v.Review, v.ReviewComment))
			review.Wrapping = fyne.TextWrapWord
			review.Importance = reviewImportance(v.Review)
			objs = append(objs, review)
			for _, sg := range v.Signatures {
				for _, s := range app.Signers(sg) {
					l := widget.NewLabel(lang.L("docs.signature") + ": " + signerText(s))
					l.Wrapping = fyne.TextWrapWord
					l.Importance = verdictImportance(s.Verdict)
					objs = append(objs, l)
				}
			}
		}
		objs = append(objs, widget.NewSeparator())
	}
	if len(docs) == 0 {
		objs = append(objs, widget.NewLabel(lang.L("docs.empty")))
	}
	box.Objects = objs
	box.Refresh()
}

func sectionText(code string) string {
	switch code {
	case wire.SectionSupporting:
		return lang.L("docs.section.app")
	}
	if s, ok := wire.SectionByCode(code); ok {
		return s.Code + " " + s.Short
	}
	return code
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f %s", float64(n)/(1<<20), lang.L("docs.mb"))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f %s", float64(n)/(1<<10), lang.L("docs.kb"))
	}
	return fmt.Sprintf("%d %s", n, lang.L("docs.bytes"))
}

func reviewText(r wire.ReviewStatus, comment string) string {
	t := lang.L("docs.review." + string(r))
	if comment != "" {
		t += ": " + comment
	}
	return t
}

func reviewImportance(r wire.ReviewStatus) widget.Importance {
	switch r {
	case wire.ReviewAccepted:
		return widget.SuccessImportance
	case wire.ReviewRejected:
		return widget.DangerImportance
	}
	return widget.MediumImportance
}

// signerText names the signer and the verdict. A GOST signature, whose
// cryptography cannot be checked here, reads "structure checked,
// cryptographic check unavailable" — never "valid".
func signerText(s app.SignerLine) string {
	parts := []string{}
	if s.Subject != "" {
		parts = append(parts, s.Subject)
	}
	parts = append(parts, lang.L("docs.verdict."+s.Verdict))
	return strings.Join(parts, " — ")
}

func verdictImportance(v string) widget.Importance {
	switch v {
	case app.VerdictValid:
		return widget.SuccessImportance
	case app.VerdictMismatch, app.VerdictInvalid:
		return widget.DangerImportance
	}
	return widget.WarningImportance
}

// documentsTab builds the card's Документы tab.
func documentsTab(v *documentsView) *container.TabItem {
	return container.NewTabItem(lang.L("card.tab.documents"), v.content())
}
