package zframe

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Reader reads a stream written by [Writer] sequentially (e.g. from stdin),
// splitting it into frames by parsing zstd frame and block headers itself,
// decoding each frame independently within the limits of its
// [ReaderOptions], and returning the concatenated decompressed data. Read
// returns io.EOF after the last data frame, when it meets the trailer
// frame; [Reader.Finish] must then be called to check the rest of the
// stream.
//
// Before [Reader.Unlock] is called, a frame is read from the underlying
// reader and decoded only when Read needs bytes from it, and each Read
// returns bytes of one frame at most: reading exactly the first N bytes
// decodes only the frames holding them. After Unlock, up to Concurrency
// frames may be read and decoded ahead, in parallel, order preserved.
//
// A Reader is not safe for concurrent use. Errors are sticky.
type Reader struct {
	src  *bufio.Reader
	opts ReaderOptions
	dec  *frameDecoder

	// Producer state: touched by the caller's goroutine before Unlock and
	// by the pipeline's producer after it, never by both.
	records  []seekEntry
	declared int64

	pl   *pipeline
	cur  *[]byte
	pos  int
	err  error // sticky; io.EOF once the trailer frame was met
	done bool  // Finish ran
	tail []byte
	ferr error

	unlocked bool
	closed   bool
}

// NewReader returns a Reader of the stream in r. It reads nothing yet.
func NewReader(r io.Reader, opts ReaderOptions) (*Reader, error) {
	o, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	d, err := newFrameDecoder(o)
	if err != nil {
		return nil, err
	}
	return &Reader{src: bufio.NewReaderSize(r, 64<<10), opts: o, dec: d}, nil
}

// Read reads decompressed bytes. It returns io.EOF at the trailer frame,
// and an error wrapping ErrCorrupt (or ErrTooLarge) for a stream that
// does not conform; errors of the underlying reader other than an early
// end of input are passed on wrapped.
func (r *Reader) Read(p []byte) (int, error) {
	if r.closed {
		return 0, errReaderClosed
	}
	for {
		if r.cur != nil {
			if r.pos < len(*r.cur) {
				n := copy(p, (*r.cur)[r.pos:])
				r.pos += n
				return n, nil
			}
			r.dec.dataPool.put(r.cur)
			r.cur = nil
		}
		if r.err != nil {
			return 0, r.err
		}
		if len(p) == 0 {
			return 0, nil
		}
		var data *[]byte
		var err error
		if r.pl != nil {
			data, err = r.pl.get()
		} else {
			var f rawFrame
			f, err = r.readFrame()
			if err == nil {
				data, err = r.dec.decode(f)
			}
		}
		if err != nil {
			r.err = err
			return 0, err
		}
		r.cur, r.pos = data, 0
	}
}

// Unlock allows the Reader to read and decode frames ahead of Read, up to
// Concurrency frames, in parallel. Call it once the data read so far (a
// signed preamble, say) has been verified. Calling it again does nothing.
func (r *Reader) Unlock() {
	if r.unlocked || r.closed {
		return
	}
	r.unlocked = true
	if r.err == nil {
		r.pl = startPipeline(r.opts.Concurrency, r.readFrame, r.dec)
	}
}

// readFrame reads the next data frame from the stream, checking its headers
// and the limits; at the trailer frame it returns io.EOF.
func (r *Reader) readFrame() (rawFrame, error) {
	var m [4]byte
	if _, err := io.ReadFull(r.src, m[:]); err != nil {
		if err == io.EOF {
			return rawFrame{}, corruptf("stream ends without trailer and seek table")
		}
		return rawFrame{}, readErr(err)
	}
	idx := len(r.records)
	switch magic := binary.LittleEndian.Uint32(m[:]); {
	case magic == frameMagic:
	case magic == TrailerMagic:
		return rawFrame{}, io.EOF
	case magic&skippableMask == skippableBase:
		return rawFrame{}, corruptf("unexpected skippable frame (magic %#x) after frame %d", magic, idx)
	default:
		return rawFrame{}, corruptf("bad frame magic %#x at frame %d", magic, idx)
	}
	if idx >= maxFrames {
		return rawFrame{}, corruptf("more than %d frames", maxFrames)
	}
	buf := r.dec.compPool.get(0)
	*buf = append(*buf, m[:]...)
	s := streamSource{r: r.src, buf: buf}
	fi, err := parseFrame(&s, r.opts.MaxFrameSize)
	if err != nil {
		r.dec.compPool.put(buf)
		return rawFrame{}, frameErr(idx, err)
	}
	if r.opts.MaxTotal > 0 && r.declared+int64(fi.fcs) > r.opts.MaxTotal {
		r.dec.compPool.put(buf)
		return rawFrame{}, tooLargef("output exceeds %d bytes at frame %d", r.opts.MaxTotal, idx)
	}
	r.declared += int64(fi.fcs)
	r.records = append(r.records, seekEntry{comp: uint32(fi.size), decomp: uint32(fi.fcs), checksum: fi.checksum})
	return rawFrame{comp: buf, fcs: fi.fcs, idx: idx}, nil
}

