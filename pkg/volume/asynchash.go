package volume

import (
	"io"
	"sync"
)

// asyncWriter writes to its writers in its own goroutine, so that hashing
// a bundle's bytes (BLAKE2b-512 runs at about 0.5 GB/s on the 2-core
// project machine) or writing them to disk overlaps with encrypting them
// instead of adding to the same goroutine's work. Memory is bounded by the
// channel's few buffers and the one being filled. The first write error is
// kept and reported by err.
type asyncWriter struct {
	ws   []io.Writer
	ch   chan []byte
	done chan struct{}
	pool sync.Pool

	// fill makes Write gather small writes into whole buffers before
	// handing them over; cur is the buffer being filled.
	fill     bool
	cur      []byte
	finished bool

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

// newAsyncHasher hashes in its own goroutine, in whole buffers of
// asyncChunk bytes: a bundle arrives in writes of about 64 KiB (age's
// chunks), and waking the hashing goroutine for each of them cost a
// verify of the 1 GB mixed corpus some 7 % of its time (6,700 context
// switches instead of 1,700). A hash is read only after finish, which
// hands over the partial buffer, so holding up to one buffer back delays
// each volume's check by well under a millisecond. The disk writer is not
// batched: handing it 256 KiB at a time tripled the kernel's time copying
// into the page cache when pack was measured.
func newAsyncHasher(hs ...io.Writer) *asyncWriter {
	a := newAsyncWriter(hs...)
	a.fill = true
	return a
}

// Write queues a copy of p. It fails only if an earlier write failed. It
// must not be called after finish.
func (a *asyncWriter) Write(p []byte) (int, error) {
	if a.finished {
		panic("volume: write after finish")
	}
	if err := a.err(); err != nil {
		return 0, err
	}
	n := len(p)
	for len(p) > 0 {
		if a.cur == nil {
			a.cur = (*a.pool.Get().(*[]byte))[:0]
		}
		k := copy(a.cur[len(a.cur):cap(a.cur)], p)
		a.cur = a.cur[:len(a.cur)+k]
		p = p[k:]
		if !a.fill || len(a.cur) == cap(a.cur) {
			a.ch <- a.cur
			a.cur = nil
		}
	}
	return n, nil
}

func (a *asyncWriter) err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.firstErr
}

// finish hands over what Write still holds, waits until everything has
// been written and returns the first write error. Nothing may be written
// afterwards.
func (a *asyncWriter) finish() error {
	a.finished = true
	if len(a.cur) > 0 {
		a.ch <- a.cur
	}
	a.cur = nil
	close(a.ch)
	<-a.done
	return a.err()
}
