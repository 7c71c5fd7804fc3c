package bundle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/internal/atomicfile"
	"github.com/dossier-evidence/dossier/pkg/manifest"
)

// failRename makes the n-th rename of atomicfile.Publish (counting from 1)
// fail with EIO, as a failing disk would, until the test ends. It returns
// a counter of the renames attempted.
func failRename(t *testing.T, n int) *int {
	t.Helper()
	calls := new(int)
	restore := atomicfile.ReplaceRenameForTest(func(real func(string, string) error) func(string, string) error {
		return func(tmp, final string) error {
			*calls++
			if *calls == n {
				return &os.LinkError{Op: "rename", Old: tmp, New: final, Err: syscall.EIO}
			}
			return real(tmp, final)
		}
	})
	t.Cleanup(restore)
	return calls
}

// listDir returns the names in dir, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// A rename that fails while publishing a bundle, its seal or any volume
// leaves no final name (what was already published is taken back) and no
// temporary.
func TestPublishFaultPackFile(t *testing.T) {
	p := getParties(t)
	src := testtmp.Dir(t)
	writeTree(t, src, map[string]string{"case/big.bin": string(randomBytes(200 << 10))})
	plan, err := MakePlan([]string{filepath.Join(src, "case")}, nil, []category.ID{category.Other})
	if err != nil {
		t.Fatal(err)
	}
	opts := PackOptions{Sender: p.alice, Recipients: []*card.Card{p.bob.Card}, Now: func() time.Time { return fixedNow }}
	for _, split := range []int64{0, MinVolumeSize} {
		// Count the renames of a successful pack first.
		out := filepath.Join(testtmp.Dir(t), "case.dossier")
		calls := failRename(t, -1)
		res, err := PackFile(context.Background(), out, FileOptions{Split: split}, plan, opts)
		if err != nil {
			t.Fatal(err)
		}
		renames := *calls
		if want := 2 * len(res.Paths); renames != want {
			t.Fatalf("split %d: %d renames for %d files, want %d", split, renames, len(res.Paths), want)
		}
		if split > 0 && len(res.Paths) < 3 {
			t.Fatalf("split %d: only %d volumes", split, len(res.Paths))
		}
		for n := 1; n <= renames; n++ {
			t.Run(fmt.Sprintf("split=%d/rename=%d", split, n), func(t *testing.T) {
				dir := testtmp.Dir(t)
				os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("precious"), 0o644)
				failRename(t, n)
				_, err := PackFile(context.Background(), filepath.Join(dir, "case.dossier"), FileOptions{Split: split}, plan, opts)
				if !errors.Is(err, syscall.EIO) {
					t.Fatalf("err = %v, want EIO", err)
				}
				if got := listDir(t, dir); !slices.Equal(got, []string{"keep.txt"}) {
					t.Fatalf("left behind: %q", got)
				}
				if b, _ := os.ReadFile(filepath.Join(dir, "keep.txt")); string(b) != "precious" {
					t.Fatal("an existing file changed")
				}
			})
		}
	}
}

// A rename that fails while publishing an opened folder leaves the target
// as it was (absent, or an empty folder) and no staging folder.
func TestPublishFaultOpen(t *testing.T) {
	p := getParties(t)
	data, _, _ := packSample(t, p.bob.Card)
	for _, existing := range []bool{false, true} {
		t.Run(fmt.Sprintf("existing=%v", existing), func(t *testing.T) {
			dir := testtmp.Dir(t)
			target := filepath.Join(dir, "opened")
			if existing {
				if err := os.Mkdir(target, 0o750); err != nil {
					t.Fatal(err)
				}
			}
			if existing {
				// The first rename finds the empty folder (EEXIST) and is
				// retried once the folder is removed: fail the retry.
				failRename(t, 2)
			} else {
				failRename(t, 1)
			}
			_, err := Open(context.Background(), bytes.NewReader(data), target, ReadOptions{Identity: p.bob, Sender: p.alice.Card})
			if !errors.Is(err, syscall.EIO) {
				t.Fatalf("err = %v, want EIO", err)
			}
			if existing {
				st, err := os.Lstat(target)
				if err != nil || !st.IsDir() || (runtime.GOOS != "windows" && st.Mode().Perm() != 0o750) {
					t.Fatalf("the empty target folder was not left as it was: %v, %v", st, err)
				}
				if got := listDir(t, target); len(got) != 0 {
					t.Fatalf("target holds %q", got)
				}
				os.Remove(target)
			}
			assertNothingAt(t, target)
			if got := listDir(t, dir); len(got) != 0 {
				t.Fatalf("left behind: %q", got)
			}
		})
	}
}

