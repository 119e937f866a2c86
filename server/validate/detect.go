package validate

import (
	"bytes"
	"encoding/base64"
	"strings"
)

// format is what a file's content is, as far as its first bytes (and, for
// containers, its entries) tell. It is finer than Kind so that a refusal can
// name what the user actually uploaded.
type format int

const (
	fmtUnknown format = iota
	fmtPDF
	fmtXML
	fmtHTML
	fmtOLE2 // Microsoft compound file; refined by its streams
	fmtXLS
	fmtDOC
	fmtPPT
	fmtOfficeEncrypted // OOXML document wrapped in a compound file by "Encrypt with password"
	fmtZIP             // refined by its entries
	fmtDOCX
	fmtXLSX
	fmtPPTX
	fmtODS
	fmtODT
	fmtODP
	fmtJPEG
	fmtPNG
	fmtGIF
	fmtTIFF
	fmtBMP
	fmtWebP
	fmtCMS       // DER (or BER) CMS/PKCS#7 SignedData
	fmtCMSPEM    // PEM-armoured CMS
	fmtCMSBase64 // bare base64 of a CMS, as some signing programs write it
	fmtCertificate
	fmtPrivateKey
	fmtASN1 // some other DER structure
	fmtRAR
	fmt7z
	fmtGzip
	fmtDWG
	fmtRTF
	fmtPostScript
)

// formatName is how refusals name a detected format ("…по содержимому это
// PNG-изображение").
var formatName = map[format][2]string{ // ru, en
	fmtUnknown:         {"файл неизвестного формата", "a file of unknown format"},
	fmtPDF:             {"PDF-документ", "a PDF document"},
	fmtXML:             {"XML-документ", "an XML document"},
	fmtHTML:            {"веб-страница (HTML)", "a web page (HTML)"},
	fmtOLE2:            {"файл Microsoft Office 97–2003", "a Microsoft Office 97–2003 file"},
	fmtXLS:             {"таблица Excel 97–2003 (XLS)", "an Excel 97–2003 workbook (XLS)"},
	fmtDOC:             {"документ Word 97–2003 (DOC)", "a Word 97–2003 document (DOC)"},
	fmtPPT:             {"презентация PowerPoint 97–2003 (PPT)", "a PowerPoint 97–2003 presentation (PPT)"},
	fmtOfficeEncrypted: {"документ Office, защищённый паролем", "a password-protected Office document"},
	fmtZIP:             {"ZIP-архив", "a ZIP archive"},
	fmtDOCX:            {"документ Word (DOCX)", "a Word document (DOCX)"},
	fmtXLSX:            {"таблица Excel (XLSX)", "an Excel workbook (XLSX)"},
	fmtPPTX:            {"презентация PowerPoint (PPTX)", "a PowerPoint presentation (PPTX)"},
	fmtODS:             {"таблица OpenDocument (ODS)", "an OpenDocument spreadsheet (ODS)"},
	fmtODT:             {"текстовый документ OpenDocument (ODT)", "an OpenDocument text (ODT)"},
	fmtODP:             {"презентация OpenDocument (ODP)", "an OpenDocument presentation (ODP)"},
	fmtJPEG:            {"JPEG-изображение", "a JPEG image"},
	fmtPNG:             {"PNG-изображение", "a PNG image"},
	fmtGIF:             {"GIF-изображение", "a GIF image"},
	fmtTIFF:            {"TIFF-изображение", "a TIFF image"},
	fmtBMP:             {"BMP-изображение", "a BMP image"},
	fmtWebP:            {"WebP-изображение", "a WebP image"},
	fmtCMS:             {"файл электронной подписи (CMS)", "an electronic signature file (CMS)"},
	fmtCMSPEM:          {"файл электронной подписи (CMS в PEM)", "an electronic signature file (PEM CMS)"},
	fmtCMSBase64:       {"файл электронной подписи (CMS в base64)", "an electronic signature file (base64 CMS)"},
	fmtCertificate:     {"сертификат, а не подпись", "a certificate, not a signature"},
	fmtPrivateKey:      {"закрытый ключ (никому его не передавайте)", "a private key (never share it)"},
	fmtASN1:            {"ASN.1-структура, но не подпись CMS", "an ASN.1 structure but not a CMS signature"},
	fmtRAR:             {"RAR-архив", "a RAR archive"},
	fmt7z:              {"7z-архив", "a 7z archive"},
	fmtGzip:            {"gzip-архив", "a gzip archive"},
	fmtDWG:             {"чертёж AutoCAD (DWG)", "an AutoCAD drawing (DWG)"},
	fmtRTF:             {"документ RTF", "an RTF document"},
	fmtPostScript:      {"файл PostScript", "a PostScript file"},
}

