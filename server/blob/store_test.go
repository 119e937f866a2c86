package blob_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/minio/minio-go/v7"

	"github.com/expertiza/expertiza/server/blob"
	"github.com/expertiza/expertiza/sync/wire"
)

// testPartSize is the S3 stores' part size in tests: S3's minimum, so the
// large content below takes the multipart path in three parts.
const testPartSize = 5 << 20

// fixture is one empty store with backdoors to its storage.
type fixture struct {
	store blob.Store
	// damage rewrites the stored bytes of a blob behind the store's back.
	damage func(t *testing.T, digest string, edit func([]byte) []byte)
	// temps lists leftover temporary uploads.
	temps func(t *testing.T) []string
}

// backends are the stores every conformance case runs against.
var backends = []struct {
	name string
	new  func(t *testing.T) fixture
}{
	{"fs", newFSFixture},
	{"s3", newS3Fixture},
}

func newFSFixture(t *testing.T) fixture {
	dir := t.TempDir()
	s, err := blob.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{
		store: s,
		damage: func(t *testing.T, digest string, edit func([]byte) []byte) {
			t.Helper()
			p := filepath.Join(dir, digest[:2], digest[2:4], digest)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, edit(b), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		temps: func(t *testing.T) []string {
			t.Helper()
			entries, err := os.ReadDir(filepath.Join(dir, "tmp"))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			return names
		},
	}
}

const testPrefix = "expertiza/blobs"

func newS3Fixture(t *testing.T) fixture {
	srv := requireS3(t)
	bucket := srv.newBucket(t)
	s, err := blob.NewS3(t.Context(), blob.S3Config{
		Endpoint:  srv.endpoint,
		Bucket:    bucket,
		AccessKey: s3AccessKey,
		SecretKey: s3SecretKey,
		Prefix:    "/" + testPrefix + "/", // slashes are trimmed
		PartSize:  testPartSize,
	})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{
		store: s,
		damage: func(t *testing.T, digest string, edit func([]byte) []byte) {
			t.Helper()
			key := testPrefix + "/" + digest[:2] + "/" + digest[2:4] + "/" + digest
			obj, err := srv.client.GetObject(t.Context(), bucket, key, minio.GetObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(obj)
			obj.Close()
			if err != nil {
				t.Fatal(err)
			}
			b = edit(b)
			if _, err := srv.client.PutObject(t.Context(), bucket, key, bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{}); err != nil {
				t.Fatal(err)
			}
		},
		temps: func(t *testing.T) []string {
			t.Helper()
			var keys []string
			for obj := range srv.client.ListObjects(t.Context(), bucket, minio.ListObjectsOptions{Prefix: testPrefix + "/tmp/", Recursive: true}) {
				if obj.Err != nil {
					t.Fatal(obj.Err)
				}
				keys = append(keys, obj.Key)
			}
			return keys
		},
	}
}

// content returns n pseudo-random bytes, the same for the same seed.
func content(n int, seed byte) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// contents cover the empty blob, one that fits in a part, one that fills
// exactly one part (the edge between the S3 paths), and a multipart one.
var contents = []struct {
	name string
	data []byte
}{
	{"empty", nil},
	{"small", content(1000, 1)},
	{"one part", content(testPartSize, 2)},
	{"large", content(2*testPartSize+12345, 3)},
}

// flipByte changes the middle byte, keeping the size.
func flipByte(b []byte) []byte {
	b = slices.Clone(b)
	b[len(b)/2] ^= 0x40
	return b
}

// failingReader yields n bytes of data, then fails.
type failingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	if int64(len(p)) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= int64(n)
	return n, err
}

func put(t *testing.T, s blob.Store, data []byte) string {
	t.Helper()
	d, size, err := s.Put(t.Context(), bytes.NewReader(data), "")
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if size != int64(len(data)) {
		t.Fatalf("Put size = %d, want %d", size, len(data))
	}
	return d
}

func readAll(t *testing.T, s blob.Store, digest string) []byte {
	t.Helper()
	r, size, err := s.Open(t.Context(), digest)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if size != int64(len(b)) {
		t.Fatalf("Open size = %d, read %d bytes", size, len(b))
	}
	return b
}

// walk returns every digest with its size.
func walk(t *testing.T, s blob.Store) map[string]int64 {
	t.Helper()
	got := map[string]int64{}
	if err := s.Walk(t.Context(), func(d string, size int64) error {
		if _, dup := got[d]; dup {
			t.Errorf("Walk gave %s twice", d)
		}
		got[d] = size
		return nil
	}); err != nil {
		t.Fatalf("Walk: %v", err)
	}
	return got
}

func wantEmpty(t *testing.T, f fixture) {
	t.Helper()
	if got := walk(t, f.store); len(got) != 0 {
		t.Errorf("store holds %v, want nothing", got)
	}
	if temps := f.temps(t); len(temps) != 0 {
		t.Errorf("temporary uploads left: %v", temps)
	}
}

// TestStore is the conformance suite: every case against every backend.
func TestStore(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, f fixture)
	}{
		{"put and read back", testPutRead},
		{"range reads", testRangeReads},
		{"http range requests", testHTTPRange},
		{"dedup", testDedup},
		{"digest mismatch stores nothing", testMismatch},
		{"failed upload stores nothing", testFailedUpload},
		{"concurrent puts of one content", testConcurrentPuts},
		{"stat, delete, not found", testNotFound},
		{"invalid digests", testInvalidDigests},
		{"walk", testWalk},
		{"verify and scrub find damage", testVerifyScrub},
		{"verifying reader", testVerifyingReader},
		{"put repairs a truncated blob", testRepair},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.run(t, b.new(t))
				})
			}
		})
	}
}

