package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"

	"github.com/expertiza/expertiza/assets"
)

// loadTranslations registers the interface languages; Fyne then shows the
// one closest to the system locale. Russian is the product's language and
// English the translation, but for a locale it has no file for Fyne falls
// back to English, so the Russian file is also registered under such a
// locale's language.
func loadTranslations() error {
	if err := lang.AddTranslationsFS(assets.Translations, "translations"); err != nil {
		return fmt.Errorf("add translations: %w", err)
	}
	base, _, _ := strings.Cut(string(lang.SystemLocale()), "-")
	switch base {
	case "ru", "en", "":
		return nil
	}
	ru, err := assets.Translations.ReadFile("translations/ru.json")
	if err != nil {
		return fmt.Errorf("read Russian translation: %w", err)
	}
	if err := lang.AddTranslationsForLocale(ru, fyne.Locale(base)); err != nil {
		return fmt.Errorf("add Russian as %s: %w", base, err)
	}
	return nil
}
