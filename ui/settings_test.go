package ui

import (
	"os"
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/sync/wire"
)

func newSettingsFixture(t *testing.T) (*env, *settingsView) {
	t.Helper()
	e := newTestEnv(t, fyne.NewSize(900, 600))
	v := newSettingsView(e)
	show(e, v.content(), fyne.NewSize(900, 600))
	return e, v
}

// radio taps the option of a radio group, as the user does.
func radio(t *testing.T, g *widget.RadioGroup, option string) {
	t.Helper()
	for _, o := range test.LaidOutObjects(g) {
		if tp, ok := o.(fyne.Tappable); ok && containsText(o, option) {
			tp.Tapped(&fyne.PointEvent{})
			return
		}
	}
	t.Fatalf("no radio option %q", option)
}

func TestSettingsThemeAppliesAtOnce(t *testing.T) {
	e, v := newSettingsFixture(t)
	bg := func() any { return e.app.Settings().Theme().Color(theme.ColorNameBackground, theme.VariantLight) }
	dark := theme.DefaultTheme().Color(theme.ColorNameBackground, theme.VariantDark)
	light := theme.DefaultTheme().Color(theme.ColorNameBackground, theme.VariantLight)

	radio(t, v.themes, "Тёмное")
	if got := e.app.Preferences().String(prefTheme); got != themeDark {
		t.Errorf("theme preference = %q", got)
	}
	if bg() != dark {
		t.Errorf("dark theme not applied: background %v", bg())
	}
	radio(t, v.themes, "Светлое")
	if bg() != light {
		t.Errorf("light theme not applied: background %v", bg())
	}
	radio(t, v.themes, "Как в системе")
	if got := e.app.Preferences().String(prefTheme); got != themeSystem {
		t.Errorf("theme preference = %q after choosing the system's", got)
	}
}

func TestSettingsTextSize(t *testing.T) {
	e, v := newSettingsFixture(t)
	base := theme.DefaultTheme().Size(theme.SizeNameText)
	pad := theme.DefaultTheme().Size(theme.SizeNamePadding)
	for _, tt := range []struct {
		option string
		scale  float32
	}{{"Очень крупный", 1.5}, {"Крупный", 1.25}, {"Обычный", 1}} {
		radio(t, v.sizes, tt.option)
		th := e.app.Settings().Theme()
		if got := th.Size(theme.SizeNameText); got != base*tt.scale {
			t.Errorf("%s: text size %v, want %v", tt.option, got, base*tt.scale)
		}
		if got := th.Size(theme.SizeNamePadding); got != pad {
			t.Errorf("%s: padding changed to %v", tt.option, got)
		}
	}
	// A new start reads the same choice back.
	radio(t, v.sizes, "Крупный")
	if got := themeFromPrefs(e.app.Preferences()).Size(theme.SizeNameText); got != base*1.25 {
		t.Errorf("theme from preferences: text size %v", got)
	}
}

func TestSettingsLanguageNextStart(t *testing.T) {
	old, had := os.LookupEnv("LANGUAGE")
	t.Cleanup(func() {
		if had {
			os.Setenv("LANGUAGE", old)
		} else {
			os.Unsetenv("LANGUAGE")
		}
		if err := loadTranslations(); err != nil {
			t.Fatal(err)
		}
	})
	e, v := newSettingsFixture(t)
	if v.language.Selected != "Русский" || !containsText(v.content(), "Новый язык будет применён при следующем запуске программы.") {
		t.Fatalf("language shown as %q, or the restart note is missing", v.language.Selected)
	}
	v.language.SetSelected("English")
	if got := e.app.Preferences().String(prefLanguage); got != "en" {
		t.Fatalf("language preference = %q", got)
	}
	if statusLabel(wire.StatusDraft) != "Черновик" {
		t.Errorf("the language changed before a restart")
	}
	// The next start.
	applyLanguage(e.app.Preferences())
	if err := loadTranslations(); err != nil {
		t.Fatal(err)
	}
	if got := statusLabel(wire.StatusDraft); got != "Draft" {
		t.Errorf("after a restart the status is %q, want English", got)
	}
}

func TestMainScreenOpensSettings(t *testing.T) {
	e := newTestEnv(t, fyne.NewSize(1280, 800))
	be := newFakeBackend(wire.User{ID: 20, Role: wire.RoleApplicant})
	m := newMainScreen(e, be, func() {})
	show(e, m.content(), fyne.NewSize(1280, 800))
	defer m.close()
	test.Tap(m.navSettings)
	if m.body.Objects[0] != m.settings.content() || m.navSettings.Importance != widget.HighImportance || m.navApps.Importance != widget.LowImportance {
		t.Errorf("the settings section is not shown")
	}
}

func TestMailLanguageFollowsTheInterface(t *testing.T) {
	e := newTestEnv(t, fyne.NewSize(1000, 600))
	be := newFakeBackend(wire.User{ID: 20, FullName: "Иванов И. И.", Role: wire.RoleApplicant})
	m := newMainScreen(e, be, func() {})
	t.Cleanup(m.close)
	if !slices.Equal(be.mailLangs, []string{"ru"}) {
		t.Fatalf("at sign-in the server was told %v, want the interface language ru", be.mailLangs)
	}
	m.settings.language.SetSelectedIndex(1) // English
	if !slices.Equal(be.mailLangs, []string{"ru", "en"}) {
		t.Errorf("after choosing English the server was told %v", be.mailLangs)
	}
}

func TestMainWindowShortcuts(t *testing.T) {
	e := newTestEnv(t, fyne.NewSize(1000, 600))
	be := newFakeBackend(wire.User{ID: 20, FullName: "Иванов И. И.", Role: wire.RoleApplicant, OrgID: 7})
	m := newMainScreen(e, be, func() {})
	show(e, m.content(), fyne.NewSize(1000, 600))
	press := func(k fyne.KeyName, mod fyne.KeyModifier) {
		e.win.Canvas().(fyne.Shortcutable).TypedShortcut(&desktop.CustomShortcut{KeyName: k, Modifier: mod})
	}
	m.showSettings()
	press(fyne.KeyF, fyne.KeyModifierShortcutDefault)
	if e.win.Canvas().Focused() != m.apps.search {
		t.Errorf("Ctrl+F did not bring the list with its search focused")
	}
	press(fyne.KeyN, fyne.KeyModifierShortcutDefault)
	if top := e.win.Canvas().Overlays().Top(); top == nil || !containsText(top, "Новое заявление") {
		t.Errorf("Ctrl+N did not open the new application form")
	}
	m.close()
	n := len(e.win.Canvas().Overlays().List())
	press(fyne.KeyN, fyne.KeyModifierShortcutDefault)
	if len(e.win.Canvas().Overlays().List()) != n {
		t.Errorf("a shortcut still works after sign-out")
	}
}
