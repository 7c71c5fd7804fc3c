// Package writeback has the kernel start writing a file to disk while the
// rest of it is still being produced, so that the fsync (or syncfs) that
// makes it durable waits only for the tail.
//
// Without it, Linux keeps up to dirty_background_ratio of memory
// (gigabytes on a large machine) waiting, and dossier sat idle in its
// final fsync for about 0.8 s per GB written.
package writeback

import "io"

// Every is how many bytes are written before the kernel is asked to start
// writing them to disk.
const Every = 8 << 20

// Target is what a File writes to: an *os.File, or a bare descriptor
// with a Write method.
type Target interface {
	io.Writer
	// Fd is the file's descriptor.
	Fd() uintptr
}

// File is a Target whose writes are handed to the disk every Every
// bytes.
type File struct {
	f            Target
	off, started int64
}

// New returns a File writing to f, which must be at offset 0.
func New(f Target) *File { return &File{f: f} }

// Write writes p to the file.
func (w *File) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.started >= Every {
		w.Flush()
	}
	return n, err
}

// Flush starts writing whatever has not been handed to the disk yet. It
// does not wait.
func (w *File) Flush() {
	if w.off > w.started {
		start(w.f, w.started, w.off-w.started)
		w.started = w.off
	}
}

// Pending is how many written bytes have not been handed to the disk.
func (w *File) Pending() int64 { return w.off - w.started }
