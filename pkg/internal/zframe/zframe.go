// Package zframe writes and reads the zstd layer of a dossier bundle: a
// stream of independent zstd frames followed by two skippable frames, a
// trailer chosen by the caller and a seek table in the zstd "seekable
// format".
//
// The stream is laid out as
//
//	data frame 0 … data frame N-1   zstd frames, each independent, each
//	                                declaring its content size and carrying
//	                                a content checksum
//	trailer                         skippable frame, magic TrailerMagic
//	seek table                      skippable frame, magic 0x184D2A5E, with
//	                                N entries and the checksum flag set
//
// Stock zstd decompresses the whole stream (it skips skippable frames).
//
// Independent frames let [Writer] compress on several cores and let
// [Index.NewRangeReader] decode only the frames that hold a given range of
// the decompressed data. [Reader] reads the stream sequentially, as it comes
// from a pipe, and splits it into frames by parsing zstd frame and block
// headers itself, so it can refuse hostile input (decompression bombs,
// frames that would need a dictionary or a large window, stray skippable
// frames, trailing data) before decoding anything. Every format violation
// found on the reading side wraps [ErrCorrupt].
package zframe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// MaxFrameSize is the largest decompressed frame that [Writer] produces and
// that the reading side accepts.
const MaxFrameSize = 8 << 20

// DefaultFrameSize is the decompressed size of each frame when
// [WriterOptions].FrameSize is 0.
const DefaultFrameSize = 2 << 20

// TrailerMagic is the magic number of the skippable frame that carries the
// caller's trailer, just before the seek table.
const TrailerMagic uint32 = 0x184D2A5D

// MaxTrailerSize is the largest trailer that [Writer.Close] writes and that
// [Reader.Finish] and [ReadIndex] accept.
const MaxTrailerSize = 1 << 20

// ErrCorrupt is wrapped by every error that reports a stream that is
// corrupt, truncated or not in the form that [Writer] produces.
var ErrCorrupt = errors.New("zframe: corrupt or non-conforming zstd stream")

// ErrTooLarge is wrapped by errors that report a frame, a trailer or a total
// output over a size limit (a decompression bomb). It wraps [ErrCorrupt].
var ErrTooLarge = fmt.Errorf("%w: size limit exceeded", ErrCorrupt)

const (
	frameMagic     uint32 = 0xFD2FB528
	seekTableMagic uint32 = 0x184D2A5E
	seekableMagic  uint32 = 0x8F92EAB1
	skippableMask  uint32 = 0xFFFFFFF0
	skippableBase  uint32 = 0x184D2A50

	maxBlockSize   = 128 << 10
	skipHeaderSize = 8  // magic + Frame_Size
	seekEntrySize  = 12 // Compressed_Size, Decompressed_Size, Checksum
	seekFooterSize = 9  // Number_Of_Frames, Seek_Table_Descriptor, Seekable_Magic_Number
	seekChecksum   = 0x80
	seekReserved   = 0x7C

	// minFrameBytes is the size of the smallest frame the reader accepts:
	// magic, descriptor, 1-byte content size, one block header with at
	// least one byte of content, content checksum.
	minFrameBytes = 4 + 1 + 1 + 3 + 1 + 4

	// maxFrames caps the number of data frames in a stream, which bounds
	// the seek table and the memory an Index takes.
	maxFrames = 1 << 24

	// decodeSlack is extra capacity given to decode buffers, so the zstd
	// decoder never needs to grow them.
	decodeSlack = 64
)

var (
	errWriterClosed = errors.New("zframe: writer is closed")
	errReaderClosed = errors.New("zframe: reader is closed")
)

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

func tooLargef(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrTooLarge}, args...)...)
}

// readErr turns an error from the underlying reader into the error to
// report: running out of input mid-structure is corruption (truncation);
// anything else is the reader's own failure and is passed on.
func readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return corruptf("truncated stream")
	}
	return fmt.Errorf("zframe: read: %w", err)
}

// maxCompressedSize bounds the compressed size of a frame holding fcs
// bytes. The encoder stores a block raw whenever compressing it does not
// help, so a frame is never much larger than its content; the bound leaves
// room for block headers down to 1 KiB blocks and for the frame header and
// checksum.
func maxCompressedSize(fcs int) int {
	return fcs + 3*(fcs>>10) + 64
}

// frameInfo describes one data frame found by parseFrame.
type frameInfo struct {
	size     int    // compressed bytes, magic and checksum included
	fcs      int    // declared (Frame_Content_Size) decompressed bytes
	checksum uint32 // the frame's Content_Checksum field
}

// byteSource hands parseFrame the next n bytes of a frame.
type byteSource interface {
	next(n int) ([]byte, error)
}

// memSource is a byteSource over a frame already in memory.
type memSource struct {
	b   []byte
	off int
}

func (m *memSource) next(n int) ([]byte, error) {
	if n > len(m.b)-m.off {
		return nil, corruptf("frame extends past its recorded size")
	}
	s := m.b[m.off : m.off+n]
	m.off += n
	return s, nil
}

