package validate

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"fmt"
	"hash/adler32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"github.com/expertiza/expertiza/sync/wire"
)

// makePDF writes a PDF of the given pages with pdfcpu's JSON-driven
// creator; each page carries a line of text so it has a content stream.
func makePDF(t testing.TB, path string, pages int, paper string, classicXRef bool) {
	t.Helper()
	var js strings.Builder
	fmt.Fprintf(&js, `{"paper": %q, "pages": {`, paper)
	for i := 1; i <= pages; i++ {
		if i > 1 {
			js.WriteString(",")
		}
		fmt.Fprintf(&js, `"%d": {"content": {"text": [{"value": "Page %d of %d", "pos": [72, 72], "font": {"name": "Helvetica", "size": 24}}]}}`, i, i, pages)
	}
	js.WriteString("}}")
	conf := model.NewDefaultConfiguration()
	if classicXRef {
		// A classic xref table is plain text, which the broken-xref case
		// needs to damage.
		conf.WriteObjectStream = false
		conf.WriteXRefStream = false
	}
	var out bytes.Buffer
	if err := api.Create(nil, strings.NewReader(js.String()), &out, conf); err != nil {
		t.Fatalf("create %d-page PDF: %v", pages, err)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func encryptPDF(t testing.TB, in, out, userPW, ownerPW string) {
	t.Helper()
	conf := model.NewAESConfiguration(userPW, ownerPW, 256)
	if err := api.EncryptFile(in, out, conf); err != nil {
		t.Fatalf("encrypt: %v", err)
	}
}

// pdfObj is one object of a hand-built PDF; stream, when not nil, follows
// the dictionary and gets its /Length filled in.
type pdfObj struct {
	dict   string
	stream []byte
}

// rawPDF assembles objects 1…n with a correct classic xref table. Object 1
// must be the catalog. It builds what pdfcpu's writer will not: bombs,
// absurd nesting.
func rawPDF(objs ...pdfObj) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n", i+1)
		if o.stream == nil {
			b.WriteString(o.dict)
		} else {
			fmt.Fprintf(&b, "%s /Length %d >>\nstream\n", strings.TrimSuffix(strings.TrimSpace(o.dict), ">>"), len(o.stream))
			b.Write(o.stream)
			b.WriteString("\nendstream")
		}
		b.WriteString("\nendobj\n")
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// onePage is the skeleton of a one-page PDF: catalog, pages, page; extra
// page entries go into pageExtra, the content stream is object 4.
func onePage(pageExtra string, content []byte, more ...pdfObj) []byte {
	objs := []pdfObj{
		{dict: "<< /Type /Catalog /Pages 2 0 R >>"},
		{dict: "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"},
		{dict: "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R " + pageExtra + " >>"},
		{dict: "<< /Filter /FlateDecode >>", stream: content},
	}
	return rawPDF(append(objs, more...)...)
}

func deflate(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	out.Write([]byte{0x78, 0x01})
	w, err := flate.NewWriter(&out, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], adler32.Checksum(b))
	out.Write(sum[:])
	return out.Bytes()
}

// zeroBomb returns a zlib stream that inflates to n MiB of zeros. It
// compresses 1 MiB three times and repeats the steady-state block: after
// the first MiB the window is all zeros, so every further MiB compresses to
// the same bytes. That keeps a 10 GiB bomb cheap to build even under the
// race detector, where compressing 10 GiB would take minutes.
func zeroBomb(t testing.TB, mib int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	var parts [][]byte
	for range 3 {
		if _, err := w.Write(zeros); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, bytes.Clone(buf.Bytes()))
		buf.Reset()
	}
	if !bytes.Equal(parts[1], parts[2]) {
		t.Fatal("deflate of zeros has no steady state; the bomb builder needs another trick")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	final := bytes.Clone(buf.Bytes())

	var out bytes.Buffer
	out.Write([]byte{0x78, 0xDA})
	out.Write(parts[0])
	for range mib - 1 {
		out.Write(parts[1])
	}
	out.Write(final)
	// Adler-32 of n zero bytes: a stays 1, b grows by 1 per byte.
	n := uint64(mib) << 20
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], uint32(n%65521)<<16|1)
	out.Write(sum[:])
	return out.Bytes()
}

func TestZeroBombInflatesToItsSize(t *testing.T) {
	b := zeroBomb(t, 5)
	if got := inflatedSize(b, 1<<30); got != 5<<20 {
		t.Fatalf("bomb of 5 MiB inflates to %d bytes", got)
	}
}