func testPutRead(t *testing.T, f fixture) {
	for _, c := range contents {
		t.Run(c.name, func(t *testing.T) {
			want := digestOf(c.data)
			for _, expect := range []string{"", want} {
				d, size, err := f.store.Put(t.Context(), bytes.NewReader(c.data), expect)
				if err != nil {
					t.Fatalf("Put(want %q): %v", expect, err)
				}
				if d != want || size != int64(len(c.data)) {
					t.Fatalf("Put(want %q) = %s, %d; want %s, %d", expect, d, size, want, len(c.data))
				}
			}
			if size, err := f.store.Stat(t.Context(), want); err != nil || size != int64(len(c.data)) {
				t.Errorf("Stat = %d, %v; want %d", size, err, len(c.data))
			}
			if got := readAll(t, f.store, want); !bytes.Equal(got, c.data) {
				t.Errorf("read back %d bytes that differ from the %d put", len(got), len(c.data))
			}
		})
	}
	if temps := f.temps(t); len(temps) != 0 {
		t.Errorf("temporary uploads left: %v", temps)
	}
}

func testRangeReads(t *testing.T, f fixture) {
	data := contents[3].data
	d := put(t, f.store, data)
	r, size, err := f.store.Open(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := int64(len(data))
	if size != n {
		t.Fatalf("size = %d, want %d", size, n)
	}
	// Out of order, across part boundaries, and at both ends.
	reads := []struct {
		offset int64
		whence int
		length int
		start  int64 // where the bytes come from in data
	}{
		{testPartSize - 10, io.SeekStart, 20, testPartSize - 10},
		{0, io.SeekStart, 100, 0},
		{-50, io.SeekEnd, 50, n - 50},
		{1000, io.SeekStart, 4096, 1000},
		{100, io.SeekCurrent, 10, 1000 + 4096 + 100},
	}
	for _, rd := range reads {
		pos, err := r.Seek(rd.offset, rd.whence)
		if err != nil || pos != rd.start {
			t.Fatalf("Seek(%d, %d) = %d, %v; want %d", rd.offset, rd.whence, pos, err, rd.start)
		}
		got := make([]byte, rd.length)
		if _, err := io.ReadFull(r, got); err != nil {
			t.Fatalf("read %d at %d: %v", rd.length, rd.start, err)
		}
		if want := data[rd.start : rd.start+int64(rd.length)]; !bytes.Equal(got, want) {
			t.Errorf("bytes at %d differ", rd.start)
		}
	}
	got := make([]byte, 300)
	if _, err := r.ReadAt(got, 2*testPartSize-100); err != nil {
		t.Fatalf("ReadAt: %v", err)
	}
	if !bytes.Equal(got, data[2*testPartSize-100:2*testPartSize+200]) {
		t.Error("ReadAt bytes differ")
	}
}

func testHTTPRange(t *testing.T, f fixture) {
	data := contents[3].data
	d := put(t, f.store, data)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc, _, err := f.store.Open(r.Context(), d)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer rc.Close()
		http.ServeContent(w, r, "", time.Time{}, rc)
	}))
	defer srv.Close()
	n := len(data)
	cases := []struct {
		rangeHeader  string
		status       int
		contentRange string
		body         []byte
	}{
		{"", http.StatusOK, "", data},
		{"bytes=1000-1999", http.StatusPartialContent, fmt.Sprintf("bytes 1000-1999/%d", n), data[1000:2000]},
		{"bytes=-10", http.StatusPartialContent, fmt.Sprintf("bytes %d-%d/%d", n-10, n-1, n), data[n-10:]},
		{fmt.Sprintf("bytes=%d-", testPartSize), http.StatusPartialContent, fmt.Sprintf("bytes %d-%d/%d", testPartSize, n-1, n), data[testPartSize:]},
		{fmt.Sprintf("bytes=%d-", n), http.StatusRequestedRangeNotSatisfiable, fmt.Sprintf("bytes */%d", n), nil},
	}
	for _, c := range cases {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.rangeHeader != "" {
			req.Header.Set("Range", c.rangeHeader)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != c.status || resp.Header.Get("Content-Range") != c.contentRange {
			t.Errorf("Range %q: status %d, Content-Range %q; want %d, %q", c.rangeHeader, resp.StatusCode, resp.Header.Get("Content-Range"), c.status, c.contentRange)
		}
		if c.body != nil && !bytes.Equal(body, c.body) {
			t.Errorf("Range %q: %d bytes that differ from the %d wanted", c.rangeHeader, len(body), len(c.body))
		}
	}
}

