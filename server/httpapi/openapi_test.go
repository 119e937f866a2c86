package httpapi

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/expertiza/expertiza/sync/wire"
)

// The tests below hold openapi.json to the routes the server registers:
// a route added without documentation, a documented operation that no
// longer exists, a dangling $ref, a lax request schema or an error code
// under the wrong HTTP status all fail here.

// openapiMethods are the operation keys of an OpenAPI path item.
var openapiMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// publicOperations are the operations documented with `security: []`.
// Authenticated operations are checked against the handlers' behaviour
// (TestOpenAPIAuthenticatedOperationsRefuseAnonymous); a public one must
// be listed here on purpose.
var publicOperations = []string{
	"GET /healthz",
	"GET /readyz",
	"GET /metrics",
	"GET /api/v1/openapi.json",
	"GET /api/v1/ws",
	"POST /api/v1/auth/register",
	"POST /api/v1/auth/login",
	"GET /api/v1/calendar",
	"GET /api/v1/sections",
	"POST /api/v1/payments/callback", // authenticated by an HMAC of the body, not a session
}

// testAPI builds the handler tree without a service: New only registers
// handlers. A registry is passed so /metrics is registered too.
func testAPI(t *testing.T) *API {
	t.Helper()
	return New(nil, nil, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
}

func loadOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(openapiDoc, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	return doc
}

// docOperation is one method of one path of the document.
type docOperation struct {
	method, path string // "GET", "/api/v1/me"
	op           map[string]any
}

func (o docOperation) key() string { return o.method + " " + o.path }

func docOperations(t *testing.T, doc map[string]any) []docOperation {
	t.Helper()
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		t.Fatal("openapi.json has no paths object")
	}
	var out []docOperation
	for path, item := range paths {
		pi, ok := item.(map[string]any)
		if !ok {
			t.Fatalf("path item %s is not an object", path)
		}
		for _, m := range openapiMethods {
			if op, ok := pi[m]; ok {
				o, ok := op.(map[string]any)
				if !ok {
					t.Fatalf("%s %s is not an object", m, path)
				}
				out = append(out, docOperation{method: strings.ToUpper(m), path: path, op: o})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}

// routeKey turns a Go 1.22 ServeMux pattern ("POST /api/v1/x/{id}") into
// the document's "METHOD /path" form: "{name...}" becomes "{name}" and a
// trailing "{$}" is dropped.
func routeKey(pattern string) (string, error) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || method == "" {
		return "", fmt.Errorf("pattern %q has no method: every route must name one", pattern)
	}
	path = strings.TrimSpace(path)
	if !strings.HasPrefix(path, "/") {
		return "", fmt.Errorf("pattern %q has a host or no path: the document cannot describe it", pattern)
	}
	path = strings.TrimSuffix(path, "{$}")
	path = strings.ReplaceAll(path, "...}", "}")
	return strings.ToUpper(method) + " " + path, nil
}

func registeredRoutes(t *testing.T) map[string]string {
	t.Helper()
	routes := testAPI(t).Routes()
	if len(routes) == 0 {
		t.Fatal("Routes() is empty")
	}
	out := map[string]string{}
	for _, r := range routes {
		k, err := routeKey(r)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = r
	}
	return out
}

func TestRouteKey(t *testing.T) {
	for _, tc := range []struct {
		pattern, want string
		bad           bool
	}{
		{pattern: "GET /healthz", want: "GET /healthz"},
		{pattern: "POST /api/v1/applications/{id}/transition", want: "POST /api/v1/applications/{id}/transition"},
		{pattern: "GET /files/{path...}", want: "GET /files/{path}"},
		{pattern: "GET /api/v1/{$}", want: "GET /api/v1/"},
		{pattern: "/api/v1/any", bad: true},
		{pattern: "GET example.com/x", bad: true},
	} {
		got, err := routeKey(tc.pattern)
		if tc.bad {
			if err == nil {
				t.Errorf("routeKey(%q) = %q, want an error", tc.pattern, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("routeKey(%q) = %q, %v; want %q", tc.pattern, got, err, tc.want)
		}
	}
}

func TestOpenAPIDocument(t *testing.T) {
	if !json.Valid(openapiDoc) {
		t.Fatal("openapi.json is not valid JSON")
	}
	doc := loadOpenAPI(t)
	if v := doc["openapi"]; v != "3.0.3" {
		t.Errorf("openapi = %v, want 3.0.3", v)
	}
	info, _ := doc["info"].(map[string]any)
	for _, f := range []string{"title", "version"} {
		if s, _ := info[f].(string); s == "" {
			t.Errorf("info.%s is missing", f)
		}
	}
	schemes, _ := jsonPath(doc, "components", "securitySchemes", "bearerAuth").(map[string]any)
	if schemes["type"] != "http" || schemes["scheme"] != "bearer" {
		t.Errorf("components.securitySchemes.bearerAuth = %v, want an http bearer scheme", schemes)
	}
	sec, _ := doc["security"].([]any)
	if len(sec) != 1 {
		t.Errorf("top-level security = %v, want bearerAuth", doc["security"])
	}
}

// TestOpenAPICoversEveryRoute fails when a route is registered without
// being documented.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	doc := loadOpenAPI(t)
	documented := map[string]bool{}
	for _, o := range docOperations(t, doc) {
		documented[o.key()] = true
	}
	routes := registeredRoutes(t)
	if _, ok := routes["GET /metrics"]; !ok {
		t.Error("GET /metrics is not registered although New got a registry")
	}
	for key, pattern := range routes {
		t.Run(pattern, func(t *testing.T) {
			if !documented[key] {
				method, path, _ := strings.Cut(key, " ")
				t.Errorf("route %q is not documented: add paths[%q].%s to openapi.json", pattern, path, strings.ToLower(method))
			}
		})
	}
}

// TestOpenAPIHasNoStaleOperations fails when the document describes an
// operation no route serves.
func TestOpenAPIHasNoStaleOperations(t *testing.T) {
	routes := registeredRoutes(t)
	for _, o := range docOperations(t, loadOpenAPI(t)) {
		t.Run(o.key(), func(t *testing.T) {
			if _, ok := routes[o.key()]; !ok {
				t.Errorf("openapi.json documents %s but no such route is registered", o.key())
			}
		})
	}
}

// jsonPath walks nested objects by keys.
func jsonPath(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// resolvePointer resolves a local reference ("#/components/schemas/X").
func resolvePointer(doc map[string]any, ref string) (any, error) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("%q is not a local reference", ref)
	}
	var cur any = doc
	for _, tok := range strings.Split(rest, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("%q: no %q", ref, tok)
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("%q: bad index %q", ref, tok)
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("%q: cannot descend into %q", ref, tok)
		}
	}
	return cur, nil
}

// deref follows $ref chains.
func deref(t *testing.T, doc map[string]any, v any) map[string]any {
	t.Helper()
	for range 16 {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		r, err := resolvePointer(doc, ref)
		if err != nil {
			t.Fatal(err)
		}
		v = r
	}
	t.Fatal("$ref chain too long")
	return nil
}

func TestOpenAPIRefsResolve(t *testing.T) {
	doc := loadOpenAPI(t)
	n := 0
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"]; ok {
				n++
				s, ok := ref.(string)
				if !ok {
					t.Errorf("%s: $ref is not a string", at)
				} else if _, err := resolvePointer(doc, s); err != nil {
					t.Errorf("%s: unresolved $ref: %v", at, err)
				}
			}
			for k, e := range x {
				walk(at+"/"+k, e)
			}
		case []any:
			for i, e := range x {
				walk(at+"/"+strconv.Itoa(i), e)
			}
		}
	}
	walk("#", doc)
	if n == 0 {
		t.Error("no $ref found: the walk is broken")
	}
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