// A rename that fails while publishing an extracted document leaves no
// output and no temporary.
func TestPublishFaultExtract(t *testing.T) {
	p := getParties(t)
	data, _, _ := packSample(t, p.bob.Card)
	dir := testtmp.Dir(t)
	out := filepath.Join(dir, "witness.txt")
	failRename(t, 1)
	_, err := ExtractFile(context.Background(), bytes.NewReader(data), int64(len(data)), "case/interviews/witness.txt", out, false,
		ReadOptions{Identity: p.bob, Sender: p.alice.Card})
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("err = %v, want EIO", err)
	}
	if got := listDir(t, dir); len(got) != 0 {
		t.Fatalf("left behind: %q", got)
	}
}

// ReadOptions.Accept runs once the preamble is proven and before any
// payload: its error aborts the read with nothing staged or written.
func TestAcceptRefusesBeforePayload(t *testing.T) {
	p := getParties(t)
	data, man, _ := packSample(t, p.bob.Card)
	errRefused := errors.New("refused by the caller")
	var seen *manifest.Preamble
	progressed := false
	opts := ReadOptions{
		Identity: p.bob, Sender: p.alice.Card,
		Accept: func(pre *manifest.Preamble) error {
			seen = pre
			return errRefused
		},
		Proven:   func(*manifest.Preamble, int) { t.Error("Proven called after Accept refused") },
		Progress: func(done, total int64) { progressed = true },
	}
	dir := testtmp.Dir(t)
	target := filepath.Join(dir, "opened")
	_, err := Open(context.Background(), bytes.NewReader(data), target, opts)
	if !errors.Is(err, errRefused) {
		t.Fatalf("Open: err = %v, want the Accept error", err)
	}
	if seen == nil || seen.BundleID != man.BundleID {
		t.Fatalf("Accept saw %+v, want the preamble of bundle %s", seen, man.BundleID)
	}
	if progressed {
		t.Fatal("payload was read after Accept refused")
	}
	if got := listDir(t, dir); len(got) != 0 {
		t.Fatalf("left behind: %q", got)
	}
	if _, err := Verify(context.Background(), bytes.NewReader(data), opts); !errors.Is(err, errRefused) {
		t.Fatalf("Verify: err = %v, want the Accept error", err)
	}
	// Accepting lets the read go on.
	opts.Accept = func(*manifest.Preamble) error { return nil }
	opts.Proven = nil
	if _, err := Open(context.Background(), bytes.NewReader(data), target, opts); err != nil {
		t.Fatal(err)
	}
	if !progressed {
		t.Fatal("no progress reported")
	}
	if _, err := os.Stat(filepath.Join(target, "data", "case", "ledger.csv")); err != nil {
		t.Fatal(err)
	}
}

// lateWriter records writes that arrive after the test marked it closed.
type lateWriter struct {
	closed, late atomic.Bool
}

func (w *lateWriter) Write(p []byte) (int, error) {
	time.Sleep(2 * time.Millisecond) // a slow disk: the compressor runs ahead
	if w.closed.Load() {
		w.late.Store(true)
	}
	return len(p), nil
}

// When Pack fails half-way (here, interrupted), nothing more is written to
// its writer once it has returned: the caller then discards what was
// written (PackFile closes and removes its temporaries), and a late write
// from the compressor's output goroutine crashed the process.
func TestPackNoWriteAfterReturn(t *testing.T) {
	p := getParties(t)
	src := testtmp.Dir(t)
	writeTree(t, src, map[string]string{"case/big.bin": string(randomBytes(4 << 20))})
	plan, err := MakePlan([]string{filepath.Join(src, "case")}, nil, []category.ID{category.Other})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &lateWriter{}
	_, err = Pack(ctx, w, plan, PackOptions{
		Sender: p.alice, Recipients: []*card.Card{p.bob.Card},
		FrameSize: 64 << 10, Concurrency: 4,
		Progress: func(done, total int64) {
			if done >= 1<<20 {
				cancel()
			}
		},
	})
	w.closed.Store(true)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	time.Sleep(50 * time.Millisecond)
	if w.late.Load() {
		t.Fatal("Pack's writer was written to after Pack returned")
	}
}

