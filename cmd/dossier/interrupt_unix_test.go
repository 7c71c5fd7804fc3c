//go:build unix

package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dossier-evidence/dossier/pkg/custody"
)

// A named pipe given as a key, card or spec is refused before it is
// opened, which would wait for a writer for ever, deaf to Ctrl-C (found
// by an audit).
func TestReadBoundedRefusesAFIFOWithoutOpening(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "alice.card")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := readSmallFile(fifo, 1<<20)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "is not a regular file") {
			t.Fatalf("a FIFO: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reading a FIFO with no writer did not return")
	}
}

// An interrupted command still logs itself, but waits for a lock another
// process holds on the custody log only a moment, then says it was not
// logged (found by review: open and receipt verify, interrupted, waited
// for the lock, printing nothing).
func TestRecordAfterInterruptDoesNotWaitForTheLog(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	t.Setenv("DOSSIER_HOME", home)
	if _, err := custody.Open(home); err != nil {
		t.Fatal(err)
	}
	// Held as another process would: flock on a descriptor of its own.
	lock, err := os.OpenFile(filepath.Join(home, custody.LockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		t.Skip("no flock here:", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stderr bytes.Buffer
	g := &globalOptions{ctx: ctx, stdout: io.Discard, stderr: &stderr, now: time.Now}
	g.begin("open")
	start := time.Now()
	g.record("interrupted", "")
	if took := time.Since(start); took > interruptedLogPatience+5*time.Second {
		t.Errorf("record waited %v", took)
	}
	if !strings.Contains(stderr.String(), "this command was interrupted: it is not logged") {
		t.Errorf("stderr: %q", stderr.String())
	}
	unix.Flock(int(lock.Fd()), unix.LOCK_UN)
	// The wait abandoned takes the lock and gives it back: an append
	// goes ahead.
	l, err := custody.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(custody.Event{Action: "verify", Outcome: "ok"}, nil); err != nil {
		t.Fatal(err)
	}
}
