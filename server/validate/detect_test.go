package validate

import (
	"bytes"
	"testing"
)

func TestDetect(t *testing.T) {
	cms := []byte{0x30, 0x82, 0x01, 0x00, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02, 0xA0, 0x82}
	cert := []byte{0x30, 0x82, 0x01, 0x00, 0x30, 0x81, 0xF0, 0xA0, 0x03}
	cases := []struct {
		name string
		head []byte
		want format
	}{
		{"pdf", []byte("%PDF-1.7\n%âãÏÓ\n"), fmtPDF},
		{"pdf after 1000 bytes of junk", append(bytes.Repeat([]byte("j"), 1000), "%PDF-1.4\n"...), fmtPDF},
		{"pdf header too late", append(bytes.Repeat([]byte("j"), 1030), "%PDF-1.4\n"...), fmtUnknown},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), fmtPNG},
		{"jpeg", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'}, fmtJPEG},
		{"zip", []byte("PK\x03\x04\x14\x00"), fmtZIP},
		{"empty zip", []byte("PK\x05\x06"), fmtZIP},
		{"ole2", []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0}, fmtOLE2},
		{"xml declaration", []byte(`<?xml version="1.0"?><a/>`), fmtXML},
		{"xml with BOM and blank lines", []byte("\xEF\xBB\xBF\r\n  <?xml version=\"1.0\"?>"), fmtXML},
		{"xml without declaration", []byte("<Заключение/>"), fmtXML},
		{"xml starting with a comment", []byte("<!-- generated --><a/>"), fmtXML},
		{"utf-16le xml", []byte("\xFF\xFE<\x00?\x00x\x00"), fmtXML},
		{"utf-16be xml", []byte("\xFE\xFF\x00<\x00?"), fmtXML},
		{"html", []byte("<!DOCTYPE html><html>"), fmtHTML},
		{"html lower case", []byte("  <html lang=ru>"), fmtHTML},
		{"der cms", cms, fmtCMS},
		{"der certificate", cert, fmtCertificate},
		{"pem cms", []byte("-----BEGIN CMS-----\nMIIB"), fmtCMSPEM},
		{"pem pkcs7", []byte("-----BEGIN PKCS7-----\r\nMIIB"), fmtCMSPEM},
		{"pem certificate", []byte("-----BEGIN CERTIFICATE-----\nMIIB"), fmtCertificate},
		{"pem private key", []byte("-----BEGIN PRIVATE KEY-----\nMIIE"), fmtPrivateKey},
		{"bare base64 cms", []byte("MIIBAAYJKoZIhvcNAQcCoII=\n"), fmtCMSBase64},
		{"text that starts like base64", []byte("MIT License\n\nCopyright"), fmtUnknown},
		{"text that starts with zero", []byte("000123;Смета;"), fmtUnknown},
		{"gif", []byte("GIF89a\x01\x00"), fmtGIF},
		{"tiff", []byte("II*\x00\x08\x00"), fmtTIFF},
		{"bmp", []byte("BM\x36\x00\x0c\x00\x00\x00\x00\x00\x36\x00\x00\x00"), fmtBMP},
		{"webp", []byte("RIFF\x24\x00\x00\x00WEBPVP8 "), fmtWebP},
		{"rar", []byte("Rar!\x1a\x07\x01\x00"), fmtRAR},
		{"7z", []byte("7z\xbc\xaf\x27\x1c\x00\x04"), fmt7z},
		{"gzip", []byte{0x1F, 0x8B, 8, 0}, fmtGzip},
		{"dwg", []byte("AC1032\x00\x00"), fmtDWG},
		{"rtf", []byte(`{\rtf1\ansi`), fmtRTF},
		{"postscript", []byte("%!PS-Adobe-3.0\n"), fmtPostScript},
		{"empty", nil, fmtUnknown},
		{"plain text", []byte("Пояснительная записка"), fmtUnknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := detect(tc.head); got != tc.want {
				t.Fatalf("detect = %s, want %s", formatName[got][1], formatName[tc.want][1])
			}
		})
	}
}

func TestEveryFormatHasAName(t *testing.T) {
	for f := fmtUnknown; f <= fmtPostScript; f++ {
		if n := formatName[f]; n[0] == "" || n[1] == "" {
			t.Errorf("format %d has no name", f)
		}
	}
}

// FuzzDetect: detection looks at arbitrary bytes from users; it must never
// panic and must always name what it found.
func FuzzDetect(f *testing.F) {
	for _, s := range []string{
		"%PDF-1.7\n", "\x89PNG\r\n\x1a\n", "\xFF\xD8\xFF", "PK\x03\x04", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
		"<?xml", "\xEF\xBB\xBF<a/>", "\xFF\xFE<\x00", "-----BEGIN CMS-----\nMIIB", "MIIBAAYJKoZIhvcNAQcCoII=",
		"\x30\x80\x06\x09\x2A\x86\x48\x86\xF7\x0D\x01\x07\x02", "\x30\x84\xFF\xFF\xFF\xFF\x06", "-----BEGIN ", "BM",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		got := detect(head)
		if _, ok := formatName[got]; !ok {
			t.Fatalf("detect returned unnamed format %d", got)
		}
		if len(head) > 0 && got == fmtPDF && !bytes.Contains(head[:min(len(head), pdfHeaderWindow+len(pdfMagic))], pdfMagic) {
			t.Fatalf("PDF without a header in the first KiB")
		}
	})
}
