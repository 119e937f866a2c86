package blob

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Adopt moves a file already on disk, already synced and already hashed to
// digest by the caller (an upload's spool file), into the store by rename:
// no second copy of hundreds of megabytes. The file must be on the same
// file system as the store. When the blob exists already the file is removed.
func (f *FS) Adopt(ctx context.Context, path, digest string) (size int64, err error) {
	defer wrap(&err, "adopt blob")
	if err := ValidateDigest(digest); err != nil {
		return 0, err
	}
	info, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	final := f.path(digest)
	if have, err := os.Stat(final); err == nil && have.Size() == info.Size() {
		_ = os.Remove(path)
		return info.Size(), nil
	}
	dir := filepath.Dir(final)
	if err := mkdirSynced(f.dir, dir); err != nil {
		return 0, err
	}
	if err := os.Rename(path, final); err != nil {
		var le *os.LinkError
		if errors.As(err, &le) {
			return 0, fmt.Errorf("%w (the spool and the store must share a file system)", err)
		}
		return 0, err
	}
	return info.Size(), syncDir(dir)
}
