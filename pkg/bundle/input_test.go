package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
	"github.com/dossier-evidence/dossier/pkg/internal/zframe"
)

// readCounter counts the calls to Read.
type readCounter struct {
	r     io.Reader
	calls int
}

func (c *readCounter) Read(p []byte) (int, error) {
	c.calls++
	return c.r.Read(p)
}

func TestCopyPlanned(t *testing.T) {
	const bufLen = 16
	data := bytes.Repeat([]byte("0123456789"), 10)
	type reader func([]byte) io.Reader
	readers := map[string]reader{
		"whole reads":      func(b []byte) io.Reader { return bytes.NewReader(b) },
		"one byte a time":  func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
		"half reads":       func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) },
		"EOF with data":    func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) },
		"os.File-like EOF": func(b []byte) io.Reader { return io.MultiReader(bytes.NewReader(b)) },
	}
	// A reader that returns less than asked before its end can hide a
	// grown file from copyPlanned: it takes the short read that reaches
	// the planned size as the end, and packFile's fstat afterwards sees
	// the new size. It must still never copy more than planned.
	shortReads := map[string]bool{"one byte a time": true, "half reads": true}
	for _, size := range []int{0, 1, bufLen - 1, bufLen, bufLen + 1, 2 * bufLen, 2*bufLen + 3, len(data) - 1} {
		for name, mk := range readers {
			for _, delta := range []int{0, 1, -1} {
				if size+delta < 0 || size+delta > len(data) {
					continue
				}
				content := data[:size+delta]
				var out bytes.Buffer
				var progressed int64
				err := copyPlanned(context.Background(), mk(content), int64(size), make([]byte, bufLen), &out, func(n int64) { progressed += n })
				if out.Len() > size {
					t.Errorf("%s, planned %d, holds %d: copied %d bytes, more than planned", name, size, len(content), out.Len())
				}
				switch {
				case delta > 0 && err == nil && shortReads[name]:
					if !bytes.Equal(out.Bytes(), content[:size]) {
						t.Errorf("%s, planned %d, holds %d: copied %d bytes, want only the %d planned", name, size, len(content), out.Len(), size)
					}
				case delta > 0 && !errors.Is(err, errGrew):
					t.Errorf("%s, planned %d, holds %d: err = %v, want errGrew", name, size, len(content), err)
				case delta < 0 && !errors.Is(err, errShrank):
					t.Errorf("%s, planned %d, holds %d: err = %v, want errShrank", name, size, len(content), err)
				case delta == 0 && err != nil:
					t.Errorf("%s, planned %d: err = %v", name, size, err)
				case delta == 0 && (!bytes.Equal(out.Bytes(), content) || progressed != int64(size)):
					t.Errorf("%s, planned %d: copied %d bytes (progress %d), want the %d planned", name, size, out.Len(), progressed, size)
				}
			}
		}
	}
}

