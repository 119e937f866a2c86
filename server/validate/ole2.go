package validate

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
)

// A Microsoft compound file (MS-CFB) is a small FAT file system: a 512-byte
// header, sectors of 512 or 4096 bytes, a FAT chaining them, and a directory
// of named streams. An Excel 97–2003 workbook keeps its data in a stream
// named "Workbook" ("Book" before Excel 97); Word uses "WordDocument",
// PowerPoint "PowerPoint Document", and an OOXML file encrypted with a
// password becomes a compound file with an "EncryptedPackage" stream. We
// walk the header, the FAT and the directory, and follow the workbook
// stream's chain to its end, which catches renamed Word files, encrypted
// files and truncated uploads without parsing BIFF records.

const (
	cfbFree       = 0xFFFFFFFF
	cfbEndOfChain = 0xFFFFFFFE
	cfbMaxRegSect = 0xFFFFFFFA
	cfbMaxDirEnts = 1 << 20 // far beyond any real file; bounds the walk
)

var errCFB = errors.New("compound file")

type cfbFile struct {
	r       io.ReaderAt
	hdr     []byte
	size    int64
	ssz     int64 // sector size
	fat     []uint32
	sectors uint32 // sectors the file can hold
	miniCut uint32 // streams smaller than this live in the mini stream
}

type cfbEntry struct {
	name  string
	typ   byte // 1 storage, 2 stream, 5 root
	start uint32
	size  uint64
}

func checkOLE2(ctx context.Context, r io.ReaderAt, size int64, ext string, k Kind) error {
	got, err := refineOLE2(ctx, r, size)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("validate: ole2: %w", ctx.Err())
		}
		if errors.Is(err, errCFB) {
			return refuseCorrupt(ext, err.Error())
		}
		return err
	}
	if got != fmtXLS {
		return refuseMismatch(ext, k, got)
	}
	return nil
}

// refineOLE2 names the kind of compound file; errors wrapping errCFB mean
// the structure is broken, others are I/O failures.
func refineOLE2(ctx context.Context, r io.ReaderAt, size int64) (format, error) {
	cf, err := openCFB(r, size)
	if err != nil {
		return fmtUnknown, err
	}
	entries, err := cf.directory(ctx, readU32(cf.hdr, 0x30))
	if err != nil {
		return fmtUnknown, err
	}
	var main *cfbEntry
	got := fmtOLE2
	for i := range entries {
		e := &entries[i]
		if e.typ != 2 {
			continue
		}
		switch strings.ToLower(e.name) {
		case "workbook", "book":
			got, main = fmtXLS, e
		case "worddocument":
			if got == fmtOLE2 {
				got = fmtDOC
			}
		case "powerpoint document":
			if got == fmtOLE2 {
				got = fmtPPT
			}
		case "encryptedpackage":
			return fmtOfficeEncrypted, nil
		}
	}
	if main != nil {
		if err := cf.checkStream(*main); err != nil {
			return fmtUnknown, err
		}
	}
	return got, nil
}

func readU32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }

func cfbErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errCFB}, a...)...)
}

func openCFB(r io.ReaderAt, size int64) (*cfbFile, error) {
	h := make([]byte, 512)
	if _, err := r.ReadAt(h, 0); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, cfbErr("shorter than its header")
		}
		return nil, fmt.Errorf("validate: read: %w", err)
	}
	if binary.LittleEndian.Uint16(h[0x1C:]) != 0xFFFE {
		return nil, cfbErr("bad byte order mark")
	}
	shift := binary.LittleEndian.Uint16(h[0x1E:])
	if shift != 9 && shift != 12 {
		return nil, cfbErr("sector shift %d", shift)
	}
	cf := &cfbFile{r: r, hdr: h, size: size, ssz: 1 << shift, miniCut: readU32(h, 0x38)}
	cf.sectors = uint32(min((size-1)/cf.ssz, cfbMaxRegSect))

	// The FAT's own sectors are listed by the DIFAT: 109 entries in the
	// header, then a chain of DIFAT sectors.
	nFAT := readU32(h, 0x2C)
	if int64(nFAT) > int64(cf.sectors) {
		return nil, cfbErr("%d FAT sectors in a file of %d sectors", nFAT, cf.sectors)
	}
	fatSectors := make([]uint32, 0, nFAT)
	for i := 0; i < 109 && uint32(len(fatSectors)) < nFAT; i++ {
		fatSectors = append(fatSectors, readU32(h, 0x4C+4*i))
	}
	next := readU32(h, 0x44)
	per := int(cf.ssz/4) - 1
	buf := make([]byte, cf.ssz)
	for steps := uint32(0); uint32(len(fatSectors)) < nFAT; steps++ {
		if next >= cf.sectors || steps > cf.sectors {
			return nil, cfbErr("DIFAT chain broken")
		}
		if err := cf.readSector(next, buf); err != nil {
			return nil, err
		}
		for i := 0; i < per && uint32(len(fatSectors)) < nFAT; i++ {
			fatSectors = append(fatSectors, readU32(buf, 4*i))
		}
		next = readU32(buf, 4*per)
	}
	cf.fat = make([]uint32, 0, int64(nFAT)*cf.ssz/4)
	for _, s := range fatSectors {
		if s >= cf.sectors {
			return nil, cfbErr("FAT sector %d beyond the end of the file", s)
		}
		if err := cf.readSector(s, buf); err != nil {
			return nil, err
		}
		for i := 0; i < len(buf); i += 4 {
			cf.fat = append(cf.fat, readU32(buf, i))
		}
	}
	return cf, nil
}

