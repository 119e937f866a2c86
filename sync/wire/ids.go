package wire

import (
	"fmt"
	"strings"
)

// The validators below are shared by the client (checked as the user types)
// and the server (checked again on every command), so both sides refuse the
// same values with the same words. They check form and check digits only:
// whether the organisation exists is a question for the registers.

// ValidateINN checks an ИНН: 10 digits for an organisation, 12 for an
// individual entrepreneur or a person, with the check digits of the Federal
// Tax Service algorithm.
func ValidateINN(s string) error {
	const field = "inn"
	if err := idCheckDigits(s, field, "ИНН", "INN"); err != nil {
		return err
	}
	switch len(s) {
	case 10:
		if innCheck(s[:9], innWeights10) != s[9]-'0' {
			return idBadChecksum(field, "ИНН", "INN")
		}
	case 12:
		if innCheck(s[:10], innWeights11) != s[10]-'0' || innCheck(s[:11], innWeights12) != s[11]-'0' {
			return idBadChecksum(field, "ИНН", "INN")
		}
	default:
		return E(CodeInvalid, field,
			fmt.Sprintf("ИНН должен содержать 10 цифр для организации или 12 для ИП/физлица, введено %d", len(s)),
			fmt.Sprintf("an INN has 10 digits for an organisation or 12 for an individual, got %d", len(s)))
	}
	return nil
}

var (
	innWeights10 = []int{2, 4, 10, 3, 5, 9, 4, 6, 8}
	innWeights11 = []int{7, 2, 4, 10, 3, 5, 9, 4, 6, 8}
	innWeights12 = []int{3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8}
)

func innCheck(digits string, weights []int) byte {
	sum := 0
	for i, w := range weights {
		sum += int(digits[i]-'0') * w
	}
	return byte(sum % 11 % 10)
}

// ValidateOGRN checks an ОГРН (13 digits, organisations) or an ОГРНИП
// (15 digits, individual entrepreneurs).
func ValidateOGRN(s string) error {
	const field = "ogrn"
	if err := idCheckDigits(s, field, "ОГРН", "OGRN"); err != nil {
		return err
	}
	var mod uint64
	switch len(s) {
	case 13:
		mod = 11
	case 15:
		mod = 13
	default:
		return E(CodeInvalid, field,
			fmt.Sprintf("ОГРН должен содержать 13 цифр, ОГРНИП — 15, введено %d", len(s)),
			fmt.Sprintf("an OGRN has 13 digits, an OGRNIP 15, got %d", len(s)))
	}
	// 14 digits fit in a uint64, so plain arithmetic is exact.
	var n uint64
	for i := 0; i < len(s)-1; i++ {
		n = n*10 + uint64(s[i]-'0')
	}
	if byte(n%mod%10) != s[len(s)-1]-'0' {
		return idBadChecksum(field, "ОГРН", "OGRN")
	}
	return nil
}

// ValidateSNILS checks a СНИЛС written either as "123-456-789 01" or as
// 11 bare digits.
func ValidateSNILS(s string) error {
	_, err := NormalizeSNILS(s)
	return err
}

// NormalizeSNILS validates a СНИЛС and returns its 11 bare digits, the form
// stored and compared.
func NormalizeSNILS(s string) (string, error) {
	const field = "snils"
	d := s
	if len(s) == 14 && s[3] == '-' && s[7] == '-' && s[11] == ' ' {
		d = s[0:3] + s[4:7] + s[8:11] + s[12:14]
	}
	if !idAllDigits(d) {
		return "", E(CodeInvalid, field,
			"СНИЛС вводится цифрами в виде 123-456-789 01 или 12345678901",
			"a SNILS is written as 123-456-789 01 or 12345678901")
	}
	if len(d) != 11 {
		return "", E(CodeInvalid, field,
			fmt.Sprintf("СНИЛС должен содержать 11 цифр, введено %d", len(d)),
			fmt.Sprintf("a SNILS has 11 digits, got %d", len(d)))
	}
	if err := idNotAllZeros(d, field, "СНИЛС", "SNILS"); err != nil {
		return "", err
	}
	number := 0
	sum := 0
	for i := 0; i < 9; i++ {
		v := int(d[i] - '0')
		number = number*10 + v
		sum += v * (9 - i)
	}
	// The Pension Fund rule leaves the earliest numbers unchecked.
	if number <= 1001998 {
		return d, nil
	}
	if sum > 101 {
		sum %= 101
	}
	if sum == 100 || sum == 101 {
		sum = 0
	}
	if fmt.Sprintf("%02d", sum) != d[9:] {
		return "", idBadChecksum(field, "СНИЛС", "SNILS")
	}
	return d, nil
}

// ValidateKPP checks a КПП: 4 digits (tax office), 2 digits or capital Latin
// letters (reason code), 3 digits (serial number).
func ValidateKPP(s string) error {
	ok := len(s) == 9 && idAllDigits(s[:4]) && idAllDigits(s[6:])
	for i := 4; ok && i < 6; i++ {
		c := s[i]
		ok = c >= '0' && c <= '9' || c >= 'A' && c <= 'Z'
	}
	if !ok {
		return E(CodeInvalid, "kpp",
			"КПП состоит из 9 знаков: 4 цифры, 2 цифры или заглавные латинские буквы, 3 цифры (например, 773601001)",
			"a KPP has 9 characters: 4 digits, 2 digits or capital Latin letters, 3 digits (e.g. 773601001)")
	}
	return nil
}

// idCheckDigits refuses anything but ASCII digits and, since every check digit
// algorithm accepts it, a number of zeros only (a placeholder, not an ID).
func idCheckDigits(s, field, ru, en string) error {
	if !idAllDigits(s) {
		return E(CodeInvalid, field,
			ru+" должен состоять только из цифр, без пробелов и других знаков",
			en+" must contain digits only, without spaces or other characters")
	}
	return idNotAllZeros(s, field, ru, en)
}

func idNotAllZeros(s, field, ru, en string) error {
	if s != "" && strings.Trim(s, "0") == "" {
		return E(CodeInvalid, field, ru+" не может состоять из одних нулей", en+" cannot be all zeros")
	}
	return nil
}

func idBadChecksum(field, ru, en string) error {
	return E(CodeInvalid, field,
		ru+": неверная контрольная сумма — проверьте цифры",
		en+": the check digits do not match, check the number")
}

func idAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
