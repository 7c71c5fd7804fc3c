package zframe

import (
	"io"

	"github.com/klauspost/compress/zstd"
)

// A SeqDecoder reads ranges of an indexed stream one frame at a time, on
// the calling goroutine, decoding each frame into one buffer it keeps from
// range to range. It reads nothing ahead, and the memory it touches is one
// compressed and one decompressed frame, where a range reader touches
// Concurrency+2 of each in buffers of its own. That suits a process that
// reads a few frames and exits, for which fresh memory is the cost: on the
// benchmark's virtual machine a page touched for the first time cost some
// 20 µs, so that decoding the frames of a 10.8 MB manifest into fresh
// buffers took several times as long as decoding them into warm ones. A
// SeqDecoder is not safe for concurrent use.
type SeqDecoder struct {
	ix   *Index
	ra   io.ReaderAt
	o    ReaderOptions
	dec  *zstd.Decoder
	comp *[]byte
	data []byte
	cur  *seqRange
}

// NewSeqDecoder returns a SeqDecoder of the stream ra that ix was read
// from. opts.Concurrency is not used.
func (ix *Index) NewSeqDecoder(ra io.ReaderAt, opts ReaderOptions) (*SeqDecoder, error) {
	o, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	o.Concurrency = 1
	dec, err := newZstdDecoder(o)
	if err != nil {
		return nil, err
	}
	return &SeqDecoder{ix: ix, ra: ra, o: o, dec: dec, comp: new([]byte)}, nil
}

// Range returns a reader of the decompressed bytes [off, off+n), checked as
// [Index.NewRangeReader] checks them (opts.MaxTotal applying to each
// range). The reader is valid until the next call to Range or Close.
func (s *SeqDecoder) Range(off, n int64) (io.Reader, error) {
	if s.dec == nil {
		return nil, errReaderClosed
	}
	if s.cur != nil {
		s.cur.done = true
		s.cur = nil
	}
	if n == 0 {
		if off < 0 || off > s.ix.DataSize {
			return nil, outsidef(off, n, s.ix.DataSize)
		}
		s.cur = &seqRange{s: s}
		return s.cur, nil
	}
	first, last, err := s.ix.span(off, n, s.o.MaxTotal)
	if err != nil {
		return nil, err
	}
	s.cur = &seqRange{s: s, next: first, last: last, skip: off - s.ix.Frames[first].DecompressedOffset, remaining: n}
	return s.cur, nil
}

// Close lets the decoder's buffers go. Readers it returned fail after it.
func (s *SeqDecoder) Close() {
	if s.dec != nil {
		s.dec.Close()
		s.dec = nil
	}
	if s.cur != nil {
		s.cur.done = true
		s.cur = nil
	}
	s.comp, s.data = nil, nil
}

// seqRange reads one range of a SeqDecoder.
type seqRange struct {
	s          *SeqDecoder
	next, last int   // the next frame to decode, and the range's last
	skip       int64 // bytes to skip at the start of the next frame
	pos        int   // where the next byte is in s.data
	buffered   bool  // s.data holds this range's current frame
	remaining  int64
	err        error
	done       bool // a later Range or Close ended this one
}

func (r *seqRange) Read(p []byte) (int, error) {
	if r.done {
		return 0, errReaderClosed
	}
	for {
		if r.remaining == 0 {
			return 0, io.EOF
		}
		if r.buffered && r.pos < len(r.s.data) {
			return copyOut(p, r.s.data, &r.pos, &r.remaining), nil
		}
		if r.err != nil {
			return 0, r.err
		}
		if len(p) == 0 {
			return 0, nil
		}
		if r.err = r.decodeNext(); r.err != nil {
			r.buffered = false
			return 0, r.err
		}
	}
}

// decodeNext decodes the range's next frame into the decoder's buffer.
func (r *seqRange) decodeNext() error {
	s := r.s
	if r.next > r.last {
		return corruptf("index does not cover the range")
	}
	i := r.next
	r.next++
	f := s.ix.Frames[i]
	if err := checkIndexedSizes(f, i, s.o.MaxFrameSize); err != nil {
		return err
	}
	if cap(*s.comp) < int(f.CompressedSize) {
		*s.comp = make([]byte, 0, maxCompressedSize(int(f.DecompressedSize)))
	}
	raw, err := readIndexedFrameInto(s.ra, f, i, s.o.MaxFrameSize, s.comp)
	if err != nil {
		return err
	}
	if cap(s.data) < raw.fcs+decodeSlack {
		s.data = make([]byte, 0, raw.fcs+decodeSlack)
	}
	data, err := decodeFrame(s.dec, raw, s.data[:0])
	if err != nil {
		return err
	}
	s.data = data
	r.pos, r.buffered = int(r.skip), true
	r.skip = 0
	return nil
}
