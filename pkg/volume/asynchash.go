package volume

import (
	"io"
	"sync"
)

// asyncWriter writes to its writers in its own goroutine, so that hashing
// a bundle's bytes (BLAKE2b-512 runs at about 1 GB/s) or writing them to
// disk overlaps with encrypting them instead of adding to the same
// goroutine's work. Memory is bounded by the channel's few buffers. The
// first write error is kept and reported by err.
type asyncWriter struct {
	ws   []io.Writer
	ch   chan []byte
	done chan struct{}
	pool sync.Pool

	mu       sync.Mutex
	firstErr error
}

const asyncChunk = 256 << 10

func newAsyncWriter(ws ...io.Writer) *asyncWriter {
	a := &asyncWriter{ws: ws, ch: make(chan []byte, 8), done: make(chan struct{})}
	a.pool.New = func() any { b := make([]byte, asyncChunk); return &b }
	go func() {
		defer close(a.done)
		for b := range a.ch {
			if a.err() == nil {
				for _, w := range a.ws {
					if _, err := w.Write(b); err != nil {
						a.mu.Lock()
						a.firstErr = err
						a.mu.Unlock()
						break
					}
				}
			}
			b = b[:cap(b)]
			a.pool.Put(&b)
		}
	}()
	return a
}

// newAsyncHasher hashes in its own goroutine.
func newAsyncHasher(hs ...io.Writer) *asyncWriter { return newAsyncWriter(hs...) }

// Write queues a copy of p. It fails only if an earlier write failed.
func (a *asyncWriter) Write(p []byte) (int, error) {
	if err := a.err(); err != nil {
		return 0, err
	}
	n := len(p)
	for len(p) > 0 {
		bp := a.pool.Get().(*[]byte)
		b := *bp
		k := copy(b, p)
		a.ch <- b[:k]
		p = p[k:]
	}
	return n, nil
}

func (a *asyncWriter) err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.firstErr
}

// finish waits until everything queued has been written and returns the
// first write error. Nothing may be written afterwards.
func (a *asyncWriter) finish() error {
	close(a.ch)
	<-a.done
	return a.err()
}
