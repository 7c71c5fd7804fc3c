package zframe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// smallStream returns a stream of a few small frames, mixing compressed,
// raw (random) and RLE (zeros) content, its data and its index.
func smallStream(t testing.TB) ([]byte, []byte, *Index) {
	t.Helper()
	data := append(textData(1, 700), randomData(2, 300)...)
	data = append(data, make([]byte, 250)...)
	stream := pack(t, data, WriterOptions{FrameSize: 400, Concurrency: 2}, []byte("TRAILER"))
	ix, err := ReadIndex(bytes.NewReader(stream), int64(len(stream)))
	if err != nil {
		t.Fatal(err)
	}
	return stream, data, ix
}

// checkCorrupt reads s with both a Reader (locked and unlocked) and
// ReadIndex plus a range reader, and requires each to fail with ErrCorrupt.
func checkCorrupt(t *testing.T, what string, s []byte) {
	t.Helper()
	for _, unlock := range []bool{false, true} {
		if _, _, err := unpack(s, ReaderOptions{Concurrency: 2}, unlock); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s (unlock=%v): Reader err = %v, want ErrCorrupt", what, unlock, err)
		}
	}
	if _, _, err := readAllIndexed(s); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("%s: ReadIndex/range err = %v, want ErrCorrupt", what, err)
	}
}

// readAllIndexed reads the whole of s through ReadIndex and a range reader.
func readAllIndexed(s []byte) (*Index, []byte, error) {
	ix, err := ReadIndex(bytes.NewReader(s), int64(len(s)))
	if err != nil {
		return nil, nil, err
	}
	rc, err := ix.NewRangeReader(bytes.NewReader(s), 0, ix.DataSize, ReaderOptions{Concurrency: 2})
	if err != nil {
		return nil, nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err == nil && int64(len(data)) != ix.DataSize {
		err = errors.New("short range read")
	}
	return ix, data, err
}

func TestTruncated(t *testing.T) {
	stream, _, _ := smallStream(t)
	for cut := range len(stream) {
		checkCorrupt(t, "truncated", stream[:cut])
	}
}

func TestTrailingData(t *testing.T) {
	stream, _, _ := smallStream(t)
	for _, extra := range [][]byte{{0}, []byte("garbage"), stream} {
		s := append(bytes.Clone(stream), extra...)
		_, _, err := unpack(s, ReaderOptions{}, true)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "trailing data") {
			t.Fatalf("trailing %d bytes: %v", len(extra), err)
		}
		if _, _, err := readAllIndexed(s); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("trailing %d bytes: ReadIndex err = %v", len(extra), err)
		}
	}
}

// TestFlippedBytes damages every byte of a stream in several ways. Each
// damaged stream must be refused with ErrCorrupt, except where the damage
// hits the trailer's content (opaque to this package) or bits that the
// formats leave unused; then the data must come out unchanged.
func TestFlippedBytes(t *testing.T) {
	stream, data, ix := smallStream(t)
	trailerStart := int(ix.Frames[len(ix.Frames)-1].CompressedOffset+ix.Frames[len(ix.Frames)-1].CompressedSize) + skipHeaderSize
	trailerEnd := trailerStart + len(ix.Trailer)
	for i := range stream {
		for k, mask := range []byte{0x01, 0x10, 0x80, 0xFF} {
			s := bytes.Clone(stream)
			s[i] ^= mask
			// Alternate locked and unlocked reading to keep the test fast.
			got, trailer, err := unpack(s, ReaderOptions{Concurrency: 2}, (i+k)%2 == 0)
			switch {
			case err != nil:
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("byte %d ^ %#x: err %v does not wrap ErrCorrupt", i, mask, err)
				}
			case !bytes.Equal(got, data):
				t.Fatalf("byte %d ^ %#x: accepted with different data", i, mask)
			case (i < trailerStart || i >= trailerEnd) && !bytes.Equal(trailer, ix.Trailer):
				t.Fatalf("byte %d ^ %#x: accepted with different trailer", i, mask)
			}
			if _, got, err := readAllIndexed(s); err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("byte %d ^ %#x: ReadIndex err %v does not wrap ErrCorrupt", i, mask, err)
				}
			} else if !bytes.Equal(got, data) {
				t.Fatalf("byte %d ^ %#x: range reader accepted different data", i, mask)
			}
		}
	}
}

// frameHeader builds a zstd frame header: descriptor fhd followed by the
// given fields.
func frameHeader(fhd byte, fields ...byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, frameMagic)
	b = append(b, fhd)
	return append(b, fields...)
}

