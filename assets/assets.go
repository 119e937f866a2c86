// Package assets holds the files embedded in the programs: the icon, the
// interface translations and the fonts PDF documents are typeset with.
package assets

import "embed"

// Translations holds translations/ru.json and translations/en.json in the
// format of fyne.io/fyne/v2/lang.
//
//go:embed translations
var Translations embed.FS

// Icon is the application icon (PNG, 256×256).
//
//go:embed icon.png
var Icon []byte

// Fonts holds fonts/DejaVuSans.ttf and fonts/DejaVuSans-Bold.ttf (DejaVu
// 2.37 from Debian's fonts-dejavu-core, licence in fonts/LICENSE): PDF
// documents embed them, so Cyrillic prints the same on every machine
// whatever fonts it has installed.
//
//go:embed fonts
var Fonts embed.FS