// TestCopyPlannedReadsOnceWhenTheRestFits is the point of the probe: a
// file smaller than the buffer is read with one call, not two.
func TestCopyPlannedReadsOnceWhenTheRestFits(t *testing.T) {
	for _, tc := range []struct{ size, bufLen, calls int }{
		{10, 16, 1},  // the rest fits: one read, asking for 11
		{15, 16, 1},  // still fits with the extra byte
		{16, 16, 2},  // exactly one buffer: a second read finds the end
		{17, 16, 2},  // a full buffer, then 1 byte asking for 2
		{32, 16, 3},  // two full buffers, then the end
		{0, 16, 1},   // an empty file: one read finds the end
		{100, 64, 2}, // 64, then 36 asking for 37
	} {
		r := &readCounter{r: bytes.NewReader(make([]byte, tc.size))}
		if err := copyPlanned(context.Background(), r, int64(tc.size), make([]byte, tc.bufLen), io.Discard, func(int64) {}); err != nil {
			t.Fatal(err)
		}
		if r.calls != tc.calls {
			t.Errorf("%d bytes through a %d-byte buffer: %d reads, want %d", tc.size, tc.bufLen, r.calls, tc.calls)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestCopyPlannedErrors(t *testing.T) {
	buf := make([]byte, 16)
	boom := errors.New("I/O error")
	if err := copyPlanned(context.Background(), iotest.ErrReader(boom), 5, buf, io.Discard, func(int64) {}); !errors.Is(err, boom) {
		t.Errorf("read error: got %v", err)
	}
	err := copyPlanned(context.Background(), bytes.NewReader([]byte("hello")), 5, buf, failWriter{}, func(int64) {})
	if !errors.As(err, new(writeError)) || err.Error() != "disk full" {
		t.Errorf("write error: got %v, want a writeError", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := copyPlanned(ctx, bytes.NewReader([]byte("hello")), 5, buf, io.Discard, func(int64) {}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v", err)
	}
}

func TestInputFile(t *testing.T) {
	dir := testtmp.Dir(t)
	name := filepath.Join(dir, "a.txt")
	if err := os.WriteFile(name, []byte("evidence"), 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := os.Lstat(name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := openInput(name)
	if err != nil {
		t.Fatal(err)
	}
	regular, id, err := f.stat()
	if err != nil || !regular {
		t.Fatalf("stat: regular %v, err %v", regular, err)
	}
	if want := idOf(info); id != want {
		t.Errorf("the open file's identity %+v differs from the planned one %+v", id, want)
	}
	got, err := io.ReadAll(f)
	if err != nil || string(got) != "evidence" {
		t.Errorf("read %q, %v", got, err)
	}
	if n, err := f.Read(make([]byte, 4)); n != 0 || err != io.EOF {
		t.Errorf("read at the end: %d, %v; want 0, io.EOF", n, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := openInput(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("open of a missing file: %v, want ErrNotExist", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if d, err := openInput(filepath.Join(dir, "sub")); err == nil {
		if regular, _, _ := d.stat(); regular {
			t.Error("a folder was taken for a regular file")
		}
		d.Close()
	}
}

// failAfter accepts n bytes, then fails.
type failAfter struct{ n int }

func (w *failAfter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

// packOne runs packFile on the file at path as planned, with the plan's
// size replaced by size when it is not negative.
func packOne(t *testing.T, ctx context.Context, path string, size int64, out io.Writer) error {
	t.Helper()
	plan, err := MakePlan([]string{path}, nil, []category.ID{category.Other})
	if err != nil {
		t.Fatal(err)
	}
	in := plan.Files[0]
	if size >= 0 {
		in.File.Size = size
		unplanned := *in.from
		unplanned.planned = false // only the size is compared
		in.from = &unplanned
	}
	zw, err := zframe.NewWriter(io.Discard, zframe.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer zw.Close(nil)
	opener := newInputOpener(plan.roots)
	defer opener.close()
	_, _, err = packFile(ctx, tar.NewWriter(out), zw, opener, &in, sha256.New(), make([]byte, 64<<10), func(int64) {})
	return err
}

// TestPackFileErrors: what packFile makes of each way copying a file can
// fail.
func TestPackFileErrors(t *testing.T) {
	dir := testtmp.Dir(t)
	name := filepath.Join(dir, "a.txt")
	if err := os.WriteFile(name, []byte("evidence"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := packOne(t, context.Background(), name, -1, io.Discard); err != nil {
		t.Fatalf("an unchanged file: %v", err)
	}
	// The header block goes through; the data does not.
	err := packOne(t, context.Background(), name, -1, &failAfter{n: 512})
	if err == nil || errors.Is(err, ErrInput) || !strings.HasPrefix(err.Error(), "pack: ") || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("a failing writer: %v, want a pack: error that is not ErrInput", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := packOne(t, ctx, name, -1, io.Discard); !errors.Is(err, context.Canceled) || errors.Is(err, ErrInput) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
}

// TestPackFileGrewAndShrank uses files whose size as stat reports it is
// not what they hold, which is what a file written to while being packed
// looks like: /proc files report 0 bytes and hold more, /sys files report
// a page and hold less.
func TestPackFileGrewAndShrank(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc and /sys")
	}
	for _, tc := range []struct{ path, want string }{
		{"/proc/self/status", "grew while packing"},
		{"/sys/kernel/mm/transparent_hugepage/enabled", "shrank while packing"},
	} {
		info, err := os.Stat(tc.path)
		if err != nil || !info.Mode().IsRegular() {
			t.Logf("%s: not here (%v)", tc.path, err)
			continue
		}
		err = packOne(t, context.Background(), tc.path, info.Size(), io.Discard)
		if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an ErrInput that says %q", tc.path, err, tc.want)
		}
	}
}

// TestPackRefusesReplacedFile: a file swapped, after the plan, for another
// of the same size and time or for a symbolic link to one is not packed.
func TestPackRefusesReplacedFile(t *testing.T) {
	for _, tc := range []struct {
		name, noWindows string
		swap            func(a, other string) error
	}{
		{"renamed over", "no inode numbers here: a file of the same size and time is taken for the planned one (README, What differs per system)",
			func(a, other string) error { return os.Rename(other, a) }},
		{"symbolic link", "no symbolic links here",
			func(a, other string) error {
				if err := os.Remove(a); err != nil {
					return err
				}
				return os.Symlink(other, a)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if runtime.GOOS == "windows" {
				t.Skip(tc.noWindows)
			}
			packAfterPlan(t, "replaced while packing", func(a, other string) error {
				info, err := os.Lstat(a)
				if err != nil {
					return err
				}
				if err := os.Chtimes(other, info.ModTime(), info.ModTime()); err != nil {
					return err
				}
				return tc.swap(a, other)
			})
		})
	}
}

// scriptedReader returns content in reads whose sizes follow script (each
// at least 1, at most what is asked), as a file system that returns less
// than asked might.
type scriptedReader struct {
	content []byte
	script  []byte
	i       int
}

func (r *scriptedReader) Read(p []byte) (int, error) {
	if len(r.content) == 0 {
		return 0, io.EOF
	}
	n := len(p)
	if len(r.script) > 0 {
		n = min(n, int(r.script[r.i%len(r.script)])+1)
		r.i++
	}
	n = copy(p, r.content[:min(n, len(r.content))])
	r.content = r.content[n:]
	return n, nil
}

func FuzzCopyPlanned(f *testing.F) {
	f.Add([]byte("evidence"), uint16(8), []byte{}, uint8(4))
	f.Add([]byte("evidence"), uint16(7), []byte{0}, uint8(3))
	f.Add([]byte("evidence"), uint16(9), []byte{2, 0}, uint8(16))
	f.Add(bytes.Repeat([]byte("x"), 100), uint16(64), []byte{}, uint8(64))
	f.Fuzz(func(t *testing.T, content []byte, size uint16, script []byte, bufLen uint8) {
		if bufLen == 0 {
			return
		}
		var out bytes.Buffer
		err := copyPlanned(context.Background(), &scriptedReader{content: content, script: script}, int64(size), make([]byte, bufLen), &out, func(int64) {})
		if out.Len() > int(size) {
			t.Fatalf("copied %d bytes, more than the %d planned", out.Len(), size)
		}
		switch {
		case err == nil:
			if len(content) < int(size) || !bytes.Equal(out.Bytes(), content[:size]) {
				t.Fatalf("accepted %d bytes of a %d-byte file planned at %d", out.Len(), len(content), size)
			}
			if len(script) == 0 && len(content) != int(size) {
				// Whole reads leave growth nowhere to hide.
				t.Fatalf("a %d-byte file planned at %d was accepted", len(content), size)
			}
		case errors.Is(err, errGrew):
			if len(content) <= int(size) {
				t.Fatalf("errGrew for a %d-byte file planned at %d", len(content), size)
			}
		case errors.Is(err, errShrank):
			if len(content) >= int(size) {
				t.Fatalf("errShrank for a %d-byte file planned at %d", len(content), size)
			}
		default:
			t.Fatalf("unexpected error %v", err)
		}
	})
}
