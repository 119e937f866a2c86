package validate

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/expertiza/expertiza/sync/wire"
)

func TestKindOf(t *testing.T) {
	cases := []struct {
		name string
		want Kind
		ok   bool
	}{
		{"ПЗ.pdf", KindPDF, true},
		{"ЛИСТ.PDF", KindPDF, true},
		{"a.b.xml", KindXML, true},
		{"Смета.xls", KindXLS, true},
		{"Смета.xlsx", KindXLSX, true},
		{"Смета.ods", KindODS, true},
		{"Записка.docx", KindDOCX, true},
		{"скан.jpg", KindJPEG, true},
		{"скан.jpeg", KindJPEG, true},
		{"скан.png", KindPNG, true},
		{"ПЗ.pdf.sig", KindSig, true},
		{"ПЗ.pdf.p7s", KindSig, true},
		{"Записка.doc", "", false},
		{"архив.zip", "", false},
		{"README", "", false},
	}
	for _, tc := range cases {
		if got, ok := KindOf(tc.name); got != tc.want || ok != tc.ok {
			t.Errorf("KindOf(%q) = %q, %v; want %q, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCheckGeneral(t *testing.T) {
	dir := t.TempDir()
	l := DefaultLimits()
	l.Documentation = 4096
	v := newValidator(t, l, "1")
	random := make([]byte, 200)
	for i := range random {
		random[i] = byte(i*7 + 3)
	}
	cases := []struct {
		name, as string
		body     []byte
		want     want
	}{
		{"unknown extension", "Записка.doc", []byte("x"), refused(wire.CodeInvalid, "Файлы .doc не принимаются", ".pdf, .xml")},
		{"no extension", "Записка", []byte("x"), refused(wire.CodeInvalid, "нет расширения", ".docx")},
		{"empty", "a.pdf", nil, refused(wire.CodeInvalid, "Файл пустой")},
		{"over the documentation limit", "a.xml", append([]byte("<a>"), bytes.Repeat([]byte(" "), 5000)...),
			refused(wire.CodeTooLarge, "для документации допускается не более 4 КБ")},
		{"unrecognised content", "a.pdf", random, refused(wire.CodeInvalid, "не похоже ни на один известный формат", "сохраните документ в PDF")},
		{"xml named .pdf", "a.pdf", []byte(`<?xml version="1.0"?><a/>`), refused(wire.CodeInvalid, "это XML-документ")},
		{"pdf named .xml", "a.xml", []byte("%PDF-1.7\n"), refused(wire.CodeInvalid, "это PDF-документ", "XML")},
		{"drawing named .pdf", "АР.pdf", []byte("AC1032\x00\x00\x00\x00"), refused(wire.CodeInvalid, "чертёж AutoCAD (DWG)")},
		{"html named .xml", "a.xml", []byte("<!DOCTYPE html><html></html>"), refused(wire.CodeInvalid, "веб-страница (HTML)")},
		{"rar named .docx", "a.docx", []byte("Rar!\x1a\x07\x01\x00"), refused(wire.CodeInvalid, "RAR-архив", "DOCX")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, dir, "upload", tc.body)
			_, err := v.Check(context.Background(), p, tc.as)
			checkOutcome(t, err, tc.want)
		})
	}

	t.Run("missing file is the server's problem", func(t *testing.T) {
		_, err := v.Check(context.Background(), filepath.Join(dir, "gone"), "a.pdf")
		if _, isRefusal := wire.AsError(err); err == nil || isRefusal {
			t.Fatalf("want an internal error, got %v", err)
		}
	})
	t.Run("directory is the server's problem", func(t *testing.T) {
		_, err := v.Check(context.Background(), dir, "a.pdf")
		if _, isRefusal := wire.AsError(err); err == nil || isRefusal {
			t.Fatalf("want an internal error, got %v", err)
		}
	})
}

func TestDefaultsFillZeroLimits(t *testing.T) {
	v := New(Limits{}, nil, nil)
	d := DefaultLimits()
	if v.lim.Documentation != d.Documentation || v.lim.Scan != d.Scan || v.lim.MaxPixels != d.MaxPixels ||
		v.lim.MaxZipEntries != d.MaxZipEntries || v.lim.MaxZipUncompressed != d.MaxZipUncompressed ||
		v.lim.PDFTimeout != d.PDFTimeout || v.lim.PDFMemoryBytes != d.PDFMemoryBytes || v.lim.PDFWorkers <= 0 {
		t.Fatalf("limits %+v", v.lim)
	}
}

func TestSizeWording(t *testing.T) {
	cases := []struct {
		n      int64
		ru, en string
	}{
		{512, "0,5 КБ", "0.5 KB"},
		{4096, "4 КБ", "4 KB"},
		{80 << 20, "80 МБ", "80 MB"},
		{95*(1<<20) + 300<<10, "95,3 МБ", "95.3 MB"},
		{1 << 30, "1 ГБ", "1 GB"},
	}
	for _, tc := range cases {
		if ru, en := mb(tc.n); ru != tc.ru || en != tc.en {
			t.Errorf("mb(%d) = %q, %q; want %q, %q", tc.n, ru, en, tc.ru, tc.en)
		}
	}
}
