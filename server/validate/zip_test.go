package validate

import (
	"archive/zip"
	"bytes"
	"context"
	"hash/crc32"
	"strconv"
	"testing"

	"github.com/expertiza/expertiza/sync/wire"
)

// zipEntry is one entry of a generated archive. raw, when set, is written
// as already-deflated data with the declared size and CRC given, which is
// how the tests build bombs and lying headers.
type zipEntry struct {
	name  string
	body  []byte
	store bool
	raw   *rawEntry
	flags uint16
}

type rawEntry struct {
	deflated []byte
	size     uint64
	crc      uint32
}

func makeZip(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Flags: e.flags}
		if e.store {
			h.Method = zip.Store
		}
		if e.raw != nil {
			h.CompressedSize64 = uint64(len(e.raw.deflated))
			h.UncompressedSize64 = e.raw.size
			h.CRC32 = e.raw.crc
			w, err := zw.CreateRaw(h)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(e.raw.deflated); err != nil {
				t.Fatal(err)
			}
			continue
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const (
	contentTypes = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>`
	relsTo = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="TARGET"/></Relationships>`
	documentXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Пояснительная записка</w:t></w:r></w:p></w:body></w:document>`
	workbookXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="Смета" sheetId="1"/></sheets></workbook>`
	odsContent  = `<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"><office:body><office:spreadsheet/></office:body></office:document-content>`
	odsManifest = `<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>`
)

func rels(target string) []byte {
	return bytes.ReplaceAll([]byte(relsTo), []byte("TARGET"), []byte(target))
}

func docxEntries(extra ...zipEntry) []zipEntry {
	return append([]zipEntry{
		{name: "[Content_Types].xml", body: []byte(contentTypes)},
		{name: "_rels/.rels", body: rels("word/document.xml")},
		{name: "word/document.xml", body: []byte(documentXML)},
	}, extra...)
}

func xlsxEntries(extra ...zipEntry) []zipEntry {
	return append([]zipEntry{
		{name: "[Content_Types].xml", body: []byte(contentTypes)},
		{name: "_rels/.rels", body: rels("/xl/workbook.xml")},
		{name: "xl/workbook.xml", body: []byte(workbookXML)},
	}, extra...)
}

func odsEntries(extra ...zipEntry) []zipEntry {
	return append([]zipEntry{
		{name: "mimetype", body: []byte(odsMime), store: true},
		{name: "content.xml", body: []byte(odsContent)},
		{name: "META-INF/manifest.xml", body: []byte(odsManifest)},
	}, extra...)
}

// deflatedZeros returns raw deflate data (no zlib wrapper, as ZIP stores
// it) of n MiB of zeros. withCRC computes its CRC-32, which costs a pass
// over every byte (seconds per GiB under the race detector); a bomb that
// must be refused before anything is inflated does not need it.
func deflatedZeros(t testing.TB, mib int, withCRC bool) *rawEntry {
	t.Helper()
	z := zeroBomb(t, mib)
	var crc uint32
	if withCRC {
		zeros := make([]byte, 1<<20)
		for range mib {
			crc = crc32.Update(crc, crc32.IEEETable, zeros)
		}
	}
	return &rawEntry{deflated: z[2 : len(z)-4], size: uint64(mib) << 20, crc: crc}
}

func TestZip(t *testing.T) {
	dir := t.TempDir()
	v := newValidator(t, DefaultLimits(), "1")

	media := bytes.Repeat([]byte("not really a picture "), 1000)
	lying := *deflatedZeros(t, 8, true)
	lying.size = 1000 // the header claims 1000 bytes; the data inflates to 8 MiB
	badCRC := *deflatedZeros(t, 1, true)
	badCRC.crc ^= 1
	many := docxEntries()
	for i := range 10_001 {
		many = append(many, zipEntry{name: "word/media/i" + strconv.Itoa(i) + ".txt", body: []byte("x"), store: true}) // stored: a flate writer per entry costs a MB
	}
	docx := makeZip(t, docxEntries()...)

	cases := []struct {
		name, as string
		body     []byte
		want     want
	}{
		{"docx", "Раздел 1 ПЗ.docx", docx, accepted()},
		{"docx with media", "a.docx", makeZip(t, docxEntries(zipEntry{name: "word/media/image1.png", body: media})...), accepted()},
		{"xlsx", "Смета.xlsx", makeZip(t, xlsxEntries()...), accepted()},
		{"ods", "Смета.ods", makeZip(t, odsEntries()...), accepted()},
		{"docx named .xlsx", "Смета.xlsx", docx, refused(wire.CodeInvalid, "по содержимому это документ Word (DOCX)", "XLSX")},
		{"xlsx named .docx", "a.docx", makeZip(t, xlsxEntries()...), refused(wire.CodeInvalid, "таблица Excel (XLSX)")},
		{"ods named .xlsx", "a.xlsx", makeZip(t, odsEntries()...), refused(wire.CodeInvalid, "таблица OpenDocument (ODS)")},
		{"odt named .ods", "a.ods", makeZip(t, zipEntry{name: "mimetype", body: []byte("application/vnd.oasis.opendocument.text"), store: true}), refused(wire.CodeInvalid, "текстовый документ OpenDocument")},
		{"plain zip named .docx", "a.docx", makeZip(t, zipEntry{name: "readme.txt", body: []byte("hi")}), refused(wire.CodeInvalid, "ZIP-архив")},
		{"docx named .pdf", "a.pdf", docx, refused(wire.CodeInvalid, "Файл называется .pdf, но по содержимому это документ Word (DOCX)")},
		{"zip bomb: 2 GiB of zeros in 2 MB", "a.docx", makeZip(t, docxEntries(zipEntry{name: "word/media/bomb.bin", raw: deflatedZeros(t, 2048, false)})...),
			refused(wire.CodeInvalid, "zip-бомбы", "word/media/bomb.bin")},
		{"header lies about the size", "a.docx", makeZip(t, docxEntries(zipEntry{name: "word/media/lie.bin", raw: &lying})...),
			refused(wire.CodeInvalid, "повреждён")},
		{"wrong CRC", "a.docx", makeZip(t, docxEntries(zipEntry{name: "word/media/crc.bin", raw: &badCRC})...),
			refused(wire.CodeInvalid, "повреждён")},
		{"too many entries", "a.docx", makeZip(t, many...), refused(wire.CodeInvalid, "10004 внутренних частей", "10000")},
		{"duplicate entry", "a.docx", makeZip(t, docxEntries(zipEntry{name: "word/document.xml", body: []byte("<evil/>")})...),
			refused(wire.CodeInvalid, "повреждён")},
		{"encrypted entry", "a.docx", makeZip(t, docxEntries(zipEntry{name: "word/secret.xml", body: []byte("x"), flags: 1})...),
			refused(wire.CodeInvalid, "зашифрована")},
		{"main part missing", "a.docx", makeZip(t, docxEntries()[:2]...), refused(wire.CodeInvalid, "нет обязательной части «word/document.xml»")},
		{"main part is not XML", "a.docx", makeZip(t, zipEntry{name: "[Content_Types].xml", body: []byte(contentTypes)},
			zipEntry{name: "_rels/.rels", body: rels("word/document.xml")}, zipEntry{name: "word/document.xml", body: []byte("<w:document><w:body>")}),
			refused(wire.CodeInvalid, "Часть «word/document.xml»", "не является корректным XML")},
		{"billion laughs in a part", "a.xlsx", makeZip(t, zipEntry{name: "[Content_Types].xml", body: []byte(billionLaughs())},
			zipEntry{name: "_rels/.rels", body: rels("xl/workbook.xml")}, zipEntry{name: "xl/workbook.xml", body: []byte(workbookXML)}),
			refused(wire.CodeInvalid, "<!ENTITY")},
		{"ods without content", "a.ods", makeZip(t, odsEntries()[:1]...), refused(wire.CodeInvalid, "content.xml")},
		{"truncated docx", "a.docx", docx[:len(docx)/2], refused(wire.CodeInvalid, "повреждён")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, dir, "upload", tc.body)
			res, err := v.Check(context.Background(), p, tc.as)
			checkOutcome(t, err, tc.want)
			if err == nil {
				if k, _ := KindOf(tc.as); res.Kind != k {
					t.Fatalf("kind %s, want %s", res.Kind, k)
				}
			}
		})
	}

	t.Run("unpacked size over the cap", func(t *testing.T) {
		l := DefaultLimits()
		l.MaxZipUncompressed = 8 << 10
		p := writeFile(t, dir, "big.docx", makeZip(t, docxEntries(zipEntry{name: "word/media/a.txt", body: media})...))
		_, err := newValidator(t, l, "1").Check(context.Background(), p, "big.docx")
		checkOutcome(t, err, refused(wire.CodeTooLarge, "в распакованном виде занимает больше"))
	})
}

// FuzzCheckZip: arbitrary bytes declared as DOCX end in acceptance or a
// refusal, never a panic or an internal error.
func FuzzCheckZip(f *testing.F) {
	f.Add(makeZip(f, docxEntries()...))
	f.Add(makeZip(f, xlsxEntries()...))
	f.Add(makeZip(f, odsEntries()...))
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18))))
	lim := DefaultLimits()
	lim.MaxZipEntries = 100
	lim.MaxZipUncompressed = 1 << 20
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, k := range []Kind{KindDOCX, KindXLSX, KindODS} {
			err := checkZip(context.Background(), bytes.NewReader(data), int64(len(data)), "."+string(k), k, lim)
			if err == nil {
				continue
			}
			if _, ok := wire.AsError(err); !ok {
				t.Fatalf("%s: not a refusal: %v", k, err)
			}
		}
	})
}
