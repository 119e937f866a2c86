package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/expertiza/expertiza/sync/wire"
)

// Conclusion reads an application's conclusion (sync/wire/conclusion.go).
func (c *Client) Conclusion(ctx context.Context, appID int64) (wire.Conclusion, error) {
	var out wire.Conclusion
	return out, c.Call(ctx, http.MethodGet, appPath(appID, "/conclusion"), nil, &out, "")
}

// SaveConclusion replaces the lead expert's draft seen at r.Version.
func (c *Client) SaveConclusion(ctx context.Context, appID int64, r wire.SaveConclusionRequest, key string) (wire.Conclusion, error) {
	var out wire.Conclusion
	return out, c.Call(ctx, http.MethodPut, appPath(appID, "/conclusion"), r, &out, key)
}

// Conclusion file kinds for ConclusionFile.
const (
	ConclusionPDF = "pdf"
	ConclusionXML = "xml"
)

// ConclusionFile downloads the conclusion's PDF or XML into dst and
// returns its SHA-256, checked against the one the server sends
// (ErrDigest on a mismatch: discard what dst received). While the server
// renders the files it answers a conflict on field pdf_sha256.
func (c *Client) ConclusionFile(ctx context.Context, appID int64, kind string, dst io.Writer) (string, error) {
	return c.verifiedGet(ctx, appPath(appID, "/conclusion/"+kind), "conclusion "+kind, dst)
}

// ConclusionSignature downloads one signature file of the conclusion.
func (c *Client) ConclusionSignature(ctx context.Context, appID, sigID int64, dst io.Writer) (string, error) {
	return c.verifiedGet(ctx, appPath(appID, "/conclusion/signatures/"+strconv.FormatInt(sigID, 10)), "conclusion signature", dst)
}

// AddConclusionSignature uploads a detached signature (.sig, .p7s) of the
// conclusion PDF. It is small and sent whole; the same file twice is kept
// once, so a retry after a lost answer is harmless.
func (c *Client) AddConclusionSignature(ctx context.Context, appID int64, fileName string, sig []byte) (wire.Conclusion, error) {
	var out wire.Conclusion
	u := c.base + wire.APIPrefix + appPath(appID, "/conclusion/signatures") + "?file_name=" + url.QueryEscape(fileName)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(sig))
	if err != nil {
		return out, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Authorization", "Bearer "+c.Token())
	resp, err := c.hc.Do(req)
	if err != nil {
		return out, fmt.Errorf("%w: conclusion signature: %w", ErrNetwork, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return out, fmt.Errorf("%w: read answer: %w", ErrNetwork, err)
	}
	if resp.StatusCode >= 400 {
		return out, decodeError(resp.StatusCode, data, "conclusion signature")
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return out, fmt.Errorf("decode answer of conclusion signature: %w", err)
	}
	return out, nil
}
