package validate

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/expertiza/expertiza/sync/wire"
)

func billionLaughs() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?>` + "\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n")
	prev := "lol"
	for i := 1; i <= 9; i++ {
		name := "lol" + string(rune('0'+i))
		b.WriteString(` <!ENTITY ` + name + ` "` + strings.Repeat("&"+prev+";", 10) + "\">\n")
		prev = name
	}
	b.WriteString("]>\n<lolz>&lol9;</lolz>\n")
	return b.String()
}

func utf16le(t *testing.T, s string) []byte {
	t.Helper()
	b, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func cp1251(t *testing.T, s string) []byte {
	t.Helper()
	b, err := charmap.Windows1251.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestXML(t *testing.T) {
	dir := t.TempDir()
	v := newValidator(t, DefaultLimits(), "1")
	var sb strings.Builder
	sb.WriteString("<a")
	for i := range xmlMaxAttrs + 1 {
		sb.WriteString(" a" + strconv.Itoa(i) + `="v"`)
	}
	sb.WriteString("/>")
	manyAttrs := sb.String()

	cases := []struct {
		name string
		body []byte
		want want
	}{
		{"conclusion with declaration", []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Заключение номер=\"77-1-1-3-000001-2026\"><Объект>Школа</Объект></Заключение>\n"), accepted()},
		{"no declaration", []byte(`<root/>`), accepted()},
		{"BOM, comment, PI, CDATA", []byte("\xEF\xBB\xBF<?xml version=\"1.0\"?><!-- c --><?pi x?><r><![CDATA[<not a tag=\"\">]]></r>"), accepted()},
		{"windows-1251", append(cp1251(t, `<?xml version="1.0" encoding="windows-1251"?><Смета>Итого</Смета>`), '\n'), accepted()},
		{"utf-16 with BOM", utf16le(t, `<?xml version="1.0" encoding="UTF-16"?><Смета/>`), accepted()},
		{"harmless doctype", []byte(`<?xml version="1.0"?><!DOCTYPE r SYSTEM "r.dtd"><r/>`), accepted()},
		{"billion laughs", []byte(billionLaughs()), refused(wire.CodeInvalid, "<!ENTITY", "без DTD")},
		{"external entity", []byte(`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>`), refused(wire.CodeInvalid, "<!ENTITY")},
		{"parameter entity", []byte(`<!DOCTYPE r [<!ENTITY % p SYSTEM "http://example.invalid/x.dtd"> %p;]><r/>`), refused(wire.CodeInvalid, "<!ENTITY")},
		{"undefined entity", []byte(`<r>&nbsp;</r>`), refused(wire.CodeInvalid, "не является корректным XML", "строке 1")},
		{"100,000 levels", []byte(strings.Repeat("<a>", 100_000) + strings.Repeat("</a>", 100_000)), refused(wire.CodeInvalid, "глубже 256")},
		{"too many attributes", []byte(manyAttrs), refused(wire.CodeInvalid, "больше 10000 атрибутов")},
		{"mismatched tags", []byte("<a>\n<b></a>"), refused(wire.CodeInvalid, "строке 2")},
		{"truncated", []byte(`<?xml version="1.0"?><Заключение><Объект>Шко`), refused(wire.CodeInvalid, "не является корректным XML")},
		{"two roots", []byte(`<a/><b/>`), refused(wire.CodeInvalid, "больше одного корневого")},
		{"text outside the root", []byte(`<a/>trailing`), refused(wire.CodeInvalid, "вне корневого")},
		{"only a declaration", []byte(`<?xml version="1.0"?>` + "\n"), refused(wire.CodeInvalid, "нет корневого")},
		{"unknown encoding", []byte(`<?xml version="1.0" encoding="x-martian"?><a/>`), refused(wire.CodeInvalid, "x-martian", "UTF-8")},
		{"invalid utf-8", []byte("<a>\xff\xfe</a>"), refused(wire.CodeInvalid, "не является корректным XML")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, dir, "doc.xml", tc.body)
			res, err := v.Check(context.Background(), p, "Заключение.XML")
			checkOutcome(t, err, tc.want)
			if err == nil && res.Kind != KindXML {
				t.Fatalf("kind %s", res.Kind)
			}
		})
	}
}

// TestAttrGuard checks that the attribute counter follows XML's lexical
// structure: '=' in text, comments, CDATA, quoted values and declarations
// does not count.
func TestAttrGuard(t *testing.T) {
	cases := []struct {
		name string
		in   string
		max  int
		trip bool
	}{
		{"attributes counted", `<a x="1" y="2" z="3"/>`, 2, true},
		{"at the cap", `<a x="1" y="2"/>`, 2, false},
		{"caps apply per element", `<a x="1" y="2"><b x="1" y="2"/></a>`, 2, false},
		{"equals in text", `<a>x=1 y=2 z=3</a>`, 0, false},
		{"equals in a value", `<a x="=== > '==='"/>`, 1, false},
		{"equals in a comment", `<!-- a=b c=d --><a/>`, 0, false},
		{"equals in CDATA", `<a><![CDATA[ x=1 ]]> y=2 ]]></a>`, 0, false},
		{"equals in a PI", `<?pi a=b c=d?><a/>`, 0, false},
		{"equals in a DOCTYPE", `<!DOCTYPE a [ <!ATTLIST a x CDATA "y=z"> ]><a/>`, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := &attrGuard{r: strings.NewReader(tc.in), max: tc.max}
			_, err := bytes.NewBuffer(nil).ReadFrom(g)
			if tripped := errors.Is(err, errTooManyAttrs); tripped != tc.trip {
				t.Fatalf("tripped %v, want %v (err %v)", tripped, tc.trip, err)
			}
		})
	}
}

// FuzzCheckXML: any input ends in acceptance or an *xmlProblem, never a
// panic or another error, and accepted input has exactly one root.
func FuzzCheckXML(f *testing.F) {
	for _, s := range []string{
		`<?xml version="1.0"?><a x="1"><b/>text</a>`, billionLaughs(), `<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`,
		"<a><![CDATA[x]]></a>", "<!-- c --><a/>", "\xFF\xFE<\x00a\x00/\x00>\x00", `<?xml version="1.0" encoding="windows-1251"?><a/>`,
		strings.Repeat("<a>", 300), "<a/><b/>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := wellFormedXML(context.Background(), bytes.NewReader(data))
		var p *xmlProblem
		if err != nil && !errors.As(err, &p) {
			t.Fatalf("unexpected error type %T: %v", err, err)
		}
	})
}
