package manifest_test

import (
	"bytes"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"

	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/manifest"
	"github.com/dossier-evidence/dossier/pkg/sign"
)

const testPreambleHash = "1111111111111111111111111111111111111111111111111111111111111111"

// bigManifest is a valid manifest of n files, enough for its list to span
// several of Match's 64 KiB batches.
func bigManifest(t testing.TB, n int) *manifest.Manifest {
	p := validPreamble(t)
	p.Files, p.TotalSize = nil, 0
	for i := range n {
		p.Files = append(p.Files, manifest.File{Path: fmt.Sprintf("folder/file %06d.txt", i), Size: int64(i), Mode: manifest.ModeRegular,
			MTime: 1746093600, Categories: category.MustSet(category.Personal)})
		p.TotalSize += int64(i)
	}
	return manifestFor(p, testPreambleHash)
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// Size and WriteTo give exactly Marshal's bytes, for an empty, a nil and
// a long list.
func TestSizeAndWriteTo(t *testing.T) {
	empty := manifestFor(validPreamble(t), testPreambleHash)
	empty.Files, empty.TotalSize = []manifest.File{}, 0
	null := manifestFor(validPreamble(t), testPreambleHash)
	null.Files, null.TotalSize = nil, 0
	for name, m := range map[string]*manifest.Manifest{
		"valid": manifestFor(validPreamble(t), testPreambleHash), "empty": empty, "nil": null, "big": bigManifest(t, 3000),
	} {
		want := marshalM(t, m)
		size, err := m.Size()
		if err != nil || size != int64(len(want)) {
			t.Errorf("%s: Size = %d, %v; want %d", name, size, err, len(want))
		}
		var got bytes.Buffer
		n, err := m.WriteTo(&got)
		if err != nil || n != int64(len(want)) || !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s: WriteTo wrote %d bytes (%v), not the canonical encoding", name, n, err)
		}
	}
}

// A preamble's WriteTo gives exactly Marshal's bytes, for an empty, a nil
// and a long list, and leaves out hashes and offsets as Marshal does.
func TestPreambleWriteTo(t *testing.T) {
	empty := validPreamble(t)
	empty.Files = []manifest.File{}
	null := validPreamble(t)
	null.Files = nil
	big := validPreamble(t)
	big.Files = bigManifest(t, 3000).Files // with hashes and offsets
	for name, p := range map[string]*manifest.Preamble{
		"valid": validPreamble(t), "empty": empty, "nil": null, "big": big,
	} {
		want, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		n, err := p.WriteTo(&got)
		if err != nil || n != int64(len(want)) || !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s: WriteTo wrote %d bytes (%v), not Marshal's %d", name, n, err, len(want))
		}
		if name == "big" && bytes.Contains(want, []byte(`"sha256"`)) {
			t.Errorf("a preamble's encoding carries a hash")
		}
	}
}

// Match accepts exactly the manifest's encoding, however the reader
// splits it.
func TestMatchAccepts(t *testing.T) {
	for _, m := range []*manifest.Manifest{manifestFor(validPreamble(t), testPreambleHash), bigManifest(t, 3000)} {
		data := marshalM(t, m)
		for name, r := range map[string]io.Reader{
			"whole":    bytes.NewReader(data),
			"one byte": iotest.OneByteReader(bytes.NewReader(data)),
			"half":     iotest.HalfReader(bytes.NewReader(data)),
		} {
			if err := m.Match(r); err != nil {
				t.Errorf("%d files, %s: %v", len(m.Files), name, err)
			}
		}
	}
}

