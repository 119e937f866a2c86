package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/expertiza/expertiza/sync/wire"
)

// Fuzz targets of the HTTP API's decoders of untrusted input. Each checks
// invariants, not only the absence of a crash: refusals are *wire.Error
// values with a code the error table knows and messages in both languages,
// and whatever is accepted survives encoding and decoding again unchanged.
// Seed corpora: testdata/fuzz/<FuzzName>/.

// command is a request body the strict decoder reads, with the checks the
// server applies to it before touching the database.
type command struct {
	name  string
	new   func() any
	check func(v any) error // nil: decoding is all
}

var a4 = wire.PageSize{W: 595.28, H: 841.89}

// commands are the bodies fuzzed, by index: sign-in, registration, a status
// change, a chat message, an annotation with its geometry, a remark and the
// payment gateway's notice.
var commands = []command{
	{name: "login", new: func() any { return new(wire.LoginRequest) }},
	{name: "register", new: func() any { return new(wire.RegisterRequest) }, check: func(v any) error {
		o := v.(*wire.RegisterRequest).Organisation
		return errors.Join(wire.ValidateINN(o.INN), wire.ValidateOGRN(o.OGRN), wire.ValidEmail("email", v.(*wire.RegisterRequest).Email))
	}},
	{name: "transition", new: func() any { return new(wire.TransitionRequestBody) }},
	{name: "message", new: func() any { return new(wire.PostMessageRequest) }},
	{name: "annotation", new: func() any { return new(wire.CreateAnnotationRequest) }, check: func(v any) error {
		r := v.(*wire.CreateAnnotationRequest)
		if err := wire.ValidateGeometry(r.Kind, r.Geometry, a4); err != nil {
			return err
		}
		b, ok := r.Geometry.Bounds()
		if !ok || b.X1 < 0 || b.Y1 < 0 || b.X2 > a4.W || b.Y2 > a4.H {
			return fmt.Errorf("geometry accepted with bounds %+v (ok %v) outside the page %+v", b, ok, a4)
		}
		if r.Color != "" {
			if err := wire.ValidateColour(r.Color); err != nil {
				return err
			}
		}
		return wire.ValidateAnnotationText(r.Kind, r.Text)
	}},
	{name: "remark", new: func() any { return new(wire.CreateRemarkRequest) }, check: func(v any) error {
		r := v.(*wire.CreateRemarkRequest)
		return wire.ValidateRemarkText(r.Text, r.NormRef, r.Criticality, false)
	}},
	{name: "payment callback", new: func() any { return new(wire.PaymentCallback) }, check: func(v any) error {
		cb := v.(*wire.PaymentCallback)
		return wire.ValidatePaymentInput(cb.AmountKopecks, wire.DateOf(cb.PaidAt), cb.OrderNumber)
	}},
}

// decodeBody runs decode as a handler does: through run's body limit.
func decodeBody(body []byte, v any) error {
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	r.Body = http.MaxBytesReader(w, r.Body, wire.MaxBodyBytes)
	return decode(r, v)
}

// checkRefusal fails unless err is a client error the API answers properly.
func checkRefusal(t *testing.T, what string, err error, codes ...wire.Code) *wire.Error {
	t.Helper()
	var we *wire.Error
	if !errors.As(err, &we) {
		t.Fatalf("%s: refusal %v (%T) is not a *wire.Error", what, err, err)
	}
	if !slices.Contains(codes, we.Code) {
		t.Fatalf("%s: refusal code %s, want one of %v", what, we.Code, codes)
	}
	if s := HTTPStatus(we); s < 400 || s >= 500 {
		t.Fatalf("%s: refusal %s maps to HTTP %d", what, we.Code, s)
	}
	if strings.TrimSpace(we.Message) == "" || strings.TrimSpace(we.MessageEN) == "" {
		t.Fatalf("%s: refusal %+v lacks a message", what, we)
	}
	return we
}

