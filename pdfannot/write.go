package pdfannot

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/expertiza/expertiza/pdfdoc"
	"github.com/expertiza/expertiza/sync/wire"
	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/filter"
	pdffont "github.com/pdfcpu/pdfcpu/pkg/pdfcpu/font"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// Options tune Write.
type Options struct {
	// Flatten burns every annotation that has an appearance into the
	// page content and removes it; links stay.
	Flatten bool
	// StampCopy draws «КОПИЯ» diagonally across every page.
	StampCopy bool
	// Lang is the language of what Write adds itself: the stamp, the
	// status and the reply dates in /Contents. Empty means Russian.
	Lang pdfdoc.Lang
	// FontCacheDir is where pdfcpu's copy of the font is installed (see
	// pdfdoc.New); empty means the user's cache directory.
	FontCacheDir string
	// Location is the time zone of reply times in /Contents; nil means
	// time.Local.
	Location *time.Location
}

// Stamp colour and opacity: a red that still lets the page be read.
var stampColour = rgb{0.8, 0, 0}

const stampOpacity = 0.35

// exporter is the state of one Write.
type exporter struct {
	labels labels
	loc    *time.Location
	face   *face
	opt    Options
	xrt    *model.XRefTable

	zbuf bytes.Buffer
	zw   *zlib.Writer

	fontRef, multiplyRef, noteFillRef, stampGSRef *types.IndirectRef
	prologue                                      *types.IndirectRef // the shared "q" that opens a page whose content we append to
	widgetsFlattened                              bool
	alphas                                        map[string]*types.IndirectRef // opacity graphics states by value
}

// Write reads the PDF in, adds anns (rows of one document version; Page
// is 1-based) as PDF annotations with appearance streams, keeps the
// annotations already in the file (one that carries the /NM of a row in
// anns is an earlier export of that row and is replaced), optionally
// flattens and stamps, and writes the result to out.
//
// An annotation whose page is not in the file, whose geometry lies off
// the page or whose colour is malformed is refused with a wire.Error
// naming it; nothing is written then. A file pdfcpu cannot read (damaged,
// or encrypted with a password) is refused with a wire.Error too.
func Write(ctx context.Context, in io.ReadSeeker, out io.Writer, anns []wire.Annotation, opt Options) error {
	lbl, err := labelsFor(opt.Lang)
	if err != nil {
		return err
	}
	x := &exporter{labels: lbl, loc: opt.Location, opt: opt}
	if x.loc == nil {
		x.loc = time.Local
	}
	x.zw = zlib.NewWriter(&x.zbuf)
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := pdfdoc.New(ctx, opt.FontCacheDir); err != nil {
		return fmt.Errorf("pdfannot: prepare the font: %w", err)
	}
	if x.face, err = loadFace(); err != nil {
		return err
	}

	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	conf.Cmd = model.ADDANNOTATIONS
	pctx, err := api.ReadAndValidate(in, conf)
	if err != nil {
		return fmt.Errorf("%w (%v)", wire.E(wire.CodeInvalid, "file",
			"Не удалось прочитать PDF-файл версии: он повреждён или защищён паролем",
			"The version's PDF file cannot be read: it is damaged or password-protected"), err)
	}
	x.xrt = pctx.XRefTable
	if err := x.run(ctx, anns); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := api.WriteContext(pctx, out); err != nil {
		return fmt.Errorf("pdfannot: write the PDF: %w", err)
	}
	return nil
}

// pageWork is what happens to one page.
type pageWork struct {
	dict  types.Dict
	ref   *types.IndirectRef
	inh   *model.InheritedPageAttrs
	geom  pageGeom
	added []*drawn
	tail  stream                // content appended after the page's own
	res   types.Dict            // the page's own copy of its resources, once made
	owned map[string]types.Dict // resource sub-dictionaries copied into res
}

