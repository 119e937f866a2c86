package app

import (
	"hash/fnv"
	"image"
	"math"
	"slices"
	"strings"
	"unicode"
)

// PageFingerprint is what the page alignment of a version comparison
// knows about one page: the hash of its whole normalised text, the set of
// its word trigrams, and, for a page with too little text to tell it from
// another (a drawing, a scan), a tiny grey picture of it.
type PageFingerprint struct {
	TextHash uint64   // 0 for a page without words
	Shingles []uint64 // sorted, unique hashes of word trigrams
	Visual   []uint8  // VisualSide² grey levels; nil when the text suffices
}

// VisualSide is the side in pixels of a fingerprint's picture: coarse
// enough to ignore anti-aliasing, fine enough to tell two sheets apart.
const VisualSide = 16

// MinTextWords is how many words a page needs for its text alone to
// identify it; pages with fewer also get a visual fingerprint.
const MinTextWords = 12

// MatchThreshold is the similarity from which two pages are taken to be
// the same page of the document: below it the alignment treats them as a
// removed page and an inserted one (unless nothing else fits between the
// pages matched around them, see AlignPages).
const MatchThreshold = 0.5

// maxAlignCells bounds the alignment table (12 bytes a cell): two
// 2,000-page volumes with nothing in common at their start and end.
const maxAlignCells = 4_000_000

// pageWords splits text into lower-cased words, leaving out numbers: page
// and sheet numbers shift by one after an inserted page, and they would
// make every later page look different from its old self.
func pageWords(text string) []string {
	f := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	out := f[:0]
	for _, w := range f {
		if strings.IndexFunc(w, unicode.IsLetter) >= 0 {
			out = append(out, w)
		}
	}
	return out
}

func hashWords(ws []string) uint64 {
	h := fnv.New64a()
	for _, w := range ws {
		h.Write([]byte(w))
		h.Write([]byte{0})
	}
	return h.Sum64() | 1 // never 0: 0 means "no text"
}

// TextFingerprint is the text part of a page's fingerprint.
func TextFingerprint(text string) PageFingerprint {
	ws := pageWords(text)
	if len(ws) == 0 {
		return PageFingerprint{}
	}
	fp := PageFingerprint{TextHash: hashWords(ws)}
	n := 3
	if len(ws) < n {
		n = len(ws)
	}
	for i := 0; i+n <= len(ws); i++ {
		fp.Shingles = append(fp.Shingles, hashWords(ws[i:i+n]))
	}
	slices.Sort(fp.Shingles)
	fp.Shingles = slices.Compact(fp.Shingles)
	return fp
}

// needsVisual reports whether the text of fp is too thin to identify the
// page.
func needsVisual(text string) bool { return len(pageWords(text)) < MinTextWords }

// VisualFingerprint reduces a page picture (any size) to VisualSide²
// mean grey levels.
func VisualFingerprint(img *image.RGBA) []uint8 {
	b := img.Bounds()
	out := make([]uint8, VisualSide*VisualSide)
	if b.Empty() {
		return out
	}
	for cy := range VisualSide {
		y0, y1 := b.Min.Y+cy*b.Dy()/VisualSide, b.Min.Y+(cy+1)*b.Dy()/VisualSide
		for cx := range VisualSide {
			x0, x1 := b.Min.X+cx*b.Dx()/VisualSide, b.Min.X+(cx+1)*b.Dx()/VisualSide
			var sum, n int
			for y := y0; y < max(y1, y0+1); y++ {
				for x := x0; x < max(x1, x0+1); x++ {
					sum += int(grey(img, x, y))
					n++
				}
			}
			out[cy*VisualSide+cx] = uint8(sum / max(n, 1))
		}
	}
	return out
}

