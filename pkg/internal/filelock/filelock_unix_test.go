//go:build unix && !aix

package filelock

import (
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// LockFolder waits while another open of the folder holds flock's lock
// on it, as another process's LockFolder does, and takes it once that is
// given back.
func TestLockFolderWaitsForAnotherHolder(t *testing.T) {
	dir := t.TempDir()
	other, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := unix.Flock(int(other.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	locked := make(chan func())
	go func() { locked <- LockFolder(dir) }()
	select {
	case <-locked:
		t.Fatal("LockFolder took the lock another holder has")
	case <-time.After(200 * time.Millisecond):
	}
	if err := unix.Flock(int(other.Fd()), unix.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	select {
	case release := <-locked:
		// Held now: the other open cannot take it.
		if err := unix.Flock(int(other.Fd()), unix.LOCK_EX|unix.LOCK_NB); err == nil {
			t.Fatal("another open took the folder's lock while LockFolder held it")
		}
		release()
		if err := unix.Flock(int(other.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			t.Fatalf("the lock was not given back: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("LockFolder still waits 10 s after the lock was given back")
	}
}
