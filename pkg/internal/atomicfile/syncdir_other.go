//go:build !windows

package atomicfile

import (
	"errors"
	"os"
	"syscall"
)

// SyncDir fsyncs a folder so that a rename in it is durable. A file system
// that cannot sync folders (fsync gives EINVAL or ENOTSUP, as some network
// and FUSE file systems do) is not an error.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !cannotSyncFolders(err) {
		return err
	}
	return nil
}

// cannotSyncFolders reports whether err, from a folder's fsync, says the
// file system does not do that. (os.ErrInvalid, which this checked once,
// never matches the EINVAL that fsync returns.)
func cannotSyncFolders(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) ||
		errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, errors.ErrUnsupported)
}