// PageSimilarity is how alike two pages are, from 0 (nothing in common)
// to 1 (the same): the Jaccard index of their word trigrams when both
// have text; when either is (nearly) without text, how alike their
// pictures are; 0 when there is nothing to compare.
func PageSimilarity(a, b PageFingerprint) float64 {
	if a.TextHash != 0 && a.TextHash == b.TextHash && a.Visual == nil && b.Visual == nil {
		return 1
	}
	if a.Visual != nil && b.Visual != nil && len(a.Visual) == len(b.Visual) {
		var d float64
		for i := range a.Visual {
			d += math.Abs(float64(a.Visual[i]) - float64(b.Visual[i]))
		}
		// A mean difference of a quarter of the grey scale is unrelated.
		vs := max(0, 1-d/float64(len(a.Visual))/64)
		if a.TextHash == 0 && b.TextHash == 0 {
			return vs
		}
		// Both have a few words (a drawing's title block): words and
		// picture count alike.
		return (vs + jaccard(a.Shingles, b.Shingles)) / 2
	}
	return jaccard(a.Shingles, b.Shingles)
}

// jaccard of two sorted sets.
func jaccard(a, b []uint64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	i, j, common := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			common++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return float64(common) / float64(len(a)+len(b)-common)
}

// PagePair is one row of a comparison: page Old of the old version shown
// beside page New of the new one (from 0); -1 on one side when the page
// was removed (New = -1) or inserted (Old = -1). Score is their
// similarity (0 for an unpaired page).
type PagePair struct {
	Old, New int
	Score    float64
}

// IndexPairs pairs pages by position: the default before the texts are
// read, and what AlignPages falls back to for pages it cannot tell apart.
func IndexPairs(oldN, newN int) []PagePair {
	out := make([]PagePair, 0, max(oldN, newN))
	for i := range max(oldN, newN) {
		p := PagePair{Old: i, New: i}
		if i >= oldN {
			p.Old = -1
		}
		if i >= newN {
			p.New = -1
		}
		out = append(out, p)
	}
	return out
}

// AlignPages pairs the pages of two versions so that an inserted or
// removed page does not shift every later pair: pages with identical text
// at the start and end are paired directly; the rest by the alignment
// that maximises the total similarity of the pairs it makes (a weighted
// longest common subsequence, pairs below MatchThreshold not allowed), in
// O(n·m) similarity computations. Between two pairs so found, pages left
// over on both sides are paired by position when they are equally many
// (a page rewritten beyond recognition is still the same sheet), else by
// the same rule with any similarity above zero, and what is still left
// by position. The result
// lists every page of both versions once, in the order of both.
func AlignPages(old, new []PageFingerprint) []PagePair {
	var out []PagePair
	// Common prefix and suffix of pages with the same text: most pages of
	// a corrected volume, and they cost nothing to pair.
	same := func(a, b PageFingerprint) bool {
		return a.TextHash != 0 && a.TextHash == b.TextHash && a.Visual == nil && b.Visual == nil
	}
	pre := 0
	for pre < len(old) && pre < len(new) && same(old[pre], new[pre]) {
		out = append(out, PagePair{Old: pre, New: pre, Score: 1})
		pre++
	}
	suf := 0
	for suf < len(old)-pre && suf < len(new)-pre && same(old[len(old)-1-suf], new[len(new)-1-suf]) {
		suf++
	}
	mid := alignRange(old, new, pre, len(old)-suf, pre, len(new)-suf, MatchThreshold, true)
	out = append(out, mid...)
	for k := suf; k > 0; k-- {
		out = append(out, PagePair{Old: len(old) - k, New: len(new) - k, Score: 1})
	}
	return out
}

