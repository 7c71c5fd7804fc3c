package asyncw

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
)

// chunkRecorder keeps every write it gets, in order.
type chunkRecorder struct {
	mu     sync.Mutex
	all    bytes.Buffer
	chunks []int
}

func (c *chunkRecorder) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.all.Write(p)
	c.chunks = append(c.chunks, len(p))
	return len(p), nil
}

func TestAsyncWriterPassesEveryByteInOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 5<<20+123)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for _, fill := range []bool{false, true} {
		var a *Writer
		var rec, rec2 chunkRecorder
		if fill {
			a = NewHasher(&rec, &rec2)
		} else {
			a = NewWriter(&rec, &rec2)
		}
		var sizes []int
		for rest := data; len(rest) > 0; {
			n := min(len(rest), rng.IntN(3*asyncChunk/2)) // 0 to 1.5 chunks
			if _, err := a.Write(rest[:n]); err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, n)
			rest = rest[n:]
		}
		if err := a.Finish(); err != nil {
			t.Fatal(err)
		}
		for _, r := range []*chunkRecorder{&rec, &rec2} {
			if !bytes.Equal(r.all.Bytes(), data) {
				t.Fatalf("fill=%v: the writer got %d bytes that differ from the %d written", fill, r.all.Len(), len(data))
			}
		}
		if fill {
			// Every buffer handed over is whole except the last.
			for i, n := range rec.chunks {
				if n != asyncChunk && i != len(rec.chunks)-1 {
					t.Fatalf("buffer %d of %d holds %d bytes, want %d", i, len(rec.chunks), n, asyncChunk)
				}
			}
			if want := (len(data) + asyncChunk - 1) / asyncChunk; len(rec.chunks) != want {
				t.Fatalf("%d buffers handed over, want %d", len(rec.chunks), want)
			}
		} else {
			// Each write is handed over as it came, cut at asyncChunk.
			want := 0
			for _, n := range sizes {
				want += (n + asyncChunk - 1) / asyncChunk
			}
			if len(rec.chunks) != want {
				t.Fatalf("%d writes handed over, want %d", len(rec.chunks), want)
			}
		}
	}
}

func TestAsyncHasherFinishHandsOverTheRest(t *testing.T) {
	var rec chunkRecorder
	a := NewHasher(&rec)
	a.Write([]byte("short"))
	if err := a.Finish(); err != nil {
		t.Fatal(err)
	}
	if rec.all.String() != "short" {
		t.Fatalf("got %q after finish, want %q", rec.all.String(), "short")
	}
}

type failingWriter struct{ err error }

func (f failingWriter) Write(p []byte) (int, error) { return 0, f.err }

func TestAsyncWriterKeepsTheFirstError(t *testing.T) {
	boom := errors.New("disk full")
	for _, a := range []*Writer{NewWriter(failingWriter{boom}), NewHasher(failingWriter{boom})} {
		chunk := make([]byte, asyncChunk)
		var err error
		for i := 0; i < 100 && err == nil; i++ {
			_, err = a.Write(chunk)
		}
		if !errors.Is(err, boom) {
			t.Fatalf("Write kept accepting data after its writer failed (err %v)", err)
		}
		if err := a.Finish(); !errors.Is(err, boom) {
			t.Fatalf("finish returned %v, want %v", err, boom)
		}
	}
}

func TestAsyncWriterRefusesWritesAfterFinish(t *testing.T) {
	for _, a := range []*Writer{NewWriter(io.Discard), NewHasher(io.Discard)} {
		a.Write([]byte("x"))
		if err := a.Finish(); err != nil {
			t.Fatal(err)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Error("a write after finish was accepted")
				}
			}()
			a.Write([]byte("late"))
		}()
	}
}

// The writers' buffers are reused whatever the collector does: a
// sync.Pool gave them up at each collection, and under a tight memory
// limit pack made them anew hundreds of times, each one garbage that
// brought the next collection closer.
func TestAsyncWriterReusesItsBuffers(t *testing.T) {
	chunk := make([]byte, 64<<10+16) // one of age's chunks, with its tag
	for _, fill := range []bool{false, true} {
		a := NewWriter(io.Discard)
		if fill {
			a = NewHasher(io.Discard)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := range 2000 {
			if _, err := a.Write(chunk); err != nil {
				t.Fatal(err)
			}
			if i%20 == 0 {
				runtime.GC()
			}
		}
		if err := a.Finish(); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		// At most every buffer once (depth+2 of them: a hasher's of
		// asyncChunk bytes, a writer's the write's size rounded up to
		// asyncGrain), and some slack for the runtime's own.
		size := asyncChunk
		if !fill {
			size = (len(chunk) + asyncGrain - 1) / asyncGrain * asyncGrain
		}
		limit := uint64((cap(a.ch)+2)*size + 1<<20)
		if got := after.TotalAlloc - before.TotalAlloc; got > limit {
			t.Errorf("fill=%v: %d MB allocated for 2,000 writes, want at most %d MB", fill, got>>20, limit>>20)
		}
	}
}

// Finish may be called again (as a deferred call after the one that
// reads the hashes): it waits as the first did and returns its error.
func TestFinishTwice(t *testing.T) {
	boom := errors.New("boom")
	for _, w := range []io.Writer{io.Discard, failingWriter{boom}} {
		a := NewHasher(w)
		a.Write(make([]byte, 3*asyncChunk+5))
		first := a.Finish()
		if second := a.Finish(); second != first {
			t.Fatalf("second Finish = %v, the first returned %v", second, first)
		}
		if w != io.Discard && !errors.Is(first, boom) {
			t.Fatalf("Finish = %v, want the writer's error", first)
		}
	}
}
