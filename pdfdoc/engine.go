package pdfdoc

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/filter"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	pdffont "github.com/pdfcpu/pdfcpu/pkg/pdfcpu/font"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// Engine renders Documents to PDF. It is safe for concurrent use.
type Engine struct {
	cacheDir string
	regular  *face
	bold     *face
}

// New prepares the embedded fonts for pdfcpu and returns an Engine.
//
// pdfcpu needs its fonts installed as files; New installs them under
// cacheDir (the user's cache directory, or the server's data directory),
// once: later calls, in this process or the next, find them there and
// return in milliseconds. An empty cacheDir means os.UserCacheDir()/
// expertiza/pdfdoc. pdfcpu's font and configuration directory is one per
// process, so the first New in a process also moves every other pdfcpu
// call of the process off ~/.config/pdfcpu onto that directory; later New
// calls keep it, whatever cacheDir they pass.
func New(ctx context.Context, cacheDir string) (*Engine, error) {
	if cacheDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("no cache directory for PDF fonts given and none known for this user: %w", err)
		}
		cacheDir = filepath.Join(dir, "expertiza", "pdfdoc")
	}
	if err := ensureFonts(cacheDir); err != nil {
		return nil, err
	}
	e := &Engine{cacheDir: cacheDir}
	var err error
	if e.regular, err = loadFace(ctx, regularFont); err != nil {
		return nil, err
	}
	if e.bold, err = loadFace(ctx, boldFont); err != nil {
		return nil, err
	}
	return e, nil
}

// Write typesets d and writes it to w as PDF. d is only read.
func (e *Engine) Write(ctx context.Context, w io.Writer, d *Document) error {
	if d == nil {
		return errors.New("pdfdoc: no document to write")
	}
	ts, err := layout(ctx, e.regular, e.bold, d)
	if err != nil {
		return fmt.Errorf("lay out %q: %w", d.Title, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// pdfcpu reads the font files again to subset them; put them back if
	// a cache cleaner took them since New.
	if err := ensureFonts(e.cacheDir); err != nil {
		return err
	}
	pctx, err := e.assemble(ts, d)
	if err != nil {
		return fmt.Errorf("assemble %q: %w", d.Title, err)
	}
	if err := api.WriteContext(pctx, w); err != nil {
		return fmt.Errorf("write %q: %w", d.Title, err)
	}
	return nil
}

// assemble builds the PDF objects: one page per content stream, the two
// fonts as Type0/CIDFontType2 subsets with a ToUnicode map (so text can be
// searched and copied), and the document information.
func (e *Engine) assemble(ts *typesetter, d *Document) (*model.Context, error) {
	conf := model.NewDefaultConfiguration() // a copy of the one ensureFonts loaded
	conf.Cmd = model.CREATE
	dim := types.Dim{Width: ts.geo.width, Height: ts.geo.height}
	pctx, err := pdfcpu.CreateContextWithXRefTable(conf, &dim)
	if err != nil {
		return nil, fmt.Errorf("create the PDF context: %w", err)
	}
	xrt := pctx.XRefTable
	root, err := xrt.Catalog()
	if err != nil {
		return nil, fmt.Errorf("read the catalog: %w", err)
	}
	pagesRef := root.IndirectRefEntry("Pages")
	if pagesRef == nil {
		return nil, errors.New("the new PDF has no page tree")
	}
	pagesDict, err := xrt.DereferenceDict(*pagesRef)
	if err != nil {
		return nil, fmt.Errorf("read the page tree: %w", err)
	}

	// The fonts come after the pages: a subset can only be cut once every
	// glyph is known. Pages refer to one shared resource dictionary that
	// is filled in then.
	res := types.NewDict()
	resRef, err := xrt.IndRefForNewObject(res)
	if err != nil {
		return nil, fmt.Errorf("add the resources: %w", err)
	}
	mediaBox := types.RectForDim(ts.geo.width, ts.geo.height).Array()
	kids := make(types.Array, 0, len(ts.pages))
	// One compressor for all pages: StreamDict.Encode makes a new one per
	// stream, and allocating its window was a third of the time of a
	// 10,000-row table.
	var zbuf bytes.Buffer
	zw := zlib.NewWriter(&zbuf)
	for i, p := range ts.pages {
		zbuf.Reset()
		zw.Reset(&zbuf)
		if _, err := zw.Write(p.Bytes()); err != nil {
			return nil, fmt.Errorf("page %d: compress the content: %w", i+1, err)
		}
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("page %d: compress the content: %w", i+1, err)
		}
		raw := bytes.Clone(zbuf.Bytes())
		n := int64(len(raw))
		sd := types.StreamDict{
			Dict:           types.Dict{"Filter": types.Name(filter.Flate), "Length": types.Integer(n)},
			Raw:            raw,
			StreamLength:   &n,
			FilterPipeline: []types.PDFFilter{{Name: filter.Flate}},
		}
		contentRef, err := xrt.IndRefForNewObject(sd)
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", i+1, err)
		}
		pageRef, err := xrt.IndRefForNewObject(types.Dict{
			"Type":      types.Name("Page"),
			"Parent":    *pagesRef,
			"MediaBox":  mediaBox,
			"Resources": *resRef,
			"Contents":  *contentRef,
		})
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", i+1, err)
		}
		kids = append(kids, *pageRef)
	}
	pagesDict.Update("Kids", kids)
	pagesDict.Update("Count", types.Integer(len(kids)))
	xrt.PageCount = len(kids)

	fonts := types.NewDict()
	for _, f := range []struct {
		res  string
		face *face
	}{{resRegular, e.regular}, {resBold, e.bold}} {
		used := ts.used[f.face.name]
		if len(used) == 0 {
			continue
		}
		xrt.UsedGIDs[f.face.name] = used
		ref, err := pdffont.EnsureFontDict(xrt, f.face.name, "", "", false, nil)
		if err != nil {
			return nil, fmt.Errorf("embed font %s: %w", f.face.name, err)
		}
		fonts.Insert(f.res, *ref)
	}
	res.Insert("Font", fonts)
	if err := addImages(xrt, res, ts.images); err != nil {
		return nil, err
	}

	// Text strings in UTF-16 with a byte order mark, hex-encoded so that
	// no byte needs escaping.
	utf16 := func(s string) types.HexLiteral { return types.NewHexLiteral([]byte(types.EncodeUTF16String(s))) }
	info := types.NewDict()
	if d.Title != "" {
		info.Insert("Title", utf16(d.Title))
	}
	if d.Author != "" {
		info.Insert("Author", utf16(d.Author))
	}
	info.Insert("Creator", utf16("Expertiza"))
	infoRef, err := xrt.IndRefForNewObject(info)
	if err != nil {
		return nil, fmt.Errorf("add the document information: %w", err)
	}
	xrt.Info = infoRef
	return pctx, nil
}
