package validate

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/expertiza/expertiza/sync/wire"
)

// DOCX, XLSX (Office Open XML) and ODS (OpenDocument) are ZIP archives.
// Their declared sizes are checked before anything is inflated (zip bombs),
// then every entry is read in full, which makes archive/zip verify each
// entry's CRC-32 and that it inflates to exactly its declared size, and the
// parts that define the document go through the XML checker.

const (
	// zipRatioFloor and zipMaxRatio: an entry over 1 MiB that claims to
	// inflate more than 200 times its compressed size is a bomb; real
	// Office XML compresses 5–30 times, repetitive sheets up to ~100.
	zipRatioFloor = 1 << 20
	zipMaxRatio   = 200
	// zipSmallPart bounds reads of parts we hold in memory (_rels/.rels,
	// mimetype).
	zipSmallPart = 1 << 20
)

var (
	odsMime  = "application/vnd.oasis.opendocument.spreadsheet"
	odfMimes = map[string]format{
		odsMime: fmtODS,
		"application/vnd.oasis.opendocument.text":         fmtODT,
		"application/vnd.oasis.opendocument.presentation": fmtODP,
	}
	zipWant = map[Kind]format{KindDOCX: fmtDOCX, KindXLSX: fmtXLSX, KindODS: fmtODS}
	// ooxmlMainParts: the folder that names each Office Open XML document
	// type and the usual path of its main part.
	ooxmlMainParts = []struct {
		dir, part string
		f         format
	}{
		{"word/", "word/document.xml", fmtDOCX},
		{"xl/", "xl/workbook.xml", fmtXLSX},
		{"ppt/", "ppt/presentation.xml", fmtPPTX},
	}
)

func checkZip(ctx context.Context, f io.ReaderAt, size int64, ext string, k Kind, lim Limits) error {
	// archive/zip allocates per central-directory record before we could
	// count them, so read the count from the end record first.
	if n, ok := zipEntryCount(f, size); ok && n > uint64(lim.MaxZipEntries) {
		return refuseZipEntries(n, lim.MaxZipEntries)
	}
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return refuseCorrupt(ext, "zip: "+err.Error())
	}
	if len(zr.File) > lim.MaxZipEntries {
		return refuseZipEntries(uint64(len(zr.File)), lim.MaxZipEntries)
	}
	byName, dup := zipIndex(zr)
	if dup != "" {
		// Two entries with one name mean two readers may see two
		// different documents.
		return refuseCorrupt(ext, fmt.Sprintf("zip: duplicate entry %q", dup))
	}

	// Headers first: they cost nothing to check, and the classification
	// below already inflates (bounded) parts.
	var total uint64
	for _, e := range zr.File {
		if e.Flags&0x1 != 0 {
			return refuse(wire.CodeInvalid,
				fmt.Sprintf("Часть «%s» файла %s зашифрована: снимите защиту паролем и загрузите файл снова", e.Name, ext),
				fmt.Sprintf("The part %q of the %s file is encrypted: remove the password protection and upload the file again", e.Name, ext))
		}
		if e.Method != zip.Store && e.Method != zip.Deflate {
			return refuseCorrupt(ext, fmt.Sprintf("zip: entry %q uses compression method %d", e.Name, e.Method))
		}
		u, c := e.UncompressedSize64, e.CompressedSize64
		if u > zipRatioFloor && u/zipMaxRatio > c {
			ur, ue := mb(int64(min(u, 1<<62)))
			return refuse(wire.CodeInvalid,
				fmt.Sprintf("Часть «%s» файла %s сжата более чем в %d раз (распаковывается в %s): так устроены «zip-бомбы», такие файлы не принимаются — пересохраните документ в исходной программе", e.Name, ext, zipMaxRatio, ur),
				fmt.Sprintf("The part %q of the %s file is compressed more than %d times (it inflates to %s): that is how zip bombs are built, so the file is refused — re-save the document in the program that made it", e.Name, ext, zipMaxRatio, ue))
		}
		total += min(u, 1<<62) // a single absurd size must not wrap the sum
		if total > uint64(lim.MaxZipUncompressed) {
			tr, te := mb(lim.MaxZipUncompressed)
			return refuse(wire.CodeTooLarge,
				fmt.Sprintf("Файл %s в распакованном виде занимает больше %s: разделите документ на части или уменьшите его (например, сожмите изображения)", ext, tr),
				fmt.Sprintf("The %s file takes more than %s when unpacked: split the document or make it smaller (for example, compress its images)", ext, te))
		}
	}

	got, keyParts, err := classifyZip(ctx, byName)
	if err != nil {
		return zipReadError(ctx, ext, err)
	}
	if want := zipWant[k]; got != want {
		return refuseMismatch(ext, k, got)
	}
	for _, p := range keyParts.required {
		if byName[p] == nil {
			return refuse(wire.CodeInvalid,
				fmt.Sprintf("В файле %s нет обязательной части «%s»: он повреждён или сохранён не полностью — пересохраните его в исходной программе и загрузите снова", ext, p),
				fmt.Sprintf("The %s file lacks its required part %q: it is damaged or incomplete — re-save it in the program that made it and upload it again", ext, p))
		}
	}

	isKey := make(map[string]bool, len(keyParts.xml))
	for _, p := range keyParts.xml {
		isKey[p] = true
	}
	for _, e := range zr.File {
		if strings.HasSuffix(e.Name, "/") && e.UncompressedSize64 == 0 {
			continue // directory entry
		}
		if err := readZipEntry(ctx, e, isKey[e.Name]); err != nil {
			var p *xmlProblem
			if errors.As(err, &p) {
				return refuse(wire.CodeInvalid,
					fmt.Sprintf("Часть «%s» файла %s повреждена: %s. Пересохраните документ в исходной программе и загрузите снова", e.Name, ext, p.ru),
					fmt.Sprintf("The part %q of the %s file is damaged: %s. Re-save the document in the program that made it and upload it again", e.Name, ext, p.en))
			}
			return zipReadError(ctx, ext, fmt.Errorf("entry %q: %w", e.Name, err))
		}
	}
	return nil
}

