// Package client is the client side of the Expertiza protocol: typed HTTP
// commands with idempotency keys, and an event stream that resumes from the
// last sequence it saw, reconnecting with exponential backoff and jitter.
// It holds no state on disk; the app layer persists what it needs.
package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/expertiza/expertiza/sync/wire"
)

// Client talks to one sync server.
type Client struct {
	base     string
	hc       *http.Client
	deviceID string

	mu    sync.RWMutex
	token string
}

// Option adjusts a Client.
type Option func(*Client)

// WithHTTPClient replaces the HTTP client (TLS settings, timeouts).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithDeviceID names this installation, for login history and new-device
// notices.
func WithDeviceID(id string) Option { return func(c *Client) { c.deviceID = id } }

// New returns a client for the server at baseURL (scheme://host:port).
func New(baseURL string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(baseURL, "/"), hc: &http.Client{Timeout: 30 * time.Second}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// BaseURL is the server address.
func (c *Client) BaseURL() string { return c.base }

// SetToken sets the session token used by every call.
func (c *Client) SetToken(t string) {
	c.mu.Lock()
	c.token = t
	c.mu.Unlock()
}

// Token returns the session token.
func (c *Client) Token() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.token
}

// NewIdempotencyKey returns a random key for one logical command; retries
// of that command must reuse it.
func NewIdempotencyKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ErrNetwork wraps transport failures (the command may or may not have
// been applied: retry with the same idempotency key).
var ErrNetwork = errors.New("network error")

// Call performs one request. body (if not nil) is sent as JSON; out (if not
// nil) receives the JSON answer. Server refusals come back as *wire.Error.
func (c *Client) Call(ctx context.Context, method, path string, body, out any, idemKey string) error {
	return c.call(ctx, c.hc, method, path, body, out, idemKey)
}

// untimed is the HTTP client without its overall time limit, for
// requests whose length grows with a file — a download's body, or the
// finish of an upload while the server checks a large file: those end by
// their context, not after 30 seconds.
func (c *Client) untimed() *http.Client {
	hc := *c.hc
	hc.Timeout = 0
	return &hc
}

func (c *Client) call(ctx context.Context, hc *http.Client, method, path string, body, out any, idemKey string) error {
	var rdr io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rdr = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+wire.APIPrefix+path, rdr)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if t := c.Token(); t != "" {
		req.Header.Set("Authorization", "Bearer "+t)
	}
	if idemKey != "" {
		req.Header.Set(wire.HeaderIdempotencyKey, idemKey)
	}
	if c.deviceID != "" {
		req.Header.Set(wire.HeaderDeviceID, c.deviceID)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrNetwork, method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%w: read answer: %w", ErrNetwork, err)
	}
	if resp.StatusCode >= 400 {
		return decodeError(resp.StatusCode, data, method+" "+path)
	}
	if out != nil && len(data) > 0 && resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decode answer of %s %s: %w", method, path, err)
		}
	}
	return nil
}

// decodeError turns an error answer into *wire.Error when it is one.
func decodeError(status int, body []byte, what string) error {
	var we wire.Error
	if json.Unmarshal(body, &we) == nil && we.Code != "" {
		return &we
	}
	return fmt.Errorf("%s: HTTP %d: %s", what, status, strings.TrimSpace(string(body)))
}

// --- auth ---

// Register creates an applicant with a new organisation.
func (c *Client) Register(ctx context.Context, r wire.RegisterRequest) (wire.User, error) {
	var u wire.User
	return u, c.Call(ctx, http.MethodPost, "/auth/register", r, &u, "")
}

// Login signs in and keeps the token.
func (c *Client) Login(ctx context.Context, r wire.LoginRequest) (wire.LoginResponse, error) {
	if r.DeviceID == "" {
		r.DeviceID = c.deviceID
	}
	var out wire.LoginResponse
	if err := c.Call(ctx, http.MethodPost, "/auth/login", r, &out, ""); err != nil {
		return out, err
	}
	c.SetToken(out.Token)
	return out, nil
}

// Logout ends the session.
func (c *Client) Logout(ctx context.Context) error {
	err := c.Call(ctx, http.MethodPost, "/auth/logout", nil, nil, "")
	c.SetToken("")
	return err
}

// Me returns the signed-in user.
func (c *Client) Me(ctx context.Context) (wire.User, error) {
	var u wire.User
	return u, c.Call(ctx, http.MethodGet, "/me", nil, &u, "")
}

