package bundle

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/identity"
	"github.com/dossier-evidence/dossier/pkg/internal/canon"
	"github.com/dossier-evidence/dossier/pkg/internal/safepath"
	"github.com/dossier-evidence/dossier/pkg/internal/zframe"
	"github.com/dossier-evidence/dossier/pkg/manifest"
)

// ---- the age header scan ----

func ageHeaderSeeds(t testing.TB) [][]byte {
	valid, err := os.ReadFile(filepath.Join(vectorDir, "valid.dossier"))
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{
		valid,
		[]byte(ageIntro + "-> X25519 abc\nYWJj\n--- mac\npayload"),
		[]byte(ageIntro + "-> x\n\n-> y a b\n\n--- \n"),
		[]byte(ageIntro + strings.Repeat("-> x\n\n", maxStanzas+1) + "--- m\n"),
		[]byte(ageIntro + "-> " + strings.Repeat("a", maxHeaderLine) + "\n--- m\n"),
		[]byte(ageIntro + "-> x\n"),
		[]byte("--- " + ageIntro),
		{},
	}
}

// fuzzAgeHeaderBody: readAgeHeader never panics, fails only with
// ErrIntegrity, and what it returns is exactly the age header at the start
// of the input: the version line, then lines none of which is a MAC line,
// then the MAC line, within the caps.
func fuzzAgeHeaderBody(t *testing.T, data []byte) bool {
	hdr, err := readAgeHeader(bufio.NewReaderSize(bytes.NewReader(data), 64<<10))
	if err != nil {
		if !errors.Is(err, ErrIntegrity) {
			t.Fatalf("error %v is not an integrity failure", err)
		}
		return false
	}
	if !bytes.HasPrefix(data, hdr) || !bytes.HasPrefix(hdr, []byte(ageIntro)) || len(hdr) > maxHeaderSize {
		t.Fatalf("header %q is not a capped prefix of the input", hdr)
	}
	lines := strings.SplitAfter(string(hdr[len(ageIntro):]), "\n")
	if lines[len(lines)-1] != "" {
		t.Fatalf("header %q does not end with a newline", hdr)
	}
	lines = lines[:len(lines)-1]
	stanzas := 0
	for i, l := range lines {
		if len(l) > maxHeaderLine {
			t.Fatalf("line %d of %d bytes accepted", i, len(l))
		}
		if strings.HasPrefix(l, stanzaLinePrefx) {
			stanzas++
		}
		if strings.HasPrefix(l, macLinePrefix) != (i == len(lines)-1) {
			t.Fatalf("the MAC line is not the last line of %q", hdr)
		}
	}
	if stanzas > maxStanzas {
		t.Fatalf("%d stanzas accepted", stanzas)
	}
	return true
}

func FuzzAgeHeader(f *testing.F) {
	for _, s := range ageHeaderSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzAgeHeaderBody(t, data) })
}

// ---- the tar entry policy ----