// parseFrame checks the header and block structure of one zstd frame whose
// 4-byte magic has already been consumed, without decoding it. It accepts
// only frames such as Writer produces: content size declared (at most
// maxFrame, not 0), content checksum present, no dictionary, window at most
// maxFrame. It never asks src for more than maxCompressedSize(content size)
// bytes in all, and rejects frames whose blocks cannot add up to the
// declared content size.
func parseFrame(src byteSource, maxFrame int) (frameInfo, error) {
	var fi frameInfo
	size := 4
	b, err := src.next(1)
	if err != nil {
		return fi, err
	}
	size++
	fhd := b[0]
	if fhd&0x08 != 0 {
		return fi, corruptf("reserved bit set in frame header")
	}
	if fhd&0x03 != 0 {
		return fi, corruptf("frame requires a dictionary")
	}
	if fhd&0x04 == 0 {
		return fi, corruptf("frame has no content checksum")
	}
	single := fhd&0x20 != 0
	fcsLen := 0
	switch fhd >> 6 {
	case 0:
		if single {
			fcsLen = 1
		}
	case 1:
		fcsLen = 2
	case 2:
		fcsLen = 4
	case 3:
		fcsLen = 8
	}
	if fcsLen == 0 {
		return fi, corruptf("frame does not declare its content size")
	}
	hlen := fcsLen
	if !single {
		hlen++
	}
	b, err = src.next(hlen)
	if err != nil {
		return fi, err
	}
	size += hlen
	var window uint64
	if !single {
		wd := b[0]
		b = b[1:]
		base := uint64(1) << (10 + uint(wd>>3))
		window = base + (base>>3)*uint64(wd&7)
	}
	var fcs uint64
	switch fcsLen {
	case 1:
		fcs = uint64(b[0])
	case 2:
		fcs = uint64(binary.LittleEndian.Uint16(b)) + 256
	case 4:
		fcs = uint64(binary.LittleEndian.Uint32(b))
	case 8:
		fcs = binary.LittleEndian.Uint64(b)
	}
	if fcs == 0 {
		return fi, corruptf("empty frame")
	}
	if fcs > uint64(maxFrame) {
		return fi, tooLargef("frame content size %d exceeds %d", fcs, maxFrame)
	}
	if single {
		window = fcs
	}
	if window > uint64(maxFrame) {
		return fi, tooLargef("frame window %d exceeds %d", window, maxFrame)
	}
	blockMax := min(window, maxBlockSize)
	limit := maxCompressedSize(int(fcs))
	var known, compressed uint64 // bytes of raw/RLE blocks; number of compressed blocks
	for {
		if size+3+4 > limit {
			return fi, corruptf("frame is larger than its content size allows")
		}
		b, err = src.next(3)
		if err != nil {
			return fi, err
		}
		size += 3
		h := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16
		last := h&1 != 0
		bs := uint64(h >> 3)
		if bs > blockMax {
			return fi, corruptf("block size %d exceeds %d", bs, blockMax)
		}
		content := int(bs)
		switch (h >> 1) & 3 {
		case 0: // raw
			known += bs
		case 1: // RLE
			known += bs
			content = 1
		case 2: // compressed
			if bs == 0 {
				return fi, corruptf("empty compressed block")
			}
			compressed++
		default:
			return fi, corruptf("reserved block type")
		}
		if known > fcs {
			return fi, corruptf("blocks exceed the declared content size")
		}
		if size+content+4 > limit {
			return fi, corruptf("frame is larger than its content size allows")
		}
		if content > 0 {
			if _, err = src.next(content); err != nil {
				return fi, err
			}
			size += content
		}
		if last {
			break
		}
	}
	if known+compressed*blockMax < fcs {
		return fi, corruptf("blocks cannot produce the declared content size")
	}
	b, err = src.next(4)
	if err != nil {
		return fi, err
	}
	size += 4
	fi = frameInfo{size: size, fcs: int(fcs), checksum: binary.LittleEndian.Uint32(b)}
	return fi, nil
}

// seekEntry is one seek table entry.
type seekEntry struct {
	comp, decomp, checksum uint32
}

func appendSeekEntry(dst []byte, e seekEntry) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, e.comp)
	dst = binary.LittleEndian.AppendUint32(dst, e.decomp)
	return binary.LittleEndian.AppendUint32(dst, e.checksum)
}

func decodeSeekEntry(b []byte) seekEntry {
	return seekEntry{
		comp:     binary.LittleEndian.Uint32(b),
		decomp:   binary.LittleEndian.Uint32(b[4:]),
		checksum: binary.LittleEndian.Uint32(b[8:]),
	}
}

// checkFooter validates a seek table footer and returns its frame count.
func checkFooter(b []byte) (int64, error) {
	if binary.LittleEndian.Uint32(b[5:]) != seekableMagic {
		return 0, corruptf("bad seek table footer magic")
	}
	desc := b[4]
	if desc&seekChecksum == 0 {
		return 0, corruptf("seek table has no checksums")
	}
	if desc&seekReserved != 0 {
		return 0, corruptf("reserved bits set in seek table descriptor")
	}
	return int64(binary.LittleEndian.Uint32(b)), nil
}

// bufList is a free list of byte buffers that keeps at most a fixed number
// of them. Unlike a sync.Pool, whose idle buffers stay alive until two
// collections have passed, it bounds the memory that frame buffers hold.
type bufList struct {
	c chan *[]byte
}

func newBufList(n int) bufList {
	return bufList{c: make(chan *[]byte, n)}
}

// get returns an empty buffer with capacity at least n.
func (l bufList) get(n int) *[]byte {
	select {
	case b := <-l.c:
		if cap(*b) >= n {
			*b = (*b)[:0]
			return b
		}
	default:
	}
	b := make([]byte, 0, n)
	return &b
}

// drain drops every buffer the list keeps, so that they can be collected.
func (l bufList) drain() {
	for {
		select {
		case <-l.c:
		default:
			return
		}
	}
}

// put returns b to the list, or drops it when the list is full.
func (l bufList) put(b *[]byte) {
	if b == nil {
		return
	}
	*b = (*b)[:0]
	select {
	case l.c <- b:
	default:
	}
}
