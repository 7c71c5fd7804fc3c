package zframe

import (
	"bytes"
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
