package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/expertiza/expertiza/sync/wire"
)

// ErrDigest means downloaded bytes do not match the SHA-256 the server
// named: the copy is not trusted.
var ErrDigest = errors.New("downloaded file does not match its SHA-256")

// FileSHA256 hashes a file on disk.
func FileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// StartUpload creates a resumable upload of the file at path.
func (c *Client) StartUpload(ctx context.Context, appID int64, section, name, path string) (wire.Upload, error) {
	sum, size, err := FileSHA256(path)
	if err != nil {
		return wire.Upload{}, err
	}
	var up wire.Upload
	err = c.Call(ctx, http.MethodPost, appPath(appID, "/uploads"),
		wire.CreateUploadRequest{Section: section, Name: name, FileName: filepath.Base(path), Size: size, SHA256: sum}, &up, "")
	return up, err
}

// UploadStatus asks which chunks the server holds.
func (c *Client) UploadStatus(ctx context.Context, id string) (wire.Upload, error) {
	var up wire.Upload
	return up, c.Call(ctx, http.MethodGet, "/uploads/"+id, nil, &up, "")
}

// SendChunks sends the chunks the server does not have yet, `parallel` at
// a time, retrying network failures, then finishes the upload. progress
// (may be nil) gets the bytes acknowledged so far. Calling it again after
// any interruption resumes where the server stands.
func (c *Client) SendChunks(ctx context.Context, up wire.Upload, path string, parallel int, progress func(done, total int64)) (wire.Upload, error) {
	st, err := c.UploadStatus(ctx, up.ID)
	if err != nil {
		return up, err
	}
	if st.State == "done" {
		return st, nil
	}
	have := map[int]bool{}
	for _, i := range st.Received {
		have[i] = true
	}
	f, err := os.Open(path)
	if err != nil {
		return up, err
	}
	defer f.Close()
	var mu sync.Mutex
	done := int64(len(st.Received)) * int64(st.ChunkSize)
	todo := make(chan int)
	errs := make(chan error, parallel)
	var wg sync.WaitGroup
	for w := 0; w < max(parallel, 1); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, st.ChunkSize)
			for i := range todo {
				off := int64(i) * int64(st.ChunkSize)
				n, err := f.ReadAt(buf[:min(int64(st.ChunkSize), st.Size-off)], off)
				if err != nil && !errors.Is(err, io.EOF) {
					errs <- err
					return
				}
				if err := c.putChunk(ctx, st.ID, i, buf[:n]); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				done += int64(n)
				if progress != nil {
					progress(min(done, st.Size), st.Size)
				}
				mu.Unlock()
			}
		}()
	}
	var sendErr error
feed:
	for i := 0; i < st.Chunks; i++ {
		if have[i] {
			continue
		}
		select {
		case todo <- i:
		case sendErr = <-errs:
			break feed
		case <-ctx.Done():
			sendErr = ctx.Err()
			break feed
		}
	}
	close(todo)
	wg.Wait()
	if sendErr == nil {
		select {
		case sendErr = <-errs:
		default:
		}
	}
	if sendErr != nil {
		return st, sendErr
	}
	var out wire.Upload
	return out, c.call(ctx, c.untimed(), http.MethodPost, "/uploads/"+st.ID+"/finish", nil, &out, "")
}

// putChunk sends one chunk, retrying transport failures a few times (a
// resent chunk overwrites the same bytes, so retries are safe).
func (c *Client) putChunk(ctx context.Context, id string, idx int, data []byte) error {
	var last error
	for attempt := 0; attempt < 4; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * 200 * time.Millisecond):
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.base+wire.APIPrefix+"/uploads/"+id+"/chunks/"+strconv.Itoa(idx), bytes.NewReader(data))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+c.Token())
		req.Header.Set("Content-Type", "application/octet-stream")
		// A chunk of 8 MiB takes over a minute on a slow uplink: its time
		// is bounded by ctx, not by the 30-second limit of small calls.
		resp, err := c.untimed().Do(req)
		if err != nil {
			last = fmt.Errorf("%w: chunk %d: %w", ErrNetwork, idx, err)
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
		return decodeError(resp.StatusCode, body, "chunk "+strconv.Itoa(idx))
	}
	return last
}

// Download writes a version's content to dst and verifies it against the
// SHA-256 the server sends; on a mismatch it returns ErrDigest (the caller
// must discard what was written).
func (c *Client) Download(ctx context.Context, versionID int64, dst io.Writer) (string, error) {
	return c.verifiedGet(ctx, "/versions/"+strconv.FormatInt(versionID, 10)+"/content", "download", dst)
}

// DownloadAttachment writes a file of a chat message to dst and verifies
// it: the bytes must hash to sha, the digest the message names, and to the
// SHA-256 the server sends. On a mismatch it returns ErrDigest (the caller
// must discard what was written).
func (c *Client) DownloadAttachment(ctx context.Context, appID, msgID int64, sha string, dst io.Writer) error {
	got, err := c.verifiedGet(ctx, appPath(appID, "/messages/"+strconv.FormatInt(msgID, 10)+"/attachments/"+url.PathEscape(sha)), "attachment", dst)
	if err != nil {
		return err
	}
	if got != sha {
		return fmt.Errorf("%w: got %s, the message names %s", ErrDigest, got, sha)
	}
	return nil
}

// verifiedGet downloads path into dst and checks the SHA-256 the server
// names in X-Content-SHA256.
func (c *Client) verifiedGet(ctx context.Context, path, what string, dst io.Writer) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+wire.APIPrefix+path, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token())
	resp, err := c.untimed().Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrNetwork, what, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return "", decodeError(resp.StatusCode, body, what)
	}
	want := resp.Header.Get(wire.HeaderContentSHA256)
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(dst, h), resp.Body); err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrNetwork, what, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); want == "" || got != want {
		return "", fmt.Errorf("%w: got %s, server named %q", ErrDigest, got, want)
	}
	return want, nil
}