// Match names the file and the field of the first difference, and has
// read everything the reader holds by the time it says so.
func TestMatchNamesTheDifference(t *testing.T) {
	m := bigManifest(t, 3000)
	data := marshalM(t, m)
	edit := func(f func(*manifest.Manifest)) []byte {
		other := bigManifest(t, 3000)
		f(other)
		return marshalM(t, other)
	}
	tests := []struct {
		name  string
		data  []byte
		file  int
		field string
	}{
		{"hash of the first file", edit(func(o *manifest.Manifest) { o.Files[0].SHA256 = sum("x") }), 0, "sha256"},
		{"hash past the first batch", edit(func(o *manifest.Manifest) { o.Files[1700].SHA256 = sum("x") }), 1700, "sha256"},
		{"offset of the last file", edit(func(o *manifest.Manifest) { o.Files[2999].Offset++ }), 2999, "offset"},
		{"path", edit(func(o *manifest.Manifest) { o.Files[42].Path += "x" }), 42, "path"},
		{"size", edit(func(o *manifest.Manifest) { o.Files[43].Size = 7 }), 43, "size"},
		{"categories", edit(func(o *manifest.Manifest) { o.Files[44].Categories = category.MustSet(category.Other) }), 44, "categories"},
		{"a file fewer", edit(func(o *manifest.Manifest) { o.Files = o.Files[:2999] }), 2999, ""},
		{"case", edit(func(o *manifest.Manifest) { o.Case.Reference = "other" }), -1, ""},
		{"version", edit(func(o *manifest.Manifest) { o.Version = manifest.Version1 }), -1, ""},
		{"cut in the list", data[:len(data)/2], -2, ""}, // -2: some entry
		{"cut in the head", data[:100], -1, ""},
		{"empty", nil, -1, ""},
		{"extra byte", append(bytes.Clone(data), '\n'), -1, ""},
		{"null list", marshalM(t, func() *manifest.Manifest { o := bigManifest(t, 3000); o.Files = nil; return o }()), -1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cr := &countReader{r: iotest.HalfReader(bytes.NewReader(tc.data))}
			err := m.Match(cr)
			var mm *manifest.MismatchError
			if !errors.As(err, &mm) || !errors.Is(err, manifest.ErrInvalid) {
				t.Fatalf("Match = %v, want a MismatchError", err)
			}
			if cr.n != len(tc.data) {
				t.Fatalf("read %d of %d bytes", cr.n, len(tc.data))
			}
			if tc.file == -2 && mm.File < 0 || tc.file != -2 && (mm.File != tc.file || mm.Field != tc.field) {
				t.Fatalf("difference in file %d, field %q; want %d, %q (%v)", mm.File, mm.Field, tc.file, tc.field, err)
			}
			first := 0
			for first < min(len(data), len(tc.data)) && data[first] == tc.data[first] {
				first++
			}
			if mm.Offset != int64(first) {
				t.Fatalf("difference at byte %d, want %d", mm.Offset, first)
			}
		})
	}
}

// A reader's own error is returned as it is, not as a difference.
func TestMatchReadError(t *testing.T) {
	m := bigManifest(t, 1000)
	data := marshalM(t, m)
	boom := errors.New("boom")
	for _, at := range []int{0, 50, len(data) / 2, len(data) - 1} {
		r := io.MultiReader(bytes.NewReader(data[:at]), iotest.ErrReader(boom))
		if err := m.Match(r); !errors.Is(err, boom) {
			t.Errorf("error after %d bytes: Match = %v, want boom", at, err)
		}
	}
}

// A manifest signature covers the bytes in format 1 and their SHA-512 in
// format 2; neither is accepted as the other, and a digest signature is
// what SignManifest makes for format 2.
func TestSignManifestVersions(t *testing.T) {
	s, r1, _ := people(t)
	doc := marshalM(t, manifestFor(validPreamble(t), testPreambleHash))
	sig1, err := manifest.SignManifest(s.Key, manifest.Version1, doc)
	if err != nil {
		t.Fatal(err)
	}
	sig2, err := manifest.SignManifest(s.Key, manifest.FormatVersion, doc)
	if err != nil {
		t.Fatal(err)
	}
	pub := s.Key.Public()
	d := manifest.Digest(sha512.Sum512(doc))
	checks := []struct {
		name string
		err  error
		ok   bool
	}{
		{"v1 as v1", manifest.VerifyManifest(pub, manifest.Version1, doc, sig1), true},
		{"v2 as v2", manifest.VerifyManifest(pub, manifest.FormatVersion, doc, sig2), true},
		{"v2 by digest", manifest.VerifyDigest(pub, &d, sig2), true},
		{"v1 as v2", manifest.VerifyManifest(pub, manifest.FormatVersion, doc, sig1), false},
		{"v2 as v1", manifest.VerifyManifest(pub, manifest.Version1, doc, sig2), false},
		{"v2 as a v1 signature of the digest", manifest.Verify(pub, sign.ContextManifest, d[:], sig2), false},
		{"v2 by another key", manifest.VerifyManifest(r1.Key.Public(), manifest.FormatVersion, doc, sig2), false},
		{"v2 of other bytes", manifest.VerifyManifest(pub, manifest.FormatVersion, append(bytes.Clone(doc), ' '), sig2), false},
	}
	for _, c := range checks {
		if (c.err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, c.err)
		}
	}
	byDigest, err := manifest.SignDigest(s.Key, &d)
	if err != nil {
		t.Fatal(err)
	}
	if err := manifest.VerifyManifest(pub, manifest.FormatVersion, doc, byDigest); err != nil {
		t.Fatalf("SignDigest's signature: %v", err)
	}
}