// zipIndex maps entry names to entries; dup is a name that occurs twice.
func zipIndex(zr *zip.Reader) (byName map[string]*zip.File, dup string) {
	byName = make(map[string]*zip.File, len(zr.File))
	for _, e := range zr.File {
		if _, ok := byName[e.Name]; ok && dup == "" {
			dup = e.Name
		}
		byName[e.Name] = e
	}
	return byName, dup
}

// refineContainer names what a ZIP or compound file really holds, for the
// refusal of a file whose extension does not match (".pdf, but it is a Word
// document"). Damaged containers keep their generic name.
func refineContainer(ctx context.Context, r io.ReaderAt, size int64, got format, lim Limits) format {
	switch got {
	case fmtOLE2:
		if f, err := refineOLE2(ctx, r, size); err == nil {
			return f
		}
	case fmtZIP:
		if n, ok := zipEntryCount(r, size); !ok || n > uint64(lim.MaxZipEntries) {
			return got
		}
		zr, err := zip.NewReader(r, size)
		if err != nil {
			return got
		}
		byName, _ := zipIndex(zr)
		if f, _, err := classifyZip(ctx, byName); err == nil {
			return f
		}
	}
	return got
}

// zipReadError maps a failure to read an entry: ctx ending is not the
// file's fault; anything else archive/zip or flate report is.
func zipReadError(ctx context.Context, ext string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("validate: zip: %w", ctx.Err())
	}
	var p *xmlProblem
	if errors.As(err, &p) {
		return refuse(wire.CodeInvalid,
			fmt.Sprintf("Файл %s повреждён: %s. Пересохраните документ в исходной программе и загрузите снова", ext, p.ru),
			fmt.Sprintf("The %s file is damaged: %s. Re-save the document in the program that made it and upload it again", ext, p.en))
	}
	return refuseCorrupt(ext, "zip: "+err.Error())
}

func refuseZipEntries(n uint64, limit int) *wire.Error {
	return refuse(wire.CodeInvalid,
		fmt.Sprintf("В файле %d внутренних частей при допустимых %d: это не похоже на обычный документ — пересохраните его в исходной программе", n, limit),
		fmt.Sprintf("The file has %d internal parts while %d are allowed: this does not look like an ordinary document — re-save it in the program that made it", n, limit))
}

// readZipEntry reads e to its end (so archive/zip checks size and CRC),
// through the XML checker when it is a key part.
func readZipEntry(ctx context.Context, e *zip.File, key bool) error {
	rc, err := e.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	r := ctxReader{ctx: ctx, r: rc}
	if key {
		if err := wellFormedXML(ctx, r); err != nil {
			return err
		}
	}
	_, err = io.Copy(io.Discard, r) // what the XML checker left, e.g. after an error-free root
	return err
}

type zipParts struct {
	required []string // must exist
	xml      []string // checked with the XML checker when present
}

