package manifest_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/manifest"
)

// source gives a held list as a FileSource, as a sender that keeps its
// list on disk would, handing out each entry in a copy that is changed
// after the call (it must not be kept).
func source(files []manifest.File) manifest.FileSource {
	return func(yield func(*manifest.File) error) error {
		for i := range files {
			f := files[i]
			if err := yield(&f); err != nil {
				return err
			}
			f = manifest.File{Path: "scribbled"}
		}
		return nil
	}
}

// WriteList gives exactly WriteTo's bytes for the same list, for a
// preamble and a manifest, and an empty list is [].
func TestWriteList(t *testing.T) {
	big := bigManifest(t, 3000)
	pre := validPreamble(t)
	pre.Files = big.Files
	empty := validPreamble(t)
	empty.Files, empty.TotalSize = []manifest.File{}, 0
	for name, p := range map[string]*manifest.Preamble{"valid": validPreamble(t), "big": pre, "empty": empty} {
		var want, got bytes.Buffer
		if _, err := p.WriteTo(&want); err != nil {
			t.Fatal(err)
		}
		head := *p
		head.Files = nil
		n, err := head.WriteList(&got, source(p.Files))
		if err != nil || n != int64(got.Len()) || !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("preamble %s: WriteList wrote %d bytes (%v), not WriteTo's %d", name, n, err, want.Len())
		}
	}
	for name, m := range map[string]*manifest.Manifest{"valid": manifestFor(validPreamble(t), testPreambleHash), "big": big} {
		var want, got bytes.Buffer
		if _, err := m.WriteTo(&want); err != nil {
			t.Fatal(err)
		}
		head := *m
		head.Files = nil
		n, err := head.WriteList(&got, source(m.Files))
		if err != nil || n != int64(got.Len()) || !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("manifest %s: WriteList wrote %d bytes (%v), not WriteTo's %d", name, n, err, want.Len())
		}
	}
	failing := errors.New("the disk went away")
	_, err := validPreamble(t).WriteList(&bytes.Buffer{}, func(func(*manifest.File) error) error { return failing })
	if !errors.Is(err, failing) {
		t.Errorf("a failing source: %v", err)
	}
}

// CheckList accepts what Check accepts and refuses what it refuses, with
// the same errors (one fault at a time: where there are several, the two
// may name different ones first). A collision found by the paths'
// hashes is confirmed on the paths, read again.
func TestCheckList(t *testing.T) {
	big := validPreamble(t)
	big.Files = bigManifest(t, 3000).Files
	big.TotalSize = bigManifest(t, 3000).TotalSize
	for i := range big.Files {
		big.Files[i].SHA256, big.Files[i].Offset = manifest.SHA256Sum{}, 0
	}
	for name, edit := range map[string]func(p *manifest.Preamble){
		"valid":        func(p *manifest.Preamble) {},
		"big":          func(p *manifest.Preamble) { *p = *big },
		"bad total":    func(p *manifest.Preamble) { p.TotalSize++ },
		"negative":     func(p *manifest.Preamble) { p.Files[0].Size = -1 },
		"unsafe path":  func(p *manifest.Preamble) { p.Files[0].Path = "../x" },
		"reserved":     func(p *manifest.Preamble) { p.Files[0].Path = ".dossier/x" },
		"no category":  func(p *manifest.Preamble) { p.Files[0].Categories = 0 },
		"carries hash": func(p *manifest.Preamble) { p.Files[0].Offset = 7 },
		"bad head":     func(p *manifest.Preamble) { p.Type = "other" },
		"collision": func(p *manifest.Preamble) {
			p.Files = append(p.Files, p.Files[0])
			p.Files[len(p.Files)-1].Path = strings.ToUpper(p.Files[0].Path)
			p.TotalSize += p.Files[0].Size
		},
	} {
		p := validPreamble(t)
		p.Files = append([]manifest.File(nil), p.Files...)
		edit(p)
		want := p.Check()
		head := *p
		head.Files = nil
		got := head.CheckList(source(p.Files))
		if (got == nil) != (want == nil) || (name == "valid" || name == "big") != (got == nil) {
			t.Errorf("%s: CheckList = %v, Check = %v", name, got, want)
			continue
		}
		if got != nil && (!errors.Is(got, manifest.ErrInvalid) || got.Error() != want.Error()) {
			t.Errorf("%s: CheckList = %v, Check = %v", name, got, want)
		}
	}
}