// EnrolTOTP starts 2FA enrolment.
func (c *Client) EnrolTOTP(ctx context.Context) (wire.TOTPEnrolResponse, error) {
	var out wire.TOTPEnrolResponse
	return out, c.Call(ctx, http.MethodPost, "/auth/totp/enrol", nil, &out, "")
}

// ConfirmTOTP finishes enrolment.
func (c *Client) ConfirmTOTP(ctx context.Context, code string) (wire.User, error) {
	var u wire.User
	return u, c.Call(ctx, http.MethodPost, "/auth/totp/confirm", wire.TOTPConfirmRequest{Code: code}, &u, "")
}

// ChangePassword changes the password (other sessions end).
func (c *Client) ChangePassword(ctx context.Context, old, new string) error {
	return c.Call(ctx, http.MethodPost, "/auth/password", wire.PasswordChangeRequest{Old: old, New: new}, nil, "")
}

// Sessions lists the user's active sessions.
func (c *Client) Sessions(ctx context.Context) ([]wire.Session, error) {
	var out []wire.Session
	return out, c.Call(ctx, http.MethodGet, "/auth/sessions", nil, &out, "")
}

// EndSession ends one of the user's sessions.
func (c *Client) EndSession(ctx context.Context, id int64) error {
	return c.Call(ctx, http.MethodDelete, "/auth/sessions/"+strconv.FormatInt(id, 10), nil, nil, "")
}

// Logins lists the user's login history.
func (c *Client) Logins(ctx context.Context) ([]wire.LoginEvent, error) {
	var out []wire.LoginEvent
	return out, c.Call(ctx, http.MethodGet, "/auth/logins", nil, &out, "")
}

// --- applications ---

// Filter selects applications in List.
type Filter struct {
	Statuses []wire.Status
	Kind     wire.ExpertiseKind
	Query    string
	Limit    int
}