func FuzzDecodeCommand(f *testing.F) {
	seeds := []string{
		`{"login":"ivanov","password":"correct horse battery staple","totp_code":"123456","device_id":"d","device_name":"Ноутбук"}`,
		`{"login":"ivanov","password":"x","unknown":1}`,
		`{"login":"ivanov","organisation":{"name":"ООО «Ромашка»","inn":"7707083893","ogrn":"1027700132195","kpp":"773601001","address":"Москва"},"password":"p","full_name":"И","email":"a@b.ru"}`,
		`{"version":3,"to":"submitted","comment":"Готово"}`,
		`{"channel":"applicant","body":"Добрый день","attachment_ids":[1,2]}`,
		`{"page":1,"kind":"rect","geometry":{"rect":{"x1":10,"y1":10,"x2":100,"y2":50}},"color":"#ff0000"}`,
		`{"page":1,"kind":"highlight","geometry":{"quads":[[1,2,3,4,5,6,7,8]]}}`,
		`{"page":1,"kind":"ink","geometry":{"ink":[[{"x":1,"y":1},{"x":2,"y":2}]]}}`,
		`{"page":1,"kind":"arrow","geometry":{"points":[{"x":1,"y":1},{"x":1e308,"y":2}]}}`,
		`{"version_id":7,"page":2,"rect":{"x1":1,"y1":1,"x2":2,"y2":2},"text":"Нет расчёта","norm_ref":"СП 54.13330.2022 п. 5.3","criticality":"critical"}`,
		`{"payment_id":"sbp-1","invoice_number":"СЧ-2026-000001","amount_kopecks":90000000,"paid_at":"2026-03-02T11:15:00+03:00","order_number":"512"}`,
		`{"paid_at":"0000-01-01T00:00:00+01:00"}`, `{"amount_kopecks":1e30}`, `[1,2,3]`, `"x"`, `null`, `{}`, `{"a":1}{"b":2}`, ``, `{"login":`,
		`{"LOGIN":"case","Login":"dup"}`, `{"geometry":{"rect":{"x1":"1"}}}`,
	}
	for i := range commands {
		for _, s := range seeds {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		c := commands[int(which)%len(commands)]
		v := c.new()
		if err := decodeBody(body, v); err != nil {
			we := checkRefusal(t, c.name+" decode", err, wire.CodeInvalid, wire.CodeTooLarge)
			// A decoding message that speaks of a field names it.
			if strings.Contains(we.Message, "Поле «»") || strings.Contains(we.MessageEN, "Field  ") {
				t.Fatalf("%s: refusal names an empty field: %q / %q", c.name, we.Message, we.MessageEN)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("%s: accepted invalid JSON %q", c.name, body)
		}
		// Round trip: what was accepted encodes to a body that is accepted
		// again and means the same.
		enc, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: accepted value %+v does not encode: %v", c.name, v, err)
		}
		again := c.new()
		if err := decodeBody(enc, again); err != nil {
			t.Fatalf("%s: re-encoded %s refused: %v", c.name, enc, err)
		}
		if enc2, _ := json.Marshal(again); !bytes.Equal(enc, enc2) {
			t.Fatalf("%s: round trip changed the value:\n%s\n%s", c.name, enc, enc2)
		}
		if c.check != nil {
			if err := c.check(v); err != nil {
				var we *wire.Error
				if !errors.As(err, &we) {
					t.Fatalf("%s: %v", c.name, err)
				}
				we = checkRefusal(t, c.name+" validation", err, wire.CodeInvalid, wire.CodeTooLarge)
				if we.Field == "" {
					t.Fatalf("%s: validation refusal %+v names no field", c.name, we)
				}
			}
		}
	})
}

// FuzzAuditQuery: the journal's filters from a query string. A refusal
// names the parameter; an accepted query written back by
// wire.AuditQuery.Values (what the client sends) reads back the same.
func FuzzAuditQuery(f *testing.F) {
	for _, s := range []string{
		"actor=ivanov&action=login&object_type=user&object_id=7&q=текст&actor_id=3&app=5&before=100&limit=50&from=2026-03-01&to=2026-03-31",
		"from=2026-03-01T10:00:00%2B03:00&to=2026-03-01T23:59:59.999999999Z",
		"to=9999-12-31", "from=0000-01-01T00:00:00%2B01:00", "limit=501", "limit=0", "before=-1", "app=x", "from=yesterday",
		"actor=%20%20", "q=%00%ff", "limit=1&limit=2", "%zz",
	} {
		f.Add(s)
	}
	names := []string{"actor_id", "app", "before", "limit", "from", "to"}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return // net/http drops what does not parse before a handler sees it
		}
		q, err := auditQuery(v)
		if err != nil {
			we := checkRefusal(t, "audit query", err, wire.CodeInvalid)
			if !slices.Contains(names, we.Field) {
				t.Fatalf("refusal names %q, not a parameter", we.Field)
			}
			return
		}
		back, err := auditQuery(q.Values())
		if err != nil {
			t.Fatalf("%q accepted as %+v, but its own encoding %q is refused: %v", raw, q, q.Values().Encode(), err)
		}
		if !sameAuditQuery(q, back) {
			t.Fatalf("round trip of %q changed the query:\n%+v\n%+v", raw, q, back)
		}
	})
}

func sameAuditQuery(a, b wire.AuditQuery) bool {
	if !a.From.Equal(b.From) || !a.To.Equal(b.To) {
		return false
	}
	a.From, a.To, b.From, b.To = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

// FuzzReportQuery: a report's parameters (read strictly: unknown or
// repeated ones refused). Same invariants as FuzzAuditQuery.
func FuzzReportQuery(f *testing.F) {
	for _, s := range []string{
		"from=2026-01-01&to=2026-03-31&expert=7&step=week", "step=day", "step=month", "from=2026-02-30", "expert=-1",
		"from=2026-01-01&from=2026-01-02", "colour=red", "from=%202026-01-01%20", "from=0000-01-01", "to=9999-12-31",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := wire.ParseReportQuery(v)
		if err != nil {
			we := checkRefusal(t, "report query", err, wire.CodeInvalid)
			// The field is the parameter at fault; only a parameter
			// without a name ("=", "&=x") is refused under an empty one.
			if _, unnamed := v[""]; we.Field == "" && !unnamed {
				t.Fatalf("refusal %+v names no parameter", we)
			}
			return
		}
		back, err := wire.ParseReportQuery(q.Values())
		if err != nil {
			t.Fatalf("%q accepted as %+v, but its own encoding %q is refused: %v", raw, q, q.Values().Encode(), err)
		}
		if back != q {
			t.Fatalf("round trip of %q changed the query:\n%+v\n%+v", raw, q, back)
		}
		for _, k := range []wire.ReportKind{wire.ReportWorkload, wire.ReportDeadlines, wire.ReportStatusTimeline, wire.ReportStageTimes} {
			if err := q.Validate(k); err != nil {
				checkRefusal(t, "report period", err, wire.CodeInvalid)
			}
		}
	})
}

