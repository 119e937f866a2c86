// Package pdfannot exports a document version with the experts'
// annotations (wire.Annotation rows) as standard PDF annotations, so
// Acrobat, Okular, browsers and MuPDF show them without Expertiza
// (DESIGN.md §1 "Annotations").
//
// Every annotation becomes the matching PDF subtype — highlight →
// Highlight, rect → Square, cloud → Square with a cloudy border effect,
// ellipse → Circle, arrow and line → Line, note → FreeText, ink → Ink —
// with /NM "expertiza-annotation-<id>", the author in /T, the text, status
// and replies in /Contents, the colour in /C, creation and modification
// dates, and an appearance stream (/AP /N) drawn here. pdfcpu writes none,
// and without one viewers draw nothing or something different (measured:
// Okular left Cyrillic FreeText empty, pdfium drew no arrow heads, nobody
// drew clouds). Note text is set in DejaVu Sans, embedded as a subset.
//
// Replies are appended to the parent's /Contents («— автор, дата: текст»)
// rather than written as /IRT reply annotations: every viewer shows
// /Contents, while reply annotations show as loose sticky notes in viewers
// without threads (Okular, pdfium) and would be burnt into the page as
// icons by flattening. One row is then exactly one PDF annotation, found by
// its /NM.
//
// Coordinates. wire.Geometry is in points of the page as it is displayed:
// origin at the bottom-left corner of the visible page (the crop box,
// clipped to the media box), y up, the page's /Rotate already applied —
// the frame whose size the server validates geometry against
// (server/validate reports page sizes that way) and the frame of the
// viewer's overlay with y flipped. For an unrotated page whose boxes start
// at 0,0 that is PDF user space; for others Write converts every point, and
// turns note text so it reads upright on the rotated page.
//
// Options.Flatten burns the appearance streams of the new and the existing
// annotations into the page content and removes them (links stay: they
// draw nothing and keep the document navigable). Options.StampCopy draws a
// diagonal «КОПИЯ» («COPY» in English) across every page.
//
// The PDF is read and written with github.com/pdfcpu/pdfcpu; the font is
// installed for pdfcpu by pdfdoc.New (pdfcpu's font registry is one per
// process, and pdfdoc owns it).
package pdfannot
