package validate

import (
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/filter"
	pdflog "github.com/pdfcpu/pdfcpu/pkg/log"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// Worker-side caps. pdfcpu validates structure but does not decode page
// content, so a FlateDecode stream that inflates to gigabytes passes its
// validation and then exhausts the memory of every viewer (pdfium inflates
// content streams whole). The worker inflates each Flate stream into a
// counter, in constant memory, and refuses one that grows past its cap.
const (
	// pdfStreamCap bounds a non-image stream (page content, form XObject,
	// font, ICC profile, attachment): the densest real drawing pages decode
	// to a few tens of MB.
	pdfStreamCap = 256 << 20
	// pdfImageSlack is what an image stream may inflate beyond its declared
	// samples (predictor bytes are counted separately; some writers pad).
	pdfImageSlack = 1 << 20
	// pdfMaxImagePixels bounds one image's declared pixels: an A0 sheet
	// scanned at 600 dpi is 0.56 gigapixels.
	pdfMaxImagePixels = 1 << 30
	// pdfMaxPages keeps a page tree that repeats one page from turning into
	// millions of rows of page sizes.
	pdfMaxPages = 100_000
)

// analyzePDF reads and validates the PDF in the worker process. It runs
// once per process, so pdfcpu's global configuration switch is harmless.
func analyzePDF(req workerRequest) workerResponse {
	// No config directory: the worker must not write to the server's home.
	api.DisableConfigDir()
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed // strict refuses legal files (FINDINGS.md)
	conf.Cmd = model.VALIDATE
	conf.Offline = true // never fetch CRLs, OCSP or links
	conf.Optimize = false
	conf.CheckFileNameExt = false
	conf.Limits = model.DefaultResourceLimits()
	// Keep pdfcpu's own caps on one stream inside this worker's budget.
	streamCap := max(req.MemoryBytes/4, 16<<20)
	conf.Limits.MaxStreamBytes = min(conf.Limits.MaxStreamBytes, streamCap)
	conf.Limits.MaxDecodeBytes = min(conf.Limits.MaxDecodeBytes, streamCap)
	conf.Limits.MaxImageBytes = min(conf.Limits.MaxImageBytes, streamCap)

	f, err := os.Open(req.Path)
	if err != nil {
		return workerResponse{Refusal: reasonIO, Detail: "open: " + err.Error()}
	}
	defer f.Close()

	// pdfcpu reports what it skipped and repaired only through its
	// loggers; in relaxed mode an object it cannot parse is dropped and a
	// page it cannot read becomes a blank page, with no error.
	notes := &pdfcpuNotes{}
	pdflog.SetCLILogger(notes)

	pctx, err := pdfcpu.ReadWithContext(context.Background(), f, conf)
	if err == nil {
		err = api.ValidateContext(pctx)
	}
	if r := notes.refusal(); r.Refusal != "" {
		return r
	}
	if err != nil {
		return pdfcpuRefusal(err)
	}
	if pctx.PageCount <= 0 {
		return workerResponse{Refusal: reasonNoPages, Detail: "the page tree has no pages"}
	}
	if pctx.PageCount > pdfMaxPages {
		return workerResponse{Refusal: reasonTooManyPgs, Detail: fmt.Sprintf("%d pages", pctx.PageCount)}
	}
	sizes, err := pageSizes(pctx.XRefTable)
	if err != nil {
		return pdfcpuRefusal(fmt.Errorf("page boundaries: %w", err))
	}
	if r := scanStreams(pctx.XRefTable); r.Refusal != "" {
		return r
	}
	return workerResponse{
		Pages:     pctx.PageCount,
		PageSizes: sizes,
		Encrypted: pctx.XRefTable.Encrypt != nil,
		Notes:     notes.list(),
	}
}

// pdfcpuRefusal classifies a pdfcpu error.
func pdfcpuRefusal(err error) workerResponse {
	detail := err.Error()
	switch {
	case errors.Is(err, pdfcpu.ErrWrongPassword):
		return workerResponse{Refusal: reasonPassword, Detail: detail}
	case isLimitMessage(detail), errors.Is(err, model.ErrMaxRecursionDepthExceeded), errors.Is(err, filter.ErrDecodeLimitExceeded):
		return workerResponse{Refusal: reasonLimit, Detail: detail}
	case strings.Contains(detail, "encrypt"):
		return workerResponse{Refusal: reasonEncryption, Detail: detail}
	}
	return workerResponse{Refusal: reasonMalformed, Detail: detail}
}

// isLimitMessage recognises pdfcpu's resource-limit errors, most of which
// are formatted strings rather than sentinel errors.
func isLimitMessage(s string) bool {
	return strings.Contains(s, "exceeds limit") || strings.Contains(s, "limit exceeded") ||
		strings.Contains(s, "max recursion depth")
}

// pdfcpuNotes is a pdfcpu logger that keeps the "skipped" and "repaired"
// messages of one read.
type pdfcpuNotes struct {
	skipped, repaired []string
}

const maxNotes = 32 // enough to diagnose; a crafted file may produce millions

func (n *pdfcpuNotes) Printf(format string, args ...any) { n.note(fmt.Sprintf(format, args...)) }
func (n *pdfcpuNotes) Println(args ...any)               { n.note(fmt.Sprintln(args...)) }
func (n *pdfcpuNotes) Fatalf(format string, args ...any) { n.note(fmt.Sprintf(format, args...)) }
func (n *pdfcpuNotes) Fatalln(args ...any)               { n.note(fmt.Sprintln(args...)) }

func (n *pdfcpuNotes) note(s string) {
	s = strings.TrimSpace(s)
	if m, ok := strings.CutPrefix(s, "pdfcpu skipped: "); ok && len(n.skipped) < maxNotes {
		n.skipped = append(n.skipped, m)
	} else if m, ok := strings.CutPrefix(s, "pdfcpu repaired: "); ok && len(n.repaired) < maxNotes {
		n.repaired = append(n.repaired, m)
	}
}

// refusal turns notes that mean lost content into a refusal: an object
// dropped for exceeding a resource limit is a crafted file, and a page
// replaced by a blank one would show the experts an empty sheet.
func (n *pdfcpuNotes) refusal() workerResponse {
	for _, s := range n.skipped {
		if isLimitMessage(s) {
			return workerResponse{Refusal: reasonLimit, Detail: "skipped " + s}
		}
	}
	for _, s := range n.repaired {
		var page int
		if _, err := fmt.Sscanf(s, "corrupt page %d with blank page", &page); err == nil {
			return workerResponse{Refusal: reasonBadPage, Page: page, Detail: s}
		}
	}
	return workerResponse{}
}

func (n *pdfcpuNotes) list() []string {
	var out []string
	for _, s := range n.skipped {
		out = append(out, "skipped "+s)
	}
	for _, s := range n.repaired {
		out = append(out, "repaired "+s)
	}
	return out
}

// pageSizes returns the visible size of every page, the way viewers (pdfium
// in the client) size them: the crop box clipped to the media box, with
// width and height swapped for pages rotated by 90° or 270°. Annotation
// geometry is stored in these points.
func pageSizes(xt *model.XRefTable) ([]PageSize, error) {
	pbs, err := xt.PageBoundaries(nil)
	if err != nil {
		return nil, err
	}
	out := make([]PageSize, len(pbs))
	for i, pb := range pbs {
		mb := pb.MediaBox()
		if mb == nil {
			return nil, fmt.Errorf("page %d has no media box", i+1)
		}
		r := *mb
		if cb := pb.CropBox(); cb != nil {
			r = types.Rectangle{
				LL: types.Point{X: max(mb.LL.X, cb.LL.X), Y: max(mb.LL.Y, cb.LL.Y)},
				UR: types.Point{X: min(mb.UR.X, cb.UR.X), Y: min(mb.UR.Y, cb.UR.Y)},
			}
			if r.Width() <= 0 || r.Height() <= 0 {
				r = *mb // a crop box outside the media box is ignored by viewers
			}
		}
		w, h := math.Abs(r.Width()), math.Abs(r.Height())
		if pb.Rot%180 != 0 {
			w, h = h, w
		}
		out[i] = PageSize{W: w, H: h}
	}
	return out, nil
}

// scanStreams inflates every stream whose first filter is FlateDecode (the
// filter of almost every stream a bomb could hide in) and refuses the file
// when one inflates past its cap.
func scanStreams(xt *model.XRefTable) workerResponse {
	nums := make([]int, 0, len(xt.Table))
	for n := range xt.Table {
		nums = append(nums, n)
	}
	slices.Sort(nums) // deterministic: the same file always fails on the same object
	for _, n := range nums {
		e := xt.Table[n]
		if e == nil || e.Free {
			continue
		}
		sd, ok := e.Object.(types.StreamDict)
		if !ok {
			continue
		}
		limit := int64(pdfStreamCap)
		if st := sd.Subtype(); st != nil && *st == "Image" {
			// Whatever the filter (JPEG, JPEG 2000, JBIG2 too), a viewer
			// allocates the declared pixels.
			w, h, bpc, comps := imageGeometry(xt, sd.Dict)
			if w*h > pdfMaxImagePixels || w > pdfMaxImagePixels || h > pdfMaxImagePixels {
				return workerResponse{Refusal: reasonBigImage,
					Detail: fmt.Sprintf("image object %d declares %d×%d pixels", n, w, h)}
			}
			if w > 0 && h > 0 {
				limit = h*((w*comps*bpc+7)/8+1) + pdfImageSlack
			}
		}
		if len(sd.FilterPipeline) == 0 || sd.FilterPipeline[0].Name != filter.Flate {
			continue
		}
		got := inflatedSize(sd.Raw, limit+1)
		if got > limit {
			return workerResponse{Refusal: reasonBomb,
				Detail: fmt.Sprintf("object %d: %d compressed bytes inflate to more than %d", n, len(sd.Raw), limit)}
		}
	}
	return workerResponse{}
}

// imageGeometry reads an image XObject's declared size. comps is an upper
// bound: 4 unless the colour space is DeviceN with more colourants.
func imageGeometry(xt *model.XRefTable, d types.Dict) (w, h, bpc, comps int64) {
	num := func(key string) int64 {
		i, err := xt.DereferenceInteger(d[key])
		if err != nil || i == nil || *i < 0 {
			return 0
		}
		return int64(*i)
	}
	w, h, bpc, comps = num("Width"), num("Height"), num("BitsPerComponent"), 4
	if m := d.BooleanEntry("ImageMask"); m != nil && *m {
		bpc, comps = 1, 1
	}
	if bpc <= 0 || bpc > 16 {
		bpc = 16
	}
	if cs, err := xt.DereferenceArray(d["ColorSpace"]); err == nil && len(cs) >= 2 {
		if name, ok := cs[0].(types.Name); ok && name == "DeviceN" {
			if names, err := xt.DereferenceArray(cs[1]); err == nil {
				comps = max(comps, min(int64(len(names)), 32))
			}
		}
	}
	return w, h, bpc, comps
}

// inflatedSize inflates a FlateDecode stream (zlib-wrapped or, from sloppy
// writers, raw deflate) and returns how many bytes it yields, stopping at
// limit. Damaged data yields what inflated before the damage.
func inflatedSize(raw []byte, limit int64) int64 {
	body := raw
	if len(raw) >= 2 && raw[0]&0x0F == 8 && (uint16(raw[0])<<8|uint16(raw[1]))%31 == 0 {
		body = raw[2:]
		if raw[1]&0x20 != 0 && len(body) >= 4 { // preset dictionary id
			body = body[4:]
		}
	}
	zr := flate.NewReader(bytes.NewReader(body))
	defer zr.Close()
	n, _ := io.Copy(io.Discard, io.LimitReader(zr, limit))
	return n
}
