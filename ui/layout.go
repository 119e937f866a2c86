package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
)

// minWidth stacks its objects and asks for at least width, so a form
// centred in a large window keeps a readable width instead of shrinking
// to its labels.
type minWidth struct{ width float32 }

func (m minWidth) MinSize(objects []fyne.CanvasObject) fyne.Size {
	s := fyne.NewSize(m.width, 0)
	for _, o := range objects {
		if !o.Visible() {
			continue
		}
		s = s.Max(o.MinSize())
	}
	return s
}

func (m minWidth) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objects {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

// centred puts content in the middle of the window at least width wide.
func centred(width float32, content fyne.CanvasObject) fyne.CanvasObject {
	return container.NewCenter(container.New(minWidth{width}, content))
}