func (x *exporter) run(ctx context.Context, anns []wire.Annotation) error {
	n := x.xrt.PageCount
	byPage := map[int][]wire.Annotation{}
	ids := map[string]bool{}
	for _, a := range anns {
		if a.Page < 1 || a.Page > n {
			return invalid(a, fmt.Sprintf("такой страницы нет, в файле страницы 1…%d", n),
				fmt.Sprintf("no such page, the file has pages 1…%d", n))
		}
		nm := NM(a.ID)
		if ids[nm] {
			return invalid(a, "пометка передана дважды", "the annotation is given twice")
		}
		ids[nm] = true
		byPage[a.Page] = append(byPage[a.Page], a)
	}

	// First every page's own work, so the glyphs of all notes and stamps
	// are known before the font subset is cut.
	pages := make([]*pageWork, n+1)
	for p := 1; p <= n; p++ {
		if p%50 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		pw := &pageWork{}
		var err error
		if pw.dict, pw.ref, pw.inh, err = x.xrt.PageDict(p, false); err != nil {
			return fmt.Errorf("pdfannot: read page %d: %w", p, err)
		}
		pw.geom = newPageGeom(pw.inh.MediaBox, pw.inh.CropBox, pw.inh.Rotate)
		if err := x.dropEarlierExports(pw, ids); err != nil {
			return fmt.Errorf("pdfannot: page %d: %w", p, err)
		}
		rows := byPage[p]
		// Oldest first, so newer marks lie on top as they do in the viewer.
		slices.SortStableFunc(rows, func(a, b wire.Annotation) int { return a.CreatedAt.Compare(b.CreatedAt) })
		for _, a := range rows {
			d, err := x.draw(a, pw.geom)
			if err != nil {
				return err
			}
			pw.added = append(pw.added, d)
		}
		pages[p] = pw
	}
	if x.opt.StampCopy {
		for _, r := range x.labels.stamp {
			g, _ := x.face.glyph(r)
			x.face.used[g] = true
		}
	}
	if err := x.sharedObjects(); err != nil {
		return err
	}
	for p := 1; p <= n; p++ {
		if p%50 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		pw := pages[p]
		if err := x.addAnnots(pw); err != nil {
			return fmt.Errorf("pdfannot: page %d: %w", p, err)
		}
		if x.opt.Flatten {
			if err := x.flatten(pw); err != nil {
				return fmt.Errorf("pdfannot: flatten page %d: %w", p, err)
			}
		}
		if x.opt.StampCopy {
			if err := x.stamp(pw); err != nil {
				return fmt.Errorf("pdfannot: stamp page %d: %w", p, err)
			}
		}
		if err := x.appendContent(pw); err != nil {
			return fmt.Errorf("pdfannot: page %d: %w", p, err)
		}
	}
	if x.opt.Flatten {
		if err := x.dropForm(); err != nil {
			return err
		}
	}
	return nil
}

// sharedObjects adds the objects appearance streams share: the font subset
// (when a note or the stamp has text) and the graphics states.
func (x *exporter) sharedObjects() error {
	var err error
	if len(x.face.used) > 0 {
		x.xrt.UsedGIDs[fontName] = x.face.used
		if x.fontRef, err = pdffont.EnsureFontDict(x.xrt, fontName, "", "", false, nil); err != nil {
			return fmt.Errorf("pdfannot: embed font %s: %w", fontName, err)
		}
	}
	gs := func(d types.Dict) (*types.IndirectRef, error) {
		d["Type"] = types.Name("ExtGState")
		return x.xrt.IndRefForNewObject(d)
	}
	if x.multiplyRef, err = gs(types.Dict{"BM": types.Name("Multiply")}); err != nil {
		return err
	}
	if x.noteFillRef, err = gs(types.Dict{"ca": types.Float(noteFillOpacity)}); err != nil {
		return err
	}
	if x.stampGSRef, err = gs(types.Dict{"ca": types.Float(stampOpacity), "CA": types.Float(stampOpacity)}); err != nil {
		return err
	}
	return nil
}

