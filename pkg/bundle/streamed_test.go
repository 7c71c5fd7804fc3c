package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/identity"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
	"github.com/dossier-evidence/dossier/pkg/manifest"
)

// liveHeapAtEnd verifies data and returns the live heap, after a
// collection, when the last payload byte has been read: what the read
// holds with every file listed and the manifest still to come.
func liveHeapAtEnd(t *testing.T, data []byte, p *parties) uint64 {
	t.Helper()
	var live uint64
	opts := ReadOptions{Identity: p.bob, Sender: p.alice.Card, Progress: func(done, total int64) {
		if done == total && live == 0 {
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			live = m.HeapAlloc
		}
	}}
	if _, err := Verify(context.Background(), bytes.NewReader(data), opts); err != nil {
		t.Fatal(err)
	}
	if live == 0 {
		t.Fatal("test premise: progress never reached the end")
	}
	return live
}

// A format-3 read keeps some 17 bytes a file where a format-2 read holds
// the preamble's list (an entry of 80 bytes and its path): at 5,000
// files the difference was 535 KB when this was written; the test asks
// for 300 KB.
func TestFormatThreeHoldsNoList(t *testing.T) {
	if testing.Short() {
		t.Skip("packs 5,000 files twice")
	}
	p := getParties(t)
	files := map[string]string{}
	for i := range 5000 {
		files[fmt.Sprintf("case/d%02d/file-%05d.txt", i%50, i)] = "x"
	}
	v2, _, _ := packFilesFormat(t, files, 0, manifest.Version2, p.bob.Card)
	v3, man, _ := packFilesFormat(t, files, 0, manifest.Version3, p.bob.Card)
	if len(man.Files) != 5000 {
		t.Fatalf("test premise: %d files packed", len(man.Files))
	}
	held, streamed := liveHeapAtEnd(t, v2, &p), liveHeapAtEnd(t, v3, &p)
	t.Logf("format 2: %d, format 3: %d", held, streamed)
	if held < streamed+300_000 {
		t.Fatalf("live heap at the end of the payload: %d bytes in format 2, %d in format 3; want format 3 to hold no list", held, streamed)
	}
}

// The signed manifest open keeps in the bag while reading a format-3
// bundle is read again for the bag's payload manifest; if it changed
// before that (someone who can write in the staging folder), open fails
// as an integrity failure and publishes nothing, whether the change
// keeps the file list's form or not (found by review: it was not
// compared with what was checked).
func TestOpenRefusesAChangedKeptManifest(t *testing.T) {
	p := getParties(t)
	data, _ := packSampleFormat(t, manifest.Version3, p.bob.Card)
	// One hex digit of the first SHA-256: still a valid manifest.
	sameForm := func(b []byte) []byte {
		i := bytes.Index(b, []byte(`"sha256":"`)) + len(`"sha256":"`)
		b = bytes.Clone(b)
		if b[i] == '0' {
			b[i] = '1'
		} else {
			b[i] = '0'
		}
		return b
	}
	for name, edit := range map[string]func([]byte) []byte{
		"same form": sameForm,
		"truncated": func(b []byte) []byte { return b[:len(b)/2] },
		"appended":  func(b []byte) []byte { return append(b, ' ') },
		"replaced":  sameForm,
	} {
		t.Run(name, func(t *testing.T) {
			if name == "replaced" && runtime.GOOS == "windows" {
				t.Skip("Windows does not let a file be renamed over one that is open")
			}
			beforeTagsHook = func(staging string) {
				part := filepath.Join(staging, BagManifestName)
				b, err := os.ReadFile(part)
				if err != nil {
					t.Error(err)
					return
				}
				if name == "replaced" {
					// A changed copy renamed over it: the passes still
					// read the one checked, open since it was written
					// (found by review: this was published, exit 0).
					other := part + ".new"
					if err := os.WriteFile(other, edit(b), 0o600); err != nil {
						t.Error(err)
					}
					if err := os.Rename(other, part); err != nil {
						t.Error(err)
					}
					return
				}
				if err := os.WriteFile(part, edit(b), 0o600); err != nil {
					t.Error(err)
				}
			}
			t.Cleanup(func() { beforeTagsHook = nil })
			out := filepath.Join(testtmp.Dir(t), "opened")
			_, err := Open(context.Background(), bytes.NewReader(data), out, ReadOptions{Identity: p.bob, Sender: p.alice.Card})
			if !errors.Is(err, ErrIntegrity) {
				t.Fatalf("open with its kept manifest changed: %v, want an integrity error", err)
			}
			assertNothingAt(t, out)
		})
	}
}

// A stranger's format-3 preamble is parsed before its signature is
// checked, so what the parse keeps must be bounded whatever it lists:
// here 60,000 paths of 64 components, each in new folders (3.8 million
// of them), which made a reader keep some 600 MB before the folders were
// limited (found by review; 278 MiB allocated here, 78 with the limit).
// It is refused as a stranger's.
func TestStrangerDeepFoldersAreBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 14 MB preamble")
	}
	p := getParties(t)
	pre := &manifest.Preamble{Type: manifest.PreambleType, Version: manifest.Version3, BundleID: strings.Repeat("ab", 16),
		Created: "2026-11-27T00:00:00Z", Sender: p.alice.Card, Recipients: []manifest.Party{manifest.PartyOf(p.bob.Card)},
		AgeHeaderSHA256: strings.Repeat("00", 32), Files: []manifest.File{}}
	deep := strings.Repeat("a/", 62) + "f"
	for i := range 60_000 {
		pre.Files = append(pre.Files, manifest.File{Path: fmt.Sprintf("u%05d/%s", i, deep), Size: 1, Mode: manifest.ModeRegular,
			Categories: category.MustSet(category.Other)})
		pre.TotalSize++
	}
	preBytes, err := pre.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	pre = nil
	bundleSignedBy := func(signer *identity.Identity) []byte {
		sig, err := manifest.SignPreamble(signer.Key, manifest.Version3, preBytes)
		if err != nil {
			t.Fatal(err)
		}
		return craft(t, p.bob.Card, func(tw *tar.Writer) {
			addEntry(t, tw, PreambleName, preBytes)
			addEntry(t, tw, PreambleSigName, sig)
		})
	}
	data, hers := bundleSignedBy(p.mallory), bundleSignedBy(p.alice)
	preBytes = nil
	// The sender's own is refused as invalid: pack refuses to make one.
	_, err = Verify(context.Background(), bytes.NewReader(hers), ReadOptions{Identity: p.bob, Sender: p.alice.Card})
	if !errors.Is(err, ErrIntegrity) || errors.Is(err, ErrWrongSender) || !strings.Contains(err.Error(), "folders") {
		t.Fatalf("alice's own: %v, want an integrity failure naming the folders", err)
	}
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	_, err = Verify(context.Background(), bytes.NewReader(data), ReadOptions{Identity: p.bob, Sender: p.alice.Card})
	runtime.ReadMemStats(&m1)
	if !errors.Is(err, ErrWrongSender) {
		t.Fatalf("err = %v, want ErrWrongSender", err)
	}
	alloc := m1.TotalAlloc - m0.TotalAlloc
	t.Logf("allocated %d MiB", alloc>>20)
	if alloc > 150<<20 {
		t.Fatalf("a stranger's preamble made the reader allocate %d MiB", alloc>>20)
	}
}
