package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/internal/zframe"
	"github.com/dossier-evidence/dossier/pkg/manifest"
	"github.com/dossier-evidence/dossier/pkg/sign"
)

// craft builds an age file to recipient whose plaintext is zstd frames of
// a tar stream written by entries: a way to make hostile bundles.
func craft(t testing.TB, recipient *card.Card, entries func(tw *tar.Writer)) []byte {
	t.Helper()
	return rawBundle(t, recipient, 0, func(zw *zframe.Writer) []byte {
		tw := tar.NewWriter(zw)
		entries(tw)
		tw.Close()
		return nil
	})
}

func addEntry(t testing.TB, tw *tar.Writer, name string, data []byte) {
	t.Helper()
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(data); err != nil {
		t.Fatal(err)
	}
}

// TestStrangerCannotMakeUsParse: a bundle from someone else with a huge,
// highly compressible preamble is refused after one signature check, not
// after parsing a million entries.
func TestStrangerCannotMakeUsParse(t *testing.T) {
	p := getParties(t)
	// 32 MiB of preamble-shaped JSON that compresses to almost nothing.
	huge := []byte(`{"type":"dossier-preamble","files":[` + strings.Repeat(`{"path":"a/b/c/d/e/f/g/h","size":1,"mode":"0644","mtime":"2026-01-01T00:00:00Z","categories":["other"]},`, 300000) + `{}]}` + "\n")
	sig, err := manifest.Sign(p.mallory.Key, sign.ContextPreamble, huge)
	if err != nil {
		t.Fatal(err)
	}
	data := craft(t, p.bob.Card, func(tw *tar.Writer) {
		addEntry(t, tw, PreambleName, huge)
		addEntry(t, tw, PreambleSigName, sig)
	})
	if len(data) > len(huge)/20 {
		t.Fatalf("test bundle is %d bytes; expected strong compression", len(data))
	}
	start := time.Now()
	_, err = Verify(context.Background(), bytes.NewReader(data), ReadOptions{Identity: p.bob, Sender: p.alice.Card})
	if !errors.Is(err, ErrWrongSender) {
		t.Fatalf("err = %v, want ErrWrongSender", err)
	}
	t.Logf("refused in %v", time.Since(start))
	// Without --from the preamble gets far less room, and is refused
	// unread; as a bundle of many files, not as damage (found by an
	// audit: a genuine bundle of 200,000 files gave exit 3).
	_, err = Inspect(context.Background(), bytes.NewReader(data), ReadOptions{Identity: p.bob})
	if !errors.Is(err, ErrNeedsSender) || errors.Is(err, ErrIntegrity) || !strings.Contains(err.Error(), "--from CARD") {
		t.Fatalf("inspect without sender: %v, want the size cap", err)
	}
}

// TestUnsignedTarFieldsAreChecked: owner, link and device fields that the
// signature does not cover must hold the values pack writes.
func TestUnsignedTarFieldsAreChecked(t *testing.T) {
	mt := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := &manifest.File{Path: "a.txt", Size: 1, Mode: manifest.ModeRegular, MTime: manifest.TimeOf(mt)}
	good := tar.Header{Name: "a.txt", Size: 1, Mode: 0o644, ModTime: mt, Typeflag: tar.TypeReg}
	if err := checkEntry(&good, f); err != nil {
		t.Fatalf("good header refused: %v", err)
	}
	for name, edit := range map[string]func(h *tar.Header){
		"uid":        func(h *tar.Header) { h.Uid = 1000 },
		"gid":        func(h *tar.Header) { h.Gid = 1000 },
		"uname":      func(h *tar.Header) { h.Uname = "root" },
		"gname":      func(h *tar.Header) { h.Gname = "wheel" },
		"linkname":   func(h *tar.Header) { h.Linkname = "/etc/shadow" },
		"devmajor":   func(h *tar.Header) { h.Devmajor = 1 },
		"setuid bit": func(h *tar.Header) { h.Mode = 0o4644 },
		"symlink":    func(h *tar.Header) { h.Typeflag = tar.TypeSymlink },
		"name":       func(h *tar.Header) { h.Name = "../a.txt" },
		"size":       func(h *tar.Header) { h.Size = 2 },
		"mtime":      func(h *tar.Header) { h.ModTime = mt.Add(time.Second) },
		"pax xattr":  func(h *tar.Header) { h.PAXRecords = map[string]string{"SCHILY.xattr.user.x": "1"} },
	} {
		h := good
		edit(&h)
		if err := checkEntry(&h, f); !errors.Is(err, ErrIntegrity) {
			t.Errorf("%s: %v, want ErrIntegrity", name, err)
		}
	}
}

// TestCancelDuringLastFileDoesNotPublish: Ctrl-C while the only (large)
// file is being read must leave nothing behind.
func TestCancelDuringLastFileDoesNotPublish(t *testing.T) {
	p := getParties(t)
	data, _, _ := packFiles(t, map[string]string{"case/big.bin": string(randomBytes(8 << 20))}, 0, p.bob.Card)
	ctx, cancel := context.WithCancel(context.Background())
	out := filepath.Join(testtmp.Dir(t), "out")
	_, err := Open(ctx, bytes.NewReader(data), out, ReadOptions{Identity: p.bob, Sender: p.alice.Card,
		Progress: func(done, total int64) { cancel() }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	assertNothingAt(t, out)
}

func TestWithinFollowsSymlinks(t *testing.T) {
	dir := testtmp.Dir(t)
	os.MkdirAll(filepath.Join(dir, "case"), 0o755)
	testtmp.Symlink(t, filepath.Join(dir, "case"), filepath.Join(dir, "link"))
	in := []string{filepath.Join(dir, "case")}
	for out, want := range map[string]bool{
		filepath.Join(dir, "case", "x.dossier"): true,
		filepath.Join(dir, "link", "x.dossier"): true,
		filepath.Join(dir, "case"):              true,
		filepath.Join(dir, "x.dossier"):         false,
		filepath.Join(dir, "case2", "x"):        false,
	} {
		if got := Within(out, in); got != want {
			t.Errorf("Within(%s) = %v, want %v", out, got, want)
		}
	}
}
