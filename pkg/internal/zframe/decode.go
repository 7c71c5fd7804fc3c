package zframe

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
)

// ReaderOptions sets the limits and the parallelism of [NewReader] and
// [Index.NewRangeReader].
type ReaderOptions struct {
	// MaxFrameSize is the largest decompressed frame accepted, checked
	// against the frame header (content size and window) before the
	// frame is decoded. 0 means MaxFrameSize; larger values are refused.
	MaxFrameSize int
	// MaxTotal is the most decompressed bytes accepted in all; 0 means
	// unlimited. A frame that would take the total past it is not decoded
	// and ErrTooLarge is reported instead.
	MaxTotal int64
	// Concurrency is how many frames may be decoded ahead, in parallel
	// (for Reader only once Unlock has been called). 0 means
	// runtime.GOMAXPROCS(0).
	Concurrency int
}

func (o ReaderOptions) normalize() (ReaderOptions, error) {
	switch {
	case o.MaxFrameSize < 0 || o.MaxFrameSize > MaxFrameSize:
		return o, fmt.Errorf("zframe: MaxFrameSize %d out of range [0, %d]", o.MaxFrameSize, MaxFrameSize)
	case o.MaxTotal < 0:
		return o, errors.New("zframe: negative MaxTotal")
	case o.Concurrency < 0:
		return o, errors.New("zframe: negative Concurrency")
	}
	if o.MaxFrameSize == 0 {
		o.MaxFrameSize = MaxFrameSize
	}
	if o.Concurrency == 0 {
		o.Concurrency = runtime.GOMAXPROCS(0)
	}
	return o, nil
}

// frameDecoder decodes single frames checked by parseFrame. It is safe for
// concurrent use.
type frameDecoder struct {
	dec      *zstd.Decoder
	compPool bufList // compressed frames
	dataPool bufList // decompressed frames
	decodes  atomic.Int64
}

func newFrameDecoder(o ReaderOptions) (*frameDecoder, error) {
	dec, err := newZstdDecoder(o)
	if err != nil {
		return nil, err
	}
	// A reader holds at most Concurrency+2 frames at once (see pipeline);
	// keeping that many buffers of each kind means that, once warm, it
	// allocates none: a sync.Pool would drop them at every collection,
	// and on some machines touching fresh memory costs as much as
	// decoding into it.
	n := o.Concurrency + 2
	return &frameDecoder{dec: dec, compPool: newBufList(n), dataPool: newBufList(n)}, nil
}

// newZstdDecoder returns a decoder of single frames within o's limits,
// for o.Concurrency goroutines at once.
func newZstdDecoder(o ReaderOptions) (*zstd.Decoder, error) {
	dec, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(o.Concurrency),
		zstd.WithDecoderMaxWindow(uint64(max(o.MaxFrameSize, zstd.MinWindowSize))),
		zstd.WithDecoderMaxMemory(uint64(o.MaxFrameSize)),
	)
	if err != nil {
		return nil, fmt.Errorf("zframe: %w", err)
	}
	return dec, nil
}

// rawFrame is a compressed frame waiting to be decoded.
type rawFrame struct {
	comp *[]byte
	fcs  int
	idx  int
}

// decode decodes f, whose header and blocks parseFrame has checked, into a
// buffer of exactly the declared content size, and recycles f's buffer.
func (d *frameDecoder) decode(f rawFrame) (*[]byte, error) {
	out := d.dataPool.get(f.fcs + decodeSlack)
	res, err := d.decodeTo(f, (*out)[:0])
	if err != nil {
		d.dataPool.put(out)
		return nil, err
	}
	*out = res
	return out, nil
}

// decodeTo decodes f, appending to dst, checks the decoded size, and
// recycles f's buffer.
func (d *frameDecoder) decodeTo(f rawFrame, dst []byte) ([]byte, error) {
	d.decodes.Add(1)
	defer d.compPool.put(f.comp)
	return decodeFrame(d.dec, f, dst)
}

// decodeFrame decodes f with dec, appending to dst, and checks the decoded
// size.
func decodeFrame(dec *zstd.Decoder, f rawFrame, dst []byte) ([]byte, error) {
	res, err := dec.DecodeAll(*f.comp, dst)
	if err != nil {
		return nil, corruptf("frame %d: %v", f.idx, err)
	}
	if len(res) != f.fcs {
		return nil, corruptf("frame %d decoded to %d bytes, declared %d", f.idx, len(res), f.fcs)
	}
	return res, nil
}

func (d *frameDecoder) close() {
	d.dec.Close()
}

// djob is one frame in the pipeline: done is closed once data or err is
// set.
type djob struct {
	done chan struct{}
	data *[]byte
	err  error
}

// pipeline reads frames with next on one goroutine, decodes them in
// parallel and hands them out in order. At most depth frames, decoded or
// being decoded, wait in the queue, so at most depth+1 decoded frames
// (with the one being read) and depth+2 compressed ones are held at once.
type pipeline struct {
	pending chan *djob
	quit    chan struct{}
	mu      sync.Mutex
	closed  bool
	wg      sync.WaitGroup
}

// startPipeline starts the producer. next is called only from the producer
// goroutine; an error from next (io.EOF included) is handed out in order
// after the frames before it, and ends the pipeline.
func startPipeline(depth int, next func() (rawFrame, error), d *frameDecoder) *pipeline {
	p := &pipeline{pending: make(chan *djob, depth), quit: make(chan struct{})}
	go p.produce(next, d)
	return p
}

func (p *pipeline) produce(next func() (rawFrame, error), d *frameDecoder) {
	for {
		f, err := next()
		j := &djob{done: make(chan struct{})}
		if err != nil {
			j.err = err
			close(j.done)
			p.send(j)
			return
		}
		// The frame is queued before it is decoded, so a frame waiting
		// for room in the queue holds only its compressed bytes.
		if !p.send(j) {
			d.compPool.put(f.comp)
			return
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			d.compPool.put(f.comp)
			return
		}
		p.wg.Add(1)
		p.mu.Unlock()
		go func() {
			defer p.wg.Done()
			j.data, j.err = d.decode(f)
			close(j.done)
		}()
	}
}

func (p *pipeline) send(j *djob) bool {
	select {
	case p.pending <- j:
		return true
	case <-p.quit:
		return false
	}
}

// get returns the next frame in order. It must not be called again after
// it returned an error, nor after close.
func (p *pipeline) get() (*[]byte, error) {
	j := <-p.pending
	<-j.done
	return j.data, j.err
}

// close stops the producer from starting new decodes and waits for those
// under way. The producer itself may still be blocked reading its input;
// it exits once that read returns.
func (p *pipeline) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	close(p.quit)
	p.wg.Wait()
}
