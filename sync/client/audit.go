package client

import (
	"context"
	"net/http"

	"github.com/expertiza/expertiza/sync/wire"
)

// --- the audit journal ---

// AuditEntries reads one page of the audit journal the caller may see,
// newest first; page.NextBefore, when not zero, is q.Before of the next.
func (c *Client) AuditEntries(ctx context.Context, q wire.AuditQuery) (wire.AuditPage, error) {
	var out wire.AuditPage
	path := "/audit"
	if v := q.Values().Encode(); v != "" {
		path += "?" + v
	}
	return out, c.Call(ctx, http.MethodGet, path, nil, &out, "")
}

// VerifyAudit checks the journal's hash chain (administrators).
func (c *Client) VerifyAudit(ctx context.Context) (wire.AuditVerifyReport, error) {
	var out wire.AuditVerifyReport
	return out, c.Call(ctx, http.MethodGet, "/audit/verify", nil, &out, "")
}

// --- personal data ---

// PersonalData reads the caller's own personal data, masked.
func (c *Client) PersonalData(ctx context.Context) (wire.PersonalData, error) {
	var out wire.PersonalData
	return out, c.Call(ctx, http.MethodGet, "/me/personal-data", nil, &out, "")
}

// SetPersonalData sets the caller's СНИЛС and passport number; the answer
// is masked. It carries no idempotency key on purpose (the server keeps
// none for it): a retry just sets the same values again.
func (c *Client) SetPersonalData(ctx context.Context, r wire.SetPersonalDataRequest) (wire.PersonalData, error) {
	var out wire.PersonalData
	return out, c.Call(ctx, http.MethodPut, "/me/personal-data", r, &out, "")
}

// RevealPersonalData reads the caller's own personal data in full; the
// server journals it.
func (c *Client) RevealPersonalData(ctx context.Context) (wire.PersonalData, error) {
	var out wire.PersonalData
	return out, c.Call(ctx, http.MethodPost, "/me/personal-data/reveal", nil, &out, "")
}

// UserPersonalData reads another user's personal data, masked (managers
// and administrators).
func (c *Client) UserPersonalData(ctx context.Context, userID int64) (wire.PersonalData, error) {
	var out wire.PersonalData
	return out, c.Call(ctx, http.MethodGet, idPath("users", userID, "/personal-data"), nil, &out, "")
}

// RevealUserPersonalData reads another user's personal data in full
// (administrators; journaled).
func (c *Client) RevealUserPersonalData(ctx context.Context, userID int64) (wire.PersonalData, error) {
	var out wire.PersonalData
	return out, c.Call(ctx, http.MethodPost, idPath("users", userID, "/personal-data/reveal"), nil, &out, "")
}

// --- permission changes (administrators) ---

// DisableUser disables a user and ends their sessions.
func (c *Client) DisableUser(ctx context.Context, userID int64) error {
	return c.Call(ctx, http.MethodPost, idPath("users", userID, "/disable"), nil, nil, "")
}

// EnableUser lets a disabled user sign in again.
func (c *Client) EnableUser(ctx context.Context, userID int64) error {
	return c.Call(ctx, http.MethodPost, idPath("users", userID, "/enable"), nil, nil, "")
}

// SetUserRole gives a user another role; their sessions end.
func (c *Client) SetUserRole(ctx context.Context, userID int64, role wire.Role) (wire.User, error) {
	var out wire.User
	return out, c.Call(ctx, http.MethodPut, idPath("users", userID, "/role"), wire.SetRoleRequest{Role: role}, &out, "")
}

// ResetTOTP removes a user's second factor; they enrol again at sign-in.
func (c *Client) ResetTOTP(ctx context.Context, userID int64) (wire.User, error) {
	var out wire.User
	return out, c.Call(ctx, http.MethodPost, idPath("users", userID, "/totp/reset"), nil, &out, "")
}