// compatible reports whether content detected as f may be a file of kind k
// (containers are refined later).
func compatible(k Kind, f format) bool {
	switch k {
	case KindPDF:
		return f == fmtPDF
	case KindXML:
		return f == fmtXML
	case KindXLS:
		return f == fmtOLE2
	case KindXLSX, KindDOCX, KindODS:
		return f == fmtZIP
	case KindJPEG:
		return f == fmtJPEG
	case KindPNG:
		return f == fmtPNG
	case KindSig:
		return f == fmtCMS || f == fmtCMSPEM || f == fmtCMSBase64
	}
	return false
}

var (
	pngMagic  = []byte("\x89PNG\r\n\x1a\n")
	ole2Magic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	pdfMagic  = []byte("%PDF-")
	utf8BOM   = []byte{0xEF, 0xBB, 0xBF}
	// oidSignedData is 1.2.840.113549.1.7.2, the content type of a CMS
	// SignedData (RFC 5652 §5.1), DER-encoded.
	oidSignedData = []byte{0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02}
)

// pdfHeaderWindow is how far into the file "%PDF-" may start: ISO 32000
// readers accept up to 1024 bytes of leading junk (some mail gateways and
// old generators add it).
const pdfHeaderWindow = 1024

// detect names the format of a file from its first bytes. It never panics
// and never reads beyond head.
func detect(head []byte) format {
	b := head
	has := func(p string) bool { return bytes.HasPrefix(b, []byte(p)) }
	switch {
	case bytes.HasPrefix(b, pdfMagic):
		return fmtPDF
	case bytes.HasPrefix(b, pngMagic):
		return fmtPNG
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return fmtJPEG
	case has("PK\x03\x04"), has("PK\x05\x06"):
		return fmtZIP
	case bytes.HasPrefix(b, ole2Magic):
		return fmtOLE2
	case has("GIF87a"), has("GIF89a"):
		return fmtGIF
	case has("II*\x00"), has("MM\x00*"):
		return fmtTIFF
	case has("RIFF") && len(b) >= 12 && string(b[8:12]) == "WEBP":
		return fmtWebP
	case has("Rar!\x1a\x07"):
		return fmtRAR
	case has("7z\xbc\xaf\x27\x1c"):
		return fmt7z
	case has("\x1f\x8b"):
		return fmtGzip
	case has("AC10") && len(b) >= 6 && isDigit(b[4]) && isDigit(b[5]):
		return fmtDWG
	case has("{\\rtf"):
		return fmtRTF
	case has("%!PS"):
		return fmtPostScript
	}
	if f := detectText(b); f != fmtUnknown {
		return f
	}
	if len(b) > 0 && b[0] == 0x30 {
		if f := classifyDER(b); f != fmtUnknown {
			return f
		}
	}
	// Junk before the PDF header is legal; look for it only after every
	// format that starts at offset 0 had its chance, so an XML file that
	// mentions "%PDF-" stays XML.
	if i := bytes.Index(b[:min(len(b), pdfHeaderWindow+len(pdfMagic))], pdfMagic); i >= 0 && i < pdfHeaderWindow {
		return fmtPDF
	}
	if has("BM") && len(b) >= 14 && b[6] == 0 && b[7] == 0 && b[8] == 0 && b[9] == 0 {
		return fmtBMP // reserved bytes are zero; "BM" alone is too common in text
	}
	return fmtUnknown
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// detectText recognises the text formats: XML (UTF-8 with or without BOM,
// or UTF-16 with a BOM), HTML, PEM and bare base64 signatures.
func detectText(b []byte) format {
	if len(b) >= 4 && (bytes.HasPrefix(b, []byte{0xFF, 0xFE, '<', 0}) || bytes.HasPrefix(b, []byte{0xFE, 0xFF, 0, '<'})) {
		return fmtXML
	}
	b = bytes.TrimPrefix(b, utf8BOM)
	i := 0
	for i < len(b) && isXMLSpace(b[i]) {
		i++
	}
	b = b[i:]
	if len(b) == 0 {
		return fmtUnknown
	}
	switch {
	case bytes.HasPrefix(b, []byte("<?xml")):
		return fmtXML
	case hasFoldPrefix(b, "<!doctype html"), hasFoldPrefix(b, "<html"):
		return fmtHTML
	case b[0] == '<' && len(b) > 1 && (isNameStart(b[1]) || b[1] == '!' || b[1] == '?'):
		// The XML declaration is optional (XML 1.0 §2.8); a document may
		// start with a comment, a DOCTYPE or the root element.
		return fmtXML
	case bytes.HasPrefix(b, []byte("-----BEGIN ")):
		return classifyPEM(b)
	case bytes.HasPrefix(b, []byte("MI")):
		// Base64 of 0x30 0x8x…: a DER SEQUENCE with a long length, which is
		// how every CMS longer than 127 bytes starts.
		if der := decodeBase64Prefix(b); classifyDER(der) == fmtCMS {
			return fmtCMSBase64
		}
	}
	return fmtUnknown
}

func hasFoldPrefix(b []byte, p string) bool {
	return len(b) >= len(p) && strings.EqualFold(string(b[:len(p)]), p)
}

func isNameStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':' || c >= 0x80
}