// flate compresses content into a new stream object with dictionary d.
func (x *exporter) flate(d types.Dict, content []byte) (*types.IndirectRef, error) {
	x.zbuf.Reset()
	x.zw.Reset(&x.zbuf)
	if _, err := x.zw.Write(content); err != nil {
		return nil, err
	}
	if err := x.zw.Close(); err != nil {
		return nil, err
	}
	raw := bytes.Clone(x.zbuf.Bytes())
	n := int64(len(raw))
	d["Filter"] = types.Name(filter.Flate)
	d["Length"] = types.Integer(n)
	return x.xrt.IndRefForNewObject(types.StreamDict{Dict: d, Raw: raw, StreamLength: &n,
		FilterPipeline: []types.PDFFilter{{Name: filter.Flate}}})
}

// annots is the page's /Annots as an array (a copy when it was indirect).
func (x *exporter) annots(d types.Dict) (types.Array, error) {
	o, ok := d.Find("Annots")
	if !ok || o == nil {
		return nil, nil
	}
	arr, err := x.xrt.DereferenceArray(o)
	if err != nil {
		return nil, fmt.Errorf("read /Annots: %w", err)
	}
	return slices.Clone(arr), nil
}

func (x *exporter) setAnnots(d types.Dict, arr types.Array) {
	if len(arr) == 0 {
		d.Delete("Annots")
		return
	}
	d.Update("Annots", arr)
}

// dropEarlierExports removes annotations whose /NM names a row being
// exported now (the file is itself an earlier export), and their pop-ups.
func (x *exporter) dropEarlierExports(pw *pageWork, ids map[string]bool) error {
	arr, err := x.annots(pw.dict)
	if err != nil || len(arr) == 0 {
		return err
	}
	dropped := map[int]bool{}
	keep := arr[:0]
	for _, o := range arr {
		ad, err := x.xrt.DereferenceDict(o)
		if err != nil || ad == nil {
			keep = append(keep, o)
			continue
		}
		if nm, err := x.textEntry(ad, "NM"); err == nil && ids[nm] {
			if ref, ok := o.(types.IndirectRef); ok {
				dropped[ref.ObjectNumber.Value()] = true
			}
			continue
		}
		keep = append(keep, o)
	}
	if len(dropped) == 0 {
		return nil
	}
	out := keep[:0]
	for _, o := range keep {
		if ad, err := x.xrt.DereferenceDict(o); err == nil && ad != nil {
			if p := ad.IndirectRefEntry("Parent"); p != nil && dropped[p.ObjectNumber.Value()] {
				continue
			}
		}
		out = append(out, o)
	}
	x.setAnnots(pw.dict, out)
	return nil
}

// textEntry reads a text string entry; "" when absent.
func (x *exporter) textEntry(d types.Dict, key string) (string, error) {
	o, ok := d.Find(key)
	if !ok || o == nil {
		return "", nil
	}
	return x.xrt.DereferenceStringOrHexLiteral(o, model.V10, nil)
}

// addAnnots gives each new annotation its appearance stream and puts it
// on the page, after the ones already there.
func (x *exporter) addAnnots(pw *pageWork) error {
	if len(pw.added) == 0 {
		return nil
	}
	arr, err := x.annots(pw.dict)
	if err != nil {
		return err
	}
	for _, d := range pw.added {
		res := types.Dict{}
		if d.font {
			res["Font"] = types.Dict{resFont: *x.fontRef}
		}
		gs := types.Dict{}
		if d.multiply {
			gs[resMultiply] = *x.multiplyRef
		}
		if d.noteFill {
			gs[resNoteFill] = *x.noteFillRef
		}
		if len(gs) > 0 {
			res["ExtGState"] = gs
		}
		apRef, err := x.flate(types.Dict{
			"Type":      types.Name("XObject"),
			"Subtype":   types.Name("Form"),
			"FormType":  types.Integer(1),
			"BBox":      types.Array{types.Float(0), types.Float(0), num(d.rect.w()), num(d.rect.h())},
			"Resources": res,
		}, d.ap)
		if err != nil {
			return fmt.Errorf("appearance stream: %w", err)
		}
		d.dict["AP"] = types.Dict{"N": *apRef}
		d.dict["P"] = *pw.ref
		ref, err := x.xrt.IndRefForNewObject(d.dict)
		if err != nil {
			return err
		}
		arr = append(arr, *ref)
	}
	x.setAnnots(pw.dict, arr)
	return nil
}

