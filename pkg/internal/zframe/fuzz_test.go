package zframe

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReader feeds arbitrary streams to Reader and to ReadIndex with a
// range reader. Neither may panic; every failure must wrap ErrCorrupt; and
// a stream the Reader accepts in full (Finish included) must also be
// accepted by ReadIndex, with the same data size and the same data.
func FuzzReader(f *testing.F) {
	f.Add(pack(f, nil, WriterOptions{}, nil))
	f.Add(pack(f, []byte("a"), WriterOptions{}, []byte("trailer")))
	f.Add(pack(f, textData(1, 3000), WriterOptions{FrameSize: 1000}, []byte("t"), 10, 500))
	f.Add(pack(f, randomData(2, 700), WriterOptions{FrameSize: 300}, nil))
	f.Add(pack(f, make([]byte, 5000), WriterOptions{FrameSize: 2500}, nil))
	f.Add(withFrame(frameHeader(0x80|0x20|0x04, 0, 0, 0x80, 0, 0x13, 0, 0x10, 'A', 0, 0, 0, 0)))
	f.Fuzz(func(t *testing.T, stream []byte) {
		opts := ReaderOptions{MaxFrameSize: 1 << 20, MaxTotal: 4 << 20, Concurrency: 2}
		data, _, err := unpack(stream, opts, len(stream)%2 == 0)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Reader error %v does not wrap ErrCorrupt", err)
			}
		}
		ix, ierr := ReadIndex(bytes.NewReader(stream), int64(len(stream)))
		if ierr != nil && !errors.Is(ierr, ErrCorrupt) {
			t.Fatalf("ReadIndex error %v does not wrap ErrCorrupt", ierr)
		}
		if err == nil && ierr != nil {
			t.Fatalf("Reader accepted a stream that ReadIndex refuses: %v", ierr)
		}
		if ierr != nil || ix.DataSize > 4<<20 {
			return
		}
		if err == nil && int64(len(data)) != ix.DataSize {
			t.Fatalf("Reader gave %d bytes, seek table says %d", len(data), ix.DataSize)
		}
		rc, rerr := ix.NewRangeReader(bytes.NewReader(stream), 0, ix.DataSize, opts)
		if rerr != nil {
			if !errors.Is(rerr, ErrCorrupt) {
				t.Fatalf("NewRangeReader error %v does not wrap ErrCorrupt", rerr)
			}
			return
		}
		defer rc.Close()
		got, rerr := io.ReadAll(rc)
		if rerr != nil {
			if !errors.Is(rerr, ErrCorrupt) {
				t.Fatalf("range read error %v does not wrap ErrCorrupt", rerr)
			}
			if err == nil {
				t.Fatalf("Reader accepted a stream whose range read fails: %v", rerr)
			}
			return
		}
		if err == nil && !bytes.Equal(got, data) {
			t.Fatal("Reader and range reader disagree")
		}
	})
}
