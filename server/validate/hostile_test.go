package validate

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/expertiza/expertiza/sync/wire"
)

// hostileDir holds the committed corpus of hostile uploads: small files,
// each named after what it attacks, with the extension it is uploaded
// under. `go test -run TestHostileCorpusFiles -hostile.write` rewrites them
// from hostileSmall; the test fails when they drift apart. Files too big to
// commit (bombs of megabytes) are built at run time by hostileGenerated.
const hostileDir = "testdata/hostile"

var writeHostile = flag.Bool("hostile.write", false, "rewrite "+hostileDir+" from the generators")

// hostileSmall builds the committed corpus.
func hostileSmall(t testing.TB) map[string][]byte {
	t.Helper()
	content := deflate(t, []byte("BT /F1 24 Tf 72 720 Td (Hello) Tj ET\n"))
	page := onePage("", content)
	files := map[string][]byte{
		// XML: entity expansion and external entities.
		"billion-laughs.xml": []byte(billionLaughs()),
		"xxe-file.xml":       []byte(`<?xml version="1.0"?>` + "\n" + `<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>`),
		"xxe-parameter.xml":  []byte(`<?xml version="1.0"?>` + "\n" + `<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:1/x.dtd"> %p;]><r/>`),
		"xml-deep.xml":       []byte(strings.Repeat("<a>", 1000) + strings.Repeat("</a>", 1000)),

		// PDF: a stream /Length far past the end of the file.
		"pdf-length-lie.pdf": bytes.Replace(page, []byte(fmt.Sprintf("/Length %d", len(content))), []byte("/Length 999999999"), 1),
		// PDF: an object stream that extends itself, holding the page.
		"pdf-objstm-loop.pdf": objStmLoop(),
		// PDF: a cross-reference chain whose /Prev points back at itself.
		"pdf-xref-prev-loop.pdf": prevLoop(page),
		// PDF: the page tree claims two billion pages and has one.
		"pdf-huge-count.pdf": bytes.Replace(page, []byte("/Count 1"), []byte("/Count 2000000000"), 1),
		// PDF: a page tree whose node is its own kid.
		"pdf-page-tree-loop.pdf": bytes.Replace(page, []byte("/Kids [3 0 R]"), []byte("/Kids [2 0 R]"), 1),
		// PDF cut in the middle of its objects.
		"pdf-truncated.pdf": page[:len(page)/2],
		// Not PDFs at all, named .pdf.
		"html-named.pdf": []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"),
		"exe-named.pdf":  append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"), bytes.Repeat([]byte{0}, 200)...),
		// PDF+ZIP polyglot: a whole PDF with a ZIP appended after %%EOF,
		// uploaded as a Word document.
		"polyglot-pdf-zip.docx": append(slices.Clone(page), makeZip(t, docxEntries()...)...),
		// ZIP whose entries are ZIPs, 12 levels deep, named .docx.
		"zip-nested.docx": nestedZip(t, 12),
		// A real DOCX carrying that nest as an embedded part.
		"docx-embedding-nested-zip.docx": makeZip(t, docxEntries(zipEntry{name: "word/embeddings/nest.zip", body: nestedZip(t, 12), store: true})...),
		// PNG that declares 100,000×100,000 pixels.
		"png-huge-header.png": hugePNG(100_000, 100_000),
	}
	return files
}

// hostileGenerated builds the large members of the corpus at run time.
func hostileGenerated(t testing.TB) map[string][]byte {
	t.Helper()
	lie := deflatedZeros(t, 256, false) // 256 MiB of zeros ...
	lie.size, lie.crc = 1024, 0         // ... declared as 1 KiB
	return map[string][]byte{
		// 2 GiB of zeros in 2 MB, sizes declared honestly.
		"zip-bomb.docx": makeZip(t, docxEntries(zipEntry{name: "word/media/bomb.bin", raw: deflatedZeros(t, 2048, false)})...),
		// 256 MiB of zeros declared as 1 KiB.
		"zip-bomb-lying.docx": makeZip(t, docxEntries(zipEntry{name: "word/media/lie.bin", raw: lie})...),
		// A complete PNG of 268 MP that inflates from 256 KB to 256 MiB.
		"png-decompression-bomb.png": pngBomb(t),
		// 10 GiB of zeros in a PDF page's content stream.
		"pdf-deflate-bomb.pdf": onePage("", zeroBomb(t, 10<<10)),
	}
}

