package zframe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// WriterOptions sets the frame size, the compression level and the
// parallelism of a [Writer].
type WriterOptions struct {
	// FrameSize is the number of decompressed bytes per frame; 0 means
	// DefaultFrameSize. It must not exceed MaxFrameSize.
	FrameSize int
	// Level is the compression level; 0 means zstd.SpeedDefault.
	Level zstd.EncoderLevel
	// Concurrency is how many frames are compressed at once; 0 means
	// runtime.GOMAXPROCS(0).
	Concurrency int
}

// Writer cuts what is written into independent zstd frames of FrameSize
// decompressed bytes (fewer where Flush or Close ends a frame early),
// compresses them concurrently on a bounded pool with output order
// preserved, and writes them to the underlying writer. Each frame declares
// its content size and carries a content checksum. [Writer.Close] ends the
// stream with the trailer and seek table frames.
//
// At most about Concurrency+2 frames are held in memory at once; Write
// blocks while compression lags behind. A Writer is not safe for
// concurrent use. Errors, including the underlying writer's, are sticky.
type Writer struct {
	w         io.Writer
	enc       *zstd.Encoder
	frameSize int
	srcBufs   bufList
	outBufs   bufList

	cur     *[]byte // frame being filled
	offset  int64
	frames  int // frames handed to compression
	pending chan *wjob
	done    chan struct{} // closed when output has returned
	closed  bool

	mu  sync.Mutex
	err error

	table []byte // seek table entries; owned by output until done is closed
}

// wjob is one frame being compressed; done is closed once out or err is
// set.
type wjob struct {
	src      *[]byte
	out      *[]byte
	decomp   int
	checksum uint32
	err      error
	done     chan struct{}
}

// NewWriter returns a Writer that writes a zframe stream to w.
func NewWriter(w io.Writer, opts WriterOptions) (*Writer, error) {
	fs := opts.FrameSize
	if fs == 0 {
		fs = DefaultFrameSize
	}
	if fs < 0 || fs > MaxFrameSize {
		return nil, fmt.Errorf("zframe: FrameSize %d out of range [1, %d]", opts.FrameSize, MaxFrameSize)
	}
	level := opts.Level
	if level == 0 {
		level = zstd.SpeedDefault
	}
	conc := opts.Concurrency
	if conc < 0 {
		return nil, errors.New("zframe: negative Concurrency")
	}
	if conc == 0 {
		conc = runtime.GOMAXPROCS(0)
	}
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(level),
		zstd.WithEncoderConcurrency(conc),
		zstd.WithEncoderCRC(true),
		// A single-segment frame always records its content size, even
		// below 256 bytes, and its window is its content size.
		zstd.WithSingleSegment(true),
		zstd.WithZeroFrames(false),
		// Frames are independent and at most fs bytes, so a longer
		// window would only cost memory (8 MiB of history per encoder
		// by default).
		zstd.WithWindowSize(windowFor(fs)),
		// A frame is encoded in one call, so the history needs the window
		// plus one block, not twice the window: 2 MiB less per encoder,
		// at no measured cost in speed or size.
		zstd.WithLowerEncoderMem(true),
	)
	if err != nil {
		return nil, fmt.Errorf("zframe: %w", err)
	}
	// Frames alive at once: the one being filled, conc being encoded
	// (one of them held by the output goroutine), and one being written.
	// pending holds the others: conc-1 slots keep every encoder busy
	// without queueing more 2 MiB buffers than that.
	zw := &Writer{
		w:         w,
		enc:       enc,
		frameSize: fs,
		srcBufs:   newBufList(conc + 2),
		outBufs:   newBufList(conc + 1),
		pending:   make(chan *wjob, max(conc-1, 1)),
		done:      make(chan struct{}),
	}
	go zw.output()
	return zw, nil
}

func (w *Writer) firstErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *Writer) setErr(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
}

