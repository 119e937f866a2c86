package validate

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/expertiza/expertiza/sync/wire"
)

// noisy returns a w×h image with content that does not compress away, so
// that cutting the file loses pixel data.
func noisy(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	x := uint32(2463534242)
	for i := range img.Pix {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		img.Pix[i] = byte(x)
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	return img
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngChunk frames one PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	return b.Bytes()
}

// hugePNG is a valid-looking 100 bytes: an IHDR declaring w×h RGBA pixels
// and a tiny IDAT. Decoding it would allocate w×h×4 bytes.
func hugePNG(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8 bits, RGBA
	var b bytes.Buffer
	b.Write(pngMagic)
	b.Write(pngChunk("IHDR", ihdr))
	b.Write(pngChunk("IDAT", []byte{0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}))
	b.Write(pngChunk("IEND", nil))
	return b.Bytes()
}

func TestImages(t *testing.T) {
	dir := t.TempDir()
	v := newValidator(t, DefaultLimits(), "1")
	scan := noisy(640, 480)
	pngBytes := encodePNG(t, scan)
	jpgBytes := encodeJPEG(t, scan)
	gray := image.NewGray(image.Rect(0, 0, 300, 200))
	for i := range gray.Pix {
		gray.Pix[i] = color.Gray{Y: byte(i)}.Y
	}
	badCRC := bytes.Clone(pngBytes)
	badCRC[len(pngMagic)+8+13] ^= 0xFF // IHDR's CRC

	cases := []struct {
		name, as string
		body     []byte
		want     want
		w, h     int
	}{
		{name: "png", as: "скан.png", body: pngBytes, want: accepted(), w: 640, h: 480},
		{name: "jpeg", as: "скан.jpg", body: jpgBytes, want: accepted(), w: 640, h: 480},
		{name: "jpeg as .jpeg", as: "скан.JPEG", body: encodeJPEG(t, gray), want: accepted(), w: 300, h: 200},
		{name: "png named .pdf", as: "Раздел.pdf", body: pngBytes,
			want: refused(wire.CodeInvalid, "Файл называется .pdf, но по содержимому это PNG-изображение: сохраните документ в PDF")},
		{name: "jpeg named .png", as: "a.png", body: jpgBytes, want: refused(wire.CodeInvalid, "JPEG-изображение", "в формате PNG")},
		{name: "100000×100000 declared", as: "bomb.png", body: hugePNG(100_000, 100_000),
			want: refused(wire.CodeTooLarge, "100000×100000", "10000 Мп", "100 Мп")},
		{name: "just over 100 MP", as: "big.png", body: hugePNG(10_001, 10_000), want: refused(wire.CodeTooLarge, "100,01 Мп")},
		{name: "truncated png", as: "cut.png", body: pngBytes[:len(pngBytes)/2], want: refused(wire.CodeInvalid, "обрывается")},
		{name: "truncated jpeg", as: "cut.jpg", body: jpgBytes[:len(jpgBytes)/2], want: refused(wire.CodeInvalid, "обрывается")},
		{name: "png without IEND", as: "noend.png", body: pngBytes[:len(pngBytes)-12], want: refused(wire.CodeInvalid, "обрывается")},
		{name: "png with a bad CRC", as: "crc.png", body: badCRC, want: refused(wire.CodeInvalid, "повреждено")},
		{name: "jpeg with garbage after the header", as: "g.jpg", body: append(bytes.Clone(jpgBytes[:600]), bytes.Repeat([]byte{0xFF, 0x00, 0x13}, 3000)...),
			want: refused(wire.CodeInvalid, "Изображение")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, dir, "upload", tc.body)
			res, err := v.Check(context.Background(), p, tc.as)
			checkOutcome(t, err, tc.want)
			if err == nil && (res.Width != tc.w || res.Height != tc.h) {
				t.Fatalf("size %d×%d, want %d×%d", res.Width, res.Height, tc.w, tc.h)
			}
		})
	}

	t.Run("scan over the size limit", func(t *testing.T) {
		l := DefaultLimits()
		l.Scan = int64(len(pngBytes) - 1)
		p := writeFile(t, dir, "scan.png", pngBytes)
		_, err := newValidator(t, l, "1").Check(context.Background(), p, "scan.png")
		checkOutcome(t, err, refused(wire.CodeTooLarge, "для сканов (JPEG, PNG)", "300 dpi"))
	})
	t.Run("pixel cap configurable", func(t *testing.T) {
		l := DefaultLimits()
		l.MaxPixels = 640*480 - 1
		p := writeFile(t, dir, "scan.png", pngBytes)
		_, err := newValidator(t, l, "1").Check(context.Background(), p, "scan.png")
		checkOutcome(t, err, refused(wire.CodeTooLarge, "640×480"))
	})
}
