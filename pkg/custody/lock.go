package custody

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dossier-evidence/dossier/pkg/internal/filelock"
)

// lock takes the log's lock: exclusive for writers, shared for readers
// (best effort, see filelock.Lock). The returned function releases it.
func (l *Log) lock(exclusive bool) (func(), error) {
	unlock, err := filelock.Lock(l.lockPath(), exclusive)
	if err != nil {
		return nil, fmt.Errorf("custody: %w", err)
	}
	return unlock, nil
}

// lockContext is lock that stops waiting once ctx is done (see
// filelock.LockContext).
func (l *Log) lockContext(ctx context.Context, exclusive bool) (func(), error) {
	unlock, err := filelock.LockContext(ctx, l.lockPath(), exclusive)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("custody: %w", err)
	}
	return unlock, nil
}

// bundleLockSlots is how many lock files the bundles share (see
// [Log.LockBundle]): the folder never holds more, and two opens of
// different bundles wait for each other once in that many.
const bundleLockSlots = 4096

// LockBundle takes this machine's exclusive lock for the bundle whose id
// is bundleID, waiting while another process (or goroutine) holds it, until
// ctx is done. The returned function releases it.
//
// It makes checking the log for a bundle and logging what was done with
// it one step: an open holds the lock from its replay check (a
// [Log.FindChained] for an earlier open) until its own entry is appended, so that a second
// open of the same bundle started meanwhile waits, then finds the first
// in the log, instead of passing the same check at the same time.
//
// The locks are files in home/bundle.locks, named by a hash of the id and
// shared by bundles: there are at most 4,096, and two different bundles
// share one lock once in 4,096.
func (l *Log) LockBundle(ctx context.Context, bundleID string) (func(), error) {
	dir := filepath.Join(l.home, BundleLocksName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("custody: create the bundle locks folder: %w", err)
	}
	sum := sha256.Sum256([]byte(bundleID))
	slot := (uint(sum[0])<<8 | uint(sum[1])) % bundleLockSlots
	path := filepath.Join(dir, fmt.Sprintf("%03x.lock", slot))
	release, err := filelock.LockContext(ctx, path, true)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("custody: lock bundle %s: %w", bundleID, err)
	}
	return release, nil
}