// objStmLoop is a PDF 1.5 file whose catalog, page tree and page live in
// an object stream that names itself in /Extends, found through an xref
// stream.
func objStmLoop() []byte {
	objs := "1 0 2 47 3 99 "
	body := objs +
		"<< /Type /Catalog /Pages 2 0 R >>            " +
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>            " +
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	o4 := b.Len()
	fmt.Fprintf(&b, "4 0 obj\n<< /Type /ObjStm /N 3 /First %d /Extends 4 0 R /Length %d >>\nstream\n%s\nendstream\nendobj\n", len(objs), len(body), body)
	o5 := b.Len()
	// xref stream: W [1 4 2]; entries 0..5.
	var x bytes.Buffer
	row := func(typ byte, f2 uint32, f3 uint16) {
		x.Write([]byte{typ, byte(f2 >> 24), byte(f2 >> 16), byte(f2 >> 8), byte(f2), byte(f3 >> 8), byte(f3)})
	}
	row(0, 0, 65535)
	row(2, 4, 0)
	row(2, 4, 1)
	row(2, 4, 2)
	row(1, uint32(o4), 0)
	row(1, uint32(o5), 0)
	fmt.Fprintf(&b, "5 0 obj\n<< /Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n", x.Len())
	b.Write(x.Bytes())
	fmt.Fprintf(&b, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", o5)
	return b.Bytes()
}

// prevLoop appends an update section to pdf whose trailer's /Prev is its
// own xref table, so following the chain never ends.
func prevLoop(pdf []byte) []byte {
	b := bytes.NewBuffer(slices.Clone(pdf))
	x := b.Len()
	fmt.Fprintf(b, "xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 5 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n", x, x)
	return b.Bytes()
}

// nestedZip is a ZIP holding a ZIP holding a ZIP … depth levels deep.
func nestedZip(t testing.TB, depth int) []byte {
	t.Helper()
	inner := []byte("дно")
	for i := range depth {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		name := fmt.Sprintf("level%d.zip", depth-i)
		if i == 0 {
			name = "bottom.txt"
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(inner); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		inner = buf.Bytes()
	}
	return inner
}

// pngBomb is a real, complete PNG of 16,383×16,384 black 8-bit grey
// pixels (268 MP): every filtered row is a zero filter byte and 16,383 zero
// pixels, so the image data is exactly 256 MiB of zeros and compresses to
// about 256 KB. Decoding it would take 268 MB.
func pngBomb(t testing.TB) []byte {
	t.Helper()
	const w, h = 16383, 16384 // (w+1)·h = 256 MiB
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 0 // 8 bits, greyscale
	var b bytes.Buffer
	b.Write(pngMagic)
	b.Write(pngChunk("IHDR", ihdr))
	b.Write(pngChunk("IDAT", zeroBomb(t, 256)))
	b.Write(pngChunk("IEND", nil))
	return b.Bytes()
}

// hostileWant is the outcome each corpus file must get. A file without an
// entry fails the test, so the corpus and the table cannot drift apart.
var hostileWant = map[string]want{
	"billion-laughs.xml":     refused(wire.CodeInvalid, "<!ENTITY"),
	"xxe-file.xml":           refused(wire.CodeInvalid, "<!ENTITY"),
	"xxe-parameter.xml":      refused(wire.CodeInvalid, "<!ENTITY"),
	"xml-deep.xml":           refused(wire.CodeInvalid, "глубже 256"),
	"pdf-length-lie.pdf":     refused(wire.CodeInvalid, "PDF повреждён"),
	"pdf-objstm-loop.pdf":    refused(wire.CodeInvalid, "PDF повреждён"),
	"pdf-xref-prev-loop.pdf": refused(wire.CodeInvalid, "PDF повреждён"),
	"pdf-huge-count.pdf":     refused(wire.CodeInvalid, "PDF повреждён"),
	"pdf-page-tree-loop.pdf": refused(wire.CodeInvalid, "PDF повреждён"),
	"pdf-truncated.pdf":      refused(wire.CodeInvalid, "PDF обрезан"),
	"pdf-deflate-bomb.pdf":   refused(wire.CodeInvalid, "zip-бомб"),
	"html-named.pdf":         refused(wire.CodeInvalid, "веб-страница", "PDF"),
	"exe-named.pdf":          refused(wire.CodeInvalid, "не похоже ни на один известный формат"),
	"polyglot-pdf-zip.docx":  refused(wire.CodeInvalid, "по содержимому это PDF"),
	"zip-nested.docx":        refused(wire.CodeInvalid, "ZIP-архив"),
	// The validator never opens archives inside a document, so nesting
	// costs it nothing: a DOCX embedding one is an ordinary DOCX.
	"docx-embedding-nested-zip.docx": accepted(),
	"zip-bomb.docx":                  refused(wire.CodeInvalid, "zip-бомб"),
	"zip-bomb-lying.docx":            refused(wire.CodeInvalid, "повреждён"),
	"png-huge-header.png":            refused(wire.CodeTooLarge, "100 Мп"),
	"png-decompression-bomb.png":     refused(wire.CodeTooLarge, "100 Мп"),
}

// TestHostileCorpusFiles keeps testdata/hostile equal to its generators
// (or rewrites it with -hostile.write).
func TestHostileCorpusFiles(t *testing.T) {
	want := hostileSmall(t)
	if *writeHostile {
		if err := os.MkdirAll(hostileDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range want {
			if err := os.WriteFile(filepath.Join(hostileDir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	entries, err := os.ReadDir(hostileDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(hostileDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if g, ok := want[e.Name()]; !ok {
			t.Errorf("%s has no generator", e.Name())
		} else if !bytes.Equal(b, g) {
			t.Errorf("%s differs from its generator: run go test -run TestHostileCorpusFiles -hostile.write", e.Name())
		}
		delete(want, e.Name())
	}
	for name := range want {
		t.Errorf("%s is missing from %s: run go test -run TestHostileCorpusFiles -hostile.write", name, hostileDir)
	}
}

// TestHostileCorpus runs every hostile file through the upload validator:
// each gets its clear refusal (code, field "file", both languages, what to
// do), and the check stays within its caps. In-process checks (archives,
// XML, images) may allocate at most hostileHeapCap in all, whatever the
// file claims to inflate to; the PDF worker ends before its time limit and
// no worker process of this test binary ever held more than its memory
// cap. It does not run in parallel, so the allocation count is its own.
func TestHostileCorpus(t *testing.T) {
	const hostileHeapCap = 64 << 20
	lim := DefaultLimits()
	lim.PDFTimeout = 30 * time.Second
	v := newValidator(t, lim, "1")
	dir := t.TempDir()

	files := map[string]string{} // name → path
	entries, err := os.ReadDir(hostileDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		files[e.Name()] = filepath.Join(hostileDir, e.Name())
	}
	for name, b := range hostileGenerated(t) {
		files[name] = writeFile(t, dir, name, b)
	}
	for name := range hostileWant {
		if _, ok := files[name]; !ok {
			t.Errorf("%s is expected but not in the corpus", name)
		}
	}
	names := slices.Sorted(maps.Keys(files))
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			w, ok := hostileWant[name]
			if !ok {
				t.Fatalf("%s has no expected outcome in hostileWant", name)
			}
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := v.Check(context.Background(), files[name], name)
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			checkOutcome(t, err, w)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%v, %d KiB allocated in process", took.Round(time.Millisecond), alloc>>10)
			if k, _ := KindOf(name); k == KindPDF {
				if took >= lim.PDFTimeout {
					t.Fatalf("the PDF check took %v, its limit is %v", took, lim.PDFTimeout)
				}
			} else if alloc > hostileHeapCap {
				t.Fatalf("checking the file allocated %d MiB (cap %d MiB): something was inflated", alloc>>20, hostileHeapCap>>20)
			}
		})
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		t.Fatal(err)
	}
	// Maxrss is in KiB on Linux: the largest worker this process has
	// waited for. The cap limits what a worker adds to its start-up size.
	if peak, limit := ru.Maxrss<<10, lim.PDFMemoryBytes+256<<20; peak > limit {
		t.Fatalf("a PDF worker reached %d MiB resident, over its cap of %d MiB", peak>>20, limit>>20)
	} else {
		t.Logf("largest PDF worker: %d MiB resident (cap %d MiB)", peak>>20, limit>>20)
	}
}
