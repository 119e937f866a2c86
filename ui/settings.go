package ui

import (
	"image/color"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Preference keys of the settings screen.
const (
	prefLanguage  = "ui.language"   // "ru", "en", or "" for the system's
	prefTheme     = "ui.theme"      // themeLight, themeDark, or "" for the system's
	prefTextScale = "ui.text_scale" // textNormal, textLarge, textLarger
)

// Values of prefTheme.
const (
	themeSystem = ""
	themeLight  = "light"
	themeDark   = "dark"
)

// Values of prefTextScale, for users who need larger text.
const (
	textNormal = "normal"
	textLarge  = "large"
	textLarger = "larger"
)

// languages are the interface languages offered, by code; the names are
// written in their own language, so a user lost in the other one finds
// theirs.
var languages = []struct{ code, name string }{
	{"ru", "Русский"},
	{"en", "English"},
}

// textScale is how much larger text is drawn at a prefTextScale value.
func textScale(v string) float32 {
	switch v {
	case textLarge:
		return 1.25
	case textLarger:
		return 1.5
	}
	return 1
}

// appTheme is Fyne's default theme with the user's choices: a fixed light
// or dark variant instead of the system's, and larger text.
type appTheme struct {
	fyne.Theme
	variant *fyne.ThemeVariant // nil follows the system
	scale   float32
}

// themeFromPrefs builds the theme the preferences ask for.
func themeFromPrefs(p fyne.Preferences) *appTheme {
	t := &appTheme{Theme: theme.DefaultTheme(), scale: textScale(p.String(prefTextScale))}
	switch p.String(prefTheme) {
	case themeLight:
		v := theme.VariantLight
		t.variant = &v
	case themeDark:
		v := theme.VariantDark
		t.variant = &v
	}
	return t
}

// Color implements fyne.Theme.
func (t *appTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if t.variant != nil {
		v = *t.variant
	}
	return t.Theme.Color(n, v)
}

// Size implements fyne.Theme: text sizes grow by the chosen scale, the
// rest (paddings, icons) stays so layouts keep their shape.
func (t *appTheme) Size(n fyne.ThemeSizeName) float32 {
	s := t.Theme.Size(n)
	switch n {
	case theme.SizeNameText, theme.SizeNameCaptionText, theme.SizeNameHeadingText, theme.SizeNameSubHeadingText:
		return s * t.scale
	}
	return s
}

// applyTheme installs the theme the preferences ask for.
func applyTheme(a fyne.App) { a.Settings().SetTheme(themeFromPrefs(a.Preferences())) }

// applyLanguage makes the interface language chosen in the settings the
// one the translations pick, by putting it first in LANGUAGE (the GNU
// variable the locale lookup reads before LC_*/LANG). It runs before the
// translations are loaded, so a change takes effect at the next start.
func applyLanguage(p fyne.Preferences) {
	if code := p.String(prefLanguage); code != "" {
		os.Setenv("LANGUAGE", code)
	}
}

// settingsView lets the user choose the language, the theme and the text
// size. Theme and size apply at once; the language at the next start.
type settingsView struct {
	env *env

	language *widget.Select
	// onLanguage is told the code of a newly chosen language (the main
	// screen sends it to the server for e-mail).
	onLanguage func(code string)
	themes     *widget.RadioGroup
	sizes      *widget.RadioGroup
	restart    *widget.Label
	themeOpts  []string // option labels, in the order of themeValues
	sizeOpts   []string
	root       fyne.CanvasObject
	notes      *fyne.Container // the notification preferences' link; hidden until linked
	notesOpen  *widget.Button
}

var (
	themeValues = []string{themeSystem, themeLight, themeDark}
	sizeValues  = []string{textNormal, textLarge, textLarger}
)

func newSettingsView(e *env) *settingsView {
	v := &settingsView{env: e}
	p := e.app.Preferences()

	var names []string
	current := 0
	for i, l := range languages {
		names = append(names, l.name)
		if l.code == p.String(prefLanguage) || (p.String(prefLanguage) == "" && l.code == lang.L("lang.code")) {
			current = i
		}
	}
	v.language = widget.NewSelect(names, nil)
	v.language.SetSelectedIndex(current)
	v.restart = widget.NewLabel(lang.L("settings.language_restart"))
	v.restart.Wrapping = fyne.TextWrapWord
	v.language.OnChanged = func(string) {
		if i := v.language.SelectedIndex(); i >= 0 {
			p.SetString(prefLanguage, languages[i].code)
			if v.onLanguage != nil {
				v.onLanguage(languages[i].code)
			}
		}
	}

	v.themeOpts = []string{lang.L("settings.theme.system"), lang.L("settings.theme.light"), lang.L("settings.theme.dark")}
	v.themes = widget.NewRadioGroup(v.themeOpts, nil)
	v.themes.SetSelected(v.themeOpts[indexOr(themeValues, p.String(prefTheme), 0)])
	v.themes.OnChanged = func(s string) {
		if i := indexOr(v.themeOpts, s, -1); i >= 0 {
			p.SetString(prefTheme, themeValues[i])
			applyTheme(e.app)
		}
	}

	v.sizeOpts = []string{lang.L("settings.text.normal"), lang.L("settings.text.large"), lang.L("settings.text.larger")}
	v.sizes = widget.NewRadioGroup(v.sizeOpts, nil)
	v.sizes.SetSelected(v.sizeOpts[indexOr(sizeValues, p.String(prefTextScale), 0)])
	v.sizes.OnChanged = func(s string) {
		if i := indexOr(v.sizeOpts, s, -1); i >= 0 {
			p.SetString(prefTextScale, sizeValues[i])
			applyTheme(e.app)
		}
	}

	form := widget.NewForm(
		widget.NewFormItem(lang.L("settings.language"), container.NewVBox(v.language, v.restart)),
		widget.NewFormItem(lang.L("settings.theme"), v.themes),
		widget.NewFormItem(lang.L("settings.text"), v.sizes),
	)
	title := widget.NewLabelWithStyle(lang.L("nav.settings"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.notesOpen = widget.NewButtonWithIcon(lang.L("prefs.open"), theme.SettingsIcon(), nil)
	v.notes = container.NewVBox(widget.NewSeparator(),
		widget.NewLabelWithStyle(lang.L("settings.notifications"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewHBox(v.notesOpen))
	v.notes.Hide()
	v.root = container.NewBorder(title, nil, nil, nil, container.NewVScroll(container.NewVBox(container.New(minWidth{520}, form), v.notes)))
	return v
}

func (v *settingsView) content() fyne.CanvasObject { return v.root }

// linkNotifications shows the button that opens the notification
// preferences.
func (v *settingsView) linkNotifications(open func()) {
	v.notesOpen.OnTapped = open
	v.notes.Show()
}

// indexOr is the index of s in list, or def when it is not there.
func indexOr(list []string, s string, def int) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return def
}
