package zframe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// randomData returns n incompressible bytes.
func randomData(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, (n+7)&^7)
	for i := 0; i < len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b[:n]
}

// textData returns n compressible bytes.
func textData(seed uint64, n int) []byte {
	words := strings.Fields("evidence dossier chain of custody hash sha256 exhibit court tar file frame seek table zstd")
	r := rand.New(rand.NewPCG(seed, 2))
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
		b.WriteByte(" \n"[r.IntN(2)])
	}
	return b.Bytes()[:n]
}

// pack writes data through a Writer, flushing after each chunk length in
// chunks (the rest is written at the end), and closes with trailer.
func pack(t testing.TB, data []byte, opts WriterOptions, trailer []byte, chunks ...int) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := NewWriter(&out, opts)
	if err != nil {
		t.Fatal(err)
	}
	rest := data
	for _, c := range chunks {
		if _, err := w.Write(rest[:c]); err != nil {
			t.Fatal(err)
		}
		rest = rest[c:]
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Write(rest); err != nil {
		t.Fatal(err)
	}
	if got := w.Offset(); got != int64(len(data)) {
		t.Fatalf("Offset = %d, want %d", got, len(data))
	}
	if err := w.Close(trailer); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// unpack reads stream through a Reader (unlocked from the start when
// unlock is set) and finishes it.
func unpack(stream []byte, opts ReaderOptions, unlock bool) ([]byte, []byte, error) {
	r, err := NewReader(bytes.NewReader(stream), opts)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	if unlock {
		r.Unlock()
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return data, nil, err
	}
	trailer, err := r.Finish()
	return data, trailer, err
}

func mustUnpack(t *testing.T, stream []byte, unlock bool) ([]byte, []byte) {
	t.Helper()
	data, trailer, err := unpack(stream, ReaderOptions{Concurrency: 3}, unlock)
	if err != nil {
		t.Fatal(err)
	}
	return data, trailer
}

func TestRoundTrip(t *testing.T) {
	const fs = 1000
	for _, n := range []int{0, 1, fs - 1, fs, fs + 1, 2 * fs, 10*fs + 7, 137*fs + 3} {
		for kind, gen := range map[string]func(uint64, int) []byte{"text": textData, "random": randomData, "zeros": func(_ uint64, n int) []byte { return make([]byte, n) }} {
			t.Run(fmt.Sprintf("%s/%d", kind, n), func(t *testing.T) {
				data := gen(uint64(n), n)
				trailer := []byte("trailer " + kind)
				stream := pack(t, data, WriterOptions{FrameSize: fs, Concurrency: 2}, trailer)
				for _, unlock := range []bool{false, true} {
					got, gotTrailer := mustUnpack(t, stream, unlock)
					if !bytes.Equal(got, data) {
						t.Fatalf("unlock=%v: data differs", unlock)
					}
					if !bytes.Equal(gotTrailer, trailer) {
						t.Fatalf("unlock=%v: trailer %q, want %q", unlock, gotTrailer, trailer)
					}
				}
				ix, err := ReadIndex(bytes.NewReader(stream), int64(len(stream)))
				if err != nil {
					t.Fatal(err)
				}
				if ix.DataSize != int64(n) || len(ix.Frames) != (n+fs-1)/fs || !bytes.Equal(ix.Trailer, trailer) || ix.StreamSize != int64(len(stream)) {
					t.Fatalf("index: DataSize %d, %d frames, trailer %q", ix.DataSize, len(ix.Frames), ix.Trailer)
				}
			})
		}
	}
}

func TestLevelsAndDefaults(t *testing.T) {
	// Default options: DefaultFrameSize frames.
	data := textData(7, DefaultFrameSize+12345)
	stream := pack(t, data, WriterOptions{}, nil)
	got, trailer := mustUnpack(t, stream, true)
	if !bytes.Equal(got, data) || len(trailer) != 0 || trailer == nil {
		t.Fatalf("round trip failed (trailer %v)", trailer)
	}
	ix, err := ReadIndex(bytes.NewReader(stream), int64(len(stream)))
	if err != nil {
		t.Fatal(err)
	}
	if len(ix.Frames) != 2 || ix.Frames[0].DecompressedSize != DefaultFrameSize {
		t.Fatalf("got %d frames", len(ix.Frames))
	}
	// Every level, on frames larger than the fastest level's 64 KiB blocks.
	data = append(textData(8, 300000), randomData(8, 100000)...)
	for _, level := range []zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedDefault, zstd.SpeedBetterCompression, zstd.SpeedBestCompression} {
		t.Run(level.String(), func(t *testing.T) {
			stream := pack(t, data, WriterOptions{Level: level, FrameSize: 150000}, []byte("x"))
			got, _ := mustUnpack(t, stream, true)
			if !bytes.Equal(got, data) {
				t.Fatal("round trip failed")
			}
		})
	}
}

