//go:build unix

package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
