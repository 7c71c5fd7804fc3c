package custody

import (
	"errors"
	"fmt"
	"os"
	"sync"
)

// procLocks holds one read-write mutex per home folder. The OS lock alone
// would suffice on local file systems, but some (NFS emulating flock with
// POSIX record locks, fcntl locks on AIX) do not exclude two descriptors of
// the same process, so goroutines are also serialised here.
var procLocks sync.Map // absolute home folder -> *sync.RWMutex

// lock takes the log's lock: exclusive for writers, shared for readers. The
// returned function releases it.
//
// A shared lock is best effort: if the lock file cannot be opened (a
// read-only copy of a home folder, for example) or the system cannot lock
// files, readers proceed without it, since nobody can be appending there.
func (l *Log) lock(exclusive bool) (func(), error) {
	v, _ := procLocks.LoadOrStore(l.home, new(sync.RWMutex))
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
	f, err := os.OpenFile(l.lockPath(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil && !exclusive {
		f, err = os.Open(l.lockPath())
	}
	if err != nil {
		if !exclusive {
			return unlockMu, nil
		}
		unlockMu()
		return nil, fmt.Errorf("custody: open the lock file: %w", err)
	}
	if err := lockFile(f, exclusive); err != nil {
		f.Close()
		if !exclusive && errors.Is(err, errors.ErrUnsupported) {
			return unlockMu, nil
		}
		unlockMu()
		return nil, fmt.Errorf("custody: lock %s: %w", l.lockPath(), err)
	}
	return func() {
		unlockFile(f)
		f.Close()
		unlockMu()
	}, nil
}