// FuzzCheckEntry: a payload header that checkEntry accepts for a valid
// signed file entry is exactly a regular file at the signed path with the
// signed size, mode and time, and no owner, link, device or other
// extended field; every refusal is an integrity failure.
func FuzzCheckEntry(f *testing.F) {
	f.Add("case/a.txt", byte('0'), int64(5), int64(0o644), 0, 0, "", "", "", int64(0), int64(0), int64(1764000000), "", "", "case/a.txt", int64(5), false, int64(1764000000))
	f.Add("case/a.txt", byte('2'), int64(0), int64(0o777), 0, 0, "", "", "/etc/passwd", int64(0), int64(0), int64(1764000000), "", "", "case/a.txt", int64(5), false, int64(1764000000))
	f.Add("../a.txt", byte('0'), int64(5), int64(0o755), 1000, 0, "root", "", "", int64(1), int64(3), int64(1), "path", "../a.txt", "case/a.txt", int64(5), true, int64(1))
	f.Add("case/b", byte('0'), int64(0), int64(0o755), 0, 0, "", "", "", int64(0), int64(0), int64(0), "mtime", "0", "case/b", int64(0), true, int64(0))
	f.Fuzz(func(t *testing.T, name string, typeflag byte, size, mode int64, uid, gid int, uname, gname, linkname string,
		devmajor, devminor, mtime int64, paxKey, paxValue, fPath string, fSize int64, fExec bool, fMTime int64) {
		mt := time.Unix(fMTime, 0).UTC()
		file := &manifest.File{Path: fPath, Size: fSize, Mode: map[bool]manifest.Mode{false: manifest.ModeRegular, true: manifest.ModeExecutable}[fExec], MTime: manifest.TimeOf(mt)}
		if safepath.Check(fPath) != nil || fSize < 0 || mt.Year() < 1 || mt.Year() > 9999 {
			return // the preamble would have been refused
		}
		th := &tar.Header{Name: name, Typeflag: typeflag, Size: size, Mode: mode, Uid: uid, Gid: gid, Uname: uname, Gname: gname,
			Linkname: linkname, Devmajor: devmajor, Devminor: devminor, ModTime: time.Unix(mtime, 0)}
		if paxKey != "" {
			th.PAXRecords = map[string]string{paxKey: paxValue}
		}
		err := checkEntry(th, file)
		if err != nil {
			if !errors.Is(err, ErrIntegrity) {
				t.Fatalf("refusal %v is not an integrity failure", err)
			}
			return
		}
		wantMode := int64(file.Mode)
		switch {
		case th.Name != file.Path, th.Typeflag != tar.TypeReg, th.Size != file.Size, th.Mode != wantMode,
			!th.ModTime.Equal(mt), th.Uid != 0, th.Gid != 0, th.Uname != "", th.Gname != "",
			th.Linkname != "", th.Devmajor != 0, th.Devminor != 0,
			paxKey != "" && paxKey != "path" && paxKey != "size" && paxKey != "mtime":
			t.Fatalf("accepted %+v for the signed entry %+v", th, file)
		}
	})
}

// ---- the whole read path ----

var (
	fuzzKeysOnce       sync.Once
	fuzzAlice, fuzzBob *identity.Identity
	fuzzKeysErr        error
)

