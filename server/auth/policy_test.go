package auth

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/expertiza/expertiza/sync/wire"
)

func TestPolicyCheck(t *testing.T) {
	personal := []string{"ivanov.petr", "Иванов Пётр Сергеевич", "p.ivanov@example.ru", "7707083893", "Ли"}
	tests := []struct {
		name     string
		policy   Policy
		password string
		reject   string // substring of the English message; "" = accept
	}{
		{"passphrase", DefaultPolicy(), "лето в Карелии 2019", ""},
		{"exactly min length", DefaultPolicy(), "kx7#mq2z", ""},
		{"too short", DefaultPolicy(), "kx7#mq2", "too short"},
		{"empty", DefaultPolicy(), "", "too short"},
		{"runes not bytes: 8 emoji", DefaultPolicy(), "🔥🌲🔥🌲🔥🌲🔥🌲", ""},
		{"runes not bytes: 7 Cyrillic", DefaultPolicy(), "щебетун", "too short"},
		{"spaces allowed", DefaultPolicy(), "   zq  vw   ", ""},
		{"exactly max length", DefaultPolicy(), strings.Repeat("жук ", 32), ""},
		{"too long", DefaultPolicy(), strings.Repeat("жук ", 32) + "!", "too long"},
		{"no max", Policy{MinLen: 8}, strings.Repeat("жук ", 100), ""},
		{"invalid UTF-8", DefaultPolicy(), "abc\xffdefgh", "UTF-8"},
		{"common", DefaultPolicy(), "password1", "too common"},
		{"common, any case", DefaultPolicy(), "QwErTy123", "too common"},
		{"common from john list", DefaultPolicy(), "iloveyou", "too common"},
		{"Russian keyboard row", DefaultPolicy(), "ЙЦУКЕНГШЩЗ", "too common"},
		{"Cyrillic word typed on Latin layout", DefaultPolicy(), "gfhjkm123", "too common"},
		{"common with suffix is not on the list", DefaultPolicy(), "iloveyou, Марина", ""},
		{"contains login", DefaultPolicy(), "myIvanov.Petr!", "personal data"},
		{"contains surname", DefaultPolicy(), "ИВАНОВ навсегда", "personal data"},
		{"contains given name", DefaultPolicy(), "пётр1985!", "personal data"},
		{"contains e-mail local part", DefaultPolicy(), "x p.ivanov x", "personal data"},
		{"contains INN", DefaultPolicy(), "инн 7707083893", "personal data"},
		{"reversed login", DefaultPolicy(), "rtep.vonavi", "personal data"},
		{"reversed patronymic", DefaultPolicy(), "чивеегреС", "personal data"},
		{"short name part ignored", DefaultPolicy(), "Лиственница", ""},
		{"composition: letter digit symbol", Policy{MinLen: 8, MaxLen: 128, Composition: true}, "сосна 42 ель", ""},
		{"composition: no digit", Policy{MinLen: 8, MaxLen: 128, Composition: true}, "сосна и ель", "a digit"},
		{"composition: no symbol", Policy{MinLen: 8, MaxLen: 128, Composition: true}, "сосна42ель", "a digit"},
		{"composition: no letter", Policy{MinLen: 8, MaxLen: 128, Composition: true}, "4242-4242", "a digit"},
		{"composition off", DefaultPolicy(), "сосна42ель", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Check(tt.password, personal...)
			if tt.reject == "" {
				if err != nil {
					t.Fatalf("Check(%q) = %v, want nil", tt.password, err)
				}
				return
			}
			e, ok := wire.AsError(err)
			if !ok {
				t.Fatalf("Check(%q) = %v, want *wire.Error", tt.password, err)
			}
			if e.Code != wire.CodeInvalid || e.Field != "password" || e.Message == "" || !utf8.ValidString(e.Message) {
				t.Fatalf("Check(%q) = %+v, want CodeInvalid on field password with a Russian message", tt.password, e)
			}
			if !strings.Contains(e.MessageEN, tt.reject) {
				t.Fatalf("Check(%q) = %q, want a message about %q", tt.password, e.MessageEN, tt.reject)
			}
		})
	}
}

func TestCommonPasswordList(t *testing.T) {
	set := commonPasswords()
	if len(set) < 2000 {
		t.Fatalf("list has %d entries, want the john-data list plus additions", len(set))
	}
	for w := range set {
		if w != strings.ToLower(w) || strings.HasPrefix(w, "#") || utf8.RuneCountInString(w) < 6 {
			t.Fatalf("bad entry %q: want lowercase, not a comment, at least 6 characters", w)
		}
	}
	for _, w := range []string{"123456789", "йцукен", "пароль123", "1q2w3e4r", "ytrewq", "zxcvbnm"} {
		if _, ok := set[w]; !ok {
			t.Errorf("%q missing from the list", w)
		}
	}
}
