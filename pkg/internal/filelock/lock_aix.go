//go:build aix

package filelock

import (
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// lockFile takes a POSIX record lock over the whole of f, waiting for it
// (AIX has no flock). Record locks belong to the process, so goroutines are
// kept apart by the in-process mutex in lock.
func lockFile(f *os.File, exclusive bool) error {
	typ := int16(unix.F_RDLCK)
	if exclusive {
		typ = unix.F_WRLCK
	}
	lk := unix.Flock_t{Type: typ, Whence: io.SeekStart}
	for {
		err := unix.FcntlFlock(f.Fd(), unix.F_SETLKW, &lk)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// unlockFile releases the lock taken by lockFile.
func unlockFile(f *os.File) error {
	lk := unix.Flock_t{Type: unix.F_UNLCK, Whence: io.SeekStart}
	return unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk)
}

// tryLockFolder reports that folders cannot be locked here (see
// LockFolder).
func tryLockFolder(f *os.File) error { return errors.ErrUnsupported }