// pdfFixtures are the PDFs of TestPDF, generated once per test binary run.
type pdfFixtures struct {
	dir                                      string
	three, five00, a1, rotated, owner, user  string
	truncated, brokenXRef, garbageXRef       string
	bomb, imageBomb, nestedArr, nestedDict   string
	manual, noEOF, bigStreams, junkPrefixPDF string
	hugeImage, drawings500                   string
}

func buildPDFFixtures(t *testing.T) pdfFixtures {
	t.Helper()
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	fx := pdfFixtures{dir: dir}

	fx.three = p("three.pdf")
	makePDF(t, fx.three, 3, "A4P", false)
	start := time.Now()
	fx.five00 = p("five00.pdf")
	makePDF(t, fx.five00, 500, "A4P", false)
	t.Logf("generated the 500-page PDF in %v", time.Since(start))
	fx.a1 = p("a1.pdf")
	makePDF(t, fx.a1, 1, "A1P", false)
	fx.rotated = p("rotated.pdf")
	if err := api.RotateFile(fx.three, fx.rotated, 90, []string{"2"}, nil); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	fx.owner = p("owner.pdf")
	encryptPDF(t, fx.three, fx.owner, "", "owner-secret")
	fx.user = p("user.pdf")
	encryptPDF(t, fx.three, fx.user, "user-secret", "owner-secret")

	three, err := os.ReadFile(fx.three)
	if err != nil {
		t.Fatal(err)
	}
	fx.truncated = writeFile(t, dir, "truncated.pdf", three[:len(three)*6/10])
	fx.junkPrefixPDF = writeFile(t, dir, "junk.pdf", append([]byte("X-Mailer-Junk: 1\r\n\r\n"), three...))

	classic := p("classic.pdf")
	makePDF(t, classic, 3, "A4P", true)
	cb, err := os.ReadFile(classic)
	if err != nil {
		t.Fatal(err)
	}
	// Broken xref: startxref points into the middle of an object.
	i := bytes.LastIndex(cb, []byte("startxref\n"))
	broken := append(bytes.Clone(cb[:i]), []byte("startxref\n17\n%%EOF\n")...)
	fx.brokenXRef = writeFile(t, dir, "brokenxref.pdf", broken)
	// Garbage xref: every offset in the table is wrong and no trailer
	// survives.
	x := bytes.LastIndex(cb, []byte("\nxref\n"))
	garbage := append(bytes.Clone(cb[:x]), []byte("\nxref\n0 9\n0000000000 65535 f \n")...)
	for range 8 {
		garbage = append(garbage, []byte("9999999999 00000 n \n")...)
	}
	garbage = append(garbage, []byte(fmt.Sprintf("trailer\n<< /Size 9 /Root 77 0 R >>\nstartxref\n%d\n%%%%EOF\n", x+1))...)
	fx.garbageXRef = writeFile(t, dir, "garbagexref.pdf", garbage)

	content := deflate(t, []byte("BT /F1 24 Tf 72 720 Td (Hello) Tj ET\n"))
	fx.manual = writeFile(t, dir, "manual.pdf", onePage("", content))
	fx.noEOF = writeFile(t, dir, "noeof.pdf", bytes.TrimSuffix(onePage("", content), []byte("%%EOF\n")))

	// 10 GiB of zeros in ~10 MB: the page's content stream.
	bomb := zeroBomb(t, 10<<10)
	t.Logf("deflate bomb: %d bytes compressed, 10 GiB inflated", len(bomb))
	fx.bomb = writeFile(t, dir, "bomb.pdf", onePage("", bomb))
	// An image that declares 10×10 RGB pixels (300 bytes) but inflates
	// to 64 MiB.
	fx.imageBomb = writeFile(t, dir, "imagebomb.pdf", onePage("/Resources << /XObject << /Im1 5 0 R >> >>", content,
		pdfObj{dict: "<< /Type /XObject /Subtype /Image /Width 10 /Height 10 /BitsPerComponent 8 /ColorSpace /DeviceRGB /Filter /FlateDecode >>",
			stream: zeroBomb(t, 64)}))

	// 500 A3 sheets of vector drawing, 3,000 line segments each: closer to
	// a real АР or КР section than pdfcpu's text pages.
	fx.drawings500 = writeFile(t, dir, "drawings500.pdf", drawingPages(t, 500, 3000))

	// A JPEG image declaring 10 gigapixels: no stream to inflate, but a
	// viewer would allocate 30 GB for it.
	fx.hugeImage = writeFile(t, dir, "hugeimage.pdf", onePage("/Resources << /XObject << /Im1 5 0 R >> >>", content,
		pdfObj{dict: "<< /Type /XObject /Subtype /Image /Width 100000 /Height 100000 /BitsPerComponent 8 /ColorSpace /DeviceRGB /Filter /DCTDecode >>",
			stream: []byte{0xFF, 0xD8, 0xFF, 0xD9}}))

	const depth = 100_000
	fx.nestedArr = writeFile(t, dir, "nestedarr.pdf", onePage("/Deep "+strings.Repeat("[", depth)+strings.Repeat("]", depth), content))
	fx.nestedDict = writeFile(t, dir, "nesteddict.pdf", onePage("/Deep "+strings.Repeat("<< /A ", depth)+strings.Repeat(">> ", depth), content))

	// 18 uncompressed streams of 4 MiB (72 MiB, under the 80 MB limit):
	// pdfcpu holds the file and a copy of every stream, far more than the
	// small budget of the over-memory case allows.
	var objs []pdfObj
	objs = append(objs,
		pdfObj{dict: "<< /Type /Catalog /Pages 2 0 R >>"},
		pdfObj{dict: "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"},
	)
	var xobjs strings.Builder
	for k := range 18 {
		fmt.Fprintf(&xobjs, "/X%d %d 0 R ", k, 5+k)
	}
	objs = append(objs,
		pdfObj{dict: "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /XObject << " + xobjs.String() + ">> >> >>"},
		pdfObj{dict: "<< >>", stream: []byte("BT ET")},
	)
	filler := bytes.Repeat([]byte("0 0 m 1 1 l S\n"), (4<<20)/14)
	for range 18 {
		objs = append(objs, pdfObj{dict: "<< /Type /XObject /Subtype /Form /BBox [0 0 1 1] >>", stream: filler})
	}
	fx.bigStreams = writeFile(t, dir, "bigstreams.pdf", rawPDF(objs...))
	return fx
}