func testDedup(t *testing.T, f fixture) {
	want := map[string]int64{}
	for _, c := range contents {
		for range 2 {
			d := put(t, f.store, c.data)
			want[d] = int64(len(c.data))
		}
	}
	if diff := cmp.Diff(want, walk(t, f.store)); diff != "" {
		t.Errorf("Walk mismatch (-want +got):\n%s", diff)
	}
	if temps := f.temps(t); len(temps) != 0 {
		t.Errorf("temporary uploads left: %v", temps)
	}
	// A Put that finds its blob present writes nothing: a same-size marker
	// left in the stored bytes survives it. (Repairing such damage is the
	// scrubber's report's business; re-hashing on every hit would double
	// the cost of an upload.)
	for _, c := range contents[1:] {
		d := digestOf(c.data)
		f.damage(t, d, flipByte)
		put(t, f.store, c.data)
		if err := blob.Verify(t.Context(), f.store, d); !errors.Is(err, blob.ErrCorrupt) {
			t.Errorf("%s: the second Put rewrote the blob (Verify = %v)", c.name, err)
		}
	}
}

func testMismatch(t *testing.T, f fixture) {
	other := digestOf([]byte("something else"))
	for _, c := range contents {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := f.store.Put(t.Context(), bytes.NewReader(c.data), other)
			if !errors.Is(err, blob.ErrDigestMismatch) || wire.ErrorCode(err) != wire.CodeInvalid {
				t.Fatalf("Put with a wrong digest: %v, want ErrDigestMismatch", err)
			}
			if _, err := f.store.Stat(t.Context(), digestOf(c.data)); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("Stat after a refused Put: %v, want ErrNotFound", err)
			}
			wantEmpty(t, f)
		})
	}
}

