// Package validate decides whether an uploaded file may become a visible
// document version (DESIGN.md §1 "Formats"). It checks that the content is
// what the file name says (by magic bytes and, for containers, by their
// entries), enforces the size limits, and parses each format far enough to
// refuse broken, truncated or hostile files with a message that says what is
// wrong and how to fix it.
//
// Everything except PDF is checked in-process with bounded memory and CPU.
// PDF is parsed by pdfcpu, which reads the whole file into memory and has hung
// and panicked on crafted input, so it runs in a separate worker process
// (see WorkerMain) that caps its own address space and is killed when it
// overruns its time limit.
package validate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/expertiza/expertiza/sync/wire"
)

// Kind is the type of an accepted file, named after its usual extension.
type Kind string

// The kinds the expertise accepts (DESIGN.md §1).
const (
	KindPDF  Kind = "pdf"
	KindXML  Kind = "xml"
	KindXLS  Kind = "xls"
	KindXLSX Kind = "xlsx"
	KindODS  Kind = "ods"
	KindDOCX Kind = "docx"
	KindJPEG Kind = "jpeg"
	KindPNG  Kind = "png"
	KindSig  Kind = "sig"
)

// kindByExt maps lower-case extensions to kinds. .jpg is the common spelling
// of JPEG; .p7s is the standard extension of a detached CMS signature and
// some signing programs use it instead of .sig.
var kindByExt = map[string]Kind{
	".pdf":  KindPDF,
	".xml":  KindXML,
	".xls":  KindXLS,
	".xlsx": KindXLSX,
	".ods":  KindODS,
	".docx": KindDOCX,
	".jpg":  KindJPEG,
	".jpeg": KindJPEG,
	".png":  KindPNG,
	".sig":  KindSig,
	".p7s":  KindSig,
}

// allowedExts is the list shown to a user whose extension is not accepted.
const allowedExts = ".pdf, .xml, .xls, .xlsx, .ods, .docx, .jpg, .jpeg, .png, .sig, .p7s"

// KindOf returns the kind declared by a file name's extension.
func KindOf(name string) (Kind, bool) {
	k, ok := kindByExt[strings.ToLower(filepath.Ext(name))]
	return k, ok
}

// isScan reports whether k falls under the (smaller) scan size limit.
func (k Kind) isScan() bool { return k == KindJPEG || k == KindPNG }

// Limits bounds what a file may cost to accept.
type Limits struct {
	Documentation int64 // bytes; pdf, xml, xls, xlsx, ods, docx, sig
	Scan          int64 // bytes; jpeg, png
	MaxPixels     int64 // width×height of a JPEG or PNG

	MaxZipEntries      int   // entries of a DOCX/XLSX/ODS archive
	MaxZipUncompressed int64 // sum of the declared uncompressed sizes

	PDFTimeout     time.Duration // wall time of one PDF worker
	PDFMemoryBytes int64         // address space a PDF worker may add to its start-up size
	// PDFWorkers is how many PDF workers may run at once; more wait. Each
	// may use PDFMemoryBytes, so this bounds the machine's memory, not just
	// its CPU. 0 means runtime.NumCPU().
	PDFWorkers int
}

// DefaultLimits returns the limits of DESIGN.md §1 and the caps the PDF
// worker needs on a 2-core, 24 GB server. pdfcpu holds the whole file plus a
// copy of every stream, so PDFMemoryBytes must stay well above twice the
// documentation limit.
func DefaultLimits() Limits {
	return Limits{
		Documentation:      80 << 20,
		Scan:               10 << 20,
		MaxPixels:          100_000_000,
		MaxZipEntries:      10_000,
		MaxZipUncompressed: 1 << 30,
		PDFTimeout:         60 * time.Second,
		PDFMemoryBytes:     1 << 30,
		PDFWorkers:         2,
	}
}

// PageSize is a page's visible size in PDF points (1/72 in), after /Rotate.
type PageSize struct{ W, H float64 }

// Result is what validation learned about an accepted file.
type Result struct {
	Kind      Kind
	Pages     int        // PDF only; 0 for other kinds
	PageSizes []PageSize // PDF only, one per page
	Encrypted bool       // PDF that opens without a password but carries encryption (owner password)
	Width     int        // images only, pixels
	Height    int
}

// WirePageSizes returns the page sizes in the protocol's type.
func (r Result) WirePageSizes() []wire.PageSize {
	if r.PageSizes == nil {
		return nil
	}
	out := make([]wire.PageSize, len(r.PageSizes))
	for i, p := range r.PageSizes {
		out[i] = wire.PageSize{W: p.W, H: p.H}
	}
	return out
}

// WorkerCmd returns a new, unstarted command that runs WorkerMain in a fresh
// process: the server binary itself with its hidden "validate-worker"
// subcommand, dispatched before anything else starts (see ExampleNew). The
// Validator sets the command's stdin, stdout and stderr, and kills it when
// ctx ends or the PDF overruns its time. The worker needs no secrets: give
// it a minimal environment.
type WorkerCmd func(ctx context.Context) *exec.Cmd