// resources makes the page's resource dictionary its own (a shallow copy
// of what it had or inherited), so adding to it changes no other page.
func (x *exporter) resources(pw *pageWork) (types.Dict, error) {
	if pw.res != nil {
		return pw.res, nil
	}
	var cur types.Dict
	if o, ok := pw.dict.Find("Resources"); ok && o != nil {
		d, err := x.xrt.DereferenceDict(o)
		if err != nil {
			return nil, fmt.Errorf("read /Resources: %w", err)
		}
		cur = d
	} else if pw.inh != nil {
		cur = pw.inh.Resources
	}
	pw.res = types.Dict{}
	maps.Copy(pw.res, cur)
	pw.dict.Update("Resources", pw.res)
	return pw.res, nil
}

// addResource puts obj into the page's resources of kind cat (XObject,
// Font, ExtGState) under a fresh name and returns the name. The
// sub-dictionary is copied the first time, as the whole resource
// dictionary is: other pages may share it.
func (x *exporter) addResource(pw *pageWork, cat string, obj types.Object) (string, error) {
	res, err := x.resources(pw)
	if err != nil {
		return "", err
	}
	if pw.owned == nil {
		pw.owned = map[string]types.Dict{}
	}
	sub, ok := pw.owned[cat]
	if !ok {
		sub = types.Dict{}
		if o, ok := res.Find(cat); ok && o != nil {
			d, err := x.xrt.DereferenceDict(o)
			if err != nil {
				return "", fmt.Errorf("read /Resources /%s: %w", cat, err)
			}
			maps.Copy(sub, d)
		}
		res[cat] = sub
		pw.owned[cat] = sub
	}
	name := ""
	for i := len(sub); ; i++ {
		name = "Xpa" + strconv.Itoa(i)
		if _, taken := sub[name]; !taken {
			break
		}
	}
	sub[name] = obj
	return name, nil
}

// appendContent wraps the page's content in q … Q and adds pw.tail after
// it, so whatever state the page's own content leaves behind does not
// bend what is drawn on top.
func (x *exporter) appendContent(pw *pageWork) error {
	if pw.tail.Len() == 0 {
		return nil
	}
	var parts types.Array
	if o, ok := pw.dict.Find("Contents"); ok && o != nil {
		switch v := o.(type) {
		case types.Array:
			parts = slices.Clone(v)
		case types.IndirectRef:
			obj, err := x.xrt.Dereference(v)
			if err != nil {
				return fmt.Errorf("read /Contents: %w", err)
			}
			if arr, ok := obj.(types.Array); ok {
				parts = slices.Clone(arr)
			} else {
				parts = types.Array{v}
			}
		default:
			return errors.New("/Contents is neither a stream nor an array")
		}
	}
	if x.prologue == nil {
		ref, err := x.flate(types.Dict{}, []byte("q\n"))
		if err != nil {
			return err
		}
		x.prologue = ref
	}
	tail := append([]byte("Q\n"), pw.tail.Bytes()...)
	ref, err := x.flate(types.Dict{}, tail)
	if err != nil {
		return err
	}
	all := make(types.Array, 0, len(parts)+2)
	all = append(all, *x.prologue)
	all = append(all, parts...)
	all = append(all, *ref)
	pw.dict.Update("Contents", all)
	return nil
}

// dropForm removes the interactive form once its widgets are burnt in.
func (x *exporter) dropForm() error {
	if !x.widgetsFlattened {
		return nil
	}
	root, err := x.xrt.Catalog()
	if err != nil {
		return fmt.Errorf("pdfannot: read the catalog: %w", err)
	}
	root.Delete("AcroForm")
	return nil
}

// nameOf is a name entry without its slash; "" when absent.
func nameOf(d types.Dict, key string) string {
	if n := d.NameEntry(key); n != nil {
		return strings.TrimPrefix(*n, "/")
	}
	return ""
}
