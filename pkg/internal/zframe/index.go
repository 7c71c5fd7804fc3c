package zframe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
)

// Frame is one data frame as listed in the seek table.
type Frame struct {
	CompressedOffset   int64  // offset of the frame in the zstd stream
	CompressedSize     int64  // compressed bytes, header and checksum included
	DecompressedOffset int64  // offset of the frame's content in the decompressed data
	DecompressedSize   int64  // decompressed bytes
	Checksum           uint32 // low 32 bits of XXH64 of the content (the frame's Content_Checksum)
}

// Index is what the end of a zframe stream says about it.
type Index struct {
	Frames     []Frame // the data frames, in order
	Trailer    []byte  // content of the trailer frame
	DataSize   int64   // total decompressed bytes
	StreamSize int64   // total bytes of the zstd stream
}

// readAt reads len(b) bytes at off; a short read is truncation.
func readAt(ra io.ReaderAt, b []byte, off int64) error {
	n, err := ra.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return corruptf("truncated stream")
	}
	return fmt.Errorf("zframe: read: %w", err)
}

// ReadIndex reads the seek table and the trailer from the end of a zframe
// stream of the given size, and checks that they are well formed, that the
// frames, the trailer frame and the seek table add up exactly to size, and
// that every frame is within the limits (at most MaxFrameSize decompressed
// bytes, a compressed size the reader would accept). It does not read the
// frames themselves: Index.NewRangeReader checks each frame it decodes.
func ReadIndex(ra io.ReaderAt, size int64) (*Index, error) {
	const minStream = 2*skipHeaderSize + seekFooterSize
	if size < minStream {
		return nil, corruptf("stream of %d bytes is too short for trailer and seek table", size)
	}
	var foot [seekFooterSize]byte
	if err := readAt(ra, foot[:], size-seekFooterSize); err != nil {
		return nil, err
	}
	n, err := checkFooter(foot[:])
	if err != nil {
		return nil, err
	}
	if n > maxFrames {
		return nil, corruptf("seek table lists %d frames, more than %d", n, maxFrames)
	}
	tableSize := n*seekEntrySize + seekFooterSize
	seekStart := size - skipHeaderSize - tableSize
	// The data frames and the trailer frame come before the seek table.
	if seekStart-skipHeaderSize < n*minFrameBytes {
		return nil, corruptf("seek table of %d frames does not fit a stream of %d bytes", n, size)
	}
	var h [skipHeaderSize]byte
	if err := readAt(ra, h[:], seekStart); err != nil {
		return nil, err
	}
	if binary.LittleEndian.Uint32(h[:]) != seekTableMagic || int64(binary.LittleEndian.Uint32(h[4:])) != tableSize {
		return nil, corruptf("bad seek table header")
	}
	dataMax := seekStart - skipHeaderSize // data frames end at most here
	frames := make([]Frame, 0, min(n, 4096))
	var comp, decomp int64
	var chunk [seekEntrySize * 256]byte
	for i := int64(0); i < n; {
		k := min(n-i, int64(len(chunk)/seekEntrySize))
		b := chunk[:k*seekEntrySize]
		if err := readAt(ra, b, seekStart+skipHeaderSize+i*seekEntrySize); err != nil {
			return nil, err
		}
		for j := range k {
			e := decodeSeekEntry(b[j*seekEntrySize:])
			if e.decomp == 0 {
				return nil, corruptf("seek table entry %d: empty frame", i+j)
			}
			if e.decomp > MaxFrameSize {
				return nil, tooLargef("seek table entry %d: frame of %d bytes exceeds %d", i+j, e.decomp, MaxFrameSize)
			}
			if e.comp < minFrameBytes || e.comp > uint32(maxCompressedSize(int(e.decomp))) {
				return nil, corruptf("seek table entry %d: impossible compressed size %d", i+j, e.comp)
			}
			if comp+int64(e.comp) > dataMax {
				return nil, corruptf("seek table entry %d: frames overrun the stream", i+j)
			}
			frames = append(frames, Frame{
				CompressedOffset:   comp,
				CompressedSize:     int64(e.comp),
				DecompressedOffset: decomp,
				DecompressedSize:   int64(e.decomp),
				Checksum:           e.checksum,
			})
			comp += int64(e.comp)
			decomp += int64(e.decomp)
		}
		i += k
	}
	if err := readAt(ra, h[:], comp); err != nil {
		return nil, err
	}
	if binary.LittleEndian.Uint32(h[:]) != TrailerMagic {
		return nil, corruptf("no trailer frame after the frames listed in the seek table")
	}
	tsize := int64(binary.LittleEndian.Uint32(h[4:]))
	if tsize > MaxTrailerSize {
		return nil, tooLargef("trailer of %d bytes exceeds %d", tsize, MaxTrailerSize)
	}
	if comp+skipHeaderSize+tsize != seekStart {
		return nil, corruptf("frames, trailer and seek table do not add up to the stream size")
	}
	trailer := make([]byte, tsize)
	if err := readAt(ra, trailer, comp+skipHeaderSize); err != nil {
		return nil, err
	}
	return &Index{Frames: frames, Trailer: trailer, DataSize: decomp, StreamSize: size}, nil
}