// Validator checks uploaded files. It is safe for concurrent use.
type Validator struct {
	lim    Limits
	log    *slog.Logger
	worker WorkerCmd
	// pdfSlots bounds concurrent PDF workers (each may use PDFMemoryBytes).
	pdfSlots chan struct{}
	// decoding bounds the bytes of images being decoded at once: a full
	// decode of a 100 MP image holds 100–800 MB, and uploads arrive
	// concurrently. The budget is 8 bytes per allowed pixel: one 16-bit
	// RGBA image of the maximum size, or a few ordinary ones.
	decoding     *semaphore.Weighted
	decodeBudget int64
}

// New returns a Validator. worker may be nil only if PDFs are never checked
// (Check then fails with an internal error for PDFs). Zero fields of l take
// their DefaultLimits values.
func New(l Limits, log *slog.Logger, worker WorkerCmd) *Validator {
	d := DefaultLimits()
	if l.Documentation <= 0 {
		l.Documentation = d.Documentation
	}
	if l.Scan <= 0 {
		l.Scan = d.Scan
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = d.MaxPixels
	}
	if l.MaxZipEntries <= 0 {
		l.MaxZipEntries = d.MaxZipEntries
	}
	if l.MaxZipUncompressed <= 0 {
		l.MaxZipUncompressed = d.MaxZipUncompressed
	}
	if l.PDFTimeout <= 0 {
		l.PDFTimeout = d.PDFTimeout
	}
	if l.PDFMemoryBytes <= 0 {
		l.PDFMemoryBytes = d.PDFMemoryBytes
	}
	if l.PDFWorkers <= 0 {
		l.PDFWorkers = runtime.NumCPU()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if l.PDFMemoryBytes < 2*l.Documentation {
		log.Warn("validate: PDF worker memory is less than twice the documentation size limit; large PDFs will be refused as too complex",
			"pdf_memory_bytes", l.PDFMemoryBytes, "documentation_bytes", l.Documentation)
	}
	return &Validator{
		lim:          l,
		log:          log,
		worker:       worker,
		pdfSlots:     make(chan struct{}, l.PDFWorkers),
		decoding:     semaphore.NewWeighted(8 * l.MaxPixels),
		decodeBudget: 8 * l.MaxPixels,
	}
}

// headSize is how much of a file detection looks at: the PDF header may
// follow up to 1024 bytes of junk, and a PEM or bare base64 signature needs a
// few hundred characters to show its ASN.1 header.
const headSize = 4096

// Check validates the file at path (already stored, its size final) that
// the user named name; name's extension is the declared type. A refusal is a
// *wire.Error (CodeInvalid or CodeTooLarge, field "file") in Russian and
// English; any other error is the server's problem (I/O, a worker that
// cannot start, ctx ended).
func (v *Validator) Check(ctx context.Context, path, name string) (Result, error) {
	start := time.Now()
	res, err := v.check(ctx, path, name)
	if we, ok := wire.AsError(err); ok {
		v.log.InfoContext(ctx, "validate: file refused", "name", name, "kind", res.Kind,
			"reason", we.MessageEN, "took", time.Since(start))
	} else if err != nil {
		v.log.ErrorContext(ctx, "validate: check failed", "name", name, "err", err)
	} else {
		v.log.DebugContext(ctx, "validate: file accepted", "name", name, "kind", res.Kind,
			"pages", res.Pages, "took", time.Since(start))
	}
	if err != nil {
		return Result{}, err // what was learned before the refusal is no result
	}
	return res, nil
}

func (v *Validator) check(ctx context.Context, path, name string) (Result, error) {
	ext := strings.ToLower(filepath.Ext(name))
	kind, ok := kindByExt[ext]
	if !ok {
		return Result{}, refuseExtension(ext)
	}
	res := Result{Kind: kind}
	f, err := os.Open(path)
	if err != nil {
		return res, fmt.Errorf("validate: open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return res, fmt.Errorf("validate: stat %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return res, fmt.Errorf("validate: %s is not a regular file", path)
	}
	size := st.Size()
	if size == 0 {
		return res, refuseEmpty()
	}
	if limit := v.sizeLimit(kind); size > limit {
		return res, refuseSize(kind, size, limit)
	}

	head := make([]byte, min(int64(headSize), size))
	if _, err := io.ReadFull(f, head); err != nil {
		return res, fmt.Errorf("validate: read %s: %w", path, err)
	}
	got := detect(head)
	if !compatible(kind, got) {
		return res, refuseMismatch(ext, kind, refineContainer(ctx, f, size, got, v.lim))
	}

	switch kind {
	case KindPDF:
		return v.checkPDF(ctx, path, res)
	case KindXML:
		return res, checkXMLFile(ctx, f)
	case KindXLS:
		return res, checkOLE2(ctx, f, size, ext, kind)
	case KindXLSX, KindDOCX, KindODS:
		return res, checkZip(ctx, f, size, ext, kind, v.lim)
	case KindJPEG, KindPNG:
		return v.checkImage(ctx, f, kind, res)
	case KindSig:
		return res, checkSig(ctx, f, size, ext, got)
	}
	return res, errors.New("validate: unhandled kind " + string(kind))
}

func (v *Validator) sizeLimit(k Kind) int64 {
	if k.isScan() {
		return v.lim.Scan
	}
	return v.lim.Documentation
}

// ctxReader makes long reads of in-process checks stop when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
