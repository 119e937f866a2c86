package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/expertiza/expertiza/server/blob"
	"github.com/expertiza/expertiza/sync/wire"
)

func TestValidateDigest(t *testing.T) {
	valid := digestOf([]byte("x"))
	cases := []struct {
		digest string
		ok     bool
	}{
		{valid, true},
		{digestOf(nil), true},
		{strings.Repeat("0", 64), true},
		{"", false},
		{valid[:63], false},
		{valid + "a", false},
		{strings.ToUpper(valid), false},
		{"g" + valid[1:], false},
		{"/" + valid[1:], false},
		{".." + valid[2:], false},
		{valid[:63] + " ", false},
		{strings.Repeat("é", 32), false},
	}
	for _, c := range cases {
		err := blob.ValidateDigest(c.digest)
		if c.ok != (err == nil) {
			t.Errorf("ValidateDigest(%q) = %v, want ok %v", c.digest, err, c.ok)
		}
		if err != nil && (!errors.Is(err, blob.ErrInvalidDigest) || wire.ErrorCode(err) != wire.CodeInvalid) {
			t.Errorf("ValidateDigest(%q) = %v, want ErrInvalidDigest", c.digest, err)
		}
	}
}

func TestVerifyingReader(t *testing.T) {
	data := content(100_000, 9)
	d := digestOf(data)
	broken := errors.New("disk gone")
	cases := []struct {
		name    string
		r       io.Reader
		digest  string
		wantErr error  // nil: a clean read
		want    []byte // what a clean read yields
	}{
		{"intact", bytes.NewReader(data), d, nil, data},
		{"intact, one byte at a time", iotest.OneByteReader(bytes.NewReader(data[:300])), digestOf(data[:300]), nil, data[:300]},
		{"intact, data with EOF", iotest.DataErrReader(bytes.NewReader(data)), d, nil, data},
		{"empty", bytes.NewReader(nil), digestOf(nil), nil, nil},
		{"flipped byte", bytes.NewReader(flipByte(data)), d, blob.ErrCorrupt, nil},
		{"flipped byte, data with EOF", iotest.DataErrReader(bytes.NewReader(flipByte(data))), d, blob.ErrCorrupt, nil},
		{"truncated", bytes.NewReader(data[:len(data)-1]), d, blob.ErrCorrupt, nil},
		{"one byte more", bytes.NewReader(append(data[:len(data):len(data)], 0)), d, blob.ErrCorrupt, nil},
		{"empty instead of content", bytes.NewReader(nil), d, blob.ErrCorrupt, nil},
		{"read error passes through", io.MultiReader(bytes.NewReader(data[:10]), iotest.ErrReader(broken)), d, broken, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := blob.NewVerifyingReader(c.r, c.digest)
			got, err := io.ReadAll(r)
			if (c.wantErr == nil) != (err == nil) || !errors.Is(err, c.wantErr) {
				t.Fatalf("ReadAll = %v, want %v", err, c.wantErr)
			}
			if errors.Is(err, blob.ErrCorrupt) {
				if !strings.Contains(err.Error(), c.digest) {
					t.Errorf("error %q does not name the digest", err)
				}
				// The verdict sticks: a reader retrying after the error
				// must not see a clean EOF.
				if _, again := r.Read(make([]byte, 10)); !errors.Is(again, blob.ErrCorrupt) {
					t.Errorf("Read after the error = %v, want ErrCorrupt again", again)
				}
			}
			if c.wantErr == nil && !bytes.Equal(got, c.want) {
				t.Errorf("read %d bytes that differ from the source", len(got))
			}
		})
	}
}

// flakyStore wraps a real store: opening one digest fails as a broken disk
// would, opening another as if the blob had been deleted since the listing.
type flakyStore struct {
	blob.Store
	unreadable, vanished string
}

var errDisk = errors.New("input/output error")

func (s flakyStore) Open(ctx context.Context, d string) (blob.ReadSeekCloser, int64, error) {
	switch d {
	case s.unreadable:
		return nil, 0, errDisk
	case s.vanished:
		return nil, 0, blob.ErrNotFound
	}
	return s.Store.Open(ctx, d)
}

func TestScrub(t *testing.T) {
	fs := newFSFixture(t)
	var digests []string
	for i := range 5 {
		digests = append(digests, put(t, fs.store, content(100+i, byte(50+i))))
	}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	cases := []struct {
		name         string
		ctx          context.Context
		store        blob.Store
		checked, bad int
		reported     map[string]error
		err          error
	}{
		{"intact", t.Context(), fs.store, 5, 0, map[string]error{}, nil},
		{"unreadable", t.Context(), flakyStore{Store: fs.store, unreadable: digests[1]}, 5, 1, map[string]error{digests[1]: errDisk}, nil},
		{"vanished", t.Context(), flakyStore{Store: fs.store, vanished: digests[2]}, 4, 0, map[string]error{}, nil},
		{"both", t.Context(), flakyStore{Store: fs.store, unreadable: digests[4], vanished: digests[0]}, 4, 1, map[string]error{digests[4]: errDisk}, nil},
		{"cancelled", cancelled, fs.store, 0, 0, map[string]error{}, context.Canceled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reported := map[string]error{}
			checked, bad, err := blob.Scrub(c.ctx, c.store, func(d string, err error) { reported[d] = err })
			if (c.err == nil) != (err == nil) || !errors.Is(err, c.err) {
				t.Fatalf("Scrub error = %v, want %v", err, c.err)
			}
			if checked != c.checked || bad != c.bad {
				t.Errorf("Scrub = %d checked, %d bad; want %d, %d", checked, bad, c.checked, c.bad)
			}
			if len(reported) != len(c.reported) {
				t.Errorf("reported %v, want %v", reported, c.reported)
			}
			for d, want := range c.reported {
				if !errors.Is(reported[d], want) {
					t.Errorf("reported for %s: %v, want %v", d, reported[d], want)
				}
			}
		})
	}
}

// TestS3ServerScript keeps the build script and the harness on one release.
func TestS3ServerScript(t *testing.T) {
	b, err := os.ReadFile("testdata/s3server.sh")
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if m := regexp.MustCompile(`(?m)^version=(\S+)`).FindSubmatch(b); m != nil {
		got = string(m[1])
	}
	if got != s3ServerVersion {
		t.Errorf("testdata/s3server.sh builds version %q, the harness looks for %q", got, s3ServerVersion)
	}
}