// NewRangeReader returns a reader of the decompressed bytes [off, off+n)
// that reads and decodes only the frames covering that range, from ra (the
// stream the Index was read from), checking each frame's sizes and checksum
// against the index. Up to opts.Concurrency frames are decoded ahead.
// opts.MaxTotal, if set, caps the decompressed size of the frames decoded
// (ErrTooLarge). The range must lie within [0, DataSize].
func (ix *Index) NewRangeReader(ra io.ReaderAt, off, n int64, opts ReaderOptions) (io.ReadCloser, error) {
	o, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	if n == 0 {
		if off < 0 || off > ix.DataSize {
			return nil, outsidef(off, n, ix.DataSize)
		}
		return &rangeReader{}, nil
	}
	first, last, err := ix.span(off, n, o.MaxTotal)
	if err != nil {
		return nil, err
	}
	fr := ix.Frames
	skip := off - fr[first].DecompressedOffset
	d, err := newFrameDecoder(o)
	if err != nil {
		return nil, err
	}
	rr := &rangeReader{dec: d, skip: int(skip), remaining: n}
	i := first
	next := func() (rawFrame, error) {
		if i > last {
			// Read ahead past the range: never handed out, as Read stops
			// asking once the range is read (unless the index is wrong).
			return rawFrame{}, corruptf("index does not cover the range")
		}
		f, err := readIndexedFrame(ra, fr[i], i, o.MaxFrameSize, d)
		i++
		return f, err
	}
	rr.pl = startPipeline(o.Concurrency, next, d)
	return rr, nil
}

// outsidef is the error for a range [off, off+n) outside data of size
// bytes.
func outsidef(off, n, size int64) error {
	return fmt.Errorf("zframe: range [%d, +%d) outside data of %d bytes", off, n, size)
}

// span returns the first and last frames covering the non-empty range
// [off, off+n), checking that the range lies within the data and that
// those frames, decoded whole, stay within maxTotal (if not 0).
func (ix *Index) span(off, n, maxTotal int64) (first, last int, err error) {
	if off < 0 || n < 1 || off > ix.DataSize || n > ix.DataSize-off {
		return 0, 0, outsidef(off, n, ix.DataSize)
	}
	fr := ix.Frames
	first = sort.Search(len(fr), func(i int) bool {
		return fr[i].DecompressedOffset+fr[i].DecompressedSize > off
	})
	last = sort.Search(len(fr), func(i int) bool {
		return fr[i].DecompressedOffset+fr[i].DecompressedSize >= off+n
	})
	if first >= len(fr) || last >= len(fr) || first > last {
		return 0, 0, corruptf("index does not cover the range")
	}
	if skip := off - fr[first].DecompressedOffset; skip < 0 || skip >= fr[first].DecompressedSize {
		return 0, 0, corruptf("index does not cover the range")
	}
	if maxTotal > 0 {
		var total int64
		for _, f := range fr[first : last+1] {
			total += f.DecompressedSize
			if total > maxTotal {
				return 0, 0, tooLargef("range needs more than %d decompressed bytes", maxTotal)
			}
		}
	}
	return first, last, nil
}