// Write adds p to the stream. A frame is handed to compression as soon as
// it holds FrameSize bytes.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errWriterClosed
	}
	if err := w.firstErr(); err != nil {
		return 0, err
	}
	n := 0
	for len(p) > 0 {
		if w.cur == nil {
			w.cur = w.srcBufs.get(w.frameSize)
		}
		b := *w.cur
		k := copy(b[len(b):w.frameSize], p)
		*w.cur = b[:len(b)+k]
		p = p[k:]
		n += k
		w.offset += int64(k)
		if len(*w.cur) == w.frameSize {
			if err := w.submit(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// Flush ends the current frame, if it holds any bytes, so that the next
// byte written starts a new frame. It does not wait for compression.
func (w *Writer) Flush() error {
	if w.closed {
		return errWriterClosed
	}
	if err := w.firstErr(); err != nil {
		return err
	}
	return w.submit()
}

// Offset reports how many decompressed bytes have been written so far.
func (w *Writer) Offset() int64 {
	return w.offset
}

// Frames reports how many frames have been started or completed so far:
// frames handed to compression plus the frame being filled, if it holds
// any bytes. Right after Flush (or whenever the last frame is full) it is
// the index of the frame that the next byte written will start.
func (w *Writer) Frames() int {
	if w.cur != nil && len(*w.cur) > 0 {
		return w.frames + 1
	}
	return w.frames
}

// submit hands the current frame, if any, to compression.
func (w *Writer) submit() error {
	if w.cur == nil || len(*w.cur) == 0 {
		return nil
	}
	if w.frames >= maxFrames {
		err := fmt.Errorf("zframe: more than %d frames", maxFrames)
		w.setErr(err)
		return err
	}
	j := &wjob{src: w.cur, done: make(chan struct{})}
	w.cur = nil
	w.frames++
	w.pending <- j
	go w.encode(j)
	return nil
}

func (w *Writer) encode(j *wjob) {
	defer close(j.done)
	src := *j.src
	out := w.outBufs.get(maxCompressedSize(len(src)))
	res := w.enc.EncodeAll(src, (*out)[:0])
	*out = res
	j.out = out
	// Check the frame as the reader will, so a change in the encoder can
	// never produce a stream this package refuses.
	ms := memSource{b: res, off: 4}
	if len(res) < 4 || binary.LittleEndian.Uint32(res) != frameMagic {
		j.err = errors.New("zframe: internal error: encoder produced no zstd frame")
	} else if fi, err := parseFrame(&ms, MaxFrameSize); err != nil || fi.size != len(res) || fi.fcs != len(src) {
		j.err = fmt.Errorf("zframe: internal error: encoder produced a non-conforming frame: %v", err)
	} else {
		j.decomp, j.checksum = fi.fcs, fi.checksum
	}
	w.srcBufs.put(j.src)
	j.src = nil
}

// output writes the compressed frames in order.
func (w *Writer) output() {
	defer close(w.done)
	for j := range w.pending {
		<-j.done
		if j.err != nil {
			w.setErr(j.err)
		} else if w.firstErr() == nil {
			if _, err := w.w.Write(*j.out); err != nil {
				w.setErr(fmt.Errorf("zframe: write: %w", err))
			} else {
				w.table = appendSeekEntry(w.table, seekEntry{
					comp:     uint32(len(*j.out)),
					decomp:   uint32(j.decomp),
					checksum: j.checksum,
				})
			}
		}
		w.outBufs.put(j.out)
	}
}

// Close flushes, waits for all frames to be written, then writes the
// trailer skippable frame (magic TrailerMagic, content trailer; written
// even when trailer is empty) and the seek table. It returns the first
// error seen. It does not close the underlying writer. The trailer must not
// exceed MaxTrailerSize.
func (w *Writer) Close(trailer []byte) error {
	if w.closed {
		return errWriterClosed
	}
	err := w.submit()
	w.closed = true
	close(w.pending)
	<-w.done
	w.enc.Close()
	if err == nil {
		err = w.firstErr()
	}
	if err != nil {
		return err
	}
	if len(trailer) > MaxTrailerSize {
		return fmt.Errorf("zframe: trailer of %d bytes exceeds %d", len(trailer), MaxTrailerSize)
	}
	n := len(w.table) / seekEntrySize
	buf := make([]byte, 0, 2*skipHeaderSize+len(trailer)+len(w.table)+seekFooterSize)
	buf = binary.LittleEndian.AppendUint32(buf, TrailerMagic)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(trailer)))
	buf = append(buf, trailer...)
	buf = binary.LittleEndian.AppendUint32(buf, seekTableMagic)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(w.table)+seekFooterSize))
	buf = append(buf, w.table...)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(n))
	buf = append(buf, seekChecksum)
	buf = binary.LittleEndian.AppendUint32(buf, seekableMagic)
	if _, err := w.w.Write(buf); err != nil {
		err = fmt.Errorf("zframe: write: %w", err)
		w.setErr(err)
		return err
	}
	return nil
}

// windowFor is the smallest zstd window (a power of two, at least the
// format's minimum) that holds a frame of n bytes.
func windowFor(n int) int {
	w := zstd.MinWindowSize
	for w < n && w < zstd.MaxWindowSize {
		w <<= 1
	}
	return w
}
