package validate

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"
	"unicode/utf16"

	"github.com/expertiza/expertiza/sync/wire"
)

// makeCFB builds a version 3 compound file (512-byte sectors) holding one
// stream of size bytes: sector 0 is the FAT, sector 1 the directory, the
// stream follows. It is the smallest file a real CFB reader accepts.
func makeCFB(t testing.TB, stream string, size int) []byte {
	t.Helper()
	const ssz = 512
	dataSectors := (size + ssz - 1) / ssz
	le := binary.LittleEndian

	hdr := make([]byte, ssz)
	copy(hdr, ole2Magic)
	le.PutUint16(hdr[0x18:], 0x3E) // minor version
	le.PutUint16(hdr[0x1A:], 3)    // major version
	le.PutUint16(hdr[0x1C:], 0xFFFE)
	le.PutUint16(hdr[0x1E:], 9) // 512-byte sectors
	le.PutUint16(hdr[0x20:], 6) // 64-byte mini sectors
	le.PutUint32(hdr[0x2C:], 1) // one FAT sector
	le.PutUint32(hdr[0x30:], 1) // directory starts at sector 1
	le.PutUint32(hdr[0x38:], 4096)
	le.PutUint32(hdr[0x3C:], cfbEndOfChain) // no mini FAT
	le.PutUint32(hdr[0x44:], cfbEndOfChain) // no DIFAT sectors
	for i := range 109 {
		le.PutUint32(hdr[0x4C+4*i:], cfbFree)
	}
	le.PutUint32(hdr[0x4C:], 0) // the FAT is sector 0

	fat := make([]byte, ssz)
	for i := range ssz / 4 {
		le.PutUint32(fat[4*i:], cfbFree)
	}
	le.PutUint32(fat[0:], 0xFFFFFFFD) // FAT sector
	le.PutUint32(fat[4:], cfbEndOfChain)
	for i := range dataSectors {
		next := uint32(2 + i + 1)
		if i == dataSectors-1 {
			next = cfbEndOfChain
		}
		le.PutUint32(fat[4*(2+i):], next)
	}

	dir := make([]byte, ssz)
	entry := func(i int, name string, typ byte, start uint32, sz uint64) {
		e := dir[128*i : 128*(i+1)]
		u := utf16.Encode([]rune(name))
		for j, c := range u {
			le.PutUint16(e[2*j:], c)
		}
		le.PutUint16(e[64:], uint16(2*len(u)+2))
		e[66] = typ
		le.PutUint32(e[68:], cfbFree) // left sibling
		le.PutUint32(e[72:], cfbFree) // right sibling
		le.PutUint32(e[76:], cfbFree) // child
		le.PutUint32(e[116:], start)
		le.PutUint64(e[120:], sz)
	}
	entry(0, "Root Entry", 5, cfbEndOfChain, 0)
	le.PutUint32(dir[76:], 1) // the root's child is entry 1
	entry(1, stream, 2, 2, uint64(size))

	var b bytes.Buffer
	b.Write(hdr)
	b.Write(fat)
	b.Write(dir)
	data := make([]byte, dataSectors*ssz)
	for i := range size {
		data[i] = byte(i)
	}
	b.Write(data)
	return b.Bytes()
}

func TestOLE2(t *testing.T) {
	dir := t.TempDir()
	v := newValidator(t, DefaultLimits(), "1")
	xls := makeCFB(t, "Workbook", 8192)
	cases := []struct {
		name, as string
		body     []byte
		want     want
	}{
		{"xls", "Смета.xls", xls, accepted()},
		{"excel 5 workbook", "old.xls", makeCFB(t, "Book", 4096), accepted()},
		{"word 97 named .xls", "a.xls", makeCFB(t, "WordDocument", 4096), refused(wire.CodeInvalid, "документ Word 97–2003 (DOC)", "XLS")},
		{"unknown compound file", "a.xls", makeCFB(t, "Contents", 4096), refused(wire.CodeInvalid, "файл Microsoft Office 97–2003")},
		{"password-protected xlsx", "Смета.xlsx", makeCFB(t, "EncryptedPackage", 4096), refused(wire.CodeInvalid, "защищён паролем")},
		{"xls named .pdf", "a.pdf", xls, refused(wire.CodeInvalid, "таблица Excel 97–2003 (XLS)")},
		{"truncated xls", "a.xls", xls[:len(xls)-3*512], refused(wire.CodeInvalid, "повреждён")},
		{"header only", "a.xls", xls[:512], refused(wire.CodeInvalid, "повреждён")},
		{"bad byte order", "a.xls", func() []byte { b := bytes.Clone(xls); b[0x1C] = 0; return b }(), refused(wire.CodeInvalid, "повреждён")},
		{"directory chain loops", "a.xls", func() []byte {
			b := bytes.Clone(xls)
			binary.LittleEndian.PutUint32(b[512+4:], 1) // sector 1 → sector 1
			return b
		}(), refused(wire.CodeInvalid, "повреждён")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, dir, "upload", tc.body)
			_, err := v.Check(context.Background(), p, tc.as)
			checkOutcome(t, err, tc.want)
		})
	}
}
