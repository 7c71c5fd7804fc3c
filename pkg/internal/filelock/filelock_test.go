package filelock

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
)

// LockFolder keeps goroutines of one process apart on every system.
func TestLockFolderKeepsGoroutinesApart(t *testing.T) {
	dir := testtmp.Dir(t)
	var inside, most atomic.Int32
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			release, err := LockFolder(context.Background(), dir, time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			if n := inside.Add(1); n > most.Load() {
				most.Store(n)
			}
			time.Sleep(10 * time.Millisecond)
			inside.Add(-1)
			release()
		}()
	}
	for range 8 {
		<-done
	}
	if most.Load() != 1 {
		t.Fatalf("%d goroutines held the folder's lock at once", most.Load())
	}
}

// LockContext stops waiting for a lock held elsewhere once its context is
// done, and gives the lock back when it gets it after that, so that the
// next taker is not kept out.
func TestLockContextStopsWaiting(t *testing.T) {
	path := filepath.Join(testtmp.Dir(t), "x.lock")
	release, err := Lock(path, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if r, err := LockContext(ctx, path, true); !errors.Is(err, context.DeadlineExceeded) || r != nil {
		t.Fatalf("a held lock: %v", err)
	}
	release()
	got := make(chan error, 1)
	go func() {
		r, err := LockContext(context.Background(), path, false)
		if err == nil {
			r()
		}
		got <- err
	}()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the lock abandoned by the first LockContext was never given back")
	}
}
