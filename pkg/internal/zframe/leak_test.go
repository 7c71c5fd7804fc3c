package zframe

import (
	"bytes"
	"io"
	"runtime"
	"testing"
	"time"
)

func TestNoGoroutineLeak(t *testing.T) {
	stream, _, _ := smallStream(t)
	before := runtime.NumGoroutine()
	for i := range 200 {
		s := bytes.Clone(stream)
		s[i%len(s)] ^= 0xFF
		unpack(s, ReaderOptions{Concurrency: 2}, true)
		unpack(s[:i%len(s)], ReaderOptions{Concurrency: 2}, true)
		readAllIndexed(s)
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines, %d before", n, before)
	}
}

// Close lets the frame buffers go: a reader kept after reading (as a
// bundle reader keeps it while it opens a bag) holds none.
func TestCloseReleasesBuffers(t *testing.T) {
	stream, _, _ := smallStream(t)
	r, err := NewReader(bytes.NewReader(stream), ReaderOptions{Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	r.Unlock()
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Finish(); err != nil {
		t.Fatal(err)
	}
	if len(r.dec.compPool.c) == 0 || len(r.dec.dataPool.c) == 0 {
		t.Fatal("no buffers kept for reuse while reading: the test proves nothing")
	}
	r.Close()
	if n, m := len(r.dec.compPool.c), len(r.dec.dataPool.c); n != 0 || m != 0 || r.cur != nil {
		t.Fatalf("after Close, %d compressed and %d decoded buffers are kept (current %v)", n, m, r.cur != nil)
	}
}