func TestMaxFrameSize(t *testing.T) {
	data := randomData(3, MaxFrameSize+100)
	stream := pack(t, data, WriterOptions{FrameSize: MaxFrameSize}, []byte("x"))
	got, _ := mustUnpack(t, stream, true)
	if !bytes.Equal(got, data) {
		t.Fatal("data differs")
	}
	// A reader with a smaller limit refuses the frame before decoding it.
	r, err := NewReader(bytes.NewReader(stream), ReaderOptions{MaxFrameSize: MaxFrameSize - 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := io.ReadAll(r); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if d := r.dec.decodes.Load(); d != 0 {
		t.Fatalf("%d frames decoded", d)
	}
}

func TestFramesOffset(t *testing.T) {
	const fs = 100
	var out bytes.Buffer
	w, err := NewWriter(&out, WriterOptions{FrameSize: fs, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string, frames int, offset int64) {
		t.Helper()
		if w.Frames() != frames || w.Offset() != offset {
			t.Fatalf("%s: Frames %d Offset %d, want %d %d", step, w.Frames(), w.Offset(), frames, offset)
		}
	}
	check("new", 0, 0)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.Flush())
	check("empty flush", 0, 0)
	_, err = w.Write([]byte{1})
	must(err)
	check("1 byte", 1, 1)
	must(w.Flush())
	check("flush", 1, 1)
	must(w.Flush())
	check("second flush", 1, 1)
	_, err = w.Write(make([]byte, fs))
	must(err)
	check("full frame", 2, 1+fs)
	_, err = w.Write(make([]byte, 1))
	must(err)
	check("spill", 3, 2+fs)
	_, err = w.Write(make([]byte, fs-1))
	must(err)
	check("exactly full", 3, 1+2*fs)
	must(w.Flush())
	check("flush after full", 3, 1+2*fs)
	_, err = w.Write(make([]byte, 3*fs+5))
	must(err)
	check("multi", 7, 6+5*fs)
	must(w.Close([]byte("t")))
	ix, err := ReadIndex(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int64
	for _, f := range ix.Frames {
		sizes = append(sizes, f.DecompressedSize)
	}
	if fmt.Sprint(sizes) != fmt.Sprint([]int64{1, fs, fs, fs, fs, fs, 5}) {
		t.Fatalf("frame sizes %v", sizes)
	}
	if err := w.Close(nil); err == nil {
		t.Fatal("second Close succeeded")
	}
	if _, err := w.Write([]byte{1}); err == nil {
		t.Fatal("Write after Close succeeded")
	}
}

// TestFlushBoundaries checks that after Flush, Frames and Offset name the
// frame and offset where the next write starts, as a caller recording file
// positions relies on.
func TestFlushBoundaries(t *testing.T) {
	const fs = 512
	data := textData(11, 20000)
	var out bytes.Buffer
	w, err := NewWriter(&out, WriterOptions{FrameSize: fs, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	type mark struct {
		frame int
		off   int64
	}
	var marks []mark
	r := rand.New(rand.NewPCG(5, 5))
	rest := data
	for len(rest) > 0 {
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		marks = append(marks, mark{w.Frames(), w.Offset()})
		n := min(len(rest), r.IntN(3*fs))
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if err := w.Close(nil); err != nil {
		t.Fatal(err)
	}
	stream := out.Bytes()
	got, _ := mustUnpack(t, stream, true)
	if !bytes.Equal(got, data) {
		t.Fatal("data differs")
	}
	ix, err := ReadIndex(bytes.NewReader(stream), int64(len(stream)))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range marks {
		if m.off == int64(len(data)) {
			continue
		}
		if m.frame >= len(ix.Frames) || ix.Frames[m.frame].DecompressedOffset != m.off {
			t.Fatalf("mark %+v does not start a frame", m)
		}
	}
}

func TestConcurrencyDeterministic(t *testing.T) {
	data := append(textData(1, 300000), randomData(2, 70000)...)
	var streams [][]byte
	for _, c := range []int{1, 4} {
		streams = append(streams, pack(t, data, WriterOptions{FrameSize: 20000, Concurrency: c}, []byte("same"), 1234, 40000))
	}
	if !bytes.Equal(streams[0], streams[1]) {
		t.Fatal("concurrency 1 and 4 give different streams")
	}
}

func TestStockZstd(t *testing.T) {
	if _, err := exec.LookPath("zstd"); err != nil {
		t.Skip("zstd not on PATH")
	}
	for _, data := range [][]byte{nil, {42}, textData(3, 250000), randomData(4, 70000)} {
		stream := pack(t, data, WriterOptions{FrameSize: 64 << 10}, []byte("trailer"), len(data)/3)
		cmd := exec.Command("zstd", "-d", "-c", "-q")
		cmd.Stdin = bytes.NewReader(stream)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		got, err := cmd.Output()
		if err != nil {
			t.Fatalf("zstd -d: %v: %s", err, stderr.String())
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("zstd -d output differs (%d bytes, want %d)", len(got), len(data))
		}
	}
}

func TestIncompressibleStored(t *testing.T) {
	const fs = 300000
	data := randomData(9, 3*fs+17)
	stream := pack(t, data, WriterOptions{FrameSize: fs, Concurrency: 2}, nil)
	ix, err := ReadIndex(bytes.NewReader(stream), int64(len(stream)))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range ix.Frames {
		blocks := (f.DecompressedSize + maxBlockSize - 1) / maxBlockSize
		if limit := f.DecompressedSize + 3*blocks + 18; f.CompressedSize > limit {
			t.Fatalf("frame %d: %d compressed bytes for %d, over %d", i, f.CompressedSize, f.DecompressedSize, limit)
		}
	}
	for _, n := range []int{1, 100, 255, 256, 1024, 1025, 65536, 131072, 131073} {
		s := pack(t, randomData(uint64(n), n), WriterOptions{FrameSize: n}, nil)
		if over := len(s) - n - 2*skipHeaderSize - seekEntrySize - seekFooterSize; over > 3*(n/maxBlockSize+1)+18 {
			t.Fatalf("%d random bytes: %d bytes of overhead", n, over)
		}
	}
}

// TestSmallFramesDeclareSize checks that frames of every small size carry
// their content size, which the encoder omits by default below 256 bytes.
func TestSmallFramesDeclareSize(t *testing.T) {
	data := textData(1, 2000)
	var chunks []int
	for n := 1; n < 60; n++ {
		chunks = append(chunks, n)
	}
	stream := pack(t, data, WriterOptions{FrameSize: 300}, nil, chunks...)
	if got, _ := mustUnpack(t, stream, false); !bytes.Equal(got, data) {
		t.Fatal("data differs")
	}
}

func TestRangeReader(t *testing.T) {
	const fs = 4096
	data := append(textData(21, 50000), randomData(22, 30000)...)
	stream := pack(t, data, WriterOptions{FrameSize: fs}, []byte("tr"), 100, 5000)
	ra := bytes.NewReader(stream)
	ix, err := ReadIndex(ra, int64(len(stream)))
	if err != nil {
		t.Fatal(err)
	}
	read := func(off, n int64, opts ReaderOptions) ([]byte, error) {
		rc, err := ix.NewRangeReader(ra, off, n, opts)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	// seq reads the same range with one SeqDecoder, reused from range to
	// range.
	seqs := map[ReaderOptions]*SeqDecoder{}
	seq := func(off, n int64, opts ReaderOptions) ([]byte, error) {
		sd := seqs[opts]
		if sd == nil {
			if sd, err = ix.NewSeqDecoder(ra, opts); err != nil {
				return nil, err
			}
			seqs[opts] = sd
		}
		r, err := sd.Range(off, n)
		if err != nil {
			return nil, err
		}
		return io.ReadAll(r)
	}
	r := rand.New(rand.NewPCG(1, 2))
	cases := [][2]int64{{0, 0}, {0, int64(len(data))}, {int64(len(data)), 0}, {int64(len(data)) - 1, 1}, {0, 1}, {100, 5000}, {99, 2}, {5100, fs}}
	for range 100 {
		off := r.Int64N(int64(len(data)))
		cases = append(cases, [2]int64{off, r.Int64N(int64(len(data)) - off + 1)})
	}
	for _, c := range cases {
		for _, conc := range []int{1, 3} {
			got, err := read(c[0], c[1], ReaderOptions{Concurrency: conc})
			if err != nil {
				t.Fatalf("range %v: %v", c, err)
			}
			if !bytes.Equal(got, data[c[0]:c[0]+c[1]]) {
				t.Fatalf("range %v: data differs", c)
			}
		}
		got, err := seq(c[0], c[1], ReaderOptions{})
		if err != nil {
			t.Fatalf("SeqDecoder %v: %v", c, err)
		}
		if !bytes.Equal(got, data[c[0]:c[0]+c[1]]) {
			t.Fatalf("SeqDecoder %v: data differs", c)
		}
	}
	for _, c := range [][2]int64{{-1, 1}, {0, int64(len(data)) + 1}, {int64(len(data)) + 1, 0}, {5, -1}} {
		if _, err := read(c[0], c[1], ReaderOptions{}); err == nil || errors.Is(err, ErrCorrupt) {
			t.Fatalf("range %v: err = %v, want a range error", c, err)
		}
		if _, err := seq(c[0], c[1], ReaderOptions{}); err == nil || errors.Is(err, ErrCorrupt) {
			t.Fatalf("SeqDecoder %v: err = %v, want a range error", c, err)
		}
	}
	// MaxTotal counts the frames decoded, whole.
	for name, get := range map[string]func(off, n int64, opts ReaderOptions) ([]byte, error){"NewRangeReader": read, "SeqDecoder": seq} {
		if _, err := get(0, 10, ReaderOptions{MaxTotal: 99}); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("%s, MaxTotal 99: %v", name, err)
		}
		if _, err := get(0, 10, ReaderOptions{MaxTotal: 100}); err != nil {
			t.Fatalf("%s, MaxTotal 100: %v", name, err)
		}
	}
	// A range reader that is closed early releases its goroutines.
	rc, err := ix.NewRangeReader(ra, 0, int64(len(data)), ReaderOptions{Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(rc, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	rc.Close()
	if _, err := rc.Read(make([]byte, 1)); err == nil {
		t.Fatal("Read after Close succeeded")
	}
	// A SeqDecoder's range ends with the next Range, and all with Close.
	sd, err := ix.NewSeqDecoder(ra, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := sd.Range(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(first, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	second, err := sd.Range(5000, 100)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Read(make([]byte, 1)); err == nil {
		t.Fatal("Read of a range after the next Range succeeded")
	}
	empty, err := sd.Range(10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := empty.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("Read of an empty range: %v, want io.EOF", err)
	}
	if _, err := second.Read(make([]byte, 1)); err == nil {
		t.Fatal("Read of a range after the next Range succeeded")
	}
	sd.Close()
	sd.Close()
	if _, err := empty.Read(make([]byte, 1)); err == nil || err == io.EOF {
		t.Fatalf("Read of an empty range after Close: %v, want an error", err)
	}
	if _, err := sd.Range(0, 1); err == nil {
		t.Fatal("Range after Close succeeded")
	}
	for _, sd := range seqs {
		sd.Close()
	}
}

// TestRangeReaderChecksFrames checks that frames are checked against the
// index when they are decoded.
func TestRangeReaderChecksFrames(t *testing.T) {
	data := textData(2, 5000)
	stream := pack(t, data, WriterOptions{FrameSize: 1000}, nil)
	ix, err := ReadIndex(bytes.NewReader(stream), int64(len(stream)))
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(stream)
	f := ix.Frames[2]
	bad[f.CompressedOffset+f.CompressedSize/2] ^= 0x10
	// Each check runs through both NewRangeReader and a SeqDecoder.
	readRange := func(ix *Index, s []byte) error {
		rc, err := ix.NewRangeReader(bytes.NewReader(s), 1500, 2000, ReaderOptions{})
		if err != nil {
			return err
		}
		defer rc.Close()
		got, err := io.ReadAll(rc)
		sd, serr := ix.NewSeqDecoder(bytes.NewReader(s), ReaderOptions{})
		if serr != nil {
			t.Fatal(serr)
		}
		defer sd.Close()
		sr, serr := sd.Range(1500, 2000)
		if serr != nil {
			t.Fatal(serr)
		}
		sgot, serr := io.ReadAll(sr)
		// Both give the bytes before the damaged frame, then its error.
		if (err == nil) != (serr == nil) || !bytes.Equal(sgot, got) || !bytes.Equal(got, data[1500:1500+len(got)]) {
			t.Fatalf("NewRangeReader (%d bytes, %v) and SeqDecoder (%d bytes, %v) disagree", len(got), err, len(sgot), serr)
		}
		return errors.Join(err, serr)
	}
	if err := readRange(ix, bad); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("flipped data: %v", err)
	}
	ix2 := *ix
	ix2.Frames = append([]Frame(nil), ix.Frames...)
	ix2.Frames[2].Checksum ^= 1
	if err := readRange(&ix2, stream); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("wrong checksum in index: %v", err)
	}
	ix2.Frames[2] = ix.Frames[2]
	ix2.Frames[2].CompressedSize--
	if err := readRange(&ix2, stream); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("wrong size in index: %v", err)
	}
	// Frames outside the range are not read at all.
	zeroed := bytes.Clone(stream)
	clear(zeroed[ix.Frames[4].CompressedOffset:])
	if err := readRange(ix, zeroed); err != nil {
		t.Fatalf("range with later frames zeroed: %v", err)
	}
	rc, err := ix.NewRangeReader(bytes.NewReader(bad), 0, 1000, ReaderOptions{Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(rc); err != nil || !bytes.Equal(got, data[:1000]) {
		t.Fatalf("frame 0 of a stream with frame 2 damaged: %v", err)
	}
	rc.Close()
}

func TestUnlock(t *testing.T) {
	const fs = 1000
	data := randomData(8, 10*fs)
	stream := pack(t, data, WriterOptions{FrameSize: fs}, nil)
	r, err := NewReader(bytes.NewReader(stream), ReaderOptions{Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	decodes := func() int64 { return r.dec.decodes.Load() }
	if decodes() != 0 {
		t.Fatal("NewReader decoded")
	}
	got := make([]byte, len(data))
	if _, err := io.ReadFull(r, got[:fs]); err != nil {
		t.Fatal(err)
	}
	if d := decodes(); d != 1 {
		t.Fatalf("reading frame 0 decoded %d frames", d)
	}
	if _, err := io.ReadFull(r, got[fs:fs+fs/2]); err != nil {
		t.Fatal(err)
	}
	if d := decodes(); d != 2 {
		t.Fatalf("reading 1.5 frames decoded %d frames", d)
	}
	// A large Read returns the rest of the current frame only.
	if n, err := r.Read(got[fs+fs/2:]); err != nil || n != fs/2 {
		t.Fatalf("Read = %d, %v", n, err)
	}
	if d := decodes(); d != 2 {
		t.Fatalf("%d frames decoded", d)
	}
	r.Unlock()
	r.Unlock()
	if _, err := io.ReadFull(r, got[2*fs:]); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("Read at end = %d, %v", n, err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("data differs")
	}
	if d := decodes(); d != 10 {
		t.Fatalf("%d frames decoded", d)
	}
	if _, err := r.Finish(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Finish(); err != nil {
		t.Fatal("second Finish:", err)
	}
}

func TestReaderEarlyClose(t *testing.T) {
	data := textData(3, 100000)
	stream := pack(t, data, WriterOptions{FrameSize: 1000}, nil)
	for _, unlock := range []bool{false, true} {
		r, err := NewReader(bytes.NewReader(stream), ReaderOptions{Concurrency: 2})
		if err != nil {
			t.Fatal(err)
		}
		if unlock {
			r.Unlock()
		}
		if _, err := io.ReadFull(r, make([]byte, 2500)); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Finish(); err == nil {
			t.Fatal("Finish before EOF succeeded")
		}
		r.Close()
		r.Close()
		if _, err := r.Read(make([]byte, 10)); err == nil {
			t.Fatal("Read after Close succeeded")
		}
	}
}

type failingWriter struct{ after int }

var errSink = errors.New("sink failed")

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errSink
	}
	f.after--
	return len(p), nil
}

func TestWriterErrors(t *testing.T) {
	for _, o := range []WriterOptions{{FrameSize: -1}, {FrameSize: MaxFrameSize + 1}, {Concurrency: -1}, {Level: 99}} {
		if _, err := NewWriter(io.Discard, o); err == nil {
			t.Fatalf("NewWriter(%+v) succeeded", o)
		}
	}
	w, err := NewWriter(&failingWriter{after: 2}, WriterOptions{FrameSize: 100, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	for range 100 {
		if _, werr = w.Write(make([]byte, 100)); werr != nil {
			break
		}
	}
	if err := w.Close(nil); !errors.Is(err, errSink) {
		t.Fatalf("Close = %v", err)
	}
	if werr != nil && !errors.Is(werr, errSink) {
		t.Fatalf("Write = %v", werr)
	}
	w, err = NewWriter(io.Discard, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(make([]byte, MaxTrailerSize+1)); err == nil {
		t.Fatal("oversized trailer accepted")
	}
	var buf bytes.Buffer
	w, err = NewWriter(&buf, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	trailer := randomData(1, MaxTrailerSize)
	if err := w.Close(trailer); err != nil {
		t.Fatal(err)
	}
	if _, got := mustUnpack(t, buf.Bytes(), false); !bytes.Equal(got, trailer) {
		t.Fatal("largest trailer lost")
	}
}

func TestReaderOptions(t *testing.T) {
	for _, o := range []ReaderOptions{{MaxFrameSize: -1}, {MaxFrameSize: MaxFrameSize + 1}, {MaxTotal: -1}, {Concurrency: -1}} {
		if _, err := NewReader(bytes.NewReader(nil), o); err == nil {
			t.Fatalf("NewReader(%+v) succeeded", o)
		}
	}
}

type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		return n, e.err
	}
	return n, err
}

// TestUnderlyingError checks that a failure of the underlying reader is
// passed on, not reported as corruption.
func TestUnderlyingError(t *testing.T) {
	stream := pack(t, textData(1, 5000), WriterOptions{FrameSize: 1000}, nil)
	errBroken := errors.New("broken pipe")
	for _, cut := range []int{len(stream) / 2, len(stream)} {
		for _, unlock := range []bool{false, true} {
			r, err := NewReader(&errReader{bytes.NewReader(stream[:cut]), errBroken}, ReaderOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if unlock {
				r.Unlock()
			}
			_, err = io.ReadAll(r)
			if err == nil {
				_, err = r.Finish()
			}
			r.Close()
			if !errors.Is(err, errBroken) || errors.Is(err, ErrCorrupt) {
				t.Fatalf("cut %d: err = %v", cut, err)
			}
		}
	}
}

func TestEmptyStreamLayout(t *testing.T) {
	stream := pack(t, nil, WriterOptions{}, nil)
	want := binary.LittleEndian.AppendUint32(nil, TrailerMagic)
	want = binary.LittleEndian.AppendUint32(want, 0)
	want = binary.LittleEndian.AppendUint32(want, seekTableMagic)
	want = binary.LittleEndian.AppendUint32(want, 9)
	want = binary.LittleEndian.AppendUint32(want, 0)
	want = append(want, 0x80)
	want = binary.LittleEndian.AppendUint32(want, seekableMagic)
	if !bytes.Equal(stream, want) {
		t.Fatalf("empty stream = %x", stream)
	}
}
