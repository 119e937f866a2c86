package httpapi_test

import (
	"strconv"
	"strings"
)

// reportRequest builds the calls of the reports' matrix rows: no
// application fixture, and {expert} is an expert who is not the caller.
func (w *world) reportRequest(r matrixRow) (method, path string, body any, ok bool) {
	if !strings.HasPrefix(r.path, "/api/v1/reports/") {
		return "", "", nil, false
	}
	return r.method, strings.Replace(r.path, "{expert}", strconv.FormatInt(w.spare.ID, 10), 1), nil, true
}
