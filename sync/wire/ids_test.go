package wire

import (
	"strings"
	"testing"
)

// wantIDError checks the outcome of a validator: msg == "" means valid,
// otherwise the error must be CodeInvalid on field and its Russian text must
// contain msg, so the user is told what exactly is wrong.
func wantIDError(t *testing.T, err error, field, msg string) {
	t.Helper()
	if msg == "" {
		if err != nil {
			t.Fatalf("want valid, got %v", err)
		}
		return
	}
	e, ok := AsError(err)
	if !ok {
		t.Fatalf("want *Error containing %q, got %v", msg, err)
	}
	if e.Code != CodeInvalid || e.Field != field {
		t.Errorf("got code %q field %q, want %q %q", e.Code, e.Field, CodeInvalid, field)
	}
	if !strings.Contains(e.Message, msg) {
		t.Errorf("message %q does not contain %q", e.Message, msg)
	}
	if e.MessageEN == "" {
		t.Error("English message is empty")
	}
}

const (
	msgDigits   = "только из цифр"
	msgChecksum = "неверная контрольная сумма — проверьте цифры"
	msgZeros    = "из одних нулей"
)

func TestValidateINN(t *testing.T) {
	tests := []struct {
		in, msg string
	}{
		{"7707083893", ""},   // ПАО Сбербанк
		{"7736207543", ""},   // ООО «Яндекс»
		{"770712345633", ""}, // individual, both check digits computed by hand
		{"500100000015", ""},
		{"7707083894", msgChecksum},
		{"7707083983", msgChecksum}, // two digits swapped
		{"770712345643", msgChecksum},
		{"770712345634", msgChecksum},
		{"", "10 цифр для организации или 12 для ИП/физлица, введено 0"},
		{"770708389", "10 цифр для организации или 12 для ИП/физлица, введено 9"},
		{"77070838931", "введено 11"},
		{"7707083893 ", msgDigits},
		{"77O7083893", msgDigits}, // Latin O instead of zero
		{"７７０７０８３８９３", msgDigits},
		{"-707083893", msgDigits},
		{"0000000000", msgZeros},
		{"000000000000", msgZeros},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) { wantIDError(t, ValidateINN(tt.in), "inn", tt.msg) })
	}
}

func TestValidateOGRN(t *testing.T) {
	tests := []struct {
		in, msg string
	}{
		{"1027700132195", ""}, // ПАО Сбербанк
		{"1027739609391", ""}, // Банк ВТБ
		{"304500116000157", ""},
		{"304770000000019", ""},
		{"1027700132196", msgChecksum},
		{"304500116000158", msgChecksum},
		{"102770013219", "13 цифр, ОГРНИП — 15, введено 12"},
		{"10277001321950", "введено 14"},
		{"1027700132195x", msgDigits},
		{"0000000000000", msgZeros},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) { wantIDError(t, ValidateOGRN(tt.in), "ogrn", tt.msg) })
	}
}

func TestNormalizeSNILS(t *testing.T) {
	tests := []struct {
		in, want, msg string
	}{
		{"112-233-445 95", "11223344595", ""},
		{"11223344595", "11223344595", ""},
		{"087-654-303 00", "08765430300", ""}, // sum 101 → 00
		{"001-019-989 00", "00101998900", ""}, // sum 100 → 00
		{"102-889-999 00", "10288999900", ""}, // sum 201 mod 101 = 100 → 00
		{"123-456-789 64", "12345678964", ""}, // sum 285 mod 101
		{"001-001-998 42", "00100199842", ""}, // at the limit: not checked
		{"001-001-999 42", "", msgChecksum},   // just above it: checked
		{"112-233-445 96", "", msgChecksum},
		{"112-233-445 59", "", msgChecksum},
		{"102-889-999 01", "", msgChecksum},
		{"112 233 445 95", "", "123-456-789 01 или 12345678901"},
		{"112-233-44595", "", "123-456-789 01"},
		{"112-233-445-95", "", "123-456-789 01"},
		{"1122334459", "", "11 цифр, введено 10"},
		{"112233445950", "", "введено 12"},
		{"000-000-000 00", "", msgZeros},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeSNILS(tt.in)
			wantIDError(t, err, "snils", tt.msg)
			if got != tt.want {
				t.Errorf("NormalizeSNILS(%q) = %q, want %q", tt.in, got, tt.want)
			}
			wantIDError(t, ValidateSNILS(tt.in), "snils", tt.msg)
		})
	}
}

func TestValidateKPP(t *testing.T) {
	tests := []struct {
		in    string
		valid bool
	}{
		{"773601001", true},
		{"770701001", true},
		{"7736AB001", true},
		{"77360Z001", true},
		{"7736ab001", false}, // lowercase
		{"7736АВ001", false}, // Cyrillic А and В look Latin
		{"7736010011", false},
		{"77360100", false},
		{"A73601001", false},
		{"7736010A1", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			msg := ""
			if !tt.valid {
				msg = "4 цифры, 2 цифры или заглавные латинские буквы, 3 цифры"
			}
			wantIDError(t, ValidateKPP(tt.in), "kpp", msg)
		})
	}
}