func TestOpenAPIOperations(t *testing.T) {
	doc := loadOpenAPI(t)
	ids := map[string]string{}
	for _, o := range docOperations(t, doc) {
		t.Run(o.key(), func(t *testing.T) {
			id, _ := o.op["operationId"].(string)
			if id == "" {
				t.Error("no operationId")
			} else if prev, dup := ids[id]; dup {
				t.Errorf("operationId %q is also used by %s", id, prev)
			}
			ids[id] = o.key()
			if s, _ := o.op["summary"].(string); s == "" {
				t.Error("no summary")
			}
			responses, _ := o.op["responses"].(map[string]any)
			if len(responses) == 0 {
				t.Fatal("no responses")
			}
			success := false
			for code := range responses {
				if n, err := strconv.Atoi(code); err == nil && n < 400 {
					success = true
				}
			}
			if !success {
				t.Error("no success response")
			}

			// Path parameters: exactly the {names} of the path, required.
			want := map[string]bool{}
			for _, m := range pathParam.FindAllStringSubmatch(o.path, -1) {
				want[m[1]] = true
			}
			got := map[string]bool{}
			headers := map[string]bool{}
			params, _ := o.op["parameters"].([]any)
			for _, p := range params {
				pm := deref(t, doc, p)
				name, _ := pm["name"].(string)
				switch pm["in"] {
				case "path":
					got[name] = true
					if pm["required"] != true {
						t.Errorf("path parameter %q is not required", name)
					}
				case "header":
					headers[name] = true
				}
			}
			for n := range want {
				if !got[n] {
					t.Errorf("path parameter %q is not documented", n)
				}
			}
			for n := range got {
				if !want[n] {
					t.Errorf("path parameter %q is not in the path", n)
				}
			}

			// Security: public operations are the listed ones; the others
			// inherit bearerAuth, answer 401, and mutating ones take an
			// Idempotency-Key.
			sec, overridden := o.op["security"].([]any)
			public := overridden && len(sec) == 0
			if public != slices.Contains(publicOperations, o.key()) {
				t.Errorf("public (security: []) = %v; publicOperations disagrees", public)
			}
			if overridden && !public {
				t.Errorf("security overridden with %v; authenticated operations inherit the top-level bearerAuth", sec)
			}
			if !public {
				if _, ok := responses["401"]; !ok {
					t.Error("authenticated operation without a 401 response")
				}
				if o.method != http.MethodGet && !headers[wire.HeaderIdempotencyKey] {
					t.Errorf("mutating authenticated operation without the %s header parameter", wire.HeaderIdempotencyKey)
				}
			}
		})
	}
}

