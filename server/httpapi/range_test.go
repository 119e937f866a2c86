package httpapi_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/expertiza/expertiza/sync/wire"
)

// maxAuditedRange bounds the Range header copied into a download's audit
// row (httpapi.maxAuditedRange).
const maxAuditedRange = 256

// TestDownloadRangeHostile sends hostile Range headers to a real download.
// Each answer is one of 200 (the whole file), 206 (exactly the bytes asked
// for) or 416, and the audit row of a served file records a range only
// when one was served (206), bounded in length: a client cannot write
// what it likes, at 1 MB a request, into the append-only journal.
func TestDownloadRangeHostile(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a := w.app("submitted", false)
	vid := w.versions[a.ID]
	token := w.actors["member"].C.Token()
	path := fmt.Sprintf("%s/api/v1/versions/%d/content", w.s.URL(), vid)

	get := func(t *testing.T, header http.Header) (int, http.Header, []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header = header.Clone()
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header, body
	}
	st, _, whole := get(t, http.Header{})
	if st != http.StatusOK || len(whole) < 20 {
		t.Fatalf("plain download: %d, %d bytes", st, len(whole))
	}
	n := len(whole)
	long := "bytes=" + strings.Repeat("0-0,", 20000) + "0-0" // 80 KB, valid syntax
	cases := []struct {
		name   string
		header http.Header
		want   int
	}{
		{"first byte", http.Header{"Range": {"bytes=0-0"}}, http.StatusPartialContent},
		{"suffix", http.Header{"Range": {"bytes=-10"}}, http.StatusPartialContent},
		{"open end", http.Header{"Range": {fmt.Sprintf("bytes=%d-", n-5)}}, http.StatusPartialContent},
		{"past the end", http.Header{"Range": {fmt.Sprintf("bytes=%d-", n+5)}}, http.StatusRequestedRangeNotSatisfiable},
		{"inverted", http.Header{"Range": {"bytes=10-5"}}, http.StatusRequestedRangeNotSatisfiable},
		{"garbage", http.Header{"Range": {"bytes=абв"}}, http.StatusRequestedRangeNotSatisfiable},
		{"overflowing number", http.Header{"Range": {"bytes=0-99999999999999999999999"}}, http.StatusRequestedRangeNotSatisfiable},
		{"other unit", http.Header{"Range": {"pages=1-2"}}, http.StatusRequestedRangeNotSatisfiable},
		{"ranges adding up past the size", http.Header{"Range": {long}}, http.StatusOK},
		{"If-Range that does not match", http.Header{"Range": {"bytes=0-0," + strings.Repeat("x", 60000)}, "If-Range": {`"not-the-etag"`}}, http.StatusOK},
		{"If-Range that matches", http.Header{"Range": {"bytes=1-2"}, "If-Range": {`"` + fixtureSum + `"`}}, http.StatusPartialContent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			after := lastAuditID(t, w)
			st, h, body := get(t, tc.header)
			if st != tc.want {
				t.Fatalf("HTTP %d, want %d", st, tc.want)
			}
			switch st {
			case http.StatusOK:
				if !bytes.Equal(body, whole) {
					t.Fatalf("200 with %d bytes, not the file's %d", len(body), n)
				}
			case http.StatusPartialContent:
				var first, last, size int
				if _, err := fmt.Sscanf(h.Get("Content-Range"), "bytes %d-%d/%d", &first, &last, &size); err != nil || size != n {
					t.Fatalf("Content-Range %q: %v", h.Get("Content-Range"), err)
				}
				if !bytes.Equal(body, whole[first:last+1]) {
					t.Fatalf("206 body is not bytes %d-%d of the file", first, last)
				}
			}
			rows := findAudit(t, w, wire.AuditFileDownload, after)
			if st == http.StatusRequestedRangeNotSatisfiable {
				if len(rows) != 0 {
					t.Fatalf("nothing served, yet journaled: %+v", rows)
				}
				return
			}
			if len(rows) != 1 {
				t.Fatalf("%d download rows, want 1", len(rows))
			}
			r, has := rows[0].Details["range"].(string)
			switch {
			case st == http.StatusOK && has:
				t.Fatalf("the whole file was served, yet the row records range %.80q… (%d bytes)", r, len(r))
			case st == http.StatusPartialContent && (!has || len(r) > maxAuditedRange):
				t.Fatalf("206 row records range %.80q (%d bytes), want the range within %d bytes", r, len(r), maxAuditedRange)
			}
		})
	}
}
