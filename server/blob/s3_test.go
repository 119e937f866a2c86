package blob_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/minio/minio-go/v7"

	"github.com/expertiza/expertiza/server/blob"
)

func s3Config(srv *s3Server, bucket, prefix string) blob.S3Config {
	return blob.S3Config{
		Endpoint:  srv.endpoint,
		Bucket:    bucket,
		AccessKey: s3AccessKey,
		SecretKey: s3SecretKey,
		Prefix:    prefix,
		PartSize:  testPartSize,
	}
}

func TestNewS3Errors(t *testing.T) {
	srv := requireS3(t)
	bucket := srv.newBucket(t)
	cases := []struct {
		name string
		edit func(*blob.S3Config)
		want string // in the error
	}{
		{"missing bucket", func(c *blob.S3Config) { c.Bucket = "no-such-bucket" }, "does not exist"},
		{"wrong secret", func(c *blob.S3Config) { c.SecretKey = "wrong" }, ""},
		{"unknown access key", func(c *blob.S3Config) { c.AccessKey = "nobody" }, ""},
		{"part size under S3's minimum", func(c *blob.S3Config) { c.PartSize = 1 << 20 }, "part size"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := s3Config(srv, bucket, "")
			c.edit(&cfg)
			_, err := blob.NewS3(t.Context(), cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("NewS3 = %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// TestS3Prefixes: stores under different prefixes of one bucket, or at its
// root, do not see one another's blobs, nor objects outside the layout.
func TestS3Prefixes(t *testing.T) {
	srv := requireS3(t)
	bucket := srv.newBucket(t)
	stores := map[string]*blob.S3{}
	for _, prefix := range []string{"", "a", "a/b", "b"} {
		s, err := blob.NewS3(t.Context(), s3Config(srv, bucket, prefix))
		if err != nil {
			t.Fatal(err)
		}
		stores[prefix] = s
	}
	digests := map[string]string{}
	for prefix, s := range stores {
		digests[prefix] = put(t, s, []byte("content of "+prefix))
	}
	// Objects that are not blobs, one of them a blob's name in a wrong
	// folder and one a temporary upload.
	d := digests["a"]
	for _, key := range []string{"README", "a/notes.txt", "a/" + d, "a/00/00/" + d, "a/tmp/" + d} {
		if _, err := srv.client.PutObject(t.Context(), bucket, key, strings.NewReader("x"), 1, minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for prefix, s := range stores {
		want := map[string]int64{digests[prefix]: int64(len("content of " + prefix))}
		if diff := cmp.Diff(want, walk(t, s)); diff != "" {
			t.Errorf("Walk under %q mismatch (-want +got):\n%s", prefix, diff)
		}
		for other, d := range digests {
			if _, err := s.Stat(t.Context(), d); other != prefix && !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("store under %q: Stat of the blob under %q = %v, want ErrNotFound", prefix, other, err)
			}
		}
	}
}

// TestS3Sweep: temporary objects older than the cutoff go, younger ones stay.
func TestS3Sweep(t *testing.T) {
	srv := requireS3(t)
	bucket := srv.newBucket(t)
	s, err := blob.NewS3(t.Context(), s3Config(srv, bucket, testPrefix))
	if err != nil {
		t.Fatal(err)
	}
	blobDigest := put(t, s, []byte("kept"))
	tmpKey := testPrefix + "/tmp/leftover"
	if _, err := srv.client.PutObject(t.Context(), bucket, tmpKey, bytes.NewReader([]byte("partial")), 7, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	tmpExists := func() bool {
		_, err := srv.client.StatObject(t.Context(), bucket, tmpKey, minio.StatObjectOptions{})
		return err == nil
	}
	// A new store sweeps only hour-old objects: this one stays.
	if _, err := blob.NewS3(t.Context(), s3Config(srv, bucket, testPrefix)); err != nil {
		t.Fatal(err)
	}
	if !tmpExists() {
		t.Fatal("NewS3 removed a fresh temporary object")
	}
	if err := blob.SweepS3(t.Context(), s, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if tmpExists() {
		t.Error("sweep left a temporary object older than the cutoff")
	}
	if _, err := s.Stat(t.Context(), blobDigest); err != nil {
		t.Errorf("sweep touched a blob: %v", err)
	}
}
