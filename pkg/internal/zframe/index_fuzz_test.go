package zframe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

func indexSeeds(t testing.TB) [][]byte {
	valid := pack(t, textData(3, 5000), WriterOptions{FrameSize: 1000}, []byte(`{"type":"dossier-index"}`), 10, 2000)
	empty := pack(t, nil, WriterOptions{}, nil)
	wrongCount := bytes.Clone(valid)
	wrongCount[len(wrongCount)-9]++
	// The first seek table entry's decompressed size set to 9 MiB.
	bigEntry := bytes.Clone(valid)
	n := int(binary.LittleEndian.Uint32(valid[len(valid)-seekFooterSize:]))
	binary.LittleEndian.PutUint32(bigEntry[len(valid)-seekFooterSize-n*seekEntrySize+4:], 9<<20)
	return [][]byte{
		valid,
		empty,
		pack(t, randomData(4, 3000), WriterOptions{FrameSize: 700}, nil),
		wrongCount,
		bigEntry,
		valid[1:],
		valid[:len(valid)-1],
		append(bytes.Clone(valid), 0),
		{},
	}
}

// fuzzIndexBody checks ReadIndex on stream: it never panics, every
// failure wraps ErrCorrupt, and an index it accepts describes the stream
// exactly: the frames tile the start of the stream (compressed and
// decompressed offsets contiguous from 0, every frame within the limits),
// then comes the trailer frame holding Trailer, then the seek table, which
// ends the stream. It reports whether the stream was accepted.
func fuzzIndexBody(t *testing.T, stream []byte) bool {
	ix, err := ReadIndex(bytes.NewReader(stream), int64(len(stream)))
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("ReadIndex error %v does not wrap ErrCorrupt", err)
		}
		return false
	}
	var comp, decomp int64
	for i, f := range ix.Frames {
		if f.CompressedOffset != comp || f.DecompressedOffset != decomp {
			t.Fatalf("frame %d at %d/%d, want %d/%d: frames do not tile the stream", i, f.CompressedOffset, f.DecompressedOffset, comp, decomp)
		}
		if f.DecompressedSize < 1 || f.DecompressedSize > MaxFrameSize {
			t.Fatalf("frame %d of %d bytes accepted", i, f.DecompressedSize)
		}
		if f.CompressedSize < minFrameBytes || f.CompressedSize > int64(maxCompressedSize(int(f.DecompressedSize))) {
			t.Fatalf("frame %d with impossible compressed size %d accepted", i, f.CompressedSize)
		}
		comp += f.CompressedSize
		decomp += f.DecompressedSize
	}
	if ix.DataSize != decomp || ix.StreamSize != int64(len(stream)) {
		t.Fatalf("DataSize %d, StreamSize %d; frames add up to %d, stream is %d", ix.DataSize, ix.StreamSize, decomp, len(stream))
	}
	if len(ix.Trailer) > MaxTrailerSize {
		t.Fatalf("trailer of %d bytes accepted", len(ix.Trailer))
	}
	rest := stream[comp:]
	if len(rest) < 2*skipHeaderSize+seekFooterSize ||
		binary.LittleEndian.Uint32(rest) != TrailerMagic ||
		int(binary.LittleEndian.Uint32(rest[4:])) != len(ix.Trailer) ||
		!bytes.Equal(rest[skipHeaderSize:skipHeaderSize+len(ix.Trailer)], ix.Trailer) {
		t.Fatal("the trailer frame does not follow the frames")
	}
	table := rest[skipHeaderSize+len(ix.Trailer):]
	if len(table) != skipHeaderSize+len(ix.Frames)*seekEntrySize+seekFooterSize ||
		binary.LittleEndian.Uint32(table) != seekTableMagic ||
		int(binary.LittleEndian.Uint32(table[4:])) != len(table)-skipHeaderSize {
		t.Fatal("the seek table does not end the stream")
	}
	for i, f := range ix.Frames {
		e := decodeSeekEntry(table[skipHeaderSize+i*seekEntrySize:])
		if int64(e.comp) != f.CompressedSize || int64(e.decomp) != f.DecompressedSize || e.checksum != f.Checksum {
			t.Fatalf("frame %d differs from seek table entry %d", i, i)
		}
	}
	// The two ways of reading a range agree, on whatever the frames hold.
	if ix.DataSize > 0 && ix.DataSize <= 1<<20 {
		off, n := ix.DataSize/3, ix.DataSize-ix.DataSize/3
		rc, err := ix.NewRangeReader(bytes.NewReader(stream), off, n, ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want, rerr := io.ReadAll(rc)
		rc.Close()
		sd, err := ix.NewSeqDecoder(bytes.NewReader(stream), ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sr, err := sd.Range(off, n)
		if err != nil {
			t.Fatal(err)
		}
		sgot, serr := io.ReadAll(sr)
		sd.Close()
		if (rerr == nil) != (serr == nil) || !bytes.Equal(sgot, want) {
			t.Fatalf("NewRangeReader (%d bytes, %v) and SeqDecoder (%d bytes, %v) disagree", len(want), rerr, len(sgot), serr)
		}
		if serr != nil && !errors.Is(serr, ErrCorrupt) && !errors.Is(serr, ErrTooLarge) {
			t.Fatalf("SeqDecoder error %v is neither ErrCorrupt nor ErrTooLarge", serr)
		}
	}
	return true
}

// FuzzIndex: ReadIndex never panics; what it accepts tiles the stream, and
// NewRangeReader and a SeqDecoder agree on what its frames hold.
func FuzzIndex(f *testing.F) {
	for _, s := range indexSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, stream []byte) { fuzzIndexBody(t, stream) })
}

func TestFuzzIndexSeeds(t *testing.T) {
	seeds := indexSeeds(t)
	accepted := 0
	for _, s := range seeds {
		if fuzzIndexBody(t, s) {
			accepted++
		}
	}
	if len(seeds) < 5 || accepted != 3 {
		t.Fatalf("%d of %d seeds accepted, want the 3 valid streams", accepted, len(seeds))
	}
}
