// Package asyncw hands writes to a goroutine of their own, so that
// hashing or writing bytes overlaps with the work that produces them.
package asyncw

import (
	"io"
	"sync"
)

// Writer writes to its writers in its own goroutine, so that hashing
// bytes or writing them to disk overlaps with the work that produces them
// instead of adding to the same goroutine's: a bundle's volumes as they
// are encrypted or read (BLAKE2b-512 runs at about 0.5 GB/s on the 2-core
// project machine), a reader's preamble and manifest as they are parsed.
// The first write error is kept and reported by Err and Finish.
//
// Memory is bounded: the queue's few buffers, the one being written, the
// one being filled, and a free list that holds no more than those. The
// buffers used to come from a sync.Pool, which gave them up at every
// collection: under pack's memory limit at 8 GiB the two writers then
// held 4.25 MB (the pool's idle buffers live through one collection), and
// under a tight limit they were made anew some 500 times for a 174 MB
// file, each one garbage that brought the next collection closer.
type Writer struct {
	ws   []io.Writer
	ch   chan []byte
	free chan []byte // buffers the goroutine has written, for reuse
	done chan struct{}

	// fill makes Write gather small writes into whole buffers before
	// handing them over; cur is the buffer being filled.
	fill     bool
	cur      []byte
	finished bool

	mu       sync.Mutex
	firstErr error
}

// asyncChunk is the size of a hasher's buffers, and the most a writer's
// buffer holds.
const asyncChunk = 256 << 10

// asyncGrain rounds up the size of a writer's buffers (which hold one
// write each: age's chunks, some 64 KiB) so that one made for a write can
// be reused for the next of about the same size.
const asyncGrain = 16 << 10

// The queue holds asyncDepth buffers of a writer (640 KiB for age's
// chunks of 64 KiB and a tag) and asyncHasherDepth of a hasher's (1 MiB).
const (
	asyncDepth       = 8
	asyncHasherDepth = 4
)

// NewWriter returns a Writer that writes to ws in its own goroutine,
// handing over each write as it came (cut at 256 KiB): for a file on
// disk, whose writes keep their size.
func NewWriter(ws ...io.Writer) *Writer {
	return startAsync(ws, false, asyncDepth)
}

func startAsync(ws []io.Writer, fill bool, depth int) *Writer {
	a := &Writer{
		ws:   ws,
		fill: fill,
		ch:   make(chan []byte, depth),
		// Every buffer is in the queue, being written, being filled or
		// free: depth+2 at most.
		free: make(chan []byte, depth+2),
		done: make(chan struct{}),
	}
	go func() {
		defer close(a.done)
		for b := range a.ch {
			if a.Err() == nil {
				for _, w := range a.ws {
					if _, err := w.Write(b); err != nil {
						a.mu.Lock()
						a.firstErr = err
						a.mu.Unlock()
						break
					}
				}
			}
			select {
			case a.free <- b[:0]:
			default:
			}
		}
	}()
	return a
}

// buffer returns an empty buffer for n more bytes (at most asyncChunk): a
// free one if it is big enough, else a new one.
func (a *Writer) buffer(n int) []byte {
	size := asyncChunk
	if !a.fill {
		size = min((n+asyncGrain-1)/asyncGrain*asyncGrain, asyncChunk)
	}
	select {
	case b := <-a.free:
		if cap(b) >= size {
			return b[:0]
		}
	default:
	}
	return make([]byte, 0, size)
}

// NewHasher returns a Writer that hashes (or writes to hs) in its own
// goroutine, in whole buffers of asyncChunk bytes: a bundle arrives in
// writes of about 64 KiB (age's chunks), and waking the hashing goroutine
// for each of them cost a verify of the 1 GB mixed corpus some 7 % of its
// time (6,700 context switches instead of 1,700). A hash is read only
// after Finish, which hands over the partial buffer, so holding up to one
// buffer back delays a volume's check, say, by well under a millisecond.
// It holds up to asyncHasherDepth+2 buffers (1.5 MiB). The disk writer is not
// batched: handing it 256 KiB at a time tripled the kernel's time copying
// into the page cache when pack was measured.
func NewHasher(hs ...io.Writer) *Writer {
	return startAsync(hs, true, asyncHasherDepth)
}

// Write queues a copy of p. It fails only if an earlier write failed. It
// must not be called after Finish.
func (a *Writer) Write(p []byte) (int, error) {
	if a.finished {
		panic("asyncw: write after Finish")
	}
	if err := a.Err(); err != nil {
		return 0, err
	}
	n := len(p)
	for len(p) > 0 {
		if a.cur == nil {
			a.cur = a.buffer(len(p))
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

// Err returns the first error a writer returned, if any.
func (a *Writer) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.firstErr
}

// Finish hands over what Write still holds, waits until everything has
// been written and returns the first write error. Nothing may be written
// afterwards; calling Finish again returns the same error.
func (a *Writer) Finish() error {
	if a.finished {
		<-a.done
		return a.Err()
	}
	a.finished = true
	if len(a.cur) > 0 {
		a.ch <- a.cur
	}
	a.cur = nil
	close(a.ch)
	<-a.done
	return a.Err()
}
