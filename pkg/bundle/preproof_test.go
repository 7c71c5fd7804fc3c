package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
	"github.com/dossier-evidence/dossier/pkg/internal/zframe"
	"github.com/dossier-evidence/dossier/pkg/manifest"
	"github.com/dossier-evidence/dossier/pkg/sign"
)

// gnuLongName returns a GNU long-name header ('L') of n bytes of zeros,
// which archive/tar reads and follows within one Next.
func gnuLongName(t testing.TB, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tw.WriteHeader(&tar.Header{Name: "x", Size: int64(n), Typeflag: tar.TypeReg, Format: tar.FormatGNU, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	h := append([]byte(nil), b.Bytes()[:512]...)
	h[156] = 'L'
	copy(h[148:156], "        ")
	sum := 0
	for _, c := range h {
		sum += int(c)
	}
	copy(h[148:], fmt.Sprintf("%06o\x00 ", sum))
	return append(h, make([]byte, (n+511)&^511)...)
}

// rawBundle is an age file to recipient whose plaintext write makes with
// zstd frames of frameSize (0: the default; raw bytes, tar entries); the
// trailer it returns closes the frames. A way to make hostile bundles.
func rawBundle(t testing.TB, recipient *card.Card, frameSize int, write func(zw *zframe.Writer) (trailer []byte)) []byte {
	t.Helper()
	r, err := recipient.Recipient()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	aw, err := age.Encrypt(&buf, r)
	if err != nil {
		t.Fatal(err)
	}
	zw, err := zframe.NewWriter(aw, zframe.WriterOptions{FrameSize: frameSize})
	if err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(write(zw)); err != nil {
		t.Fatal(err)
	}
	if err := aw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A stranger's bundle opening with a chain of tar headers (here 100 MiB
// of GNU long names, a few kilobytes compressed) is cut off once the
// archive has expanded past what a preamble and its signature may hold:
// 64 MiB and 16 KiB with an expected sender, 16 MiB without. The limit
// before was 512 MiB, and the whole chain was read.
func TestPreProofExpansionIsBounded(t *testing.T) {
	p := getParties(t)
	pre := []byte(`{"type":"dossier-preamble"}` + "\n")
	sig, err := manifest.Sign(p.mallory.Key, sign.ContextPreamble, pre)
	if err != nil {
		t.Fatal(err)
	}
	data := rawBundle(t, p.bob.Card, 8<<20, func(zw *zframe.Writer) []byte {
		one := gnuLongName(t, 1<<20-512)
		for range 100 {
			if _, err := zw.Write(one); err != nil {
				t.Fatal(err)
			}
		}
		tw := tar.NewWriter(zw)
		addEntry(t, tw, PreambleName, pre)
		addEntry(t, tw, PreambleSigName, sig)
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		return nil
	})
	for _, opts := range []ReadOptions{
		{Identity: p.bob, Sender: p.alice.Card},
		{Identity: p.bob}, // inspect
	} {
		readBundle := Verify
		if opts.Sender == nil {
			readBundle = Inspect
		}
		_, err := readBundle(context.Background(), bytes.NewReader(data), opts)
		if err == nil || !strings.Contains(err.Error(), errExpansion.Error()) {
			t.Errorf("sender %v: err = %v, want the archive cut off as too large", opts.Sender != nil, err)
		}
	}
}

// A bundle that --from's sender did not sign names who did, but only if
// that sender's signature verifies: a preamble naming Alice and signed by
// Mallory must not be reported as signed by Alice.
func TestWrongSenderNamedOnlyIfTheirSignatureHolds(t *testing.T) {
	p := getParties(t)
	data, _, _ := packFiles(t, map[string]string{"case/a.txt": "hello"}, 0, p.bob.Card)
	_, err := Verify(context.Background(), bytes.NewReader(data), ReadOptions{Identity: p.bob, Sender: p.carol.Card})
	if err == nil || !strings.Contains(err.Error(), "bundle was signed by "+quoteLabel(p.alice.Card)) {
		t.Errorf("Alice's bundle, --from Carol: err = %v, want it named as Alice's", err)
	}

	plain, err := age.Decrypt(bytes.NewReader(data), p.bob.Age)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zframe.NewReader(plain, zframe.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	if _, err := tr.Next(); err != nil {
		t.Fatal(err)
	}
	pre, err := io.ReadAll(tr)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := manifest.Sign(p.mallory.Key, sign.ContextPreamble, pre)
	if err != nil {
		t.Fatal(err)
	}
	forged := craft(t, p.bob.Card, func(tw *tar.Writer) {
		addEntry(t, tw, PreambleName, pre)
		addEntry(t, tw, PreambleSigName, sig)
	})
	_, err = Verify(context.Background(), bytes.NewReader(forged), ReadOptions{Identity: p.bob, Sender: p.carol.Card})
	if !errors.Is(err, ErrWrongSender) || strings.Contains(err.Error(), "Alice") ||
		!strings.Contains(err.Error(), "not signed by "+quoteLabel(p.carol.Card)) {
		t.Errorf("Alice's preamble signed by Mallory, --from Carol: err = %v, want not signed by Carol, naming nobody else", err)
	}
}

// Open without an identity is refused before it makes its staging folder.
func TestOpenWithoutIdentityLeavesNothing(t *testing.T) {
	p := getParties(t)
	dir := testtmp.Dir(t)
	if _, err := Open(context.Background(), strings.NewReader("x"), filepath.Join(dir, "out"), ReadOptions{Sender: p.alice.Card}); err == nil {
		t.Fatal("Open without an identity succeeded")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}

// A stranger's format-2 "manifest" without a file list (128 MiB of zeros,
// a few kilobytes compressed) was all head, and extract held it whole
// before checking its signature. It now holds at most preProofHead of it.
func TestExtractHoldsLittleOfAStrangersManifest(t *testing.T) {
	p := getParties(t)
	sig, err := manifest.Sign(p.mallory.Key, sign.ContextManifest, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	data := strangerManifestBundle(t, 2, func(tw *tar.Writer) {
		addEntry(t, tw, "pad", []byte("x"))
	}, sig)
	extractRefusesCheaply(t, data, "the signature refused", "a stranger's manifest")
}

// A stranger's format-1 bundle declaring a 128 MiB manifest made extract
// hold it whole and hash it twice before finding the signature was not
// the sender's (the format signs the manifest's exact bytes). Extract now
// proves a format-1 bundle's preamble first, which a stranger's fails.
func TestExtractProvesAFormatOnePreambleFirst(t *testing.T) {
	p := getParties(t)
	preBytes := []byte(`{"type":"dossier-preamble","version":1}` + "\n")
	preSig, err := manifest.Sign(p.mallory.Key, sign.ContextPreamble, preBytes)
	if err != nil {
		t.Fatal(err)
	}
	manSig, err := manifest.Sign(p.mallory.Key, sign.ContextManifest, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	data := strangerManifestBundle(t, 1, func(tw *tar.Writer) {
		addEntry(t, tw, PreambleName, preBytes)
		addEntry(t, tw, PreambleSigName, preSig)
	}, manSig)
	extractRefusesCheaply(t, data, "the preamble's signature refused", "a stranger's format-1 bundle")
}

// A signed manifest whose head is longer than preProofHead (1.2 MB of
// handling restrictions) is read a second time once its signature holds,
// and the file extracted; the second reading must hash to the proven
// digest.
func TestExtractRereadsALongSignedHead(t *testing.T) {
	p := getParties(t)
	dir := testtmp.Dir(t)
	writeTree(t, dir, map[string]string{"case/a.txt": "alpha", "case/b.txt": "bravo"})
	plan, err := MakePlan([]string{filepath.Join(dir, "case")}, nil, []category.ID{category.LawEnforcement})
	if err != nil {
		t.Fatal(err)
	}
	c := manifest.Case{Reference: "MLA-2026-077"}
	for i := range 300 {
		c.Restrictions = append(c.Restrictions, fmt.Sprintf("%03d ", i)+strings.Repeat("r", 4000))
	}
	var buf bytes.Buffer
	if _, err := Pack(context.Background(), &buf, plan, PackOptions{Sender: p.alice, Recipients: []*card.Card{p.bob.Card}, Case: c, Now: func() time.Time { return fixedNow }}); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	var out bytes.Buffer
	res, err := Extract(context.Background(), bytes.NewReader(data), int64(len(data)), "case/b.txt", &out, ReadOptions{Identity: p.bob, Sender: p.alice.Card})
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != "bravo" || len(res.Manifest.Case.Restrictions) != 300 {
		t.Errorf("extracted %q with %d restrictions", out.String(), len(res.Manifest.Case.Restrictions))
	}

	// The second reading is held to the digest the signature proved.
	plain, plainSize, err := age.DecryptReaderAt(bytes.NewReader(data), int64(len(data)), p.bob.Age)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := zframe.ReadIndex(plain, plainSize)
	if err != nil {
		t.Fatal(err)
	}
	var tr trailer
	if err := json.Unmarshal(ix.Trailer, &tr); err != nil {
		t.Fatal(err)
	}
	seq, err := ix.NewSeqDecoder(plain, zframe.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Close()
	var wrong manifest.Digest
	if _, _, _, err := rescanManifest(seq, tr.ManifestOffset, ix.DataSize-tr.ManifestOffset, "case/b.txt", &wrong); err == nil || !strings.Contains(err.Error(), "changed while it was read") {
		t.Errorf("another digest: err = %v", err)
	}
}

// failingReaderAt fails every read that overlaps [from, to), as a disk
// that cannot read those sectors does.
type failingReaderAt struct {
	ra       io.ReaderAt
	from, to int64
}

func (f failingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < f.to && off+int64(len(p)) > f.from {
		return 0, &fs.PathError{Op: "read", Path: "stick", Err: syscall.EIO}
	}
	return f.ra.ReadAt(p, off)
}

// A bundle that cannot be read is an I/O error (exit 1), not a bundle
// found altered (exit 3): the source's own error is reported, whichever
// chunk fails. (A failing chunk in the middle was reported as the bundle
// damaged at the document's data.)
func TestExtractReportsReadErrors(t *testing.T) {
	p := getParties(t)
	random := make([]byte, 600<<10)
	rand.Read(random)
	big := string(random)
	data, _, _ := packFiles(t, map[string]string{"case/a.txt": "alpha", "case/b.txt": big, "case/c.txt": "charlie"}, 0, p.bob.Card)
	const chunk = 64<<10 + 16
	n := int64(len(data))
	for _, tt := range []struct {
		name     string
		from, to int64
	}{
		{"the first chunk", 2000, 2001},
		{"the chunk before the last", n - chunk - 100, n - chunk - 99},
	} {
		ra := failingReaderAt{bytes.NewReader(data), tt.from, tt.to}
		_, err := Extract(context.Background(), ra, n, "case/a.txt", io.Discard, ReadOptions{Identity: p.bob, Sender: p.alice.Card})
		t.Logf("%s (%d of %d): %v", tt.name, tt.from, n, err)
		if !errors.Is(err, syscall.EIO) || errors.Is(err, ErrIntegrity) {
			t.Errorf("%s unreadable: err = %v, want the I/O error", tt.name, err)
		}
	}
}

// strangerManifestBundle is a bundle to bob of the given format whose
// archive holds head's entries, then a "manifest" of 128 MiB of zeros (a
// few kilobytes compressed) and the signature file sig.
func strangerManifestBundle(t *testing.T, version int, head func(*tar.Writer), sig []byte) []byte {
	t.Helper()
	return rawBundle(t, getParties(t).bob.Card, 8<<20, func(zw *zframe.Writer) []byte {
		tw := tar.NewWriter(zw)
		head(tw)
		if err := tw.Flush(); err != nil {
			t.Fatal(err)
		}
		off := zw.Offset()
		const size = 128 << 20
		if err := tw.WriteHeader(&tar.Header{Name: ManifestName, Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		zero := make([]byte, 1<<20)
		for range size / len(zero) {
			if _, err := tw.Write(zero); err != nil {
				t.Fatal(err)
			}
		}
		addEntry(t, tw, ManifestSigName, sig)
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		return fmt.Appendf(nil, `{"type":"dossier-index","version":%d,"manifest_offset":%d}`+"\n", version, off)
	})
}

// extractRefusesCheaply extracts from data, a stranger's bundle, as bob
// expecting alice, and requires the wrong-sender refusal (want, in words)
// after at most 48 MiB of allocation for what.
func extractRefusesCheaply(t *testing.T, data []byte, want, what string) {
	t.Helper()
	p := getParties(t)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Extract(context.Background(), bytes.NewReader(data), int64(len(data)), "a", io.Discard, ReadOptions{Identity: p.bob, Sender: p.alice.Card})
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrWrongSender) {
		t.Errorf("err = %v, want %s", err, want)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 48<<20 {
		t.Errorf("extract allocated %d MiB for %s", got>>20, what)
	}
}
