package manifest_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/internal/canon"
	"github.com/dossier-evidence/dossier/pkg/manifest"
)

// Every entry of a valid manifest is found, with the header the full parse
// gives.
func TestParseManifestEntry(t *testing.T) {
	data := marshalM(t, manifestFor(validPreamble(t), hash("p")))
	full, err := manifest.ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	header := *full
	header.Files = nil
	for _, want := range full.Files {
		m, f, err := manifest.ParseManifestEntry(data, want.Path)
		if err != nil {
			t.Fatalf("%q: %v", want.Path, err)
		}
		if !reflect.DeepEqual(f, want) {
			t.Errorf("%q: got entry %+v, want %+v", want.Path, f, want)
		}
		if !reflect.DeepEqual(*m, header) {
			t.Errorf("%q: got header %+v, want %+v", want.Path, *m, header)
		}
	}
	for _, missing := range []string{"photos", "report", "report.pdf2", "Report.pdf", "img 001.jpg", ""} {
		m, _, err := manifest.ParseManifestEntry(data, missing)
		if !errors.Is(err, manifest.ErrNoEntry) || errors.Is(err, manifest.ErrInvalid) {
			t.Errorf("%q: got %v, want ErrNoEntry", missing, err)
		}
		if m == nil || m.BundleID != full.BundleID {
			t.Errorf("%q: the manifest is not returned with ErrNoEntry", missing)
		}
	}
}

// entryRefusals are manifests that the entry parse must refuse when
// asked for report.pdf, by name, and the valid one they were made from.
func entryRefusals(t testing.TB) (valid []byte, refused map[string][]byte) {
	p := validPreamble(t)
	valid = marshalM(t, manifestFor(p, hash("p")))
	entry := `{"path":"report.pdf","size":1000,`
	if !bytes.Contains(valid, []byte(entry)) {
		t.Fatalf("test premise: %s not in %s", entry, valid)
	}
	twice := manifestFor(p, hash("p"))
	twice.Files = append(twice.Files, twice.Files[0])
	twice.Files[len(twice.Files)-1].Offset = 99999
	twice.TotalSize += twice.Files[0].Size
	return valid, map[string][]byte{
		"listed twice":         marshalM(t, twice),
		"header not canonical": bytes.Replace(valid, []byte(`"version":3,`), []byte(`"version": 3,`), 1),
		"unknown header field": bytes.Replace(valid, []byte(`"version":3,`), []byte(`"version":3,"x":1,`), 1),
		"bad header":           bytes.Replace(valid, []byte(`"version":3,`), []byte(`"version":4,`), 1),
		"files not last":       bytes.Replace(valid, []byte("]}\n"), []byte("],\"x\":1}\n"), 1),
		"no trailing newline":  bytes.TrimSuffix(valid, []byte("\n")),
		"no file list":         bytes.Replace(valid, []byte(`,"files":[`), []byte(`,"filez":[`), 1),
		"entry not canonical":  bytes.Replace(valid, []byte(`"mode":"0644","mtime":"2025-05-01T10:00:00Z"`), []byte(`"mtime":"2025-05-01T10:00:00Z","mode":"0644"`), 1),
		"entry spaced":         bytes.Replace(valid, []byte(entry), []byte(`{"path":"report.pdf","size":1000 ,`), 1),
		"entry unknown field":  bytes.Replace(valid, []byte(entry), []byte(`{"path":"report.pdf","size":1000,"x":1,`), 1),
		"entry bad mode":       bytes.Replace(valid, []byte(`"mode":"0644","mtime":"2025-05-01T10:00:00Z"`), []byte(`"mode":"644","mtime":"2025-05-01T10:00:00Z"`), 1),
		"entry no offset":      bytes.Replace(valid, []byte(`"offset":1024`), []byte(`"offset":0`), 1),
		"entry too large":      bytes.Replace(valid, []byte(entry), []byte(`{"path":"report.pdf","size":100000,`), 1),
		"entry inside another": bytes.Replace(valid, []byte(`[`+entry), []byte(`[{"x":`+entry), 1),
		"entry truncated":      bytes.Replace(valid, []byte(`"offset":1024}`), []byte(`"offset":1024`), 1),
	}
}

