package pdfdoc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/expertiza/expertiza/assets"
	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/font"
)

// embeddedFont is one TrueType file of assets.Fonts and the name pdfcpu
// installs it under (its PostScript name, which pdfcpu takes from the
// font's name table and uses for the .gob file).
type embeddedFont struct {
	file string
	name string
}

var (
	regularFont = embeddedFont{file: "fonts/DejaVuSans.ttf", name: "DejaVuSans"}
	boldFont    = embeddedFont{file: "fonts/DejaVuSans-Bold.ttf", name: "DejaVuSans-Bold"}
)

// pdfcpu keeps its font registry in process-wide variables: font.UserFontDir
// (a directory of .gob files, one per installed font, read again whenever a
// document embeds a font subset) and a metrics cache loaded from it. There
// is no per-call alternative, so pdfdoc configures it once per process and
// guards that with registry. Everything else in pdfdoc is per Engine or per
// document.
var registry struct {
	mu  sync.Mutex
	dir string // the pdfcpu font directory pdfdoc configured; "" before the first New
}

// ensureFonts makes pdfcpu's font directory hold the embedded fonts.
//
// The first call in a process points pdfcpu's configuration at
// <cacheDir>/pdfcpu-<hash of the fonts>/pdfcpu (api.EnsureDefaultConfigAt:
// config.yml, fonts/, certs/), so neither pdfdoc nor any later pdfcpu call
// in the process creates ~/.config/pdfcpu. The hash keeps a directory
// written by another version of the fonts from being reused. Later calls,
// whatever cacheDir they pass, keep that directory (pdfcpu has only one)
// and only check, with two stats, that the fonts are still there: a cache
// cleaner may have removed them, and they are then installed again.
//
// The .gob files are written to a temporary name and renamed by pdfcpu, so
// two processes sharing cacheDir do not read half-written fonts.
func ensureFonts(cacheDir string) error {
	registry.mu.Lock()
	defer registry.mu.Unlock()

	if registry.dir == "" {
		sum, err := fontsHash()
		if err != nil {
			return err
		}
		base := filepath.Join(cacheDir, "pdfcpu-"+sum)
		if err := os.MkdirAll(base, 0o755); err != nil {
			return fmt.Errorf("create the PDF font cache: %w", err)
		}
		if err := api.EnsureDefaultConfigAt(base); err != nil {
			return fmt.Errorf("set up pdfcpu's configuration in %s: %w", base, err)
		}
		registry.dir = font.UserFontDir
	} else if font.UserFontDir != registry.dir {
		// Other code switched pdfcpu to another configuration directory;
		// installing there could write into the user's ~/.config.
		return fmt.Errorf("pdfcpu's font directory was changed from %s to %s by other code: call api.EnsureDefaultConfigAt only through pdfdoc.New", registry.dir, font.UserFontDir)
	}

	installed := false
	for _, f := range []embeddedFont{regularFont, boldFont} {
		gob := filepath.Join(registry.dir, f.name+".gob")
		if _, err := os.Stat(gob); err == nil {
			continue
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("check the installed font %s: %w", gob, err)
		}
		if err := os.MkdirAll(registry.dir, 0o755); err != nil {
			return fmt.Errorf("create the PDF font directory: %w", err)
		}
		ttf, err := assets.Fonts.ReadFile(f.file)
		if err != nil {
			return fmt.Errorf("read the embedded font %s: %w", f.file, err)
		}
		if err := font.InstallFontFromBytesQuiet(registry.dir, f.name, ttf); err != nil {
			return fmt.Errorf("install the font %s for pdfcpu: %w", f.name, err)
		}
		installed = true
	}
	if installed {
		if err := font.ReloadUserFonts(); err != nil {
			return fmt.Errorf("load the fonts in %s: %w", registry.dir, err)
		}
	} else if err := font.LoadUserFonts(); err != nil {
		return fmt.Errorf("load the fonts in %s: %w", registry.dir, err)
	}
	for _, f := range []embeddedFont{regularFont, boldFont} {
		if ok, err := font.IsUserFont(f.name); err != nil || !ok {
			// A gob left by a process that died before pdfcpu's reload
			// cannot cause this (the rename is atomic); a name clash can.
			return fmt.Errorf("font %s not registered with pdfcpu after installing it into %s (%v)", f.name, registry.dir, err)
		}
	}
	return nil
}

// fontsHash names the font cache after the embedded font files.
func fontsHash() (string, error) {
	h := sha256.New()
	for _, f := range []embeddedFont{regularFont, boldFont} {
		b, err := assets.Fonts.ReadFile(f.file)
		if err != nil {
			return "", fmt.Errorf("read the embedded font %s: %w", f.file, err)
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// face is what layout needs of one font: glyph ids and advance widths.
type face struct {
	name     string            // pdfcpu's font name
	chars    map[uint32]uint16 // Unicode code point → glyph id
	widths   []int             // advance width per glyph id, 1/1000 em
	ascent   float64           // above the baseline, in em
	descent  float64           // below the baseline, in em (positive)
	fallback uint16            // glyph drawn for a character the font lacks
}

func loadFace(ctx context.Context, f embeddedFont) (*face, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m, ok, err := font.UserFont(f.name)
	if err != nil || !ok {
		return nil, fmt.Errorf("read the metrics of font %s: not installed (%v)", f.name, err)
	}
	fc := &face{
		name:   f.name,
		chars:  m.Chars,
		widths: m.GlyphWidths,
		// pdfcpu has already scaled these to 1000 units per em.
		ascent:  float64(m.Ascent) / 1000,
		descent: -float64(m.Descent) / 1000,
	}
	fc.fallback = fc.chars['?']
	return fc, nil
}

// glyph returns the glyph id and width (1/1000 em) of r.
func (f *face) glyph(r rune) (uint16, int) {
	g, ok := f.chars[uint32(r)]
	if !ok {
		g = f.fallback
	}
	if int(g) >= len(f.widths) {
		return g, 0
	}
	return g, f.widths[g]
}

// width returns the advance width of s in 1/1000 em.
func (f *face) width(s string) int {
	w := 0
	for _, r := range s {
		_, gw := f.glyph(r)
		w += gw
	}
	return w
}
