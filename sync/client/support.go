package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/expertiza/expertiza/sync/wire"
)

// --- support requests ---

// SupportRequests lists the caller's requests; an administrator gets
// everyone's unless mine. status narrows the list ("" all).
func (c *Client) SupportRequests(ctx context.Context, mine bool, status wire.SupportStatus) ([]wire.SupportRequest, error) {
	var out []wire.SupportRequest
	v := url.Values{}
	if mine {
		v.Set("mine", "true")
	}
	if status != "" {
		v.Set("status", string(status))
	}
	path := "/support"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	return out, c.Call(ctx, http.MethodGet, path, nil, &out, "")
}

// CreateSupportRequest opens a request; key makes a retry apply once.
func (c *Client) CreateSupportRequest(ctx context.Context, r wire.CreateSupportRequest, key string) (wire.SupportRequest, error) {
	var out wire.SupportRequest
	return out, c.Call(ctx, http.MethodPost, "/support", r, &out, key)
}

// SupportRequest reads a request with its thread.
func (c *Client) SupportRequest(ctx context.Context, id int64) (wire.SupportRequest, error) {
	var out wire.SupportRequest
	return out, c.Call(ctx, http.MethodGet, idPath("support", id, ""), nil, &out, "")
}

// ReplySupport adds a message to a request's thread.
func (c *Client) ReplySupport(ctx context.Context, id int64, body, key string) (wire.SupportRequest, error) {
	var out wire.SupportRequest
	return out, c.Call(ctx, http.MethodPost, idPath("support", id, "/messages"), wire.SupportReplyRequest{Body: body}, &out, key)
}

// SetSupportStatus moves a request.
func (c *Client) SetSupportStatus(ctx context.Context, id int64, r wire.SupportStatusRequest) (wire.SupportRequest, error) {
	var out wire.SupportRequest
	return out, c.Call(ctx, http.MethodPost, idPath("support", id, "/status"), r, &out, "")
}
