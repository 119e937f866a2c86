package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

func post(t *testing.T, url, token string, body []byte, header map[string]string) (int, http.Header, wire.Error, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var we wire.Error
	_ = json.Unmarshal(raw, &we)
	return resp.StatusCode, resp.Header, we, raw
}

// TestBadInput: every malformed request gets a clear error naming what to
// fix, and nothing is stored.
func TestBadInput(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Config())
	app := testenv.Applicant(t, s)
	url := s.URL() + wire.APIPrefix + "/applications"
	valid := `{"object_name":"Дом","object_address":"Москва","works_kind":"construction","expertise_kind":"project_docs","financing":"budget"}`
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantCode   wire.Code
		wantField  string
		wantInMsg  string
	}{
		{"malformed JSON", `{"object_name": "Дом",`, 400, wire.CodeInvalid, "", "JSON"},
		{"not an object", `[1,2,3]`, 400, wire.CodeInvalid, "", ""},
		{"empty body", ``, 400, wire.CodeInvalid, "", "Пустое"},
		{"unknown field", strings.Replace(valid, "{", `{"colour":"red",`, 1), 400, wire.CodeInvalid, "colour", "colour"},
		{"wrong type", strings.Replace(valid, `"Дом"`, `42`, 1), 400, wire.CodeInvalid, "object_name", "object_name"},
		{"trailing data", valid + `{"x":1}`, 400, wire.CodeInvalid, "", "лишние"},
		{"oversize body", `{"object_name":"` + strings.Repeat("я", wire.MaxBodyBytes) + `"}`, 413, wire.CodeTooLarge, "", "КиБ"},
		{"missing object name", strings.Replace(valid, `"object_name":"Дом",`, ``, 1), 400, wire.CodeInvalid, "object_name", "наименование"},
		{"unknown works kind", strings.Replace(valid, `"construction"`, `"demolition"`, 1), 400, wire.CodeInvalid, "works_kind", "вид работ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, we, raw := post(t, url, app.C.Token(), []byte(tt.body), nil)
			if status != tt.wantStatus || we.Code != tt.wantCode || we.Field != tt.wantField || !strings.Contains(we.Message, tt.wantInMsg) || we.MessageEN == "" {
				t.Fatalf("got %d %s", status, raw)
			}
		})
	}
	items, err := app.C.Applications(t.Context(), clientFilter())
	if err != nil || len(items) != 0 {
		t.Fatalf("bad requests stored something: %v %v", items, err)
	}
}

// TestRegisterChecksums: a wrong ИНН/ОГРН checksum is refused naming the field.
func TestRegisterChecksums(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Config())
	url := s.URL() + wire.APIPrefix + "/auth/register"
	reg := func(inn, ogrn string) string {
		return `{"login":"new.user","password":"correct horse battery staple","full_name":"Тест","email":"t@example.ru",` +
			`"organisation":{"name":"ООО «Тест»","inn":"` + inn + `","ogrn":"` + ogrn + `","address":"Москва"}}`
	}
	goodINN, goodOGRN := testenv.ValidINN(4242), testenv.ValidOGRN(4242)
	badINN := goodINN[:9] + string('0'+(goodINN[9]-'0'+1)%10)
	badOGRN := goodOGRN[:12] + string('0'+(goodOGRN[12]-'0'+1)%10)
	for _, tt := range []struct{ name, body, field string }{
		{"INN checksum", reg(badINN, goodOGRN), "organisation.inn"},
		{"OGRN checksum", reg(goodINN, badOGRN), "organisation.ogrn"},
		{"INN length", reg("12345", goodOGRN), "organisation.inn"},
	} {
		status, _, we, raw := post(t, url, "", []byte(tt.body), nil)
		if status != 400 || we.Field != tt.field {
			t.Errorf("%s: %d %s", tt.name, status, raw)
		}
	}
	if status, _, _, raw := post(t, url, "", []byte(reg(goodINN, goodOGRN)), nil); status != 201 {
		t.Fatalf("valid registration: %d %s", status, raw)
	}
}

// TestIdempotencyOverHTTP: a retried command applies once.
func TestIdempotencyOverHTTP(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Config())
	app := testenv.Applicant(t, s)
	url := s.URL() + wire.APIPrefix + "/applications"
	body := []byte(`{"object_name":"Дом","object_address":"Москва","works_kind":"construction","expertise_kind":"project_docs","financing":"budget"}`)
	key := map[string]string{wire.HeaderIdempotencyKey: "retry-1"}
	st1, _, _, raw1 := post(t, url, app.C.Token(), body, key)
	st2, h2, _, raw2 := post(t, url, app.C.Token(), body, key)
	if st1 != 201 || st2 != 201 || h2.Get("Idempotent-Replayed") != "true" || !bytes.Equal(bytes.TrimSpace(raw1), bytes.TrimSpace(raw2)) {
		t.Fatalf("first %d %s; retry %d %s", st1, raw1, st2, raw2)
	}
	other := bytes.Replace(body, []byte("Дом"), []byte("Школа"), 1)
	if st, _, we, _ := post(t, url, app.C.Token(), other, key); st != 422 || we.Code != wire.CodeIdempotencyReuse {
		t.Fatalf("reused key with another body: %d %s", st, we.Code)
	}
	items, err := app.C.Applications(t.Context(), clientFilter())
	if err != nil || len(items) != 1 {
		t.Fatalf("want exactly one application, got %d (%v)", len(items), err)
	}
}

// TestLoginRateLimit: an address gets 429 with Retry-After past the burst.
func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	cfg := testenv.Config()
	cfg.LoginPerMinute, cfg.LoginBurst = 10, 10
	s := testenv.Start(t, cfg)
	url := s.URL() + wire.APIPrefix + "/auth/login"
	var limited int
	for i := 0; i < 15; i++ {
		st, h, we, _ := post(t, url, "", []byte(`{"login":"nobody","password":"wrong password"}`), nil)
		switch st {
		case 401:
			if we.Code != wire.CodeInvalidCredentials {
				t.Fatalf("attempt %d: %s", i, we.Code)
			}
		case 429:
			limited++
			if h.Get("Retry-After") == "" || we.Code != wire.CodeRateLimited {
				t.Fatalf("429 without Retry-After or code: %v %s", h, we.Code)
			}
		default:
			t.Fatalf("attempt %d: HTTP %d", i, st)
		}
	}
	if limited != 5 {
		t.Fatalf("%d of 15 attempts limited, want 5 (burst 10)", limited)
	}
}

// TestUnauthenticated: missing, garbage and revoked tokens get 401.
func TestUnauthenticated(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Config())
	app := testenv.Applicant(t, s)
	token := app.C.Token()
	if err := app.C.Logout(t.Context()); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"none": "", "garbage": "not-a-token", "revoked": token} {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+wire.APIPrefix+"/applications", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var we wire.Error
		_ = json.NewDecoder(resp.Body).Decode(&we)
		resp.Body.Close()
		if resp.StatusCode != 401 || we.Code != wire.CodeUnauthenticated {
			t.Errorf("%s token: %d %s", name, resp.StatusCode, we.Code)
		}
	}
}
