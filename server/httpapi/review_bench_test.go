package httpapi_test

import (
	"context"
	"testing"

	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// BenchmarkAnnotationLive measures one annotation from the author's HTTP
// command (idempotency key, validation, transaction, audit, change log) to
// its arrival on another expert's WebSocket (DESIGN.md: pushed to everyone
// viewing the document within milliseconds).
func BenchmarkAnnotationLive(b *testing.B) {
	ctx := context.Background()
	c := newReviewCast(b)
	_, vid := inReview(b, c.member, c.manager, c.lead, c.assigned)
	_, rec := c.lead.Subscribe(b, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.assigned.C.CreateAnnotation(ctx, vid, rectOn(float64(i%400)), client.NewIdempotencyKey()); err != nil {
			b.Fatal(err)
		}
		rec.WaitFor(b, hang, "the annotation at the other expert", func(r *testenv.Recorder) bool {
			return len(testenv.Kinds(r.Events(), wire.EventAnnotation)) > i
		})
	}
}
