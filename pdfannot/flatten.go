package pdfannot

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// Annotation flags (PDF 32000-1 §12.5.3) that keep an annotation off the
// screen; flattening drops such annotations without drawing them.
const (
	flagHidden = 1 << 1
	flagNoView = 1 << 5
)

// flatten draws every annotation of the page that has a normal appearance
// into the page content, as a viewer would draw it (PDF 32000-1 §12.5.5:
// the form's BBox, transformed by its Matrix, is fitted onto /Rect), and
// removes it. Pop-ups go with their parents; hidden annotations go
// undrawn; links, and annotations without an appearance, stay.
func (x *exporter) flatten(pw *pageWork) error {
	arr, err := x.annots(pw.dict)
	if err != nil || len(arr) == 0 {
		return err
	}
	var keep types.Array
	for _, o := range arr {
		ad, err := x.xrt.DereferenceDict(o)
		if err != nil || ad == nil {
			continue // a broken entry no viewer can show either
		}
		sub := nameOf(ad, "Subtype")
		switch sub {
		case "Popup":
			continue
		case "Link":
			keep = append(keep, o)
			continue
		}
		if f := ad.IntEntry("F"); f != nil && *f&(flagHidden|flagNoView) != 0 {
			continue
		}
		drawn, err := x.burn(pw, ad)
		if err != nil {
			return fmt.Errorf("%s annotation: %w", sub, err)
		}
		if !drawn {
			keep = append(keep, o)
			continue
		}
		if sub == "Widget" {
			x.widgetsFlattened = true
		}
	}
	x.setAnnots(pw.dict, keep)
	return nil
}

// burn draws annotation ad's normal appearance into the page's tail;
// false when it has none.
func (x *exporter) burn(pw *pageWork, ad types.Dict) (bool, error) {
	ref, form, err := x.normalAppearance(ad)
	if err != nil || ref == nil {
		return false, err
	}
	rect, err := x.rectEntry(ad, "Rect")
	if err != nil {
		return false, fmt.Errorf("/Rect: %w", err)
	}
	bbox, err := x.rectEntry(form.Dict, "BBox")
	if err != nil {
		return false, fmt.Errorf("appearance /BBox: %w", err)
	}
	m := identity
	if o, ok := form.Dict.Find("Matrix"); ok && o != nil {
		arr, err := x.xrt.DereferenceArray(o)
		if err != nil || len(arr) != 6 {
			return false, fmt.Errorf("appearance /Matrix: %v", err)
		}
		for i := range m {
			if m[i], err = x.xrt.DereferenceNumber(arr[i]); err != nil {
				return false, fmt.Errorf("appearance /Matrix: %w", err)
			}
		}
	}
	tb := emptyBox()
	for _, c := range [][2]float64{{bbox.x0, bbox.y0}, {bbox.x1, bbox.y0}, {bbox.x0, bbox.y1}, {bbox.x1, bbox.y1}} {
		tb.add(m.apply(c[0], c[1]))
	}
	if tb.w() <= 0 || tb.h() <= 0 || rect.w() <= 0 || rect.h() <= 0 {
		return true, nil // draws nothing: gone, as in a viewer
	}
	sx, sy := rect.w()/tb.w(), rect.h()/tb.h()
	fit := matrix{sx, 0, 0, sy, rect.x0 - tb.x0*sx, rect.y0 - tb.y0*sy}

	name, err := x.addResource(pw, "XObject", *ref)
	if err != nil {
		return false, err
	}
	t := &pw.tail
	t.op("q")
	if o, ok := ad.Find("CA"); ok && o != nil {
		if ca, err := x.xrt.DereferenceNumber(o); err == nil && ca >= 0 && ca < 1 {
			gs, err := x.opacity(ca)
			if err != nil {
				return false, err
			}
			gname, err := x.addResource(pw, "ExtGState", *gs)
			if err != nil {
				return false, err
			}
			t.op("/" + gname + " gs")
		}
	}
	t.cm(fit)
	t.op("/" + name + " Do Q")
	return true, nil
}