// TestOpenAPIAuthenticatedOperationsRefuseAnonymous checks the security
// marking against the handlers: every operation documented as
// authenticated must answer 401 unauthenticated without a token (the
// handler refuses before it reaches the service, which is nil here).
func TestOpenAPIAuthenticatedOperationsRefuseAnonymous(t *testing.T) {
	api := testAPI(t)
	for _, o := range docOperations(t, loadOpenAPI(t)) {
		if sec, ok := o.op["security"].([]any); ok && len(sec) == 0 {
			continue
		}
		t.Run(o.key(), func(t *testing.T) {
			path := pathParam.ReplaceAllString(o.path, "1")
			req := httptest.NewRequest(o.method, path, strings.NewReader("{}"))
			rec := httptest.NewRecorder()
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("documented as authenticated, but the handler ran without a token (panic: %v)", r)
					}
				}()
				api.ServeHTTP(rec, req)
			}()
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("status %d without a token, want 401", rec.Code)
			}
			var e wire.Error
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code != wire.CodeUnauthenticated {
				t.Errorf("body %q, want an Error with code unauthenticated", rec.Body.String())
			}
		})
	}
}

// errorCodes returns the code enum of an error response schema that
// references components/schemas/Error, directly or through allOf.
func errorCodes(t *testing.T, doc map[string]any, schema any) (codes []string, refsError bool) {
	t.Helper()
	m, _ := schema.(map[string]any)
	if m == nil {
		return nil, false
	}
	if ref, _ := m["$ref"].(string); ref == "#/components/schemas/Error" {
		return nil, true
	}
	if enum, ok := jsonPath(m, "properties", "code", "enum").([]any); ok {
		for _, c := range enum {
			s, _ := c.(string)
			codes = append(codes, s)
		}
	}
	all, _ := m["allOf"].([]any)
	for _, part := range all {
		c, r := errorCodes(t, doc, part)
		codes = append(codes, c...)
		refsError = refsError || r
	}
	return codes, refsError
}

