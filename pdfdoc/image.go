package pdfdoc

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // Image blocks may be JPEG
	_ "image/png"  // or PNG
	"math"
	"strconv"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// placedImage is an Image's pixels and the resource name its pages draw it
// by; each becomes one image XObject.
type placedImage struct {
	name string // "Im1", "Im2"…
	data []byte
}

// imageSize decodes only the header of an Image's data.
func imageSize(data []byte) (w, h int, err error) {
	if len(data) == 0 {
		return 0, 0, fmt.Errorf("the image has no data")
	}
	c, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return 0, 0, fmt.Errorf("the image is not a PNG or JPEG file: %w", err)
	}
	if format != "png" && format != "jpeg" {
		return 0, 0, fmt.Errorf("the image is %s: give PNG or JPEG", format)
	}
	if c.Width <= 0 || c.Height <= 0 {
		return 0, 0, fmt.Errorf("the image is %d×%d pixels", c.Width, c.Height)
	}
	return c.Width, c.Height, nil
}

// image places im below the current position: on a new page when it does
// not fit, scaled down when it is taller than the text area.
func (ts *typesetter) image(im Image) error {
	pw, ph, err := imageSize(im.Data)
	if err != nil {
		return err
	}
	avail := ts.geo.right - ts.geo.left
	w := im.Width
	if w <= 0 || w > avail {
		w = avail
	}
	h := w * float64(ph) / float64(pw)
	if full := ts.geo.top - ts.geo.bottom; h > full {
		w, h = w*full/h, full
	}
	if !ts.fits(h) && !ts.atTop() {
		ts.newPage()
	}
	ts.images = append(ts.images, placedImage{name: "Im" + strconv.Itoa(len(ts.images)+1), data: im.Data})
	x := alignedX(im.Align, ts.geo.left, ts.geo.right, w)
	p := ts.page
	p.WriteString("q ")
	ts.num(w)
	p.WriteString(" 0 0 ")
	ts.num(h)
	p.WriteByte(' ')
	ts.num(x)
	p.WriteByte(' ')
	ts.num(ts.y - h)
	p.WriteString(" cm /")
	p.WriteString(ts.images[len(ts.images)-1].name)
	p.WriteString(" Do Q\n")
	ts.y -= h
	switch {
	case im.SpaceAfter > 0:
		ts.space(im.SpaceAfter)
	case im.SpaceAfter == 0:
		ts.space(6)
	}
	return nil
}

// validateImage reports what makes an Image block unusable.
func validateImage(im Image) error {
	if im.Width < 0 || math.IsNaN(im.Width) || math.IsInf(im.Width, 0) {
		return fmt.Errorf("image width %g is not zero or more points", im.Width)
	}
	_, _, err := imageSize(im.Data)
	return err
}

// addImages embeds the placed images as XObjects of the shared resource
// dictionary.
func addImages(xrt *model.XRefTable, res types.Dict, images []placedImage) error {
	if len(images) == 0 {
		return nil
	}
	xobjects := types.NewDict()
	for _, im := range images {
		ref, _, _, err := model.CreateImageResource(xrt, bytes.NewReader(im.data))
		if err != nil {
			return fmt.Errorf("embed image %s: %w", im.name, err)
		}
		xobjects.Insert(im.name, *ref)
	}
	res.Insert("XObject", xobjects)
	return nil
}
