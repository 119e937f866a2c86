package blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config says where an S3 store lives.
type S3Config struct {
	Endpoint  string // host:port, without a scheme
	Bucket    string // must exist: creating it is the deployment's business
	AccessKey string
	SecretKey string
	UseTLS    bool
	Prefix    string // of every key, e.g. "expertiza/blobs"; may be empty
	Region    string // optional; saves a bucket-location request when set

	// PartSize bounds the blobs that Put hashes in memory and writes straight
	// to their final key (those smaller than it), and is the part size of the
	// multipart upload of the others. Default 16 MiB; S3 requires 5 MiB or
	// more. A Put holds up to two parts in memory.
	PartSize int64
	Logger   *slog.Logger // optional; failures to clean up temporary objects
}

const (
	defaultPartSize = 16 << 20
	minPartSize     = 5 << 20 // S3's floor for every part but the last
)

// S3 stores blobs as objects <prefix>/ab/cd/<digest> in one bucket.
//
// Put hashes its input while uploading, so it cannot name the final key
// before the upload ends. A blob smaller than one part (PartSize) is read
// into memory, hashed, and written with one PUT straight to its final key,
// or not at all when that key exists. A larger one is streamed as a
// multipart upload to <prefix>/tmp/<random>, which S3 makes visible only
// when complete, then copied server-side to its final key and deleted.
// Streaming through S3 rather than spooling to a local temporary file keeps
// replicas free of local disk needs, at the price of one server-side copy.
type S3 struct {
	client   *minio.Client
	bucket   string
	prefix   string // "" or ending in "/"
	partSize int64
	log      *slog.Logger
}

var _ Store = (*S3)(nil)

// NewS3 connects to the bucket, checks that it exists (which also proves the
// credentials), and deletes temporary objects that crashed uploads left
// more than an hour ago.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.UseTLS,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 blob store %s: %w", cfg.Endpoint, err)
	}
	s := &S3{
		client:   client,
		bucket:   cfg.Bucket,
		partSize: cfg.PartSize,
		log:      cfg.Logger,
	}
	if p := strings.Trim(cfg.Prefix, "/"); p != "" {
		s.prefix = p + "/"
	}
	if s.partSize == 0 {
		s.partSize = defaultPartSize
	}
	if s.partSize < minPartSize {
		return nil, fmt.Errorf("s3 blob store: part size %d is below S3's minimum of %d", s.partSize, minPartSize)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	ok, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3 blob store %s/%s: %w", cfg.Endpoint, cfg.Bucket, err)
	}
	if !ok {
		return nil, fmt.Errorf("s3 blob store %s: bucket %q does not exist", cfg.Endpoint, cfg.Bucket)
	}
	if err := s.sweep(ctx, time.Now().Add(-staleTemp)); err != nil {
		return nil, fmt.Errorf("s3 blob store %s/%s: %w", cfg.Endpoint, cfg.Bucket, err)
	}
	return s, nil
}

// sweep deletes temporary objects older than cutoff. A temporary object
// appears only when its multipart upload completes and lives a few seconds
// until its copy, so an hour-old one is a crash's leftover even when several
// replicas share the bucket. Multipart uploads that a crash left incomplete
// are invisible here: a bucket lifecycle rule (AbortIncompleteMultipartUpload)
// removes them.
func (s *S3) sweep(ctx context.Context, cutoff time.Time) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.tmpPrefix(), Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("clean temporary objects: %w", obj.Err)
		}
		if obj.LastModified.Before(cutoff) {
			if err := s.client.RemoveObject(ctx, s.bucket, obj.Key, minio.RemoveObjectOptions{}); err != nil {
				return fmt.Errorf("clean temporary objects: %w", err)
			}
		}
	}
	return nil
}

func (s *S3) tmpPrefix() string { return s.prefix + "tmp/" }

// key is where a validated digest lives.
func (s *S3) key(digest string) string {
	return s.prefix + digest[:2] + "/" + digest[2:4] + "/" + digest
}

// Put stores r; see the S3 type for how.
func (s *S3) Put(ctx context.Context, r io.Reader, want string) (_ string, _ int64, err error) {
	defer wrap(&err, "put blob")
	if err := checkWant(want); err != nil {
		return "", 0, err
	}
	r = contextReader{ctx, r}
	// The buffer grows with the content, so a small file costs no more.
	var first bytes.Buffer
	n, err := first.ReadFrom(io.LimitReader(r, s.partSize))
	if err != nil {
		return "", 0, err
	}
	if n < s.partSize {
		return s.putSmall(ctx, first.Bytes(), want)
	}
	// A full part: there is more, or the content is exactly one part long.
	return s.putLarge(ctx, io.MultiReader(&first, r), want)
}

// putSmall writes a blob already in memory straight to its final key: a
// single PUT is atomic.
func (s *S3) putSmall(ctx context.Context, data []byte, want string) (string, int64, error) {
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	if want != "" && digest != want {
		return "", 0, mismatch(digest, want)
	}
	size := int64(len(data))
	key := s.key(digest)
	if have, ok, err := s.stat(ctx, key); err != nil {
		return "", 0, err
	} else if ok && have == size {
		return digest, size, nil
	}
	_, err := s.client.PutObject(ctx, s.bucket, key, bytes.NewReader(data), size,
		minio.PutObjectOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return "", 0, err
	}
	return digest, size, nil
}