func fuzzKeys(t testing.TB) (alice, bob *identity.Identity) {
	fuzzKeysOnce.Do(func() {
		load := func(name string) *identity.Identity {
			data, err := os.ReadFile(filepath.Join(vectorDir, name+".id"))
			if err != nil {
				fuzzKeysErr = err
				return nil
			}
			id, err := identity.Parse(data, nil)
			if err != nil {
				fuzzKeysErr = err
			}
			return id
		}
		fuzzAlice, fuzzBob = load("alice"), load("bob")
	})
	if fuzzKeysErr != nil {
		t.Fatal(fuzzKeysErr)
	}
	return fuzzAlice, fuzzBob
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// fuzzBundle makes a bundle from alice to bob whose archive carries
// payload, as is, between the signed preamble and the signed manifest. The
// preamble and manifest list whatever archive/tar reads from payload (up
// to 32 entries, any type, any name), with their hashes and offsets, so
// the sender's signatures are valid whatever the payload: the strongest
// attacker, an authenticated but hostile sender.
func fuzzBundle(t testing.TB, payload []byte) []byte {
	alice, bob := fuzzKeys(t)
	created := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

	files := []manifest.File{} // a format-2 manifest lists no files as [], never null
	var rel []int64
	var total int64
	cr := &countingReader{r: bytes.NewReader(payload)}
	tr := tar.NewReader(cr)
	for len(files) < 32 {
		th, err := tr.Next()
		if err != nil {
			break
		}
		off := cr.n
		h := sha256.New()
		_, err = io.Copy(h, io.LimitReader(tr, 1<<20))
		// A mode a Mode cannot hold is given one no preamble accepts,
		// as its octal text was before Mode was a number.
		mode := manifest.Mode(th.Mode)
		if int64(mode) != th.Mode {
			mode = 0o177777
		}
		files = append(files, manifest.File{
			Path: th.Name, Size: th.Size, Mode: mode,
			MTime: manifest.TimeOf(th.ModTime), Categories: category.MustSet(category.Other),
			SHA256: manifest.SHA256Sum(h.Sum(nil)),
		})
		rel = append(rel, off)
		total += th.Size
		if err != nil {
			break
		}
	}

	r, err := bob.Card.Recipient()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	capture := &headerCapture{w: &out, keep: true}
	aw, err := age.Encrypt(capture, r)
	if err != nil {
		t.Fatal(err)
	}
	capture.keep = false
	hdrHash := headerHash(capture.buf.Bytes()[:capture.buf.Len()-16])

	preFiles := make([]manifest.File, len(files))
	for i, f := range files {
		f.SHA256 = manifest.SHA256Sum{}
		preFiles[i] = f
	}
	parties := []manifest.Party{manifest.PartyOf(bob.Card)}
	pre := &manifest.Preamble{Type: manifest.PreambleType, Version: manifest.FormatVersion, BundleID: strings.Repeat("0f", 16),
		Created: created.Format(time.RFC3339), Sender: alice.Card, Recipients: parties,
		AgeHeaderSHA256: hex.EncodeToString(hdrHash[:]), TotalSize: total, Files: preFiles}
	preBytes, err := pre.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	preSig, err := manifest.SignPreamble(alice.Key, pre.Version, preBytes)
	if err != nil {
		t.Fatal(err)
	}

	zw, err := zframe.NewWriter(aw, zframe.WriterOptions{FrameSize: 16 << 10, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(zw)
	meta := func(name string, data []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: created, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	meta(PreambleName, preBytes)
	meta(PreambleSigName, preSig)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tw.Flush())
	must(zw.Flush())
	start := zw.Offset()
	padded := append(bytes.Clone(payload), make([]byte, (512-len(payload)%512)%512)...)
	_, err = zw.Write(padded)
	must(err)
	must(zw.Flush())
	manOffset := zw.Offset()
	for i := range files {
		files[i].Offset = start + rel[i]
	}
	preHash := sha256.Sum256(preBytes)
	man := &manifest.Manifest{Type: manifest.ManifestType, Version: manifest.FormatVersion, BundleID: pre.BundleID,
		Created: pre.Created, Sender: manifest.PartyOf(alice.Card), Recipients: parties,
		AgeHeaderSHA256: pre.AgeHeaderSHA256, PreambleSHA256: hex.EncodeToString(preHash[:]), TotalSize: total, Files: files}
	manBytes, err := man.Marshal()
	must(err)
	manSig, err := manifest.SignManifest(alice.Key, manifest.FormatVersion, manBytes)
	must(err)
	meta(ManifestName, manBytes)
	meta(ManifestSigName, manSig)
	must(tw.Close())
	trailerBytes, err := canon.Marshal(&trailer{Type: trailerType, Version: manifest.FormatVersion, ManifestOffset: manOffset})
	must(err)
	must(zw.Close(trailerBytes))
	must(aw.Close())
	return out.Bytes()
}

// fuzzTar writes a tar stream with tar.Writer; raw bytes are appended as
// they are.
func fuzzTar(t testing.TB, entries ...any) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		switch e := e.(type) {
		case *tar.Header:
			if err := tw.WriteHeader(e); err != nil {
				t.Fatal(err)
			}
		case string:
			if _, err := tw.Write([]byte(e)); err != nil {
				t.Fatal(err)
			}
		case []byte:
			if err := tw.Flush(); err != nil {
				t.Fatal(err)
			}
			b.Write(e)
		}
	}
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func openSeeds(t testing.TB) [][]byte {
	mt := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	reg := func(name, data string) *tar.Header {
		return &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: mt, Typeflag: tar.TypeReg}
	}
	other := func(name string, typ byte, link string) *tar.Header {
		return &tar.Header{Name: name, Mode: 0o644, ModTime: mt, Typeflag: typ, Linkname: link}
	}
	return [][]byte{
		fuzzTar(t, reg("case/a.txt", "alpha"), "alpha", reg("case/sub/b.txt", "bravo!"), "bravo!"),
		fuzzTar(t),
		fuzzTar(t, reg("../escape.txt", "x"), "x"),
		fuzzTar(t, reg("/etc/x", "x"), "x"),
		fuzzTar(t, other("case/link", tar.TypeSymlink, "/etc"), reg("case/link/passwd", "x"), "x"),
		fuzzTar(t, other("case/hard", tar.TypeLink, "../../etc/shadow")),
		fuzzTar(t, other("case/", tar.TypeDir, ""), reg("case/a.txt", "a"), "a"),
		fuzzTar(t, other("case/fifo", tar.TypeFifo, ""), &tar.Header{Name: "case/dev", Mode: 0o644, ModTime: mt, Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3}),
		fuzzTar(t, reg("case/a.txt", "a"), "a", reg("case/a.txt", "b"), "b"),
		fuzzTar(t, reg("case/A.txt", "a"), "a", reg("case/a.txt", "b"), "b"),
		fuzzTar(t, reg("case/a", "a"), "a", reg("case/a/b", "b"), "b"),
		fuzzTar(t, &tar.Header{Name: "case/x.txt", Mode: 0o644, Size: 1, ModTime: mt, Typeflag: tar.TypeReg,
			PAXRecords: map[string]string{"SCHILY.xattr.user.x": "1"}}, "x"),
		fuzzTar(t, &tar.Header{Name: "case/" + strings.Repeat("n", 150) + ".txt", Mode: 0o755, Size: 1, ModTime: mt, Typeflag: tar.TypeReg}, "n"),
		fuzzTar(t, reg("case/a.txt", "a"), "a", []byte(strings.Repeat("\x00", 1024)), reg("case/b.txt", "b"), "b"),
		[]byte("not a tar archive at all"),
	}
}

// fuzzOpenBody opens a bundle carrying payload and checks what must hold
// whatever a validly signed bundle carries: nothing is written outside the
// output folder, nothing is published unless Open succeeds, a failure is
// an integrity failure, Verify agrees with Open, and what is published
// re-verifies, file by file through Extract too. It reports whether the
// bundle opened.
func fuzzOpenBody(t *testing.T, payload []byte) bool {
	alice, bob := fuzzKeys(t)
	data := fuzzBundle(t, payload)
	res, out, err := openContained(t, data, bob, alice.Card)
	_, verr := Verify(context.Background(), bytes.NewReader(data), ReadOptions{Identity: bob, Sender: alice.Card})
	if (err == nil) != (verr == nil) {
		t.Fatalf("Open and Verify disagree: %v / %v", err, verr)
	}
	if err != nil {
		if !errors.Is(err, ErrIntegrity) || errors.Is(err, ErrWrongSender) || errors.Is(err, ErrNotAddressed) {
			t.Fatalf("refusal %v is not a plain integrity failure", err)
		}
		return false
	}
	bag, err := verifyBagChecked(t, out, alice.Card)
	if err != nil {
		t.Fatalf("published folder does not re-verify: %v", err)
	}
	files := listedFiles(t, res, out)
	if n := payloadFiles(t, out); n != len(files) || bag.FileCount != n {
		t.Fatalf("published %d files, the manifest lists %d, VerifyBag counted %d", n, len(files), bag.FileCount)
	}
	for _, f := range files {
		st, err := os.Lstat(filepath.Join(out, "data", filepath.FromSlash(f.Path)))
		if err != nil || !st.Mode().IsRegular() || st.Size() != f.Size {
			t.Fatalf("%s is not published as a regular file of %d bytes: %v %v", f.Path, f.Size, st, err)
		}
		testtmp.WantPermInherited(t, filepath.Join(out, "data", filepath.FromSlash(f.Path)), 0o600)
		// Extract, which reads only the manifest and the file's frames,
		// agrees with Open on every file of a bundle that opens.
		published, err := os.ReadFile(filepath.Join(out, "data", filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if _, err := Extract(context.Background(), bytes.NewReader(data), int64(len(data)), f.Path, &got,
			ReadOptions{Identity: bob, Sender: alice.Card}); err != nil || !bytes.Equal(got.Bytes(), published) {
			t.Fatalf("extract %s: %v (or content differs from what open published)", f.Path, err)
		}
	}
	return true
}

// FuzzOpen feeds arbitrary archives, signed by the expected sender, through
// Open: it never writes outside its output folder and never publishes a
// bundle that does not verify.
func FuzzOpen(f *testing.F) {
	for _, s := range openSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		if len(payload) > 1<<20 {
			return
		}
		fuzzOpenBody(t, payload)
	})
}

func TestFuzzSeeds(t *testing.T) {
	accepted := 0
	seeds := ageHeaderSeeds(t)
	for _, s := range seeds {
		if fuzzAgeHeaderBody(t, s) {
			accepted++
		}
	}
	if len(seeds) < 5 || accepted != 3 {
		t.Errorf("%d of %d age header seeds accepted, want 3", accepted, len(seeds))
	}
	opened := 0
	seeds = openSeeds(t)
	for i, s := range seeds {
		t.Run(fmt.Sprint("open", i), func(t *testing.T) {
			if fuzzOpenBody(t, s) {
				opened++
			}
		})
	}
	// The three honest archives (two files; none; a long name with mode
	// 0755) open, every hostile one is refused.
	if len(seeds) < 10 || opened != 3 {
		t.Errorf("%d of %d archive seeds opened, want 3", opened, len(seeds))
	}
}