// What the fast path refuses: a bad header, an entry that is listed twice,
// not canonical, not valid or not where a list element starts.
func TestParseManifestEntryRefuses(t *testing.T) {
	valid, refused := entryRefusals(t)
	for name, data := range refused {
		t.Run(name, func(t *testing.T) {
			if bytes.Equal(data, valid) {
				t.Fatal("test premise: the change did not apply")
			}
			_, _, err := manifest.ParseManifestEntry(data, "report.pdf")
			if !errors.Is(err, manifest.ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
			if _, err := manifest.ParseManifest(data); err == nil {
				t.Fatal("test premise: the full parse accepts it")
			}
		})
	}
}

// fuzzEntryBody checks that ParseManifestEntry never panics and agrees
// with ParseManifest on every manifest the full parse accepts.
func fuzzEntryBody(t *testing.T, data []byte, path string) {
	_, _, err := manifest.ParseManifestEntry(data, path)
	if err != nil && !errors.Is(err, manifest.ErrInvalid) && !errors.Is(err, manifest.ErrNoEntry) {
		t.Fatalf("error %v wraps neither ErrInvalid nor ErrNoEntry", err)
	}
	full, err := manifest.ParseManifest(data)
	if err != nil {
		return
	}
	for _, want := range full.Files {
		m, f, err := manifest.ParseManifestEntry(data, want.Path)
		if err != nil {
			t.Fatalf("the full parse accepts the manifest, the entry parse refuses %q: %v", want.Path, err)
		}
		if !reflect.DeepEqual(f, want) || m.BundleID != full.BundleID || m.TotalSize != full.TotalSize {
			t.Fatalf("%q: the entry parse disagrees with the full parse", want.Path)
		}
	}
}

func FuzzParseManifestEntry(f *testing.F) {
	for _, s := range manifestSeeds(f) {
		f.Add(s, "report.pdf")
		f.Add(s, "photos/Ünïcødé.txt")
	}
	f.Fuzz(fuzzEntryBody)
}

func TestFuzzEntrySeeds(t *testing.T) {
	for _, s := range manifestSeeds(t) {
		fuzzEntryBody(t, s, "report.pdf")
	}
}

// A preamble whose files carry hashes and offsets (a sender's list once
// packed, a reader's once read) still marshals to the preamble it was:
// those fields are the manifest's, and a preamble with them is invalid.
func TestPreambleMarshalLeavesOutHashes(t *testing.T) {
	p := validPreamble(t)
	want, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m := manifestFor(p, hash("p"))
	withHashes := *p
	withHashes.Files = m.Files
	if withHashes.Files[0].SHA256.IsZero() || withHashes.Files[0].Offset == 0 {
		t.Fatal("the manifest's files carry no hashes")
	}
	got, err := withHashes.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if _, err := manifest.ParsePreamble(got); err != nil {
		t.Fatal(err)
	}
}

// Marshal, which writes the file list one entry at a time, gives exactly
// what encoding the whole document at once gives.
func TestEncodingMatchesCanon(t *testing.T) {
	p := validPreamble(t)
	m := manifestFor(p, hash("p"))
	empty := *p
	empty.Files, empty.Case = []manifest.File{}, manifest.Case{}
	none := *m
	none.Files = nil
	one := *m
	one.Files = m.Files[:1]
	for name, doc := range map[string]interface{ Marshal() ([]byte, error) }{
		"preamble": p, "manifest": m, "empty list": &empty, "nil list": &none, "one file": &one,
	} {
		got, err := doc.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		want, err := canon.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}

// scanInPieces runs an EntryScanner over data written in pieces whose
// lengths cycle through sizes.
func scanInPieces(data []byte, path string, sizes []int) (*manifest.Manifest, manifest.File, error) {
	return scanInPiecesLimited(data, path, sizes, 0)
}

// scanInPiecesLimited is scanInPieces with the head limited to headMax
// bytes (none if 0).
func scanInPiecesLimited(data []byte, path string, sizes []int, headMax int) (*manifest.Manifest, manifest.File, error) {
	s := manifest.NewEntryScanner(path)
	if headMax > 0 {
		s.LimitHead(headMax)
	}
	for i := 0; len(data) > 0; i++ {
		n := min(max(sizes[i%len(sizes)], 1), len(data))
		if k, err := s.Write(data[:n]); k != n || err != nil {
			panic("EntryScanner.Write failed")
		}
		data = data[n:]
	}
	return s.Result()
}

// sameOutcome reports whether two outcomes of an entry parse agree.
func sameOutcome(m1 *manifest.Manifest, f1 manifest.File, err1 error, m2 *manifest.Manifest, f2 manifest.File, err2 error) bool {
	if (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
		return false
	}
	return reflect.DeepEqual(m1, m2) && reflect.DeepEqual(f1, f2)
}

// fuzzScannerBody checks that an EntryScanner given data in pieces agrees
// with ParseManifestEntry given it whole.
//
// With its head limited to a few bytes more or less than the document's
// (or to b bytes), the scanner gives the same outcome whatever the
// pieces: the whole's, or ErrHeadTooLong if and only if the head (all
// but the file list, or all but what could still start the list's key)
// is longer than the limit.
func fuzzScannerBody(t *testing.T, data []byte, path string, a, b, c uint16) {
	m, f, err := manifest.ParseManifestEntry(data, path)
	key := []byte(`,"files":[`)
	head := bytes.Index(data, key)
	if head < 0 {
		head = len(data) - (len(key) - 1)
	}
	limits := []int{0, max(head+int(a)%5-2, 1), int(b)%4096 + 1}
	for _, sizes := range [][]int{{1}, {int(a)}, {int(a), int(b), int(c)}, {int(c) % 40, int(a)}, {len(data)}} {
		for _, limit := range limits {
			m2, f2, err2 := scanInPiecesLimited(data, path, sizes, limit)
			switch {
			case limit > 0 && head > limit:
				if !errors.Is(err2, manifest.ErrHeadTooLong) || m2 != nil {
					t.Fatalf("head of %d bytes, limit %d, in pieces of %v: got (%v, %v), want ErrHeadTooLong", head, limit, sizes, m2, err2)
				}
			case !sameOutcome(m, f, err, m2, f2, err2):
				t.Fatalf("limit %d, in pieces of %v: got (%v, %+v, %v), whole: (%v, %+v, %v)", limit, sizes, m2, f2, err2, m, f, err)
			}
		}
	}
}

func FuzzEntryScannerSplits(f *testing.F) {
	for _, s := range manifestSeeds(f) {
		f.Add(s, "report.pdf", uint16(7), uint16(300), uint16(2))
		f.Add(s, "photos/Ünïcødé.txt", uint16(64), uint16(1), uint16(33))
	}
	f.Fuzz(fuzzScannerBody)
}

// Every way of cutting a valid manifest, and each manifest
// TestParseManifestEntryRefuses refuses, gives the whole's outcome, for
// every entry and a missing one.
func TestEntryScannerSplits(t *testing.T) {
	valid := marshalM(t, manifestFor(validPreamble(t), hash("p")))
	full, err := manifest.ParseManifest(valid)
	if err != nil {
		t.Fatal(err)
	}
	docs := append(manifestSeeds(t), valid, marshalM(t, bigManifest(t, 200)))
	_, refused := entryRefusals(t)
	for _, data := range refused {
		docs = append(docs, data)
	}
	paths := []string{"missing.txt"}
	for _, f := range full.Files {
		paths = append(paths, f.Path)
	}
	for _, data := range docs {
		for _, path := range paths {
			for _, n := range []int{1, 2, 3, 5, 9, 10, 11, 31, 64, 1000} {
				fuzzScannerBody(t, data, path, uint16(n), uint16(n+1), uint16(n*7))
			}
		}
	}
	// The entry is found whatever piece it starts, ends or is cut in.
	for cut := 1; cut < len(valid); cut++ {
		m, f, err := scanInPieces(valid, "report.pdf", []int{cut, len(valid)})
		if err != nil || f.Path != "report.pdf" || m == nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
	}
}