func testFailedUpload(t *testing.T, f fixture) {
	broken := errors.New("connection reset")
	for _, c := range contents[1:] {
		for _, at := range []int64{0, int64(len(c.data)) / 2, int64(len(c.data)) - 1} {
			t.Run(fmt.Sprintf("%s at %d", c.name, at), func(t *testing.T) {
				r := &failingReader{r: bytes.NewReader(c.data), n: at, err: broken}
				if _, _, err := f.store.Put(t.Context(), r, ""); !errors.Is(err, broken) {
					t.Fatalf("Put = %v, want the reader's error", err)
				}
				wantEmpty(t, f)
			})
		}
	}
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		// The reader cancels the Put's context halfway through the content.
		data := contents[3].data
		r := io.MultiReader(
			bytes.NewReader(data[:len(data)/2]),
			readerFunc(func([]byte) (int, error) { cancel(); return 0, io.EOF }),
			bytes.NewReader(data[len(data)/2:]))
		if _, _, err := f.store.Put(ctx, r, ""); !errors.Is(err, context.Canceled) {
			t.Fatalf("Put = %v, want context.Canceled", err)
		}
		wantEmpty(t, f)
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func testConcurrentPuts(t *testing.T, f fixture) {
	for _, c := range []struct {
		data []byte
		n    int
	}{{contents[1].data, 8}, {contents[3].data, 3}} {
		want := digestOf(c.data)
		var wg sync.WaitGroup
		errs := make([]error, c.n)
		for i := range c.n {
			wg.Go(func() {
				d, _, err := f.store.Put(t.Context(), bytes.NewReader(c.data), want)
				if err == nil && d != want {
					err = fmt.Errorf("digest %s", d)
				}
				errs[i] = err
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("concurrent Puts: %v", err)
		}
		if got := readAll(t, f.store, want); !bytes.Equal(got, c.data) {
			t.Errorf("blob of %d bytes reads back differently", len(c.data))
		}
	}
	if got := walk(t, f.store); len(got) != 2 {
		t.Errorf("Walk = %v, want 2 blobs", got)
	}
	if temps := f.temps(t); len(temps) != 0 {
		t.Errorf("temporary uploads left: %v", temps)
	}
}

func testNotFound(t *testing.T, f fixture) {
	ctx := t.Context()
	data := contents[1].data
	d := digestOf(data)
	absent := func(what string) {
		t.Helper()
		if _, err := f.store.Stat(ctx, d); !errors.Is(err, blob.ErrNotFound) || wire.ErrorCode(err) != wire.CodeNotFound {
			t.Errorf("%s: Stat = %v, want ErrNotFound", what, err)
		}
		if _, _, err := f.store.Open(ctx, d); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("%s: Open = %v, want ErrNotFound", what, err)
		}
		if err := blob.Verify(ctx, f.store, d); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("%s: Verify = %v, want ErrNotFound", what, err)
		}
	}
	absent("never put")
	if err := f.store.Delete(ctx, d); err != nil {
		t.Errorf("Delete of an absent blob = %v, want nil", err)
	}
	put(t, f.store, data)
	keep := put(t, f.store, contents[2].data)
	if err := f.store.Delete(ctx, d); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	absent("deleted")
	if _, err := f.store.Stat(ctx, keep); err != nil {
		t.Errorf("Delete took another blob along: %v", err)
	}
	if got := walk(t, f.store); len(got) != 1 {
		t.Errorf("Walk after Delete = %v, want one blob", got)
	}
}

func testInvalidDigests(t *testing.T, f fixture) {
	ctx := t.Context()
	valid := digestOf(nil)
	for _, d := range []string{
		"",
		"abc",
		strings.ToUpper(valid),
		valid + "0",
		valid[:63],
		"../../../../../../etc/passwd" + valid[28:],
		valid[:2] + "/" + valid[3:],
		valid[:62] + "\x00a",
	} {
		if _, _, err := f.store.Put(ctx, bytes.NewReader(nil), d); d != "" && !errors.Is(err, blob.ErrInvalidDigest) {
			t.Errorf("Put(want %q) = %v, want ErrInvalidDigest", d, err)
		}
		if _, _, err := f.store.Open(ctx, d); !errors.Is(err, blob.ErrInvalidDigest) {
			t.Errorf("Open(%q) = %v, want ErrInvalidDigest", d, err)
		}
		if _, err := f.store.Stat(ctx, d); !errors.Is(err, blob.ErrInvalidDigest) {
			t.Errorf("Stat(%q) = %v, want ErrInvalidDigest", d, err)
		}
		if err := f.store.Delete(ctx, d); !errors.Is(err, blob.ErrInvalidDigest) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidDigest", d, err)
		}
		if err := blob.Verify(ctx, f.store, d); !errors.Is(err, blob.ErrInvalidDigest) {
			t.Errorf("Verify(%q) = %v, want ErrInvalidDigest", d, err)
		}
	}
	// Put(want "") above stored the empty blob, and nothing else.
	if diff := cmp.Diff(map[string]int64{valid: 0}, walk(t, f.store)); diff != "" {
		t.Errorf("Walk mismatch (-want +got):\n%s", diff)
	}
}

