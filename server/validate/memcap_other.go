//go:build !linux

package validate

import "runtime/debug"

// capMemory sets only the Go runtime's soft memory limit: the hard cap
// (RLIMIT_AS relative to the start-up size) needs Linux's /proc, and the
// server is deployed on Linux. The parent's timeout still bounds the worker.
func capMemory(limit int64) error {
	debug.SetMemoryLimit(limit)
	return nil
}
