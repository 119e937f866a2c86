package blob

import (
	"context"
	"time"
)

// SweepS3 runs the S3 store's sweep of temporary objects with a chosen
// cutoff: a test cannot make an object an hour old.
func SweepS3(ctx context.Context, s *S3, cutoff time.Time) error { return s.sweep(ctx, cutoff) }