func TestPDF(t *testing.T) {
	fx := buildPDFFixtures(t)
	v := newValidator(t, DefaultLimits(), "1")
	a4 := PageSize{W: 595, H: 842}

	cases := []struct {
		name, path, as string
		want           want
		pages          int
		sizes          map[int]PageSize // page index → size, spot checks
		encrypted      bool
	}{
		{name: "three pages", path: fx.three, as: "ПЗ.pdf", pages: 3, sizes: map[int]PageSize{0: a4, 2: a4}},
		{name: "A1 drawing", path: fx.a1, as: "АР лист 1.PDF", pages: 1, sizes: map[int]PageSize{0: {W: 1684, H: 2384}}},
		{name: "rotated page", path: fx.rotated, as: "r.pdf", pages: 3, sizes: map[int]PageSize{0: a4, 1: {W: 842, H: 595}}},
		{name: "hand-built with a deflated content stream", path: fx.manual, as: "m.pdf", pages: 1, sizes: map[int]PageSize{0: a4}},
		{name: "no %%EOF, otherwise whole", path: fx.noEOF, as: "e.pdf", pages: 1},
		{name: "junk before the header", path: fx.junkPrefixPDF, as: "j.pdf", pages: 3},
		{name: "owner password only", path: fx.owner, as: "o.pdf", pages: 3, encrypted: true},
		{name: "user password", path: fx.user, as: "u.pdf", want: refused(wire.CodeInvalid, "PDF защищён паролем", "снимите пароль")},
		{name: "truncated", path: fx.truncated, as: "t.pdf", want: refused(wire.CodeInvalid, "PDF обрезан", "%%EOF")},
		{name: "garbage xref", path: fx.garbageXRef, as: "g.pdf", want: refused(wire.CodeInvalid, "PDF повреждён")},
		{name: "deflate bomb 10 MB → 10 GiB", path: fx.bomb, as: "b.pdf", want: refused(wire.CodeInvalid, "zip-бомбы")},
		{name: "image inflating beyond its size", path: fx.imageBomb, as: "i.pdf", want: refused(wire.CodeInvalid, "zip-бомбы")},
		{name: "image of 10 gigapixels", path: fx.hugeImage, as: "h.pdf", want: refused(wire.CodeInvalid, "больше гигапикселя")},
		{name: "100,000 nested arrays", path: fx.nestedArr, as: "n.pdf", want: refused(wire.CodeInvalid, "слишком сложно")},
		{name: "100,000 nested dictionaries", path: fx.nestedDict, as: "d.pdf", want: refused(wire.CodeInvalid, "слишком сложно")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := v.Check(context.Background(), tc.path, tc.as)
			checkOutcome(t, err, tc.want)
			if err != nil {
				return
			}
			if res.Kind != KindPDF || res.Pages != tc.pages || len(res.PageSizes) != tc.pages || res.Encrypted != tc.encrypted {
				t.Fatalf("got kind %s, %d pages, %d sizes, encrypted %v; want %d pages, encrypted %v",
					res.Kind, res.Pages, len(res.PageSizes), res.Encrypted, tc.pages, tc.encrypted)
			}
			for i, s := range tc.sizes {
				if !sameSize(res.PageSizes[i], s) {
					t.Errorf("page %d is %v, want %v", i+1, res.PageSizes[i], s)
				}
			}
		})
	}

	t.Run("broken xref", func(t *testing.T) {
		// startxref points into an object. pdfcpu rebuilds the xref by
		// scanning the objects, as every viewer does, and nothing of the
		// document is lost, so the file is accepted with its real pages.
		res, err := v.Check(context.Background(), fx.brokenXRef, "x.pdf")
		if err != nil || res.Pages != 3 || !sameSize(res.PageSizes[2], a4) {
			t.Fatalf("got %d pages, %v", res.Pages, err)
		}
	})

	t.Run("500 pages", func(t *testing.T) {
		st, err := os.Stat(fx.five00)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		res, err := v.Check(context.Background(), fx.five00, "big.pdf")
		took := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		// Logged, not asserted: timing depends on the machine and on -race.
		t.Logf("500-page PDF (%d bytes): worker ingest took %v (race detector: %v)", st.Size(), took, raceEnabled)
		if res.Pages != 500 || len(res.PageSizes) != 500 || !sameSize(res.PageSizes[499], a4) {
			t.Fatalf("got %d pages, %d sizes", res.Pages, len(res.PageSizes))
		}
	})

	t.Run("500 drawing pages", func(t *testing.T) {
		st, err := os.Stat(fx.drawings500)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		res, err := v.Check(context.Background(), fx.drawings500, "АР.pdf")
		took := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("500 drawing pages (%d bytes): worker ingest took %v (race detector: %v)", st.Size(), took, raceEnabled)
		if res.Pages != 500 || !sameSize(res.PageSizes[250], PageSize{W: 1191, H: 842}) {
			t.Fatalf("got %d pages, page 251 %v", res.Pages, res.PageSizes[250])
		}
	})

	t.Run("over memory", func(t *testing.T) {
		// The worker gets 1 MiB beyond its start-up size plus the 128 MiB
		// headroom: some 50 MiB of heap, less than the 72 MiB of streams.
		l := DefaultLimits()
		l.PDFMemoryBytes = 1 << 20
		res, err := newValidator(t, l, "1").Check(context.Background(), fx.bigStreams, "big.pdf")
		checkOutcome(t, err, refused(wire.CodeInvalid, "не хватило", "памяти"))
		_ = res
	})
	t.Run("same file fits a normal budget", func(t *testing.T) {
		// The control for the case above: the file itself is legal.
		res, err := v.Check(context.Background(), fx.bigStreams, "big.pdf")
		if err != nil || res.Pages != 1 {
			t.Fatalf("got %d pages, %v", res.Pages, err)
		}
	})
}

