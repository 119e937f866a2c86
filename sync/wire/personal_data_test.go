package wire

import "testing"

func TestPassportAndMasks(t *testing.T) {
	tests := []struct {
		in, digits, formatted, masked string
		bad                           bool
	}{
		{in: "45 06 123456", digits: "4506123456", formatted: "45 06 123456", masked: "** ** ***456"},
		{in: "4506 123456", digits: "4506123456", formatted: "45 06 123456", masked: "** ** ***456"},
		{in: " 4506123456 ", digits: "4506123456", formatted: "45 06 123456", masked: "** ** ***456"},
		{in: "4506-123456", digits: "4506123456", formatted: "45 06 123456", masked: "** ** ***456"},
		{in: "45 06 12345", bad: true},
		{in: "45 06 1234567", bad: true},
		{in: "45 O6 123456", bad: true},
		{in: "0000000000", bad: true},
		{in: "", bad: true},
	}
	for _, tt := range tests {
		d, err := NormalizePassport(tt.in)
		if tt.bad {
			if e, ok := AsError(err); !ok || e.Field != "passport" {
				t.Errorf("%q: %v, want an invalid passport", tt.in, err)
			}
			continue
		}
		if err != nil || d != tt.digits || FormatPassport(d) != tt.formatted || MaskPassport(d) != tt.masked {
			t.Errorf("%q: %q %q %q %v", tt.in, d, FormatPassport(d), MaskPassport(d), err)
		}
	}
	if got := MaskSNILS("11223344595"); got != "***-***-*** 95" {
		t.Errorf("MaskSNILS = %q", got)
	}
	if got := FormatSNILS("11223344595"); got != "112-233-445 95" {
		t.Errorf("FormatSNILS = %q", got)
	}
	if MaskSNILS("") != "" || MaskPassport("") != "" {
		t.Error("an absent value is masked as something")
	}
}
