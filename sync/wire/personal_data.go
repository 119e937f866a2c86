package wire

import (
	"fmt"
	"strings"
)

// PersonalData is a user's СНИЛС and passport number. Read normally they
// come masked («***-***-*** 45», «** ** ***123»); Revealed is true when they
// are the full values (the owner's or an administrator's explicit, audited
// request). An empty value means none is recorded.
type PersonalData struct {
	UserID   int64  `json:"user_id"`
	SNILS    string `json:"snils"`
	Passport string `json:"passport"`
	Revealed bool   `json:"revealed"`
}

// SetPersonalDataRequest sets the caller's own personal data. A nil field
// is left as it is; an empty string clears the value.
type SetPersonalDataRequest struct {
	SNILS    *string `json:"snils,omitempty"`
	Passport *string `json:"passport,omitempty"`
}

// FormatSNILS writes 11 bare digits as 123-456-789 01.
func FormatSNILS(d string) string {
	if len(d) != 11 {
		return d
	}
	return d[:3] + "-" + d[3:6] + "-" + d[6:9] + " " + d[9:]
}

// MaskSNILS hides all but the check digits: ***-***-*** 01.
func MaskSNILS(d string) string {
	if len(d) != 11 {
		return ""
	}
	return "***-***-*** " + d[9:]
}

// NormalizePassport validates a Russian passport number — a 4-digit series
// and a 6-digit number, written «45 06 123456», «4506 123456» or as 10 bare
// digits — and returns the 10 digits, the form stored.
func NormalizePassport(s string) (string, error) {
	const field = "passport"
	d := strings.NewReplacer(" ", "", "\u00a0", "", "-", "", "№", "").Replace(strings.TrimSpace(s))
	if d == "" {
		return "", E(CodeInvalid, field, "Введите серию и номер паспорта", "Enter the passport series and number")
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return "", E(CodeInvalid, field, "Серия и номер паспорта состоят из цифр: 45 06 123456",
				"A passport series and number are digits: 45 06 123456")
		}
	}
	if len(d) != 10 {
		return "", E(CodeInvalid, field,
			fmt.Sprintf("Серия (4 цифры) и номер (6 цифр) паспорта — всего 10 цифр, введено %d", len(d)),
			fmt.Sprintf("A passport series (4 digits) and number (6 digits) make 10 digits, got %d", len(d)))
	}
	if d == "0000000000" {
		return "", E(CodeInvalid, field, "Серия и номер паспорта не могут состоять из одних нулей", "A passport series and number cannot be all zeros")
	}
	return d, nil
}

// ValidatePassport checks a passport series and number (NormalizePassport).
func ValidatePassport(s string) error {
	_, err := NormalizePassport(s)
	return err
}

// FormatPassport writes 10 digits as 45 06 123456.
func FormatPassport(d string) string {
	if len(d) != 10 {
		return d
	}
	return d[:2] + " " + d[2:4] + " " + d[4:]
}

// MaskPassport hides all but the last three digits: ** ** ***456.
func MaskPassport(d string) string {
	if len(d) != 10 {
		return ""
	}
	return "** ** ***" + d[7:]
}
