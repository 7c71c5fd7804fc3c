package bundle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/dossier-evidence/dossier/pkg/bagit"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
	"github.com/dossier-evidence/dossier/pkg/manifest"
)

// After the writer goroutine fails, the reader is told so and is never
// left waiting for a batch: here it has filled every batch before the
// writer starts, and fails on the first file.
func TestStagingSinkWriterErrorDoesNotBlock(t *testing.T) {
	t.Run("write", func(t *testing.T) { testWriterErrorDoesNotBlock(t, false) })
	t.Run("room", func(t *testing.T) { testWriterErrorDoesNotBlock(t, true) })
}

// testWriterErrorDoesNotBlock writes through Write, or into the room the
// writer lends if room is set.
func testWriterErrorDoesNotBlock(t *testing.T, room bool) {
	dir, root := stagingRoot(t)
	if err := os.Mkdir(filepath.Join(dir, bagit.PayloadDir, "taken"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, bagit.PayloadDir, "taken", "0.bin"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := idleStagingSink(root, dir, dir+".target", "test")
	result := make(chan error, 1)
	go func() {
		chunk := make([]byte, stagingBufferLen)
		for i := range 3 {
			f := &manifest.File{Path: fmt.Sprintf("taken/%d.bin", i)}
			w, err := s.create(f)
			if err != nil {
				result <- err
				return
			}
			for range 2 * stagingBatches {
				var err error
				if room {
					var buf []byte
					for left := len(chunk); left > 0 && err == nil; left -= len(buf) {
						if buf, err = w.(roomWriter).space(); err == nil {
							buf = buf[:min(len(buf), left)]
							err = w.(roomWriter).written(len(buf))
						}
					}
				} else {
					_, err = w.Write(chunk)
				}
				if err != nil {
					result <- err
					return
				}
			}
			if err := s.closeFile(f); err != nil {
				result <- err
				return
			}
		}
		result <- s.finish()
	}()
	for len(s.batches) < stagingBatches { // all filled and handed over
		select {
		case err := <-result:
			t.Fatalf("the reader ended before the writer started: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	go s.run()
	select {
	case err := <-result:
		if !errors.Is(err, fs.ErrExist) {
			t.Fatalf("writing after the writer failed: %v, want its error (the file exists)", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the reader was left waiting after the writer failed")
	}
	s.abort()
}

// An open that fails once files are written leaves no descriptor open,
// nor does one that passes; its folders are the owner's only.
func TestOpenLeavesNoDescriptors(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts /proc/self/fd")
	}
	count := func() int {
		entries, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(entries)
	}
	p := getParties(t)
	data, _, _ := packSample(t, p.bob.Card)
	earlySyncEvery = 1 // and early syncs running
	t.Cleanup(func() { earlySyncEvery = 64 << 20 })
	parent := testtmp.Dir(t)
	opts := ReadOptions{Identity: p.bob, Sender: p.alice.Card}
	before := count()
	if _, err := Open(context.Background(), bytes.NewReader(data[:len(data)-100]), filepath.Join(parent, "cut"), opts); err == nil {
		t.Fatal("opened a cut bundle")
	}
	if left, _ := os.ReadDir(parent); len(left) != 0 {
		t.Fatalf("left in %s: %v", parent, left)
	}
	if after := count(); after != before {
		t.Fatalf("%d descriptors open after a failed open, %d before", after, before)
	}
	target := filepath.Join(parent, "opened")
	if _, err := Open(context.Background(), bytes.NewReader(data), target, opts); err != nil {
		t.Fatal(err)
	}
	if after := count(); after != before {
		t.Fatalf("%d descriptors open after an open, %d before", after, before)
	}
	err := filepath.WalkDir(target, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o700 {
			return fmt.Errorf("%s: mode %v, %v; want 0700", p, st.Mode().Perm(), err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
