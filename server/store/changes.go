package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/expertiza/expertiza/sync/wire"
)

// NotifyChannel is the LISTEN/NOTIFY channel that wakes other server
// processes; the payload is only the sequence number.
const NotifyChannel = "expertiza_changes"

// EventRow is one change-log row with its audience fixed at commit time.
type EventRow struct {
	Seq       int64
	At        time.Time
	Kind      wire.EventKind
	AppID     int64
	OrgID     int64   // applicants of this organisation see it (unless StaffOnly)
	ExpertIDs []int64 // these experts see it
	StaffOnly bool
	OrgOnly   bool  // a draft: only the organisation's applicants see it
	UserID    int64 // when set, only this user sees it
	Payload   json.RawMessage
}

// Event converts the row to what goes over the wire.
func (e EventRow) Event() wire.Event {
	return wire.Event{Seq: e.Seq, Kind: e.Kind, At: e.At, AppID: e.AppID, Data: e.Payload}
}

func (t *Tx) flushEvents(ctx context.Context) (int64, error) {
	if len(t.events) == 0 {
		return 0, nil
	}
	// Taking the counter row last serialises only the tail of writing
	// transactions, and makes commit order equal sequence order.
	var last int64
	err := t.q.QueryRow(ctx,
		`UPDATE change_counter SET last = last + $1 WHERE id = 1 RETURNING last`,
		len(t.events)).Scan(&last)
	if err != nil {
		return 0, fmt.Errorf("advance change counter: %w", err)
	}
	first := last - int64(len(t.events)) + 1
	batch := make([][]any, 0, len(t.events))
	for i, e := range t.events {
		e.Seq = first + int64(i)
		if e.ExpertIDs == nil {
			e.ExpertIDs = []int64{}
		}
		batch = append(batch, []any{e.Seq, t.now, string(e.Kind), nullID(e.AppID), nullID(e.OrgID),
			e.ExpertIDs, e.StaffOnly, e.OrgOnly, nullID(e.UserID), []byte(e.Payload)})
	}
	for _, row := range batch {
		if _, err := t.q.Exec(ctx, `INSERT INTO change_log
			(seq, at, kind, app_id, org_id, expert_ids, staff_only, org_only, user_id, payload)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`, row...); err != nil {
			return 0, fmt.Errorf("append change log: %w", err)
		}
	}
	if _, err := t.q.Exec(ctx, `SELECT pg_notify($1, $2)`, NotifyChannel, fmt.Sprint(last)); err != nil {
		return 0, fmt.Errorf("notify: %w", err)
	}
	return last, nil
}

// ChangesAfter reads up to limit change-log rows with seq > after, in order.
func (q Q) ChangesAfter(ctx context.Context, after int64, limit int) ([]EventRow, error) {
	rows, err := q.q.Query(ctx, `SELECT seq, at, kind, coalesce(app_id,0), coalesce(org_id,0),
		expert_ids, staff_only, org_only, coalesce(user_id,0), payload
		FROM change_log WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read changes after %d: %w", after, err)
	}
	defer rows.Close()
	var out []EventRow
	for rows.Next() {
		var e EventRow
		var kind string
		var payload []byte
		if err := rows.Scan(&e.Seq, &e.At, &kind, &e.AppID, &e.OrgID, &e.ExpertIDs, &e.StaffOnly, &e.OrgOnly, &e.UserID, &payload); err != nil {
			return nil, fmt.Errorf("scan change: %w", err)
		}
		e.Kind = wire.EventKind(kind)
		e.Payload = payload
		out = append(out, e)
	}
	return out, rows.Err()
}

// LastSeq is the highest committed change sequence.
func (q Q) LastSeq(ctx context.Context) (int64, error) {
	var last int64
	err := q.q.QueryRow(ctx, `SELECT last FROM change_counter WHERE id = 1`).Scan(&last)
	if err != nil {
		return 0, fmt.Errorf("read change counter: %w", err)
	}
	return last, nil
}

// FirstSeq is the lowest sequence still kept (0 when the log is empty); a
// client resuming from before it must resynchronise.
func (q Q) FirstSeq(ctx context.Context) (int64, error) {
	var first int64
	err := q.q.QueryRow(ctx, `SELECT coalesce(min(seq),0) FROM change_log`).Scan(&first)
	if err != nil {
		return 0, fmt.Errorf("read first change: %w", err)
	}
	return first, nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