// opacity is a shared graphics state with constant alpha a.
func (x *exporter) opacity(a float64) (*types.IndirectRef, error) {
	key := strconv.FormatFloat(a, 'f', 3, 64)
	if ref, ok := x.alphas[key]; ok {
		return ref, nil
	}
	ref, err := x.xrt.IndRefForNewObject(types.Dict{"Type": types.Name("ExtGState"), "CA": types.Float(a), "ca": types.Float(a)})
	if err != nil {
		return nil, err
	}
	if x.alphas == nil {
		x.alphas = map[string]*types.IndirectRef{}
	}
	x.alphas[key] = ref
	return ref, nil
}

// normalAppearance is the stream ad shows: /AP /N, or its entry for the
// state /AS when /N is a dictionary of states.
func (x *exporter) normalAppearance(ad types.Dict) (*types.IndirectRef, *types.StreamDict, error) {
	o, ok := ad.Find("AP")
	if !ok || o == nil {
		return nil, nil, nil
	}
	ap, err := x.xrt.DereferenceDict(o)
	if err != nil || ap == nil {
		return nil, nil, err
	}
	n, ok := ap.Find("N")
	if !ok || n == nil {
		return nil, nil, nil
	}
	ref, ok := n.(types.IndirectRef)
	if !ok {
		states, ok := n.(types.Dict)
		if !ok {
			return nil, nil, nil
		}
		as := nameOf(ad, "AS")
		if as == "" {
			return nil, nil, nil
		}
		s, ok := states[as].(types.IndirectRef)
		if !ok {
			return nil, nil, nil
		}
		ref = s
	}
	obj, err := x.xrt.Dereference(ref)
	if err != nil {
		return nil, nil, err
	}
	if sd, ok := obj.(types.Dict); ok {
		// A state dictionary behind a reference.
		as := nameOf(ad, "AS")
		s, ok := sd[as].(types.IndirectRef)
		if as == "" || !ok {
			return nil, nil, nil
		}
		ref = s
		if obj, err = x.xrt.Dereference(ref); err != nil {
			return nil, nil, err
		}
	}
	form, ok := obj.(types.StreamDict)
	if !ok {
		return nil, nil, nil
	}
	return &ref, &form, nil
}

// rectEntry reads a rectangle entry, normalised.
func (x *exporter) rectEntry(d types.Dict, key string) (box, error) {
	o, ok := d.Find(key)
	if !ok || o == nil {
		return box{}, errors.New("missing")
	}
	arr, err := x.xrt.DereferenceArray(o)
	if err != nil {
		return box{}, err
	}
	if len(arr) != 4 {
		return box{}, fmt.Errorf("%d numbers, want 4", len(arr))
	}
	var v [4]float64
	for i := range v {
		if v[i], err = x.xrt.DereferenceNumber(arr[i]); err != nil {
			return box{}, err
		}
	}
	return box{math.Min(v[0], v[2]), math.Min(v[1], v[3]), math.Max(v[0], v[2]), math.Max(v[1], v[3])}, nil
}

// stamp draws the copy stamp along the page's rising diagonal as the page
// is displayed, centred, about 60% of the diagonal long.
func (x *exporter) stamp(pw *pageWork) error {
	fname, err := x.addResource(pw, "Font", *x.fontRef)
	if err != nil {
		return err
	}
	gname, err := x.addResource(pw, "ExtGState", *x.stampGSRef)
	if err != nil {
		return err
	}
	size := pw.geom.size()
	diag := math.Hypot(size.W, size.H)
	em := float64(x.face.width(x.labels.stamp)) / 1000
	fs := min(max(0.6*diag/em, 8), 1000)
	th := math.Atan2(size.H, size.W)
	t := &pw.tail
	t.op("q /" + gname + " gs")
	t.cm(pw.geom.toUser)
	t.cm(matrix{math.Cos(th), math.Sin(th), -math.Sin(th), math.Cos(th), size.W / 2, size.H / 2})
	t.fill(stampColour)
	t.op("BT /" + fname + " " + strconv.FormatFloat(math.Round(fs*100)/100, 'f', -1, 64) + " Tf")
	t.n(-em*fs/2, -x.face.capH*fs/2)
	t.op("Td")
	x.face.hex(t, x.labels.stamp)
	t.op(" Tj ET Q")
	return nil
}
