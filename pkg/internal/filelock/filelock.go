// Package filelock serialises processes (and goroutines) that update the
// same files, with an OS lock on a lock file: flock(2) on Unix, fcntl on
// AIX, LockFileEx on Windows.
package filelock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// procLocks holds one read-write mutex per lock file. The OS lock alone
// would suffice on local file systems, but some (NFS emulating flock with
// POSIX record locks, fcntl locks on AIX) do not exclude two descriptors of
// the same process, so goroutines are also serialised here.
var procLocks sync.Map // absolute lock-file path -> *sync.RWMutex

// Lock takes the lock on the file at path (created with mode 0600 if
// needed): exclusive for writers, shared for readers. The returned function
// releases it.
//
// A shared lock is best effort: if the lock file cannot be opened (a
// read-only copy, for example) or the system cannot lock files, readers
// proceed without it. An exclusive lock that cannot be taken is an error
// (wrapping errors.ErrUnsupported where the system cannot lock files).
func Lock(path string, exclusive bool) (func(), error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	v, _ := procLocks.LoadOrStore(abs, new(sync.RWMutex))
	mu := v.(*sync.RWMutex)
	if exclusive {
		mu.Lock()
	} else {
		mu.RLock()
	}
	unlockMu := func() {
		if exclusive {
			mu.Unlock()
		} else {
			mu.RUnlock()
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil && !exclusive {
		f, err = os.Open(path)
	}
	if err != nil {
		if !exclusive {
			return unlockMu, nil
		}
		unlockMu()
		return nil, fmt.Errorf("open the lock file: %w", err)
	}
	if err := lockFile(f, exclusive); err != nil {
		f.Close()
		if !exclusive && errors.Is(err, errors.ErrUnsupported) {
			return unlockMu, nil
		}
		unlockMu()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		unlockFile(f)
		f.Close()
		unlockMu()
	}, nil
}