// frameErr adds the frame index to a format error.
func frameErr(idx int, err error) error {
	if errors.Is(err, ErrCorrupt) {
		return fmt.Errorf("%w (frame %d)", err, idx)
	}
	return err
}

// streamSource is a byteSource that reads a frame from the stream and keeps
// its bytes in buf.
type streamSource struct {
	r   *bufio.Reader
	buf *[]byte
}

func (s *streamSource) next(n int) ([]byte, error) {
	b := slices.Grow(*s.buf, n)
	start := len(b)
	b = b[:start+n]
	*s.buf = b
	if _, err := io.ReadFull(s.r, b[start:]); err != nil {
		return nil, readErr(err)
	}
	return b[start:], nil
}

// Finish must be called after Read returned io.EOF. It reads the trailer
// frame and the seek table, checks that the seek table lists exactly the
// frames that were read (count, compressed and decompressed sizes,
// checksums) and that the underlying reader holds nothing after it (it
// reads until io.EOF), and returns the trailer. The trailer is at most
// MaxTrailerSize bytes (ErrTooLarge otherwise). Calling Finish again
// returns the same results.
func (r *Reader) Finish() (trailer []byte, err error) {
	if r.done {
		return r.tail, r.ferr
	}
	if r.closed {
		return nil, errReaderClosed
	}
	if r.err != io.EOF {
		if r.err != nil {
			return nil, r.err
		}
		return nil, errors.New("zframe: Finish called before Read returned io.EOF")
	}
	r.done = true
	r.tail, r.ferr = r.finish()
	if r.ferr != nil {
		r.tail = nil
	}
	return r.tail, r.ferr
}

func (r *Reader) finish() ([]byte, error) {
	var h [skipHeaderSize]byte
	if _, err := io.ReadFull(r.src, h[:4]); err != nil {
		return nil, readErr(err)
	}
	tsize := binary.LittleEndian.Uint32(h[:4])
	if tsize > MaxTrailerSize {
		return nil, tooLargef("trailer of %d bytes exceeds %d", tsize, MaxTrailerSize)
	}
	trailer := make([]byte, tsize)
	if _, err := io.ReadFull(r.src, trailer); err != nil {
		return nil, readErr(err)
	}
	if _, err := io.ReadFull(r.src, h[:]); err != nil {
		if err == io.EOF {
			return nil, corruptf("missing seek table")
		}
		return nil, readErr(err)
	}
	if m := binary.LittleEndian.Uint32(h[:4]); m != seekTableMagic {
		return nil, corruptf("expected seek table, found magic %#x", m)
	}
	n := len(r.records)
	want := uint64(n)*seekEntrySize + seekFooterSize
	if got := binary.LittleEndian.Uint32(h[4:]); uint64(got) != want {
		return nil, corruptf("seek table of %d bytes does not fit the %d frames read", got, n)
	}
	var chunk [seekEntrySize * 256]byte
	for i := 0; i < n; {
		k := min(n-i, len(chunk)/seekEntrySize)
		b := chunk[:k*seekEntrySize]
		if _, err := io.ReadFull(r.src, b); err != nil {
			return nil, readErr(err)
		}
		for j := range k {
			if decodeSeekEntry(b[j*seekEntrySize:]) != r.records[i+j] {
				return nil, corruptf("seek table entry %d disagrees with the frame read", i+j)
			}
		}
		i += k
	}
	var f [seekFooterSize]byte
	if _, err := io.ReadFull(r.src, f[:]); err != nil {
		return nil, readErr(err)
	}
	count, err := checkFooter(f[:])
	if err != nil {
		return nil, err
	}
	if count != int64(n) {
		return nil, corruptf("seek table lists %d frames, %d were read", count, n)
	}
	var one [1]byte
	switch _, err := io.ReadFull(r.src, one[:]); err {
	case io.EOF:
		return trailer, nil
	case nil:
		return nil, corruptf("trailing data after the seek table")
	default:
		return nil, readErr(err)
	}
}

// Close releases the decoders, the frame buffers and the goroutines that
// decode ahead. It is safe to call more than once and on error paths; it
// does not close the underlying reader. After Unlock, a goroutine blocked
// reading the underlying reader exits once that read returns (until then
// it may keep one more frame's buffers; after a complete read, once
// Finish returned, none is left).
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.pl != nil {
		r.pl.close()
	}
	r.dec.close()
	// The frame buffers (several MiB) are let go: a caller may have much
	// to do after reading, such as opening a bag, with memory to spare.
	r.cur = nil
	r.dec.compPool.drain()
	r.dec.dataPool.drain()
	return nil
}