// readIndexedFrame reads frame idx, described by f, from ra into a buffer
// from d's pool and checks it against f.
func readIndexedFrame(ra io.ReaderAt, f Frame, idx, maxFrame int, d *frameDecoder) (rawFrame, error) {
	if err := checkIndexedSizes(f, idx, maxFrame); err != nil {
		return rawFrame{}, err
	}
	buf := d.compPool.get(int(f.CompressedSize))
	fr, err := readIndexedFrameInto(ra, f, idx, maxFrame, buf)
	if err != nil {
		d.compPool.put(buf)
	}
	return fr, err
}

// checkIndexedSizes checks the sizes the index gives frame idx.
func checkIndexedSizes(f Frame, idx, maxFrame int) error {
	if f.DecompressedSize < 1 || f.DecompressedSize > int64(maxFrame) {
		return tooLargef("frame %d of %d bytes exceeds %d", idx, f.DecompressedSize, maxFrame)
	}
	if f.CompressedOffset < 0 || f.CompressedSize < minFrameBytes || f.CompressedSize > int64(maxCompressedSize(int(f.DecompressedSize))) {
		return corruptf("frame %d: impossible compressed size %d", idx, f.CompressedSize)
	}
	return nil
}

// readIndexedFrameInto reads frame idx, whose sizes checkIndexedSizes
// accepted, into buf (of capacity at least its compressed size), and
// checks it against f.
func readIndexedFrameInto(ra io.ReaderAt, f Frame, idx, maxFrame int, buf *[]byte) (rawFrame, error) {
	b := (*buf)[:f.CompressedSize]
	*buf = b
	if err := readAt(ra, b, f.CompressedOffset); err != nil {
		return rawFrame{}, err
	}
	if binary.LittleEndian.Uint32(b) != frameMagic {
		return rawFrame{}, frameErr(idx, corruptf("bad frame magic"))
	}
	ms := memSource{b: b, off: 4}
	fi, err := parseFrame(&ms, maxFrame)
	switch {
	case err != nil:
		return rawFrame{}, frameErr(idx, err)
	case fi.size != len(b):
		return rawFrame{}, frameErr(idx, corruptf("frame size %d disagrees with the seek table (%d)", fi.size, len(b)))
	case int64(fi.fcs) != f.DecompressedSize:
		return rawFrame{}, frameErr(idx, corruptf("frame content size %d disagrees with the seek table (%d)", fi.fcs, f.DecompressedSize))
	case fi.checksum != f.Checksum:
		return rawFrame{}, frameErr(idx, corruptf("frame checksum disagrees with the seek table"))
	}
	return rawFrame{comp: buf, fcs: fi.fcs, idx: idx}, nil
}

// rangeReader reads a range of decompressed bytes through a pipeline.
type rangeReader struct {
	dec       *frameDecoder
	pl        *pipeline
	cur       *[]byte
	pos       int
	skip      int // bytes to skip at the start of the first frame
	remaining int64
	err       error
	closed    bool
}

func (rr *rangeReader) Read(p []byte) (int, error) {
	if rr.closed {
		return 0, errReaderClosed
	}
	for {
		if rr.remaining == 0 {
			return 0, io.EOF
		}
		if rr.cur != nil && rr.pos < len(*rr.cur) {
			return copyOut(p, *rr.cur, &rr.pos, &rr.remaining), nil
		}
		if rr.err != nil {
			return 0, rr.err
		}
		if len(p) == 0 {
			return 0, nil
		}
		if rr.cur != nil {
			rr.dec.dataPool.put(rr.cur)
			rr.cur = nil
		}
		data, err := rr.pl.get()
		if err != nil {
			rr.err = err
			return 0, err
		}
		rr.cur, rr.pos = data, rr.skip
		rr.skip = 0
	}
}

// copyOut copies into p the bytes of buf from *pos on, at most *remaining
// of them, and advances both by the number copied, which it returns.
func copyOut(p, buf []byte, pos *int, remaining *int64) int {
	k := int(min(int64(len(buf)-*pos), *remaining))
	n := copy(p, buf[*pos:*pos+k])
	*pos += n
	*remaining -= int64(n)
	return n
}

func (rr *rangeReader) Close() error {
	if rr.closed {
		return nil
	}
	rr.closed = true
	if rr.pl != nil {
		rr.pl.close()
	}
	if rr.dec != nil {
		if rr.cur != nil {
			rr.dec.dataPool.put(rr.cur)
			rr.cur = nil
		}
		rr.dec.close()
	}
	return nil
}
