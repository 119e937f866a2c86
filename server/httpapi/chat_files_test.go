package httpapi

import (
	"mime"
	"testing"
)

// TestContentDisposition checks the header decodes back to the exact file
// name (Go's mime package reads the RFC 2231/5987 form, as browsers do)
// and that the ASCII fallback carries nothing that could break the header.
func TestContentDisposition(t *testing.T) {
	tests := []struct {
		name, fallback string
	}{
		{"report.pdf", "report.pdf"},
		{"Ответ на замечания №1.pdf", "_____ __ _________ _1.pdf"},
		{`a"b;c%d\e.txt`, "a_b_c_d_e.txt"},
		{"план (ред. 2) 100%.dwg", "____ (___. 2) 100_.dwg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := contentDisposition(tt.name)
			disp, params, err := mime.ParseMediaType(h)
			if err != nil {
				t.Fatalf("%q does not parse: %v", h, err)
			}
			if disp != "attachment" || params["filename"] != tt.name {
				t.Errorf("%q decodes to %s %q, want attachment %q", h, disp, params["filename"], tt.name)
			}
			// Without filename*, the fallback is what an old agent sees.
			_, old, err := mime.ParseMediaType(`attachment; filename="` + tt.fallback + `"`)
			if err != nil || old["filename"] != tt.fallback {
				t.Fatalf("fallback %q: %v", tt.fallback, err)
			}
			if want := `attachment; filename="` + tt.fallback + `"; `; len(h) < len(want) || h[:len(want)] != want {
				t.Errorf("%q does not start with %q", h, want)
			}
		})
	}
}