// Applications lists visible applications.
func (c *Client) Applications(ctx context.Context, f Filter) ([]wire.Application, error) {
	q := url.Values{}
	for _, s := range f.Statuses {
		q.Add("status", string(s))
	}
	if f.Kind != "" {
		q.Set("kind", string(f.Kind))
	}
	if f.Query != "" {
		q.Set("q", f.Query)
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	path := "/applications"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out wire.ListApplicationsResponse
	return out.Items, c.Call(ctx, http.MethodGet, path, nil, &out, "")
}

func appPath(id int64, rest string) string {
	return "/applications/" + strconv.FormatInt(id, 10) + rest
}

// Application reads one application.
func (c *Client) Application(ctx context.Context, id int64) (wire.Application, error) {
	var a wire.Application
	return a, c.Call(ctx, http.MethodGet, appPath(id, ""), nil, &a, "")
}

// CreateApplication creates a draft.
func (c *Client) CreateApplication(ctx context.Context, in wire.ApplicationInput, key string) (wire.Application, error) {
	var a wire.Application
	return a, c.Call(ctx, http.MethodPost, "/applications", in, &a, key)
}

// UpdateApplication edits the form.
func (c *Client) UpdateApplication(ctx context.Context, id int64, r wire.UpdateApplicationRequest, key string) (wire.Application, error) {
	var a wire.Application
	return a, c.Call(ctx, http.MethodPatch, appPath(id, ""), r, &a, key)
}

// DeleteDraft deletes a draft.
func (c *Client) DeleteDraft(ctx context.Context, id, version int64) error {
	return c.Call(ctx, http.MethodDelete, appPath(id, "?version="+strconv.FormatInt(version, 10)), nil, nil, "")
}

// Transitions lists the moves the user may make now.
func (c *Client) Transitions(ctx context.Context, id int64) ([]wire.Status, error) {
	var out []wire.Status
	return out, c.Call(ctx, http.MethodGet, appPath(id, "/transitions"), nil, &out, "")
}

// Transition moves an application.
func (c *Client) Transition(ctx context.Context, id int64, r wire.TransitionRequestBody, key string) (wire.Application, error) {
	var a wire.Application
	return a, c.Call(ctx, http.MethodPost, appPath(id, "/transition"), r, &a, key)
}

// ProposeVerdict is the lead expert's proposal.
func (c *Client) ProposeVerdict(ctx context.Context, id int64, r wire.VerdictRequest, key string) (wire.Application, error) {
	var a wire.Application
	return a, c.Call(ctx, http.MethodPost, appPath(id, "/verdict"), r, &a, key)
}

// Extend requests the one-time extension.
func (c *Client) Extend(ctx context.Context, id int64, r wire.ExtendRequest, key string) (wire.Application, error) {
	var a wire.Application
	return a, c.Call(ctx, http.MethodPost, appPath(id, "/extend"), r, &a, key)
}

// Assign sets experts.
func (c *Client) Assign(ctx context.Context, id int64, r wire.AssignRequest, key string) (wire.Application, error) {
	var a wire.Application
	return a, c.Call(ctx, http.MethodPut, appPath(id, "/assignments"), r, &a, key)
}

// History lists status changes.
func (c *Client) History(ctx context.Context, id int64) ([]wire.StatusChange, error) {
	var out []wire.StatusChange
	return out, c.Call(ctx, http.MethodGet, appPath(id, "/history"), nil, &out, "")
}

// Messages lists chat messages after afterID.
func (c *Client) Messages(ctx context.Context, id int64, ch wire.Channel, afterID int64) ([]wire.Message, error) {
	var out []wire.Message
	return out, c.Call(ctx, http.MethodGet, appPath(id, "/messages?channel="+string(ch)+"&after="+strconv.FormatInt(afterID, 10)), nil, &out, "")
}

// PostMessage posts to a chat.
func (c *Client) PostMessage(ctx context.Context, id int64, r wire.PostMessageRequest, key string) (wire.Message, error) {
	var m wire.Message
	return m, c.Call(ctx, http.MethodPost, appPath(id, "/messages"), r, &m, key)
}

// ReadMarks lists the caller's read marks of an application's chats.
func (c *Client) ReadMarks(ctx context.Context, id int64) ([]wire.ReadMark, error) {
	var out []wire.ReadMark
	return out, c.Call(ctx, http.MethodGet, appPath(id, "/reads"), nil, &out, "")
}

// SetLanguage chooses the language of the caller's e-mail ("ru" or "en").
func (c *Client) SetLanguage(ctx context.Context, lang string) error {
	return c.Call(ctx, http.MethodPut, "/me/language", wire.SetLanguageRequest{Language: lang}, nil, NewIdempotencyKey())
}

// MarkRead moves a read mark.
func (c *Client) MarkRead(ctx context.Context, id int64, r wire.MarkReadRequest) (wire.ReadMark, error) {
	var m wire.ReadMark
	// A key lets net/http resend the request on a dropped keep-alive
	// connection (it resends only requests marked idempotent).
	return m, c.Call(ctx, http.MethodPost, appPath(id, "/messages/read"), r, &m, NewIdempotencyKey())
}

// --- notifications and reference data ---

// Notifications lists the feed.
func (c *Client) Notifications(ctx context.Context) ([]wire.Notification, error) {
	var out []wire.Notification
	return out, c.Call(ctx, http.MethodGet, "/notifications", nil, &out, "")
}

// MarkNotificationsRead marks notifications read.
func (c *Client) MarkNotificationsRead(ctx context.Context, r wire.MarkNotificationsReadRequest) ([]int64, error) {
	var out []int64
	return out, c.Call(ctx, http.MethodPost, "/notifications/read", r, &out, NewIdempotencyKey())
}

// Preferences reads notification preferences.
func (c *Client) Preferences(ctx context.Context) ([]wire.Preference, error) {
	var out []wire.Preference
	return out, c.Call(ctx, http.MethodGet, "/notifications/preferences", nil, &out, "")
}

// SetPreferences stores notification preferences.
func (c *Client) SetPreferences(ctx context.Context, ps []wire.Preference) ([]wire.Preference, error) {
	var out []wire.Preference
	return out, c.Call(ctx, http.MethodPut, "/notifications/preferences", wire.PreferencesRequest{Preferences: ps}, &out, "")
}

// Calendar reads the working-day calendar's exceptions.
func (c *Client) Calendar(ctx context.Context) ([]wire.CalendarDay, error) {
	var out []wire.CalendarDay
	return out, c.Call(ctx, http.MethodGet, "/calendar", nil, &out, "")
}

// Users lists users of a role (staff only).
func (c *Client) Users(ctx context.Context, role wire.Role) ([]wire.User, error) {
	var out []wire.User
	return out, c.Call(ctx, http.MethodGet, "/users?role="+url.QueryEscape(string(role)), nil, &out, "")
}

// Documents lists an application's files with their versions.
func (c *Client) Documents(ctx context.Context, appID int64) ([]wire.Document, error) {
	var out []wire.Document
	return out, c.Call(ctx, http.MethodGet, appPath(appID, "/documents"), nil, &out, "")
}
