package wire

import "testing"

// idCheckProperties asserts what holds for every input of a validator: a
// valid value is digits only with one of the allowed lengths, and since the
// last digit is a check digit, replacing it with any other digit must make
// the value invalid. Errors must be protocol errors on the right field.
func idCheckProperties(t *testing.T, s string, err error, field string, lengths ...int) {
	t.Helper()
	if err != nil {
		if e, ok := AsError(err); !ok || e.Code != CodeInvalid || e.Field != field {
			t.Fatalf("%q: want CodeInvalid on %q, got %#v", s, field, err)
		}
		return
	}
	if !idAllDigits(s) {
		t.Fatalf("%q validated but is not all digits", s)
	}
	okLen := false
	for _, n := range lengths {
		okLen = okLen || len(s) == n
	}
	if !okLen {
		t.Fatalf("%q validated with length %d, want one of %v", s, len(s), lengths)
	}
}

func idMutateLast(s string, d byte) string { return s[:len(s)-1] + string('0'+d) }

func FuzzValidateINN(f *testing.F) {
	for _, s := range []string{"7707083893", "7736207543", "770712345633", "", "7707083894", "77O7083893", "0000000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateINN(s)
		idCheckProperties(t, s, err, "inn", 10, 12)
		if err != nil {
			return
		}
		for d := byte(0); d < 10; d++ {
			if m := idMutateLast(s, d); m != s && ValidateINN(m) == nil {
				t.Fatalf("%q valid and so is %q", s, m)
			}
		}
	})
}

func FuzzValidateOGRN(f *testing.F) {
	for _, s := range []string{"1027700132195", "1027739609391", "304500116000157", "", "1027700132196", "9999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateOGRN(s)
		idCheckProperties(t, s, err, "ogrn", 13, 15)
		if err != nil {
			return
		}
		for d := byte(0); d < 10; d++ {
			if m := idMutateLast(s, d); m != s && ValidateOGRN(m) == nil {
				t.Fatalf("%q valid and so is %q", s, m)
			}
		}
	})
}

func FuzzValidateSNILS(f *testing.F) {
	for _, s := range []string{"112-233-445 95", "11223344595", "001-001-998 42", "087-654-303 00", "", "112-233-445-95", "000-000-000 00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizeSNILS(s)
		if (err == nil) != (ValidateSNILS(s) == nil) {
			t.Fatalf("%q: NormalizeSNILS and ValidateSNILS disagree", s)
		}
		idCheckProperties(t, n, err, "snils", 11)
		if err != nil {
			return
		}
		if s != n && s != n[0:3]+"-"+n[3:6]+"-"+n[6:9]+" "+n[9:11] {
			t.Fatalf("%q accepted but is neither %q nor its formatted form", s, n)
		}
		if n[:9] <= "001001998" {
			return // numbers this low carry no checked check digits
		}
		for d := byte(0); d < 10; d++ {
			if m := idMutateLast(n, d); m != n && ValidateSNILS(m) == nil {
				t.Fatalf("%q valid and so is %q", n, m)
			}
		}
	})
}
