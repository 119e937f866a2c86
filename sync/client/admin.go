package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/expertiza/expertiza/sync/wire"
)

// --- administration (administrators; the experts' load also managers) ---

// SearchUsers lists accounts matching q, with their lockout and last
// sign-in.
func (c *Client) SearchUsers(ctx context.Context, q wire.UserQuery) ([]wire.AdminUser, error) {
	var out []wire.AdminUser
	path := "/admin/users"
	if v := q.Values().Encode(); v != "" {
		path += "?" + v
	}
	return out, c.Call(ctx, http.MethodGet, path, nil, &out, "")
}

// AdminUser reads one account.
func (c *Client) AdminUser(ctx context.Context, id int64) (wire.AdminUser, error) {
	var out wire.AdminUser
	return out, c.Call(ctx, http.MethodGet, idPath("admin/users", id, ""), nil, &out, "")
}

// CreateUser creates an account; key makes a retry apply once.
func (c *Client) CreateUser(ctx context.Context, r wire.CreateUserRequest, key string) (wire.AdminUser, error) {
	var out wire.AdminUser
	return out, c.Call(ctx, http.MethodPost, "/admin/users", r, &out, key)
}

// UnlockUser clears an account's failed-login lock.
func (c *Client) UnlockUser(ctx context.Context, id int64) (wire.AdminUser, error) {
	var out wire.AdminUser
	return out, c.Call(ctx, http.MethodPost, idPath("users", id, "/unlock"), nil, &out, "")
}

// Organisations lists organisations whose name, short name or INN
// contains text ("" lists all).
func (c *Client) Organisations(ctx context.Context, text string) ([]wire.OrganisationSummary, error) {
	var out []wire.OrganisationSummary
	path := "/admin/organisations"
	if text != "" {
		path += "?q=" + url.QueryEscape(text)
	}
	return out, c.Call(ctx, http.MethodGet, path, nil, &out, "")
}

// UpdateOrganisation changes an organisation's details.
func (c *Client) UpdateOrganisation(ctx context.Context, id int64, r wire.UpdateOrganisationRequest) (wire.Organisation, error) {
	var out wire.Organisation
	return out, c.Call(ctx, http.MethodPatch, idPath("admin/organisations", id, ""), r, &out, "")
}

// ExpertLoads lists active experts with their current work.
func (c *Client) ExpertLoads(ctx context.Context) ([]wire.ExpertLoad, error) {
	var out []wire.ExpertLoad
	return out, c.Call(ctx, http.MethodGet, "/experts/load", nil, &out, "")
}

// SetCalendarDay marks a date working or non-working and returns the
// calendar's exceptions.
func (c *Client) SetCalendarDay(ctx context.Context, day wire.Date, r wire.SetCalendarDayRequest) ([]wire.CalendarDay, error) {
	var out []wire.CalendarDay
	return out, c.Call(ctx, http.MethodPut, "/admin/calendar/"+day.String(), r, &out, "")
}

// ImportCalendar replaces a year's exceptions.
func (c *Client) ImportCalendar(ctx context.Context, r wire.ImportCalendarRequest) ([]wire.CalendarDay, error) {
	var out []wire.CalendarDay
	return out, c.Call(ctx, http.MethodPost, "/admin/calendar/import", r, &out, "")
}

// ServerStatus reads the server's state.
func (c *Client) ServerStatus(ctx context.Context) (wire.ServerStatus, error) {
	var out wire.ServerStatus
	return out, c.Call(ctx, http.MethodGet, "/admin/status", nil, &out, "")
}