func testWalk(t *testing.T, f fixture) {
	if got := walk(t, f.store); len(got) != 0 {
		t.Errorf("Walk of an empty store = %v", got)
	}
	want := map[string]int64{}
	for i := range 20 {
		data := content(i*37, byte(100+i))
		want[put(t, f.store, data)] = int64(len(data))
	}
	if diff := cmp.Diff(want, walk(t, f.store)); diff != "" {
		t.Errorf("Walk mismatch (-want +got):\n%s", diff)
	}
	stop := errors.New("stop")
	calls := 0
	err := f.store.Walk(t.Context(), func(string, int64) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Walk stopped by fn: %v after %d calls, want fn's error after 1", err, calls)
	}
}

func testVerifyScrub(t *testing.T, f fixture) {
	ctx := t.Context()
	var digests []string
	for _, c := range contents[1:] {
		digests = append(digests, put(t, f.store, c.data))
	}
	digests = append(digests, put(t, f.store, nil))
	for _, d := range digests {
		if err := blob.Verify(ctx, f.store, d); err != nil {
			t.Errorf("Verify(%s) of an intact blob: %v", d, err)
		}
	}
	reported := map[string]error{}
	scrub := func() (int, int) {
		t.Helper()
		clear(reported)
		checked, bad, err := blob.Scrub(ctx, f.store, func(d string, err error) { reported[d] = err })
		if err != nil {
			t.Fatalf("Scrub: %v", err)
		}
		return checked, bad
	}
	if checked, bad := scrub(); checked != len(digests) || bad != 0 || len(reported) != 0 {
		t.Errorf("Scrub of intact blobs = %d checked, %d bad, reported %v; want %d, 0", checked, bad, reported, len(digests))
	}

	damaged := digests[2] // the multipart one
	f.damage(t, damaged, flipByte)
	err := blob.Verify(ctx, f.store, damaged)
	if !errors.Is(err, blob.ErrCorrupt) || !strings.Contains(err.Error(), damaged) {
		t.Errorf("Verify of a damaged blob = %v, want ErrCorrupt naming it", err)
	}
	for _, d := range digests {
		if err := blob.Verify(ctx, f.store, d); d != damaged && err != nil {
			t.Errorf("Verify(%s) of an intact blob: %v", d, err)
		}
	}
	checked, bad := scrub()
	if checked != len(digests) || bad != 1 || len(reported) != 1 || !errors.Is(reported[damaged], blob.ErrCorrupt) {
		t.Errorf("Scrub = %d checked, %d bad, reported %v; want %d, 1, ErrCorrupt for %s", checked, bad, reported, len(digests), damaged)
	}
}

func testVerifyingReader(t *testing.T, f fixture) {
	data := contents[3].data
	d := put(t, f.store, data)
	read := func() ([]byte, error) {
		r, _, err := f.store.Open(t.Context(), d)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		return io.ReadAll(blob.NewVerifyingReader(r, d))
	}
	if got, err := read(); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("verifying read of an intact blob: %d bytes, %v", len(got), err)
	}
	f.damage(t, d, flipByte)
	if _, err := read(); !errors.Is(err, blob.ErrCorrupt) {
		t.Errorf("verifying read of a damaged blob: %v, want ErrCorrupt", err)
	}
}

// testRepair: a blob of the wrong size under its name can only be damaged,
// so a Put of the right content replaces it rather than deduplicating.
func testRepair(t *testing.T, f fixture) {
	for _, c := range contents[1:] {
		d := put(t, f.store, c.data)
		f.damage(t, d, func(b []byte) []byte { return b[:len(b)-1] })
		if err := blob.Verify(t.Context(), f.store, d); !errors.Is(err, blob.ErrCorrupt) {
			t.Fatalf("Verify of a truncated blob = %v, want ErrCorrupt", err)
		}
		put(t, f.store, c.data)
		if err := blob.Verify(t.Context(), f.store, d); err != nil {
			t.Errorf("Verify after a repairing Put: %v", err)
		}
	}
}