// ReadOptions.Signed is told the preamble's size once its signature by
// the expected sender is checked, before Proven; never for a stranger's
// bundle or without an expected sender.
func TestSignedHook(t *testing.T) {
	p := getParties(t)
	data, man, _ := packSample(t, p.bob.Card)
	var order []string
	size, files := 0, -1
	opts := ReadOptions{
		Identity: p.bob, Sender: p.alice.Card,
		Signed: func(n int) { order, size = append(order, "signed"), n },
		Proven: func(_ *manifest.Preamble, n int) { order, files = append(order, "proven"), n },
	}
	// The preamble's size, from the list inspect holds.
	res, err := Inspect(context.Background(), bytes.NewReader(data), ReadOptions{Identity: p.bob, Sender: p.alice.Card})
	if err != nil {
		t.Fatal(err)
	}
	want, err := res.Preamble.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for name, read := range map[string]func(context.Context, io.Reader, ReadOptions) (*Result, error){"Verify": Verify, "Inspect": Inspect} {
		order, size, files = nil, 0, -1
		if _, err := read(context.Background(), bytes.NewReader(data), opts); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(order, []string{"signed", "proven"}) || size != len(want) || files != len(man.Files) {
			t.Fatalf("%s: calls %q with size %d and %d files, want signed (%d bytes) then proven (%d files)", name, order, size, files, len(want), len(man.Files))
		}
	}
	order = nil
	opts.Sender = p.mallory.Card
	if _, err := Verify(context.Background(), bytes.NewReader(data), opts); !errors.Is(err, ErrWrongSender) {
		t.Fatalf("err = %v, want ErrWrongSender", err)
	}
	opts.Sender = nil
	if _, err := Inspect(context.Background(), bytes.NewReader(data), opts); err != nil {
		t.Fatal(err)
	}
	if len(order) != 1 || order[0] != "proven" {
		t.Fatalf("calls %q for a stranger and without a sender, want only Inspect's proven", order)
	}
}

// The staging writer works in its own goroutine: an error there (here a
// folder where the file should be created) reaches the reader at its next
// call or at commit, later files are not written, and abort leaves
// nothing behind.
func TestStagingWriterError(t *testing.T) {
	dir := testtmp.Dir(t)
	staging := filepath.Join(dir, "staging")
	if err := os.MkdirAll(filepath.Join(staging, "data", "b.txt"), 0o700); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(staging)
	if err != nil {
		t.Fatal(err)
	}
	s := newStagingSink(root, staging, filepath.Join(dir, "target"), "target")
	var firstErr error
	for _, name := range []string{"a.txt", "b.txt", "c.txt", "d.txt"} {
		f := &manifest.File{Path: name, Size: 3, MTime: manifest.TimeOf(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))}
		w, err := s.create(f)
		if err == nil {
			_, err = w.Write([]byte("abc"))
		}
		if err == nil {
			err = s.closeFile(f)
		}
		if err != nil {
			firstErr = err
			break
		}
	}
	if err := s.finish(); firstErr == nil {
		firstErr = err
	}
	if firstErr == nil || !strings.HasPrefix(firstErr.Error(), "open: create b.txt: ") {
		t.Fatalf("got %v, want the error creating b.txt", firstErr)
	}
	for _, later := range []string{"c.txt", "d.txt"} {
		if _, err := os.Lstat(filepath.Join(staging, "data", later)); err == nil {
			t.Errorf("%s was written after the error", later)
		}
	}
	s.abort()
	if got := listDir(t, dir); len(got) != 0 {
		t.Fatalf("left behind: %q", got)
	}
}

// A plan that a receiver would refuse (here one made by hand, with a path
// that leaves the bag) is caught by pack's own check of the preamble:
// nothing is published and no temporary is left.
func TestPackRefusesWhatAReceiverWould(t *testing.T) {
	p := getParties(t)
	dir := testtmp.Dir(t)
	src := filepath.Join(dir, "src.txt")
	if err := os.WriteFile(src, []byte("evidence"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := &Plan{TotalSize: 8, Files: []Input{NewInput(src, &manifest.File{
		Path: "../escape.txt", Size: 8, Mode: manifest.ModeRegular, MTime: manifest.TimeOf(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)),
		Categories: category.MustSet(category.Other)})}}
	outDir := filepath.Join(dir, "out")
	if err := os.Mkdir(outDir, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := PackFile(context.Background(), filepath.Join(outDir, "b.dossier"), FileOptions{}, plan,
		PackOptions{Sender: p.alice, Recipients: []*card.Card{p.bob.Card}})
	if !errors.Is(err, manifest.ErrInvalid) {
		t.Fatalf("got %v, want the preamble refused as invalid", err)
	}
	if got := listDir(t, outDir); len(got) != 0 {
		t.Fatalf("left behind: %q", got)
	}
}