// nonErrorResponses are error statuses whose body is not an Error.
var nonErrorResponses = map[string]bool{
	"GET /readyz 503": true, // Health with status "unavailable"
}

// TestOpenAPIErrorResponses checks every documented error response is an
// Error and lists only codes that errors.go maps to that HTTP status.
func TestOpenAPIErrorResponses(t *testing.T) {
	doc := loadOpenAPI(t)
	for _, o := range docOperations(t, doc) {
		responses, _ := o.op["responses"].(map[string]any)
		for status, r := range responses {
			n, err := strconv.Atoi(status)
			if err != nil || n < 400 {
				continue
			}
			if nonErrorResponses[o.key()+" "+status] {
				continue
			}
			resp := deref(t, doc, r)
			schema := jsonPath(resp, "content", "application/json", "schema")
			if schema == nil {
				continue // plain-text answers of the WebSocket handshake
			}
			t.Run(o.key()+" "+status, func(t *testing.T) {
				codes, refsError := errorCodes(t, doc, schema)
				if !refsError {
					t.Error("error response does not reference components/schemas/Error")
				}
				if len(codes) == 0 {
					t.Error("error response lists no codes")
				}
				for _, c := range codes {
					want, ok := statusOf[wire.Code(c)]
					if !ok {
						t.Errorf("code %q is not in the statusOf table", c)
					} else if want != n {
						t.Errorf("code %q is documented under %d but errors.go answers it with %d", c, n, want)
					}
				}
			})
		}
	}
	// The ErrorCode enum is exactly the codes of the table.
	var enum []string
	for _, v := range jsonPath(doc, "components", "schemas", "ErrorCode", "enum").([]any) {
		enum = append(enum, v.(string))
	}
	var table []string
	for c := range statusOf {
		table = append(table, string(c))
	}
	sort.Strings(enum)
	sort.Strings(table)
	if !slices.Equal(enum, table) {
		t.Errorf("ErrorCode enum %v, statusOf has %v", enum, table)
	}
}

// TestOpenAPIRequestBodiesAreStrict checks every object a request body
// may contain forbids additional properties, as decode() does.
func TestOpenAPIRequestBodiesAreStrict(t *testing.T) {
	doc := loadOpenAPI(t)
	for _, o := range docOperations(t, doc) {
		body, ok := o.op["requestBody"]
		if !ok {
			continue
		}
		t.Run(o.key(), func(t *testing.T) {
			content, _ := jsonPath(deref(t, doc, body), "content").(map[string]any)
			if _, raw := content["application/octet-stream"]; raw && len(content) == 1 {
				return // raw bytes (an upload chunk): there is no JSON to decode strictly
			}
			schema := jsonPath(content, "application/json", "schema")
			if schema == nil {
				t.Fatal("request body without an application/json schema")
			}
			seen := map[string]bool{}
			var check func(at string, v any)
			check = func(at string, v any) {
				m, _ := v.(map[string]any)
				if m == nil {
					return
				}
				if ref, ok := m["$ref"].(string); ok {
					if seen[ref] {
						return
					}
					seen[ref] = true
					check(ref, deref(t, doc, m))
					return
				}
				if m["type"] == "object" || m["properties"] != nil {
					if m["additionalProperties"] != false {
						t.Errorf("%s: object without additionalProperties: false (decode refuses unknown fields)", at)
					}
				}
				if props, ok := m["properties"].(map[string]any); ok {
					for k, p := range props {
						check(at+"."+k, p)
					}
				}
				check(at+"[]", m["items"])
				for _, key := range []string{"allOf", "oneOf", "anyOf"} {
					parts, _ := m[key].([]any)
					for i, p := range parts {
						check(fmt.Sprintf("%s.%s[%d]", at, key, i), p)
					}
				}
			}
			check("body", schema)
		})
	}
}

