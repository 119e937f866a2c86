//go:build !linux

package pgtest

// scratchDir leaves the throwaway cluster in the default temporary folder.
func scratchDir() string { return "" }
