//go:build !unix && !windows

package filelock

import (
	"errors"
	"os"
)

// lockFile reports that this system cannot lock files: appending is
// refused rather than risk a corrupted log, while reading proceeds.
func lockFile(f *os.File, exclusive bool) error {
	return errors.ErrUnsupported
}

// unlockFile does nothing here.
func unlockFile(f *os.File) error { return nil }

// tryLockFolder reports that folders cannot be locked here (see
// LockFolder).
func tryLockFolder(f *os.File) error { return errors.ErrUnsupported }