func strs[T ~string](vs ...T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// TestOpenAPIEnumsMatchWire compares the document's enums with the wire
// package's values.
func TestOpenAPIEnumsMatchWire(t *testing.T) {
	doc := loadOpenAPI(t)
	for _, tc := range []struct {
		schema string
		want   []string
	}{
		{"Status", strs(wire.AllStatuses...)},
		{"Role", strs(wire.AllRoles...)},
		{"NotificationKind", strs(wire.AllNotificationKinds...)},
		{"ExpertiseKind", strs(wire.KindProjectDocs, wire.KindSurveys, wire.KindProjectDocsAndSurvey, wire.KindEstimate)},
		{"WorksKind", strs(wire.WorksConstruction, wire.WorksReconstruction, wire.WorksOverhaul)},
		{"Financing", strs(wire.FinancingBudget, wire.FinancingNonBudget, wire.FinancingMixed)},
		{"Channel", strs(wire.ChannelApplicant, wire.ChannelStaff)},
		{"EmailMode", strs(wire.EmailInstant, wire.EmailDaily, wire.EmailWeekly)},
		{"SessionScope", []string{wire.ScopeFull, wire.ScopeEnrol}},
		{"EventKind", strs(wire.EventApplication, wire.EventApplicationGone, wire.EventStatusChanged, wire.EventMessage,
			wire.EventMessageRead, wire.EventNotification, wire.EventNotificationRead, wire.EventSessionRevoked, wire.EventUser,
			wire.EventDocumentVersion, wire.EventUploadProgress, wire.EventAnnotation, wire.EventAnnotationDelete, wire.EventAnnotationReply,
			wire.EventRemark, wire.EventRemarkDelete, wire.EventNoticePublished, wire.EventNoticeLetter, wire.EventConclusion, wire.EventContract)},
		{"AnnotationKind", strs(wire.AllAnnotationKinds...)},
		{"AnnotationStatus", strs(wire.AllAnnotationStatuses...)},
		{"RemarkStatus", strs(wire.AllRemarkStatuses...)},
		{"Criticality", strs(wire.CriticalityCritical, wire.CriticalityOrdinary)},
		{"FrameType", []string{wire.FrameHello, wire.FramePresence, wire.FrameTyping, wire.FrameWelcome, wire.FrameEvent,
			wire.FrameReplayDone, wire.FrameResync, wire.FrameEphemeral, wire.FrameError}},
	} {
		t.Run(tc.schema, func(t *testing.T) {
			raw, ok := jsonPath(doc, "components", "schemas", tc.schema, "enum").([]any)
			if !ok {
				t.Fatalf("components/schemas/%s has no enum", tc.schema)
			}
			var got []string
			for _, v := range raw {
				got = append(got, v.(string))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("enum %v, wire has %v", got, tc.want)
			}
		})
	}
	// Validity checks, where the wire type has one, catch a stale value.
	for _, tc := range []struct {
		schema string
		valid  func(string) bool
	}{
		{"ExpertiseKind", func(s string) bool { return wire.ExpertiseKind(s).Valid() }},
		{"WorksKind", func(s string) bool { return wire.WorksKind(s).Valid() }},
		{"Financing", func(s string) bool { return wire.Financing(s).Valid() }},
		{"Channel", func(s string) bool { return wire.Channel(s).Valid() }},
	} {
		for _, v := range jsonPath(doc, "components", "schemas", tc.schema, "enum").([]any) {
			if s, _ := v.(string); !tc.valid(s) {
				t.Errorf("%s enum value %q is not Valid() in wire", tc.schema, s)
			}
		}
	}
}

// TestOpenAPIServed checks the route answers the embedded document.
func TestOpenAPIServed(t *testing.T) {
	rec := httptest.NewRecorder()
	testAPI(t).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, wire.APIPrefix+"/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	if rec.Body.String() != string(openapiDoc) {
		t.Error("the served body differs from the embedded document")
	}
}