// rangeFile is what FuzzDownloadRange serves: 1,000 distinct-looking bytes.
var rangeFile = func() []byte {
	b := make([]byte, 1000)
	for i := range b {
		b[i] = byte(i*7 + i/256)
	}
	return b
}()

// FuzzDownloadRange serves a file as the download routes do (ServeContent
// with the version's ETag) under arbitrary Range and If-Range headers.
// The answer is 200 with the whole file, 206 with exactly the bytes its
// Content-Range names (or a multipart of such parts), or 416; and the audit
// row would record a range only for a 206, at most maxAuditedRange bytes.
func FuzzDownloadRange(f *testing.F) {
	for _, s := range []string{"bytes=0-0", "bytes=-10", "bytes=990-", "bytes=1000-", "bytes=10-5", "bytes=0-1,5-6", "bytes=абв",
		"bytes=0-99999999999999999999", "pages=1-2", "bytes= 1 - 2 ", "bytes=0-0,0-0,0-0", "bytes=-0", "bytes=,", ""} {
		f.Add(s, "")
		f.Add(s, `"etag"`)
	}
	f.Add("bytes=1-2", `"other"`)
	f.Fuzz(func(t *testing.T, rangeHeader, ifRange string) {
		if !validHeaderValue(rangeHeader) || !validHeaderValue(ifRange) {
			return // net/http refuses such requests before any handler
		}
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if rangeHeader != "" {
			r.Header.Set("Range", rangeHeader)
		}
		if ifRange != "" {
			r.Header.Set("If-Range", ifRange)
		}
		w.Header().Set("ETag", `"etag"`)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(rangeFile))
		body := w.Body.Bytes()
		switch w.Code {
		case http.StatusOK:
			if !bytes.Equal(body, rangeFile) {
				t.Fatalf("200 with %d bytes, not the file", len(body))
			}
		case http.StatusPartialContent:
			checkParts(t, w.Header(), body)
		case http.StatusRequestedRangeNotSatisfiable:
		default:
			t.Fatalf("Range %q If-Range %q: HTTP %d", rangeHeader, ifRange, w.Code)
		}
		rec := auditedRange(w.Code, rangeHeader)
		if len(rec) > maxAuditedRange || (w.Code != http.StatusPartialContent && rec != "") || !utf8.ValidString(rec) && utf8.ValidString(rangeHeader) {
			t.Fatalf("HTTP %d records range %q", w.Code, rec)
		}
	})
}

// checkParts checks a 206 body against the file: one part named by
// Content-Range, or a multipart/byteranges body of such parts.
func checkParts(t *testing.T, h http.Header, body []byte) {
	t.Helper()
	part := func(cr string, data []byte) {
		if cr == fmt.Sprintf("bytes %d-%d/%d", len(rangeFile), len(rangeFile)-1, len(rangeFile)) && len(data) == 0 {
			// net/http answers a zero suffix (bytes=-0) with an empty 206
			// and this malformed Content-Range instead of 416
			// (golang/go#81262): no byte of the file is served.
			return
		}
		var first, last, size int
		if _, err := fmt.Sscanf(cr, "bytes %d-%d/%d", &first, &last, &size); err != nil || size != len(rangeFile) ||
			first < 0 || last < first || last >= size {
			t.Fatalf("Content-Range %q: %v", cr, err)
		}
		if !bytes.Equal(data, rangeFile[first:last+1]) {
			t.Fatalf("part %q does not hold those bytes", cr)
		}
	}
	if cr := h.Get("Content-Range"); cr != "" {
		part(cr, body)
		return
	}
	ct := h.Get("Content-Type")
	_, boundary, ok := strings.Cut(ct, "boundary=")
	if !ok {
		t.Fatalf("206 without Content-Range or multipart type (%q)", ct)
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	n := 0
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("multipart body: %v", err)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			t.Fatalf("multipart part: %v", err)
		}
		part(p.Header.Get("Content-Range"), data)
		n++
	}
	if n < 2 {
		t.Fatalf("multipart 206 with %d parts", n)
	}
}

// validHeaderValue reports whether net/http would carry v as a header
// value (no control characters but tab; RFC 9110 field-value).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
