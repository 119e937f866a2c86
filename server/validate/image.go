package validate

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"strings"

	"github.com/expertiza/expertiza/sync/wire"
)

// checkImage reads the header first and refuses oversized images before
// allocating anything for their pixels, then decodes the whole image, the
// only way to notice a truncated upload or damaged data in a JPEG.
func (v *Validator) checkImage(ctx context.Context, f *os.File, k Kind, res Result) (Result, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return res, fmt.Errorf("validate: seek: %w", err)
	}
	br := bufio.NewReaderSize(f, 64<<10)
	decodeConfig, decode := png.DecodeConfig, png.Decode
	if k == KindJPEG {
		decodeConfig, decode = jpeg.DecodeConfig, jpeg.Decode
	}
	cfg, err := decodeConfig(br)
	if err != nil {
		return res, imageError(err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return res, imageError(fmt.Errorf("image is %d×%d", cfg.Width, cfg.Height))
	}
	res.Width, res.Height = cfg.Width, cfg.Height
	px := int64(cfg.Width) * int64(cfg.Height)
	if px > v.lim.MaxPixels {
		return res, refuse(wire.CodeTooLarge,
			fmt.Sprintf("Изображение %d×%d пикселей (%s Мп) больше допустимых %s Мп: уменьшите разрешение (для сканов достаточно 300 dpi) или сохраните скан в PDF и загрузите снова",
				cfg.Width, cfg.Height, megapixels(px, ","), megapixels(v.lim.MaxPixels, ",")),
			fmt.Sprintf("The image is %d×%d pixels (%s MP), more than the allowed %s MP: lower the resolution (300 dpi is enough for scans) or save the scan as PDF and upload it again",
				cfg.Width, cfg.Height, megapixels(px, "."), megapixels(v.lim.MaxPixels, ".")))
	}

	// A full decode holds every pixel; the weighted semaphore keeps
	// concurrent uploads from multiplying that.
	cost := min(px*bytesPerPixel(cfg.ColorModel), v.decodeBudget)
	if err := v.decoding.Acquire(ctx, cost); err != nil {
		return res, fmt.Errorf("validate: wait to decode image: %w", err)
	}
	defer v.decoding.Release(cost)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return res, fmt.Errorf("validate: seek: %w", err)
	}
	br.Reset(ctxReader{ctx: ctx, r: f})
	if _, err := decode(br); err != nil {
		if ctx.Err() != nil {
			return res, fmt.Errorf("validate: decode image: %w", ctx.Err())
		}
		if !hasImageEnd(f, k) {
			err = fmt.Errorf("%w (%v)", io.ErrUnexpectedEOF, err)
		}
		return res, imageError(err)
	}
	return res, nil
}

// hasImageEnd reports whether the file's last KiB holds the format's end
// marker (PNG's IEND chunk, JPEG's EOI), to tell a cut-off upload from
// damage inside the file. Some cameras append data after EOI, hence the
// search rather than a suffix check.
func hasImageEnd(f *os.File, k Kind) bool {
	st, err := f.Stat()
	if err != nil {
		return true
	}
	n := min(st.Size(), 1024)
	tail := make([]byte, n)
	if _, err := f.ReadAt(tail, st.Size()-n); err != nil {
		return true // cannot tell; do not claim truncation
	}
	if k == KindPNG {
		return bytes.Contains(tail, []byte("IEND"))
	}
	return bytes.Contains(tail, []byte{0xFF, 0xD9})
}

// bytesPerPixel is what image/png and image/jpeg allocate per pixel for a
// colour model (YCbCr is stored at up to 3 bytes with 4:4:4 sampling).
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	return 4 // RGBA, NRGBA, CMYK, paletted (decoded as such)
}

// megapixels formats px in megapixels with up to two decimals, so that an
// image just over the cap does not read as equal to it.
func megapixels(px int64, sep string) string {
	s := strings.TrimRight(fmt.Sprintf("%.2f", float64(px)/1e6), "0")
	s = strings.TrimSuffix(s, ".")
	return strings.Replace(s, ".", sep, 1)
}

func imageError(err error) *wire.Error {
	var ju jpeg.UnsupportedError
	var pu png.UnsupportedError
	if errors.As(err, &ju) || errors.As(err, &pu) {
		return refuse(wire.CodeInvalid,
			"Изображение сохранено с параметрами, которые сервер не поддерживает (например, арифметическое кодирование или 12 бит на канал): пересохраните его как обычный JPEG или PNG и загрузите снова",
			fmt.Sprintf("The image uses a feature the server does not support (%v): re-save it as an ordinary JPEG or PNG and upload it again", err))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return refuse(wire.CodeInvalid,
			"Изображение обрывается до конца данных — вероятно, файл сохранён или загружен не полностью: сохраните его заново и загрузите снова",
			"The image ends before its data does — the file was probably saved or uploaded incompletely: save it again and upload it again")
	}
	if errors.Is(err, image.ErrFormat) {
		err = errors.New("unrecognised header")
	}
	return refuse(wire.CodeInvalid,
		"Изображение повреждено и не читается: сохраните или отсканируйте его заново и загрузите снова",
		fmt.Sprintf("The image is damaged and cannot be read (%v): save or scan it again and upload it again", err))
}
