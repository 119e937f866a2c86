//go:build !unix

package pgcluster

import (
	"io/fs"
	"os/exec"
)

// Only Unix runs as root with a switch of user; elsewhere the cluster runs as the caller.
func setCredential(*exec.Cmd, int, int) {}

func fileOwner(fs.FileInfo) (uid, gid int, ok bool) { return 0, 0, false }

// processExists cannot tell here, so callers keep waiting for the server's own signs.
func processExists(int) bool { return true }