// classifyPEM names a PEM file by the label of its first block.
func classifyPEM(b []byte) format {
	rest := b[len("-----BEGIN "):]
	end := bytes.Index(rest, []byte("-----"))
	if end < 0 || end > 64 {
		return fmtUnknown
	}
	label := string(rest[:end])
	switch {
	case pemCMSLabel(label):
		return fmtCMSPEM
	case strings.Contains(label, "CERTIFICATE"):
		return fmtCertificate
	case strings.Contains(label, "PRIVATE KEY"):
		return fmtPrivateKey
	}
	return fmtASN1
}

// pemCMSLabel reports whether a PEM label announces a CMS/PKCS#7 structure
// (RFC 7468 §8 "PKCS7" and "CMS"; OpenSSL's older spelling).
func pemCMSLabel(label string) bool {
	switch label {
	case "CMS", "PKCS7", "PKCS #7 SIGNED DATA":
		return true
	}
	return false
}

// decodeBase64Prefix decodes the leading base64 characters of b (skipping
// line breaks), as many whole quanta as the head holds.
func decodeBase64Prefix(b []byte) []byte {
	clean := make([]byte, 0, min(len(b), 1024))
scan:
	for _, c := range b {
		switch {
		case len(clean) == cap(clean):
			break scan
		case c == '\r' || c == '\n' || c == ' ' || c == '\t':
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			clean = append(clean, c)
		default:
			break scan // padding or the end of the base64
		}
	}
	clean = clean[:len(clean)/4*4]
	out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
	n, err := base64.StdEncoding.Decode(out, clean)
	if err != nil {
		return nil
	}
	return out[:n]
}

// derHeader parses one BER/DER tag-length header. length is -1 for the
// indefinite form. ok is false when b does not hold a whole header or the
// length does not fit in 32 bits (no legitimate signature is that large).
func derHeader(b []byte) (tag byte, length int64, hdr int, ok bool) {
	if len(b) < 2 || b[0]&0x1F == 0x1F { // multi-byte tags do not occur here
		return 0, 0, 0, false
	}
	tag = b[0]
	l := b[1]
	switch {
	case l < 0x80:
		return tag, int64(l), 2, true
	case l == 0x80:
		return tag, -1, 2, true
	case l <= 0x84:
		n := int(l & 0x7F)
		if len(b) < 2+n {
			return 0, 0, 0, false
		}
		for _, c := range b[2 : 2+n] {
			length = length<<8 | int64(c)
		}
		return tag, length, 2 + n, true
	}
	return 0, 0, 0, false
}

// classifyDER looks at the start of an ASN.1 structure: a CMS ContentInfo
// is SEQUENCE { OBJECT IDENTIFIER, [0] … }; an X.509 certificate is
// SEQUENCE { SEQUENCE … }; a PKCS#8 key is SEQUENCE { INTEGER 0, … }.
func classifyDER(b []byte) format {
	tag, outer, h1, ok := derHeader(b)
	if !ok || tag != 0x30 {
		return fmtUnknown
	}
	itag, inner, h2, ok := derHeader(b[h1:])
	if !ok {
		return fmtUnknown
	}
	// Inner must fit in outer; this keeps text that starts with "0" from
	// passing as ASN.1.
	if outer >= 0 && (inner < 0 || int64(h2)+inner > outer) {
		return fmtUnknown
	}
	switch itag {
	case 0x06:
		oid := b[h1+h2:]
		if inner != int64(len(oidSignedData)) || len(oid) < len(oidSignedData) {
			return fmtASN1
		}
		if bytes.Equal(oid[:len(oidSignedData)], oidSignedData) {
			return fmtCMS
		}
		return fmtASN1
	case 0x30:
		return fmtCertificate
	case 0x02:
		return fmtASN1
	}
	return fmtUnknown
}
