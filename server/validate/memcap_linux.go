//go:build linux

package validate

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"syscall"
)

// asHeadroom is address space granted beyond the start-up size and the
// requested budget: the Go heap grows in 64 MiB arenas with metadata beside
// them, and every new OS thread of a cgo-enabled binary maps its own stack.
// Measured here (a worker allocating and touching 8 MiB blocks until it
// dies): with 128 MiB of headroom a 1 GiB budget yields about 1000 MiB of
// live heap and a 256 MiB budget about 310 MiB; with 256 MiB of headroom
// the 1 GiB budget yields about 1190 MiB. Under the race detector the
// shadow memory also counts, leaving roughly a third of the budget.
const asHeadroom = 128 << 20

// capMemory limits the process's address space (RLIMIT_AS) to what it uses
// now plus limit plus headroom — the hard guarantee: an allocation beyond it
// fails and the Go runtime exits with "out of memory" — and sets the Go
// runtime's soft memory limit to limit so the garbage collector works
// harder before that happens. Limiting the growth rather than the total
// keeps it independent of how much address space the runtime (or the race
// detector's shadow memory) reserved at start-up.
func capMemory(limit int64) error {
	vm, err := virtualSize()
	if err != nil {
		return err
	}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &rl); err != nil {
		return fmt.Errorf("getrlimit: %w", err)
	}
	want := vm + uint64(limit) + asHeadroom
	if want > rl.Max {
		want = rl.Max // an unprivileged process cannot raise the hard limit
	}
	rl.Cur = want
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &rl); err != nil {
		return fmt.Errorf("setrlimit: %w", err)
	}
	debug.SetMemoryLimit(limit)
	return nil
}

// virtualSize returns VmSize from /proc/self/status, in bytes.
func virtualSize() (uint64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("read /proc/self/status: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Bytes()
		if v, ok := bytes.CutPrefix(line, []byte("VmSize:")); ok {
			f := bytes.Fields(v)
			if len(f) == 2 && string(f[1]) == "kB" {
				kb, err := strconv.ParseUint(string(f[0]), 10, 64)
				if err != nil {
					return 0, fmt.Errorf("parse VmSize: %w", err)
				}
				return kb << 10, nil
			}
		}
	}
	return 0, fmt.Errorf("no VmSize in /proc/self/status")
}