// withFrame returns a stream made of frame followed by an otherwise valid
// stream's trailer and a seek table listing frame (with checksum 0).
func withFrame(frame []byte) []byte {
	s := bytes.Clone(frame)
	s = binary.LittleEndian.AppendUint32(s, TrailerMagic)
	s = binary.LittleEndian.AppendUint32(s, 0)
	s = binary.LittleEndian.AppendUint32(s, seekTableMagic)
	s = binary.LittleEndian.AppendUint32(s, seekEntrySize+seekFooterSize)
	s = appendSeekEntry(s, seekEntry{comp: uint32(len(frame)), decomp: 1})
	s = binary.LittleEndian.AppendUint32(s, 1)
	s = append(s, seekChecksum)
	return binary.LittleEndian.AppendUint32(s, seekableMagic)
}

func TestBomb(t *testing.T) {
	// A frame declaring 1 GiB of content, followed by RLE blocks that
	// would produce it.
	bomb := frameHeader(0x80|0x20|0x04, 0, 0, 0, 0x40) // single segment, 4-byte FCS = 1 GiB
	for range 1 << 13 {
		h := uint32(maxBlockSize)<<3 | 1<<1 // RLE, 128 KiB
		bomb = append(bomb, byte(h), byte(h>>8), byte(h>>16), 'A')
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, unlock := range []bool{false, true} {
		r, err := NewReader(bytes.NewReader(bomb), ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if unlock {
			r.Unlock()
		}
		n, err := io.Copy(io.Discard, r)
		if !errors.Is(err, ErrTooLarge) || n != 0 {
			t.Fatalf("bomb: %d bytes, err %v", n, err)
		}
		if d := r.dec.decodes.Load(); d != 0 {
			t.Fatalf("bomb decoded")
		}
		r.Close()
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Fatalf("bomb allocated %d bytes", alloc)
	}

	// A window of 1 GiB.
	checkTooLarge(t, "window", withFrame(frameHeader(0x40|0x04, 20<<3, 0, 0)))
	// 8-byte content size of 2^63.
	checkTooLarge(t, "huge FCS", withFrame(frameHeader(0xC0|0x20|0x04, 0, 0, 0, 0, 0, 0, 0, 0x80)))

	// Content size within the cap, but blocks that cannot produce it are
	// refused without decoding.
	lie := frameHeader(0x80|0x20|0x04, 0, 0, 0x80, 0) // 8 MiB
	h := uint32(maxBlockSize)<<3 | 1<<1 | 1           // last RLE block of 128 KiB
	lie = append(lie, byte(h), byte(h>>8), byte(h>>16), 'A', 0, 0, 0, 0)
	r, err := NewReader(bytes.NewReader(withFrame(lie)), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(r); !errors.Is(err, ErrCorrupt) || r.dec.decodes.Load() != 0 {
		t.Fatalf("lying frame: %v", err)
	}
	r.Close()
}

func checkTooLarge(t *testing.T, what string, s []byte) {
	t.Helper()
	if _, _, err := unpack(s, ReaderOptions{}, false); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("%s: %v, want ErrTooLarge", what, err)
	}
}

func TestMaxTotal(t *testing.T) {
	data := textData(5, 10000)
	stream := pack(t, data, WriterOptions{FrameSize: 1000}, nil)
	for _, unlock := range []bool{false, true} {
		got, _, err := unpack(stream, ReaderOptions{MaxTotal: int64(len(data)) - 1}, unlock)
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("MaxTotal-1: %v", err)
		}
		if len(got) != len(data)-1000 {
			t.Fatalf("got %d bytes before the error", len(got))
		}
		if _, _, err := unpack(stream, ReaderOptions{MaxTotal: int64(len(data))}, unlock); err != nil {
			t.Fatalf("MaxTotal exact: %v", err)
		}
	}
}

func TestForeignFrames(t *testing.T) {
	encode := func(src []byte, opts ...zstd.EOption) []byte {
		enc, err := zstd.NewWriter(nil, opts...)
		if err != nil {
			t.Fatal(err)
		}
		defer enc.Close()
		return enc.EncodeAll(src, nil)
	}
	// The encoder's defaults omit the content size of small frames.
	checkCorrupt(t, "no content size", withFrame(encode([]byte("x"), zstd.WithEncoderCRC(true))))
	checkCorrupt(t, "no checksum", withFrame(encode([]byte("x"), zstd.WithEncoderCRC(false), zstd.WithSingleSegment(true))))
	dict := frameHeader(0x20|0x04|0x01, 7, 1) // dictionary ID 7
	dict = append(dict, 1, 0, 0, 'x', 0, 0, 0, 0)
	checkCorrupt(t, "dictionary", withFrame(dict))
	checkCorrupt(t, "reserved bit", withFrame(frameHeader(0x20|0x08|0x04, 1, 1, 0, 0, 'x', 0, 0, 0, 0)))
	checkCorrupt(t, "reserved block type", withFrame(frameHeader(0x20|0x04, 1, 7, 0, 0, 'x', 0, 0, 0, 0)))
	checkCorrupt(t, "empty frame", withFrame(frameHeader(0x20|0x04, 0, 1, 0, 0, 0, 0, 0, 0)))
	// A genuine frame with a correct seek table entry, as a control.
	good := encode([]byte("x"), zstd.WithEncoderCRC(true), zstd.WithSingleSegment(true))
	s := withFrame(good)
	binary.LittleEndian.PutUint32(s[len(s)-seekFooterSize-4:], binary.LittleEndian.Uint32(good[len(good)-4:]))
	if got, _, err := unpack(s, ReaderOptions{}, false); err != nil || string(got) != "x" {
		t.Fatalf("control: %q, %v", got, err)
	}
	if _, _, err := readAllIndexed(s); err != nil {
		t.Fatalf("control: %v", err)
	}
}

func TestSkippableFrames(t *testing.T) {
	stream, _, ix := smallStream(t)
	mid := ix.Frames[1].CompressedOffset
	insert := func(at int64, magic uint32, content string) []byte {
		s := bytes.Clone(stream[:at])
		s = binary.LittleEndian.AppendUint32(s, magic)
		s = binary.LittleEndian.AppendUint32(s, uint32(len(content)))
		s = append(s, content...)
		return append(s, stream[at:]...)
	}
	checkCorrupt(t, "skippable frame in the middle", insert(mid, 0x184D2A50, "skip"))
	checkCorrupt(t, "seek table magic in the middle", insert(mid, seekTableMagic, "skip"))
	checkCorrupt(t, "trailer in the middle", insert(mid, TrailerMagic, "skip"))
	checkCorrupt(t, "skippable frame at the start", insert(0, 0x184D2A5F, ""))
	end := ix.Frames[len(ix.Frames)-1].CompressedOffset + ix.Frames[len(ix.Frames)-1].CompressedSize
	checkCorrupt(t, "skippable frame before the trailer", insert(end, 0x184D2A51, "x"))
	checkCorrupt(t, "second trailer", insert(end, TrailerMagic, "x"))
	checkCorrupt(t, "no trailer", bytes.Clone(stream[:end]))
	seekStart := int(end) + skipHeaderSize + len(ix.Trailer)
	checkCorrupt(t, "no seek table", bytes.Clone(stream[:seekStart]))
	checkCorrupt(t, "skippable frame after the seek table", insert(int64(len(stream)), 0x184D2A50, ""))
	checkCorrupt(t, "not zstd", []byte("this is not a zstd stream at all, just text"))
	checkCorrupt(t, "empty input", nil)
}

func TestSeekTableDisagrees(t *testing.T) {
	stream, _, ix := smallStream(t)
	n := len(ix.Frames)
	entries := len(stream) - seekFooterSize - n*seekEntrySize
	edit := func(f func(s []byte)) []byte {
		s := bytes.Clone(stream)
		f(s)
		return s
	}
	for i := range n {
		for field := range 3 {
			off := entries + i*seekEntrySize + 4*field
			checkCorrupt(t, "entry changed", edit(func(s []byte) { s[off]++ }))
		}
	}
	// Two entries swapped: the total sizes still add up.
	checkCorrupt(t, "entries swapped", edit(func(s []byte) {
		a, b := s[entries:entries+seekEntrySize], s[entries+seekEntrySize:entries+2*seekEntrySize]
		tmp := bytes.Clone(a)
		copy(a, b)
		copy(b, tmp)
	}))
	// An entry dropped, with the count and frame size fixed up.
	dropped := bytes.Clone(stream[:entries])
	dropped = append(dropped, stream[entries+seekEntrySize:]...)
	hdr := entries - skipHeaderSize
	binary.LittleEndian.PutUint32(dropped[hdr+4:], uint32((n-1)*seekEntrySize+seekFooterSize))
	binary.LittleEndian.PutUint32(dropped[len(dropped)-seekFooterSize:], uint32(n-1))
	checkCorrupt(t, "entry dropped", dropped)
	checkCorrupt(t, "no checksum flag", edit(func(s []byte) { s[len(s)-5] = 0 }))
	checkCorrupt(t, "reserved descriptor bit", edit(func(s []byte) { s[len(s)-5] |= 0x04 }))
}
