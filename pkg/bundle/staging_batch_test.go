package bundle

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dossier-evidence/dossier/pkg/bagit"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
	"github.com/dossier-evidence/dossier/pkg/manifest"
)

// The writer goroutine gets its steps in batches: files whose bytes span
// batches, writes larger than a batch, many tiny writes, data read
// straight into a batch, empty files and more files than a batch holds
// steps all arrive whole, in their folders, with their times.
func TestStagingSinkBatches(t *testing.T) {
	dir, root := stagingRoot(t)
	s := newStagingSink(root, dir, dir+".target", "test")
	content := func(i int) []byte {
		size := []int{0, 1, 100, 4000}[i%4]
		if i < 30 { // some larger than a batch, or nearly
			size = []int{0, 1, 100, 4000, stagingBufferLen - 7, stagingBufferLen + 3, 600 << 10}[i%7]
		}
		b := make([]byte, size)
		for j := range b {
			b[j] = byte(i*31 + j*7 + j>>9)
		}
		return b
	}
	const files = 3*stagingBatchOps + 11
	base := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range files {
		f := &manifest.File{Path: fmt.Sprintf("f%02d/g%d/%04d.bin", i/40, i/13%3, i), MTime: manifest.TimeOf(base.Add(time.Duration(i) * time.Hour))}
		w, err := s.create(f)
		if err != nil {
			t.Fatal(err)
		}
		data := content(i)
		switch i % 4 {
		case 0: // at once
			_, err = w.Write(data)
		case 3: // read into the batch's room, some reads empty, some short
			rw := w.(roomWriter)
			for k := 0; len(data) > 0 && err == nil; k++ {
				var room []byte
				if room, err = rw.space(); err == nil {
					if len(room) == 0 {
						t.Fatal("space gave no room")
					}
					n := min(len(data), len(room), []int{0, 1, 9000, 70 << 10, 1 << 30}[(i+k)%5])
					copy(room, data[:n])
					err = rw.written(n)
					data = data[n:]
				}
			}
		case 1: // in tiny writes
			for len(data) > 0 && err == nil {
				n := min(len(data), 1+i%5)
				_, err = w.Write(data[:n])
				data = data[n:]
			}
		default: // in writes of 100 KiB
			for len(data) > 0 && err == nil {
				n := min(len(data), 100<<10)
				_, err = w.Write(data[:n])
				data = data[n:]
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := s.closeFile(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.finish(); err != nil {
		t.Fatal(err)
	}
	for i := range files {
		f := fmt.Sprintf("f%02d/g%d/%04d.bin", i/40, i/13%3, i)
		name := filepath.Join(dir, bagit.PayloadDir, filepath.FromSlash(f))
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, content(i)) {
			t.Fatalf("%s: %d bytes differ from the %d written", f, len(got), len(content(i)))
		}
		st, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if want := base.Add(time.Duration(i) * time.Hour); !st.ModTime().Equal(want) {
			t.Fatalf("%s: modified %v, want %v", f, st.ModTime(), want)
		}
	}
	if s.made > stagingBatches {
		t.Fatalf("%d batches made, at most %d may be", s.made, stagingBatches)
	}
	for range s.made {
		if b := <-s.free; cap(b.ops) > stagingBatchOps || cap(b.buf) > stagingBufferLen {
			t.Fatalf("a batch grew to %d steps and %d bytes", cap(b.ops), cap(b.buf))
		}
	}
}

// stagingRoot returns a staging folder holding an empty data/, and a root
// on it that is closed when the test ends.
func stagingRoot(t *testing.T) (string, *os.Root) {
	t.Helper()
	dir := testtmp.Dir(t)
	if err := os.Mkdir(filepath.Join(dir, bagit.PayloadDir), 0o700); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return dir, root
}

// written takes only the room space lent, from the batch still being
// filled: anything else would queue bytes that were not those read.
func TestStagingWrittenNeedsItsRoom(t *testing.T) {
	dir, root := stagingRoot(t)
	s := newStagingSink(root, dir, dir+".target", "test")
	defer s.abort()
	w, err := s.create(&manifest.File{Path: "a"})
	if err != nil {
		t.Fatal(err)
	}
	rw := w.(roomWriter)
	mustPanic := func(what string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Fatalf("%s did not panic", what)
			}
		}()
		f()
	}
	mustPanic("written before space", func() { rw.written(1) })
	room, err := rw.space()
	if err != nil {
		t.Fatal(err)
	}
	mustPanic("written beyond the room", func() { rw.written(len(room) + 1) })
	room, _ = rw.space()
	s.handOver()
	mustPanic("written after the batch was handed over", func() { rw.written(1) })
	room, _ = rw.space()
	if err := rw.written(len(room)); err != nil {
		t.Fatal(err)
	}
	mustPanic("written twice", func() { rw.written(0) })
}