// alignRange aligns old[o0:o1] with new[n0:n1]. With fill, the pages left
// between two pairs are aligned again with no threshold, then by position.
func alignRange(old, new []PageFingerprint, o0, o1, n0, n1 int, threshold float64, fill bool) []PagePair {
	n, m := o1-o0, n1-n0
	if n == 0 || m == 0 {
		return unpaired(o0, o1, n0, n1)
	}
	if n*m > maxAlignCells {
		// Two unrelated volumes of thousands of pages: the table would
		// take hundreds of megabytes; pair by position instead.
		out := IndexPairs(n, m)
		for k := range out {
			if out[k].Old >= 0 {
				out[k].Old += o0
			}
			if out[k].New >= 0 {
				out[k].New += n0
			}
		}
		return out
	}
	// dp[i][j]: best total for old[o0+i:] against new[n0+j:], computed
	// backwards so the walk forward reads the choices in order.
	w := m + 1
	dp := make([]float64, (n+1)*w)
	sim := make([]float32, n*m)
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			// Rounded to the float32 kept, so the walk below finds the
			// same sums.
			s := float64(float32(PageSimilarity(old[o0+i], new[n0+j])))
			sim[i*m+j] = float32(s)
			best := max(dp[(i+1)*w+j], dp[i*w+j+1])
			if s > threshold || threshold == 0 && s > 0 {
				// A pair wins ties: keep the documents in step.
				if d := dp[(i+1)*w+j+1] + s; d >= best {
					best = d
				}
			}
			dp[i*w+j] = best
		}
	}
	var out []PagePair
	i, j := 0, 0
	gapO, gapN := 0, 0 // start of the pages not yet paired
	flush := func(oi, nj int) {
		if fill {
			out = append(out, fillGap(old, new, o0+gapO, o0+oi, n0+gapN, n0+nj)...)
		} else {
			out = append(out, positional(o0+gapO, o0+oi, n0+gapN, n0+nj)...)
		}
	}
	for i < n && j < m {
		s := float64(sim[i*m+j])
		if (s > threshold || threshold == 0 && s > 0) && dp[i*w+j] == dp[(i+1)*w+j+1]+s {
			flush(i, j)
			out = append(out, PagePair{Old: o0 + i, New: n0 + j, Score: s})
			i, j = i+1, j+1
			gapO, gapN = i, j
			continue
		}
		if dp[(i+1)*w+j] >= dp[i*w+j+1] {
			i++
		} else {
			j++
		}
	}
	flush(n, m)
	return out
}

// fillGap pairs the pages between two pairs: by similarity if any, then
// equal runs by position; what is left is removed or inserted.
func fillGap(old, new []PageFingerprint, o0, o1, n0, n1 int) []PagePair {
	if o1 == o0 || n1 == n0 {
		return unpaired(o0, o1, n0, n1)
	}
	if o1-o0 == n1-n0 {
		out := make([]PagePair, 0, o1-o0)
		for k := range o1 - o0 {
			out = append(out, PagePair{Old: o0 + k, New: n0 + k, Score: PageSimilarity(old[o0+k], new[n0+k])})
		}
		return out
	}
	return alignRange(old, new, o0, o1, n0, n1, 0, false)
}

// positional pairs pages that nothing tells apart by position; the
// longer run's extra pages are removed or inserted.
func positional(o0, o1, n0, n1 int) []PagePair {
	k := min(o1-o0, n1-n0)
	var out []PagePair
	for i := range k {
		out = append(out, PagePair{Old: o0 + i, New: n0 + i})
	}
	return append(out, unpaired(o0+k, o1, n0+k, n1)...)
}

// unpaired lists removed old pages, then inserted new ones.
func unpaired(o0, o1, n0, n1 int) []PagePair {
	var out []PagePair
	for k := o0; k < o1; k++ {
		out = append(out, PagePair{Old: k, New: -1})
	}
	for k := n0; k < n1; k++ {
		out = append(out, PagePair{Old: -1, New: k})
	}
	return out
}

// grey is the luminance of a pixel, 0 black … 255 white.
func grey(img *image.RGBA, x, y int) uint8 {
	i := img.PixOffset(x, y)
	p := img.Pix[i : i+3 : i+3]
	return uint8((299*int(p[0]) + 587*int(p[1]) + 114*int(p[2])) / 1000)
}
