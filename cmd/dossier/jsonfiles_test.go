package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/manifest"
)

// printJSONWithFiles writes, a file at a time, exactly what printJSON
// writes for the same document holding the list: for no file, one, and
// several with text JSON would escape, and with keys before and after
// "files".
func TestPrintJSONWithFiles(t *testing.T) {
	sum := manifest.SHA256Sum{1, 2, 3}
	all := []manifest.File{
		{Path: "a/<b>&c.txt", Size: 3, Mode: manifest.ModeRegular, MTime: 1700000000, Categories: category.MustSet(category.Personal), SHA256: sum, Offset: 1536},
		{Path: "d/\"e\"\n.bin", Size: 0, Mode: manifest.ModeExecutable, MTime: 1700000001, Categories: category.MustSet(category.Other, category.Personal), SHA256: sum, Offset: 2560},
		{Path: "ünï/cødé", Size: 1 << 40, Mode: manifest.ModeRegular, MTime: 0, Categories: category.MustSet(category.Intelligence), SHA256: sum, Offset: 3072},
	}
	for _, n := range []int{0, 1, len(all)} {
		files := all[:n]
		doc := func() map[string]any {
			return map[string]any{"aaa": "<first>", "ok": true, "zzz": []int{1, 2}, "case": map[string]string{"files": ""}}
		}
		var held, streamed bytes.Buffer
		want := doc()
		want["files"] = files
		if err := (&globalOptions{stdout: &held}).printJSON(want); err != nil {
			t.Fatal(err)
		}
		seq := func(yield func(*manifest.File, error) bool) {
			for i := range files {
				if !yield(&files[i], nil) {
					return
				}
			}
		}
		if err := (&globalOptions{stdout: &streamed}).printJSONWithFiles(doc(), seq); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(held.Bytes(), streamed.Bytes()) {
			t.Fatalf("%d files: streamed\n%s\nheld\n%s", n, streamed.Bytes(), held.Bytes())
		}
	}
}

// keptFiles reads an opened bag's manifest as a stream, and says so when
// it cannot.
func TestKeptFiles(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "m.json")
	for f, err := range keptFiles(name) {
		if f != nil || !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("missing manifest: %v, %v", f, err)
		}
	}
	if err := os.WriteFile(name, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := 0
	for f, err := range keptFiles(name) {
		n++
		if f != nil || !errors.Is(err, manifest.ErrInvalid) {
			t.Fatalf("malformed manifest: %v, %v", f, err)
		}
	}
	if n != 1 {
		t.Fatalf("%d yields for a malformed manifest", n)
	}
}

// checkKeptFiles accepts only the manifest open checked, with as many
// files as it listed.
func TestCheckKeptFiles(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "m.json")
	if err := checkKeptFiles(name, [32]byte{}, 0); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing manifest: %v", err)
	}
	doc := []byte("{}\n")
	if err := os.WriteFile(name, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := checkKeptFiles(name, sha256.Sum256(doc), 0); !errors.Is(err, manifest.ErrInvalid) {
		t.Fatalf("malformed manifest: %v", err)
	}

	// A bag open made: its manifest, and nothing else, passes.
	box := sandbox(t, 1000)
	p := func(name string) string { return filepath.Join(box, name) }
	if code := run([]string{"pack", "-q", "-i", p("alice.id"), "-r", p("bob.card"), "-o", p("case.dossier"), "--default-category", "other", p("case")}, nil, io.Discard, io.Discard); code != 0 {
		t.Fatalf("pack: exit %d", code)
	}
	if code := run([]string{"open", "-q", p("case.dossier"), "-i", p("bob.id"), "--from", p("alice.card"), "-o", p("opened")}, nil, io.Discard, io.Discard); code != 0 {
		t.Fatalf("open: exit %d", code)
	}
	kept := p("opened/dossier-manifest.json")
	data, err := os.ReadFile(kept)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if err := checkKeptFiles(kept, sum, 1); err != nil {
		t.Fatalf("the bag's own manifest: %v", err)
	}
	if err := checkKeptFiles(kept, sum, 2); err == nil {
		t.Fatal("accepted with another file count")
	}
	sum[0] ^= 1
	if err := checkKeptFiles(kept, sum, 1); err == nil {
		t.Fatal("accepted with another SHA-256")
	}
}