// Every format version parses; a manifest must state its preamble's.
func TestVersions(t *testing.T) {
	for _, v := range []int{manifest.Version1, manifest.Version2, manifest.Version3} {
		p := validPreamble(t)
		p.Version = v
		if _, err := manifest.ParsePreamble(marshalP(t, p)); err != nil {
			t.Errorf("version %d preamble: %v", v, err)
		}
		m := manifestFor(p, testPreambleHash)
		if _, err := manifest.ParseManifest(marshalM(t, m)); err != nil {
			t.Errorf("version %d manifest: %v", v, err)
		}
		m.Version = v%3 + 1
		if err := m.Consistent(p, testPreambleHash); err == nil {
			t.Errorf("a version %d manifest restates a version %d preamble", m.Version, v)
		}
		// An empty list is [] from format 2 on; format 1 also took null.
		p.Files, p.TotalSize = nil, 0
		m = manifestFor(p, testPreambleHash)
		_, perr := manifest.ParsePreamble(marshalP(t, p))
		_, merr := manifest.ParseManifest(marshalM(t, m))
		if (perr == nil) != (v == manifest.Version1) || (merr == nil) != (v == manifest.Version1) {
			t.Errorf("version %d with a null file list: %v, %v", v, perr, merr)
		}
	}
}

// A preamble signature covers the bytes in formats 1 and 2 and their
// SHA-512 in format 3, each in its own context: neither is accepted as
// the other, nor as a manifest's.
func TestSignPreambleVersions(t *testing.T) {
	s, r1, _ := people(t)
	doc := marshalP(t, validPreamble(t))
	sig2, err := manifest.SignPreamble(s.Key, manifest.Version2, doc)
	if err != nil {
		t.Fatal(err)
	}
	sig3, err := manifest.SignPreamble(s.Key, manifest.Version3, doc)
	if err != nil {
		t.Fatal(err)
	}
	pub := s.Key.Public()
	d := manifest.Digest(sha512.Sum512(doc))
	checks := []struct {
		name string
		err  error
		ok   bool
	}{
		{"v2 as v2", manifest.VerifyPreamble(pub, manifest.Version2, doc, sig2), true},
		{"v2 as v1", manifest.VerifyPreamble(pub, manifest.Version1, doc, sig2), true},
		{"v2 by its context", manifest.Verify(pub, sign.ContextPreamble, doc, sig2), true},
		{"v3 as v3", manifest.VerifyPreamble(pub, manifest.Version3, doc, sig3), true},
		{"v3 by digest", manifest.VerifyPreambleDigest(pub, &d, sig3), true},
		{"v2 as v3", manifest.VerifyPreamble(pub, manifest.Version3, doc, sig2), false},
		{"v3 as v2", manifest.VerifyPreamble(pub, manifest.Version2, doc, sig3), false},
		{"v3 as a v2 signature of the digest", manifest.Verify(pub, sign.ContextPreamble, d[:], sig3), false},
		{"v3 as a manifest's digest", manifest.VerifyDigest(pub, &d, sig3), false},
		{"v3 by another key", manifest.VerifyPreamble(r1.Key.Public(), manifest.Version3, doc, sig3), false},
		{"v3 of other bytes", manifest.VerifyPreamble(pub, manifest.Version3, append(bytes.Clone(doc), ' '), sig3), false},
	}
	for _, c := range checks {
		if (c.err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, c.err)
		}
	}
	byDigest, err := manifest.SignPreambleDigest(s.Key, &d)
	if err != nil {
		t.Fatal(err)
	}
	if err := manifest.VerifyPreamble(pub, manifest.Version3, doc, byDigest); err != nil {
		t.Fatalf("SignPreambleDigest's signature: %v", err)
	}
}

// FuzzMatch: Match accepts exactly the manifest's encoding, reads all its
// input, and places a difference no further than the shorter input.
func FuzzMatch(f *testing.F) {
	m := manifestFor(validPreamble(f), testPreambleHash)
	data := marshalM(f, m)
	f.Add(data)
	f.Add(data[:len(data)-1])
	f.Add(append(bytes.Clone(data), data...))
	f.Add([]byte(nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		cr := &countReader{r: bytes.NewReader(in)}
		err := m.Match(cr)
		if cr.n != len(in) {
			t.Fatalf("read %d of %d bytes", cr.n, len(in))
		}
		if bytes.Equal(in, data) != (err == nil) {
			t.Fatalf("Match = %v for an input that is%s the encoding", err, map[bool]string{true: "", false: " not"}[bytes.Equal(in, data)])
		}
		var mm *manifest.MismatchError
		if err != nil && (!errors.As(err, &mm) || mm.Offset > int64(min(len(in), len(data))) ||
			(mm.Offset < int64(min(len(in), len(data))) && in[mm.Offset] == data[mm.Offset]) ||
			!bytes.Equal(in[:mm.Offset], data[:mm.Offset])) {
			t.Fatalf("Match = %v: not the first difference", err)
		}
	})
}
