package volume

import (
	"hash"
	"sync"
)

// asyncHasher hashes in its own goroutine, so that hashing a bundle's
// bytes (BLAKE2b-512 runs at about 1 GB/s) overlaps with decrypting them
// instead of adding to the same goroutine's work. Memory is bounded by the
// channel's few buffers.
type asyncHasher struct {
	hashes []hash.Hash
	ch     chan []byte
	done   chan struct{}
	pool   sync.Pool
}

const asyncChunk = 256 << 10

func newAsyncHasher(hashes ...hash.Hash) *asyncHasher {
	a := &asyncHasher{hashes: hashes, ch: make(chan []byte, 8), done: make(chan struct{})}
	a.pool.New = func() any { b := make([]byte, asyncChunk); return &b }
	go func() {
		defer close(a.done)
		for b := range a.ch {
			for _, h := range a.hashes {
				h.Write(b)
			}
			b = b[:cap(b)]
			a.pool.Put(&b)
		}
	}()
	return a
}

// Write queues a copy of p for hashing.
func (a *asyncHasher) Write(p []byte) (int, error) {
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

// finish waits until everything written has been hashed. The hasher must
// not be written to afterwards.
func (a *asyncHasher) finish() {
	close(a.ch)
	<-a.done
}
