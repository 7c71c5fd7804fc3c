package filelock

import (
	"context"
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