func (cf *cfbFile) readSector(n uint32, buf []byte) error {
	off := (int64(n) + 1) * cf.ssz
	if got, err := cf.r.ReadAt(buf, off); err != nil {
		if errors.Is(err, io.EOF) {
			if got > 0 {
				// Some writers drop the unused tail of the last sector.
				clear(buf[got:])
				return nil
			}
			return cfbErr("sector %d beyond the end of the file", n)
		}
		return fmt.Errorf("validate: read: %w", err)
	}
	return nil
}

// chain follows the FAT from start, calling fn for each sector; it refuses
// loops and sectors past the end of the file.
func (cf *cfbFile) chain(start uint32, fn func(sector uint32) error) error {
	for n, steps := start, uint32(0); n != cfbEndOfChain; steps++ {
		if n >= cf.sectors || int(n) >= len(cf.fat) {
			return cfbErr("chain reaches sector %d beyond the end of the file", n)
		}
		if steps > cf.sectors {
			return cfbErr("chain loops")
		}
		if err := fn(n); err != nil {
			return err
		}
		n = cf.fat[n]
	}
	return nil
}

func (cf *cfbFile) directory(ctx context.Context, start uint32) ([]cfbEntry, error) {
	var entries []cfbEntry
	buf := make([]byte, cf.ssz)
	err := cf.chain(start, func(s uint32) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := cf.readSector(s, buf); err != nil {
			return err
		}
		for off := 0; off+128 <= len(buf); off += 128 {
			if len(entries) >= cfbMaxDirEnts {
				return cfbErr("more than %d directory entries", cfbMaxDirEnts)
			}
			entries = append(entries, parseCFBEntry(buf[off:off+128]))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 || entries[0].typ != 5 {
		return nil, cfbErr("no root entry")
	}
	return entries, nil
}

func parseCFBEntry(b []byte) cfbEntry {
	n := int(binary.LittleEndian.Uint16(b[64:]))
	if n > 64 {
		n = 64
	}
	u := make([]uint16, 0, n/2)
	for i := 0; i+1 < n; i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return cfbEntry{
		name:  string(utf16.Decode(u)),
		typ:   b[66],
		start: readU32(b, 116),
		size:  binary.LittleEndian.Uint64(b[120:]),
	}
}

// checkStream verifies that a regular (non-mini) stream's sectors are all
// present: a truncated upload loses the end of the workbook stream first.
func (cf *cfbFile) checkStream(e cfbEntry) error {
	if cf.ssz == 512 {
		e.size &= 0xFFFFFFFF // version 3 files leave the high half undefined
	}
	if e.size > uint64(cf.size) {
		return cfbErr("stream %q claims %d bytes in a file of %d", e.name, e.size, cf.size)
	}
	if e.size < uint64(cf.miniCut) {
		return nil // lives in the mini stream; too small to matter
	}
	var have uint64
	err := cf.chain(e.start, func(uint32) error {
		have += uint64(cf.ssz)
		return nil
	})
	if err != nil {
		return err
	}
	if have < e.size {
		return cfbErr("stream %q has %d of its %d bytes", e.name, have, e.size)
	}
	return nil
}