// putLarge streams a multipart upload to a temporary key while hashing, then
// copies it to its final key unless that exists.
func (s *S3) putLarge(ctx context.Context, r io.Reader, want string) (string, int64, error) {
	var rnd [16]byte
	rand.Read(rnd[:])
	tmp := s.tmpPrefix() + hex.EncodeToString(rnd[:])
	h := sha256.New()
	info, err := s.client.PutObject(ctx, s.bucket, tmp, io.TeeReader(r, h), -1, minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		PartSize:    uint64(s.partSize),
	})
	if err != nil {
		// Nothing became visible: minio aborts the multipart upload, and
		// one it cannot abort (ctx ended) is the lifecycle rule's business.
		return "", 0, err
	}
	defer s.removeTemp(ctx, tmp)
	digest := hex.EncodeToString(h.Sum(nil))
	if want != "" && digest != want {
		return "", 0, mismatch(digest, want)
	}
	key := s.key(digest)
	if have, ok, err := s.stat(ctx, key); err != nil {
		return "", 0, err
	} else if ok && have == info.Size {
		return digest, info.Size, nil
	}
	// ComposeObject is a plain server-side copy up to 5 GiB and a multipart
	// copy past it, where a single copy request is refused.
	_, err = s.client.ComposeObject(ctx,
		minio.CopyDestOptions{Bucket: s.bucket, Object: key},
		minio.CopySrcOptions{Bucket: s.bucket, Object: tmp})
	if err != nil {
		return "", 0, err
	}
	return digest, info.Size, nil
}

// removeTemp deletes a temporary object even when the Put's context has
// ended; on failure the next NewS3 sweeps it.
func (s *S3) removeTemp(ctx context.Context, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		s.log.WarnContext(ctx, "blob: temporary object left for the next start's sweep", "key", key, "err", err)
	}
}

// stat returns the size of the object at key and whether it exists.
func (s *S3) stat(ctx context.Context, key string) (int64, bool, error) {
	info, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if isNoSuchKey(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return info.Size, true, nil
}

func isNoSuchKey(err error) bool {
	if err == nil {
		return false
	}
	resp := minio.ToErrorResponse(err)
	// A HEAD reply has no body to carry a code: minio infers it from the 404.
	return resp.Code == minio.NoSuchKey || (resp.StatusCode == http.StatusNotFound && resp.Code != minio.NoSuchBucket)
}

// Open returns minio's object reader, which turns each Seek or ReadAt into
// a ranged GET.
func (s *S3) Open(ctx context.Context, digest string) (_ ReadSeekCloser, _ int64, err error) {
	defer wrap(&err, "open blob")
	if err := ValidateDigest(digest); err != nil {
		return nil, 0, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.key(digest), minio.GetObjectOptions{})
	if err != nil {
		return nil, 0, err
	}
	// GetObject is lazy; Stat sends the first request, and Seek from the end
	// (which http.ServeContent does) needs the size it learns.
	info, err := obj.Stat()
	if err != nil {
		obj.Close()
		if isNoSuchKey(err) {
			return nil, 0, fmt.Errorf("blob %s: %w", digest, ErrNotFound)
		}
		return nil, 0, err
	}
	return obj, info.Size, nil
}

// Stat returns the blob's size.
func (s *S3) Stat(ctx context.Context, digest string) (_ int64, err error) {
	defer wrap(&err, "stat blob")
	if err := ValidateDigest(digest); err != nil {
		return 0, err
	}
	size, ok, err := s.stat(ctx, s.key(digest))
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("blob %s: %w", digest, ErrNotFound)
	}
	return size, nil
}

// Delete removes the blob's object; S3 deletes of absent keys succeed.
func (s *S3) Delete(ctx context.Context, digest string) (err error) {
	defer wrap(&err, "delete blob")
	if err := ValidateDigest(digest); err != nil {
		return err
	}
	return s.client.RemoveObject(ctx, s.bucket, s.key(digest), minio.RemoveObjectOptions{})
}

// Walk lists the keys under the prefix; keys that do not fit the layout
// (temporary objects, anything else in the bucket) are passed over.
func (s *S3) Walk(ctx context.Context, fn func(digest string, size int64) error) (err error) {
	defer wrap(&err, "walk blobs")
	// Cancelling ends minio's listing goroutine when fn stops the walk early.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix, Recursive: true}) {
		if obj.Err != nil {
			return obj.Err
		}
		digest, ok := s.digestOf(obj.Key)
		if !ok {
			continue
		}
		if err := fn(digest, obj.Size); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// digestOf parses a final key back into its digest.
func (s *S3) digestOf(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, s.prefix)
	if !ok || len(rest) != 6+sha256.Size*2 {
		return "", false
	}
	d := rest[6:]
	if ValidateDigest(d) != nil || rest[:6] != d[:2]+"/"+d[2:4]+"/" {
		return "", false
	}
	return d, true
}
