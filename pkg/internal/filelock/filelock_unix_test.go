//go:build unix && !aix

package filelock

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// holdFolder takes flock's lock on dir through an open of its own, as
// another process's LockFolder (or a script's "flock DIR cmd") holds it.
func holdFolder(t *testing.T, dir string) (release func()) {
	t.Helper()
	other, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(other.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	return func() { other.Close() }
}

// LockFolder waits while another holds the folder's lock, and takes it
// once that is given back; another cannot take it meanwhile.
func TestLockFolderWaitsForAnotherHolder(t *testing.T) {
	dir := t.TempDir()
	giveBack := holdFolder(t, dir)
	type locked struct {
		release func()
		err     error
	}
	got := make(chan locked)
	go func() {
		release, err := LockFolder(context.Background(), dir, time.Minute)
		got <- locked{release, err}
	}()
	select {
	case <-got:
		t.Fatal("LockFolder took the lock another holder has")
	case <-time.After(200 * time.Millisecond):
	}
	giveBack()
	select {
	case l := <-got:
		if l.err != nil {
			t.Fatal(l.err)
		}
		probe, err := os.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer probe.Close()
		if err := unix.Flock(int(probe.Fd()), unix.LOCK_EX|unix.LOCK_NB); err == nil {
			t.Fatal("another open took the folder's lock while LockFolder held it")
		}
		l.release()
		if err := unix.Flock(int(probe.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			t.Fatalf("the lock was not given back: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("LockFolder still waits 10 s after the lock was given back")
	}
}

// A lock held longer than the patience given (a script's "flock DIR
// dossier pack …", which pack would wait for forever: found by review) is
// given up on: LockFolder goes on without it. An interrupt ends the wait.
func TestLockFolderGivesUp(t *testing.T) {
	dir := t.TempDir()
	defer holdFolder(t, dir)()
	start := time.Now()
	release, err := LockFolder(context.Background(), dir, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	release()
	if waited := time.Since(start); waited < 300*time.Millisecond || waited > 10*time.Second {
		t.Fatalf("LockFolder waited %v, want its patience of 300ms", waited)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := LockFolder(ctx, dir, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("LockFolder with an ending context: %v, want the context's error", err)
	}
	// The process's own lock was given back with it.
	release, err = LockFolder(context.Background(), dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	release()
}
