package auth

import (
	"bufio"
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/expertiza/expertiza/sync/wire"
)

//go:embed common_passwords.txt
var commonPasswordsFile string

// commonPasswords is built on first use: the set is a few thousand entries and
// only the password-changing code paths need it.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 4096)
	sc := bufio.NewScanner(strings.NewReader(commonPasswordsFile))
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			set[line] = struct{}{}
		}
	}
	return set
})

// minPersonalLen keeps short name parts ("Ли", "Ян") from rejecting half of
// all passwords.
const minPersonalLen = 4

// Policy decides which new passwords are acceptable. It follows NIST SP
// 800-63B: length and a blocklist matter, composition rules mostly produce
// "Password1!", so Composition is off by default.
type Policy struct {
	MinLen, MaxLen int // in Unicode code points
	Composition    bool
}

// DefaultPolicy allows 8 to 128 code points without composition rules.
func DefaultPolicy() Policy {
	return Policy{MinLen: 8, MaxLen: 128}
}

// Check returns nil when password is acceptable, otherwise a *wire.Error
// (CodeInvalid, field "password") that tells the user what to change.
// personal lists the user's data — login, full name, e-mail, INN; each value
// is also split into words and an e-mail into its local part, so callers pass
// them whole.
func (p Policy) Check(password string, personal ...string) error {
	if !utf8.ValidString(password) {
		return policyError(
			"Пароль содержит недопустимые байты: введите его заново.",
			"Password is not valid UTF-8: type it again.")
	}
	n := utf8.RuneCountInString(password)
	if n < p.MinLen {
		return policyError(
			fmt.Sprintf("Пароль слишком короткий: нужно не менее %d символов. Длинная фраза из нескольких слов надёжнее.", p.MinLen),
			fmt.Sprintf("Password is too short: use at least %d characters. A phrase of several words is stronger.", p.MinLen))
	}
	if p.MaxLen > 0 && n > p.MaxLen {
		return policyError(
			fmt.Sprintf("Пароль слишком длинный: не более %d символов.", p.MaxLen),
			fmt.Sprintf("Password is too long: use at most %d characters.", p.MaxLen))
	}
	lower := strings.ToLower(password)
	if _, ok := commonPasswords()[lower]; ok {
		return policyError(
			"Пароль слишком распространён: его подбирают первым. Выберите фразу из нескольких слов.",
			"Password is too common: it is among the first ones guessed. Choose a phrase of several words.")
	}
	for _, s := range personalTokens(personal) {
		if strings.Contains(lower, s) || lower == reverse(s) {
			return policyError(
				"Пароль содержит ваши личные данные (логин, имя, e-mail или ИНН): их легко угадать. Выберите другой пароль.",
				"Password contains your personal data (login, name, e-mail or INN), which is easy to guess. Choose another one.")
		}
	}
	if p.Composition && !composed(password) {
		return policyError(
			"Пароль должен содержать букву, цифру и символ, не являющийся буквой или цифрой (например, пробел или «!»).",
			"Password must contain a letter, a digit and a character that is neither (for example a space or '!').")
	}
	return nil
}

func policyError(ru, en string) error {
	return wire.E(wire.CodeInvalid, "password", ru, en)
}

// personalTokens lowercases each value and adds its words and, for an
// e-mail, its local part: "Иванов Пётр" must also catch "Иванов".
func personalTokens(values []string) []string {
	var out []string
	add := func(s string) {
		if utf8.RuneCountInString(s) >= minPersonalLen {
			out = append(out, s)
		}
	}
	for _, v := range values {
		v = strings.ToLower(strings.TrimSpace(v))
		add(v)
		if at := strings.LastIndexByte(v, '@'); at > 0 {
			add(v[:at])
		}
		for _, w := range strings.FieldsFunc(v, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			if w != v {
				add(w)
			}
		}
	}
	return out
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

func composed(password string) bool {
	var letter, digit, other bool
	for _, r := range password {
		switch {
		case unicode.IsLetter(r):
			letter = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	return letter && digit && other
}
