package bundle

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func readAt(t *testing.T, a *inOrderReaderAt, off int64, n int) []byte {
	t.Helper()
	p := make([]byte, n)
	k, err := a.ReadAt(p, off)
	if err != nil && !(err == io.EOF && k == n) {
		t.Fatalf("ReadAt(%d bytes at %d) = %d, %v", n, off, k, err)
	}
	return p[:k]
}

// age's random-access decrypter reads the header (twice), the last chunk,
// then every chunk in order from the payload's start: every byte is read
// from the stream once, in order, and every read gives the right bytes.
func TestInOrderReaderAtReadsOnce(t *testing.T) {
	data := randomBytes(300 << 10)
	stream := &countingReader{r: bytes.NewReader(data)}
	a := newInOrderReaderAt(stream, bytes.NewReader(data), int64(len(data)))
	check := func(off int64, n int) {
		t.Helper()
		if got := readAt(t, a, off, n); !bytes.Equal(got, data[off:off+int64(n)]) {
			t.Fatalf("bytes at %d differ", off)
		}
	}
	check(0, 4096)          // the header, read by dossier
	check(0, 3000)          // and again by age
	check(250<<10, 50<<10)  // the last chunk, ahead
	a.keepFrom(2500)        // the payload starts at 2500
	check(2500, 100<<10)    // the first chunk: kept bytes, then in order
	check(2500+100<<10, 20) // in order
	if stream.n != 2500+100<<10+20 {
		t.Fatalf("the stream gave %d bytes, want exactly those asked for in order", stream.n)
	}
	if _, err := a.ReadAt(make([]byte, 10), 2000); err == nil {
		t.Fatal("a read behind what is kept was served")
	}
	if err := a.finish(); err != nil {
		t.Fatalf("finish: %v", err)
	}
	if stream.n != int64(len(data)) {
		t.Fatalf("finish left %d bytes unread", int64(len(data))-stream.n)
	}
	if n, err := a.ReadAt(make([]byte, 1), int64(len(data))); n != 0 || err != io.EOF {
		t.Fatalf("a read at the end = %d, %v; want io.EOF", n, err)
	}
}

// Bytes read ahead that differ from the same bytes read in order, and a
// stream longer or shorter than its stated size, are reported.
func TestInOrderReaderAtFindsChanges(t *testing.T) {
	data := randomBytes(200 << 10)
	other := bytes.Clone(data)
	other[190<<10] ^= 1
	for _, tt := range []struct {
		name       string
		stream, ra []byte
		size       int64
	}{
		{"bytes read ahead differ", data, other, int64(len(data))},
		{"longer than stated", append(bytes.Clone(data), 0), data, int64(len(data))},
		{"shorter than stated", data[:len(data)-1], data, int64(len(data))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := newInOrderReaderAt(bytes.NewReader(tt.stream), bytes.NewReader(tt.ra), tt.size)
			readAt(t, a, 0, 1000)
			readAt(t, a, 180<<10, 15<<10)
			a.keepFrom(1000)
			p := make([]byte, 170<<10)
			_, err := a.ReadAt(p, 1000)
			if err == nil {
				err = a.finish()
			}
			if !errors.Is(err, errChanged) {
				t.Fatalf("err = %v, want %v", err, errChanged)
			}
		})
	}
	// Unchanged, the same reads pass.
	a := newInOrderReaderAt(bytes.NewReader(data), bytes.NewReader(data), int64(len(data)))
	readAt(t, a, 0, 1000)
	readAt(t, a, 180<<10, 15<<10)
	a.keepFrom(1000)
	readAt(t, a, 1000, 170<<10)
	if err := a.finish(); err != nil {
		t.Fatalf("finish: %v", err)
	}
}

// Reads ahead are bounded: age reads ahead only its last chunk.
func TestInOrderReaderAtBoundsReadsAhead(t *testing.T) {
	data := randomBytes(4 << 20)
	a := newInOrderReaderAt(bytes.NewReader(data), bytes.NewReader(data), int64(len(data)))
	if _, err := a.ReadAt(make([]byte, maxAhead+1), 1<<20); err == nil {
		t.Fatal("a read ahead larger than the bound was served")
	}
}
