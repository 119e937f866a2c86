package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// BenchmarkAuditList reads one page of a 200,000-row journal the ways the
// journal screen does: an administrator's newest page, a user's own rows,
// a manager's scope (own rows or rows of non-draft applications), one
// application, one action in a period, and a text search.
func BenchmarkAuditList(b *testing.B) {
	ctx := context.Background()
	pool := pgtest.NewPool(b)
	// Rows straight into the table (the benchmark reads, it does not
	// verify): 200 users, 1,000 applications, 8 actions.
	if _, err := pool.Exec(ctx, `INSERT INTO organisations (name, inn, ogrn) VALUES ('ООО', '7707083893', '1027700132195');
		INSERT INTO users (login, role, password_hash) SELECT 'u' || g, 'expert', 'x' FROM generate_series(1, 200) g;
		INSERT INTO applications (number, org_id, object_name, object_address, works_kind, expertise_kind, financing, status, created_by)
			SELECT 'N-' || g, 1, 'Объект', 'Адрес', 'construction', 'project_docs', 'budget', CASE WHEN g % 10 = 0 THEN 'draft' ELSE 'in_review' END, 1
			FROM generate_series(1, 1000) g;
		INSERT INTO audit_log (at, actor_id, actor_login, ip, device, action, object_type, object_id, app_id, details, prev_hash, hash)
			SELECT now() - (200000 - g) * interval '1 second', 1 + g % 200, 'u' || (1 + g % 200), '10.0.0.1', 'dev',
				(ARRAY['login','file_download','status_change','file_upload','remark_create','login_failed','assign','audit_read'])[1 + g % 8],
				'application', (1 + g % 1000)::text, CASE WHEN g % 8 IN (1,2,3,4,6) THEN 1 + g % 1000 END,
				'{"reason":"r' || g || '"}', '\x', '\x'
			FROM generate_series(1, 200000) g;
		ANALYZE`); err != nil {
		b.Fatal(err)
	}
	q := store.New(pool).Read()
	now := time.Now()
	cases := []struct {
		name  string
		scope store.AuditScope
		f     wire.AuditQuery
	}{
		{"admin newest page", store.AuditScope{All: true}, wire.AuditQuery{}},
		{"own rows", store.AuditScope{ActorID: 17}, wire.AuditQuery{}},
		{"manager scope", store.AuditScope{ActorID: 17, Applications: true}, wire.AuditQuery{}},
		{"one application", store.AuditScope{All: true}, wire.AuditQuery{AppID: 501}},
		{"action in the last day", store.AuditScope{All: true}, wire.AuditQuery{Action: "login_failed", From: now.Add(-24 * time.Hour)}},
		{"text search", store.AuditScope{All: true}, wire.AuditQuery{Text: "r199999"}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			c.f.Limit = 101
			for b.Loop() {
				if _, err := q.AuditList(ctx, c.scope, c.f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