// drawingPages hand-builds a PDF of n landscape A3 pages, each with its
// own content stream object drawing segs pseudo-random line segments. The
// streams share their bytes: building 500 different ones costs seconds
// under the race detector, and the reader's work is the same.
func drawingPages(t testing.TB, n, segs int) []byte {
	t.Helper()
	kids := make([]string, n)
	for i := range n {
		kids[i] = fmt.Sprintf("%d 0 R", 3+2*i)
	}
	objs := []pdfObj{
		{dict: "<< /Type /Catalog /Pages 2 0 R >>"},
		{dict: "<< /Type /Pages /Kids [" + strings.Join(kids, " ") + fmt.Sprintf("] /Count %d /MediaBox [0 0 1191 842] >>", n)},
	}
	x := uint32(88172645)
	next := func() int {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		return int(x % 1100)
	}
	var content bytes.Buffer
	content.WriteString("0.3 w\n")
	for range segs {
		fmt.Fprintf(&content, "%d %d m %d %d l S\n", next(), next()%800, next(), next()%800)
	}
	stream := deflate(t, content.Bytes())
	for i := range n {
		objs = append(objs,
			pdfObj{dict: fmt.Sprintf("<< /Type /Page /Parent 2 0 R /Contents %d 0 R /Resources << >> >>", 4+2*i)},
			pdfObj{dict: "<< /Filter /FlateDecode >>", stream: stream})
	}
	return rawPDF(objs...)
}

func sameSize(a, b PageSize) bool {
	const eps = 0.01
	return a.W-b.W < eps && b.W-a.W < eps && a.H-b.H < eps && b.H-a.H < eps
}
