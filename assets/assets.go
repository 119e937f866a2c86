// Package assets holds the files embedded in the desktop client: the icon
// and the interface translations.
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
