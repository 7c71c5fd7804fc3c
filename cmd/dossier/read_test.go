package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// A bundle input may be closed while the decompressor's read-ahead is
// still reading it (bundle.Open returned an error): Close waits for that
// Read, later Reads fail, and nothing crashes.
func TestBundleInputCloseWhileReading(t *testing.T) {
	dir := sandbox(t, 1<<20)
	out := filepath.Join(dir, "case.dossier")
	if code := run([]string{"pack", "-i", filepath.Join(dir, "alice.id"), "-r", filepath.Join(dir, "bob.card"), "-o", out,
		"--default-category", "other", filepath.Join(dir, "case")}, nil, io.Discard, io.Discard); code != 0 {
		t.Fatalf("pack: exit %d", code)
	}
	sender, err := loadCardFile(filepath.Join(dir, "alice.card"))
	if err != nil {
		t.Fatal(err)
	}
	g := &globalOptions{}
	for range 200 {
		in, err := g.openBundle(out, "", sender)
		if err != nil {
			t.Fatal(err)
		}
		started := make(chan struct{})
		done := make(chan error)
		go func() {
			buf := make([]byte, 4096)
			close(started)
			for {
				if _, err := in.Read(buf); err != nil {
					done <- err
					return
				}
			}
		}()
		<-started
		if err := in.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; !errors.Is(err, os.ErrClosed) && !errors.Is(err, io.EOF) {
			t.Fatalf("read after close: %v", err)
		}
	}
}
