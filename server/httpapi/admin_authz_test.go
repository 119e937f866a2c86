package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

// adminRequest builds the calls of the administration and support rows
// of docs/authorization.md.
func (w *world) adminRequest(r matrixRow) (method, path string, body any, ok bool) {
	ctx := context.Background()
	t := w.t
	switch r.path {
	case "/api/v1/admin/users":
		if r.method == http.MethodPost {
			n := testenv.Unique()
			return r.method, r.path, wire.CreateUserRequest{Login: fmt.Sprintf("created%d", n), Password: "a long enough passphrase",
				FullName: "Создан Администратором", Role: wire.RoleExpert}, true
		}
	case "/api/v1/admin/users/{id}", "/api/v1/users/{id}/unlock":
		return r.method, strings.Replace(r.path, "{id}", strconv.FormatInt(w.spare.ID, 10), 1), nil, true
	case "/api/v1/admin/organisations/{id}":
		org := w.actors["member"].User.OrgID
		all, err := w.actors["admin"].C.Organisations(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		var version int64
		for _, o := range all {
			if o.ID == org {
				version = o.Version
			}
		}
		return r.method, strings.Replace(r.path, "{id}", strconv.FormatInt(org, 10), 1), wire.UpdateOrganisationRequest{Version: version}, true
	case "/api/v1/admin/calendar/{date}":
		return r.method, strings.Replace(r.path, "{date}", "2030-01-15", 1), wire.SetCalendarDayRequest{Working: true}, true
	case "/api/v1/admin/calendar/import":
		return r.method, r.path, wire.ImportCalendarRequest{Year: 2031, Days: []wire.CalendarDay{
			{Day: wire.Date{Year: 2031, Month: 1, Day: 1}}, {Day: wire.Date{Year: 2031, Month: 1, Day: 2}}}}, true
	case "/api/v1/support":
		if r.method == http.MethodPost {
			return r.method, r.path, wire.CreateSupportRequest{Subject: "Не открывается файл", Body: "Подскажите, что делать"}, true
		}
	case "/api/v1/support/{id}", "/api/v1/support/{id}/messages", "/api/v1/support/{id}/status":
		req, err := w.actors["member"].C.CreateSupportRequest(ctx, wire.CreateSupportRequest{Subject: "Вопрос", Body: "Текст"}, "")
		if err != nil {
			t.Fatal(err)
		}
		path = strings.Replace(r.path, "{id}", strconv.FormatInt(req.ID, 10), 1)
		switch {
		case strings.HasSuffix(path, "/messages"):
			body = wire.SupportReplyRequest{Body: "Дополнение"}
		case strings.HasSuffix(path, "/status"):
			body = wire.SupportStatusRequest{Version: req.Version, Status: wire.SupportClosed}
		}
		return r.method, path, body, true
	}
	return "", "", nil, false
}
