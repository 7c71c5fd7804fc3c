// Package filelock serialises processes (and goroutines) that update the
// same files, with an OS lock on a lock file: flock(2) on Unix, fcntl on
// AIX, LockFileEx on Windows.
package filelock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
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

// LockContext is Lock that stops waiting once ctx is done and returns
// ctx's error: a lock another process holds (a dossier run that hangs, or
// a script's "flock FILE command" around this one) would otherwise keep
// a command waiting for ever, deaf to Ctrl-C. The lock cannot be
// abandoned while it is awaited: one taken after ctx is done is given
// back at once.
func LockContext(ctx context.Context, path string, exclusive bool) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err // not taken, even if free
	}
	type locked struct {
		release func()
		err     error
	}
	done := make(chan locked, 1)
	go func() {
		release, err := Lock(path, exclusive)
		done <- locked{release, err}
	}()
	select {
	case got := <-done:
		return got.release, got.err
	case <-ctx.Done():
		go func() {
			if got := <-done; got.release != nil {
				got.release()
			}
		}()
		return nil, ctx.Err()
	}
}

// errWouldBlock is tryLockFolder's error for a lock another holds.
var errWouldBlock = errors.New("filelock: the folder is locked by another")

// LockFolder takes an exclusive lock on the folder dir itself, for a
// short change to the names in it that no other process may interleave
// with its own (pack putting a bundle and its seal, or every volume, in
// place). It makes no lock file.
//
// It is best effort. Where a folder cannot be locked (Windows, AIX, a
// file system without flock, a folder it cannot open), only this
// process's goroutines are kept apart. A lock another process holds is
// waited for at most patience: one held longer is not another dossier
// changing a few names but, say, a script's "flock DIR command" around
// this very process, which would otherwise wait for itself forever; then
// it goes on without the lock. It stops waiting when ctx is done and
// returns ctx's error. The returned function releases what was taken.
func LockFolder(ctx context.Context, dir string, patience time.Duration) (func(), error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	v, _ := procLocks.LoadOrStore(abs+string(filepath.Separator), new(sync.RWMutex))
	mu := v.(*sync.RWMutex)
	mu.Lock()
	f, err := os.Open(abs)
	if err != nil {
		return mu.Unlock, nil
	}
	deadline := time.Now().Add(patience)
	for {
		err := tryLockFolder(f)
		if err == nil {
			return func() {
				unlockFile(f)
				f.Close()
				mu.Unlock()
			}, nil
		}
		if !errors.Is(err, errWouldBlock) || !time.Now().Before(deadline) {
			f.Close()
			return mu.Unlock, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			mu.Unlock()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