// classifyZip names the document in an archive: OpenDocument by its
// mimetype entry, Office Open XML by [Content_Types].xml and the folder of
// its main part (word/, xl/, ppt/). It also lists the parts that define it.
func classifyZip(ctx context.Context, byName map[string]*zip.File) (format, zipParts, error) {
	if e := byName["mimetype"]; e != nil {
		b, err := readSmall(ctx, e)
		if err != nil {
			return fmtUnknown, zipParts{}, err
		}
		got, ok := odfMimes[strings.TrimSpace(string(b))]
		if !ok {
			return fmtZIP, zipParts{}, nil
		}
		parts := []string{"content.xml", "META-INF/manifest.xml"}
		return got, zipParts{required: parts, xml: append(parts, "styles.xml", "meta.xml", "settings.xml")}, nil
	}
	if byName["[Content_Types].xml"] == nil {
		return fmtZIP, zipParts{}, nil
	}
	main := ""
	if rels := byName["_rels/.rels"]; rels != nil {
		b, err := readSmall(ctx, rels)
		if err != nil {
			return fmtUnknown, zipParts{}, err
		}
		if err := wellFormedXML(ctx, bytes.NewReader(b)); err != nil {
			return fmtUnknown, zipParts{}, fmt.Errorf("_rels/.rels: %w", err)
		}
		main = officeDocumentTarget(b)
	}
	if main == "" {
		for _, p := range ooxmlMainParts {
			if byName[p.part] != nil {
				main = p.part
				break
			}
		}
	}
	got := fmtZIP
	for _, p := range ooxmlMainParts {
		if strings.HasPrefix(main, p.dir) {
			got = p.f
			break
		}
	}
	if got == fmtZIP {
		// No usable main part: classify by folders, in a fixed order so the
		// answer does not depend on map iteration.
		for _, p := range ooxmlMainParts {
			for name := range byName {
				if strings.HasPrefix(name, p.dir) {
					got = p.f
				}
			}
			if got != fmtZIP {
				main = p.part
				break
			}
		}
	}
	parts := []string{"[Content_Types].xml", "_rels/.rels"}
	if main != "" {
		parts = append(parts, main)
	}
	return got, zipParts{required: parts, xml: parts}, nil
}

// officeDocumentTarget returns the main part named by the package
// relationships (ECMA-376 Part 2 §9.3), without its leading slash.
func officeDocumentTarget(rels []byte) string {
	var doc struct {
		Rel []struct {
			Type   string `xml:"Type,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if xml.Unmarshal(rels, &doc) != nil {
		return ""
	}
	for _, r := range doc.Rel {
		if strings.HasSuffix(r.Type, "/officeDocument") && r.Target != "" {
			return strings.TrimPrefix(path.Clean("/"+r.Target), "/")
		}
	}
	return ""
}

func readSmall(ctx context.Context, e *zip.File) ([]byte, error) {
	if e.UncompressedSize64 > zipSmallPart {
		return nil, fmt.Errorf("entry %q is %d bytes, more than expected", e.Name, e.UncompressedSize64)
	}
	rc, err := e.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(ctxReader{ctx: ctx, r: rc}, zipSmallPart+1))
}

// zipEntryCount reads the number of entries from the end of central
// directory record (and its ZIP64 counterpart). ok is false when the record
// is not found; archive/zip then reports the damage.
func zipEntryCount(r io.ReaderAt, size int64) (n uint64, ok bool) {
	const eocdLen, maxComment = 22, 65535
	tail := min(size, eocdLen+maxComment)
	buf := make([]byte, tail)
	if _, err := r.ReadAt(buf, size-tail); err != nil && !errors.Is(err, io.EOF) {
		return 0, false
	}
	i := bytes.LastIndex(buf, []byte("PK\x05\x06"))
	for i >= 0 && i+eocdLen > len(buf) {
		i = bytes.LastIndex(buf[:i], []byte("PK\x05\x06"))
	}
	if i < 0 {
		return 0, false
	}
	n = uint64(binary.LittleEndian.Uint16(buf[i+10:]))
	if n != 0xFFFF || i < 20 || !bytes.HasPrefix(buf[i-20:], []byte("PK\x06\x07")) {
		return n, true
	}
	off := int64(binary.LittleEndian.Uint64(buf[i-20+8:]))
	rec := make([]byte, 56)
	if off < 0 || off > size-56 {
		return 0, false
	}
	if _, err := r.ReadAt(rec, off); err != nil || !bytes.HasPrefix(rec, []byte("PK\x06\x06")) {
		return 0, false
	}
	return binary.LittleEndian.Uint64(rec[32:]), true
}
