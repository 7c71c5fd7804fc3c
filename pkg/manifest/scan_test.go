package manifest_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/dossier-evidence/dossier/pkg/manifest"
)

// docScanner is what a Scanner and a PreambleScanner share.
type docScanner[D any] interface {
	Head() (*D, error)
	Next() (*manifest.File, error)
	Count() int
}

// scanDoc reads data with the scanner open makes, through a reader that
// gives one byte at a time if slow, and returns the document's head with
// the files it listed (set through files).
func scanDoc[D any](data []byte, slow bool, open func(io.Reader) docScanner[D], files func(*D) *[]manifest.File) (*D, error) {
	var r io.Reader = bytes.NewReader(data)
	if slow {
		r = iotest.OneByteReader(r)
	}
	s := open(r)
	head, err := s.Head()
	if err != nil {
		return nil, err
	}
	doc := *head
	var list []manifest.File
	for {
		f, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		list = append(list, *f)
	}
	if s.Count() != len(list) {
		return nil, fmt.Errorf("Count says %d, Next gave %d", s.Count(), len(list))
	}
	if _, err := s.Next(); err != io.EOF {
		return nil, fmt.Errorf("Next after the end gave %v, want io.EOF", err)
	}
	if list == nil && *files(head) != nil {
		list = []manifest.File{}
	}
	*files(&doc) = list
	return &doc, nil
}

// scanAll reads a manifest with a Scanner (see scanDoc).
func scanAll(data []byte, slow bool) (*manifest.Manifest, error) {
	return scanDoc(data, slow, func(r io.Reader) docScanner[manifest.Manifest] { return manifest.NewScanner(r) },
		func(m *manifest.Manifest) *[]manifest.File { return &m.Files })
}

// fuzzScanBody checks that the Scanner agrees with ParseManifest: what
// one accepts the other does (the Scanner's paths then passing
// CheckPaths), with the same fields and files.
func fuzzScanBody(t *testing.T, data []byte) {
	scanAgrees(t, data, false, true)
}

// scanAgrees is fuzzScanBody, reading data in one piece, one byte at a
// time, or both.
// It reports whether ParseManifest accepts data.
func scanAgrees(t *testing.T, data []byte, modes ...bool) bool {
	return agrees(t, data, "ParseManifest", "the Scanner", manifest.ParseManifest, scanAll,
		func(m *manifest.Manifest) []manifest.File { return m.Files }, modes...)
}

// agrees checks that a scanner (scan) agrees with its document's parser
// (parse) on data, read in one piece, one byte at a time, or both: what
// one accepts the other does (the scanner's paths then passing
// CheckPaths), with the same fields and files. It reports whether parse
// accepts data.
func agrees[D any](t *testing.T, data []byte, parser, scanner string, parse func([]byte) (*D, error), scan func([]byte, bool) (*D, error), files func(*D) []manifest.File, modes ...bool) bool {
	want, werr := parse(data)
	for _, slow := range modes {
		got, gerr := scan(data, slow)
		if gerr != nil && !errors.Is(gerr, manifest.ErrInvalid) {
			t.Fatalf("error %v does not wrap ErrInvalid", gerr)
		}
		if gerr == nil {
			var paths []string
			for _, f := range files(got) {
				paths = append(paths, f.Path)
			}
			if err := manifest.CheckPaths(paths); err != nil {
				if werr == nil {
					t.Fatalf("%s accepts what CheckPaths refuses: %v", parser, err)
				}
				continue
			}
		}
		switch {
		case werr == nil && gerr != nil:
			t.Fatalf("%s accepts %q, %s refuses it: %v", parser, data, scanner, gerr)
		case werr != nil && gerr == nil:
			t.Fatalf("%s accepts %q, %s refuses it: %v", scanner, data, parser, werr)
		case werr == nil && !reflect.DeepEqual(got, want):
			t.Fatalf("%s read\n%+v\n%s\n%+v", scanner, got, parser, want)
		}
	}
	return werr == nil
}

func FuzzScanner(f *testing.F) {
	for _, s := range manifestSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(fuzzScanBody)
}

// The Scanner agrees with ParseManifest on every seed and refusal the
// other parsers are tested with, and on every manifest made from a valid
// one by deleting, doubling or changing one byte.
func TestScannerAgreesWithParse(t *testing.T) {
	valid, refused := entryRefusals(t)
	docs := append(manifestSeeds(t), valid, marshalM(t, bigManifest(t, 300)))
	for _, data := range refused {
		docs = append(docs, data)
	}
	null := manifestFor(validPreamble(t), hash("p"))
	null.Version, null.Files, null.TotalSize = manifest.Version1, nil, 0
	docs = append(docs, marshalM(t, null))
	null.Version = manifest.FormatVersion
	docs = append(docs, marshalM(t, null))
	for _, data := range docs {
		fuzzScanBody(t, data)
	}
	accepted := 0
	for i := range valid {
		for _, c := range []byte{'1', ',', '}', '"', 'a'} {
			changed := bytes.Clone(valid)
			changed[i] = c
			if scanAgrees(t, changed, false) {
				accepted++
			}
		}
		scanAgrees(t, append(bytes.Clone(valid[:i]), valid[i+1:]...), false)
		scanAgrees(t, append(bytes.Clone(valid[:i+1]), valid[i:]...), false)
	}
	if accepted == 0 {
		t.Fatal("test premise: no change of one byte gave another valid manifest")
	}
}

// What the Scanner refuses, it refuses with a reason, wherever the
// document goes wrong.
func TestScannerRefuses(t *testing.T) {
	valid := marshalM(t, bigManifest(t, 3))
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"cut in the head":        {valid[:40], "manifest"},
		"cut in an entry":        {valid[:len(valid)-30], "cut short"},
		"cut after an entry":     {valid[:bytes.LastIndexByte(valid, '}')-1], "ends inside its file list"},
		"no newline at the end":  {valid[:len(valid)-1], "does not end with its file list"},
		"a byte after the end":   {append(bytes.Clone(valid), '\n'), "does not end with its file list"},
		"sizes do not add up":    {bytes.Replace(valid, []byte(`"size":2,`), []byte(`"size":3,`), 1), "total_size"},
		"a leading zero":         {bytes.Replace(valid, []byte(`"size":2,`), []byte(`"size":02,`), 1), "file entry 2 is malformed"},
		"no comma":               {bytes.Replace(valid, []byte(`},{"path":"folder/file 000001`), []byte(`}{"path":"folder/file 000001`), 1), "file entry 0 is not followed"},
		"a path in the reserved": {bytes.Replace(valid, []byte(`folder/file 000001`), []byte(`.dossier/fil 000001`), 1), "reserved"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := scanAll(tc.data, false)
			if !errors.Is(err, manifest.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an invalid manifest saying %q", err, tc.want)
			}
			if _, err := manifest.ParseManifest(tc.data); err == nil {
				t.Fatal("ParseManifest accepts it")
			}
		})
	}
}

// A Scanner holds one entry, not the list: reading a manifest of many
// entries allocates about as much as reading one of few, a little for
// each entry's path and none for the list.
func TestScannerDoesNotHoldTheList(t *testing.T) {
	big := marshalM(t, bigManifest(t, 20_000))
	small := marshalM(t, bigManifest(t, 10))
	measure := func(data []byte) float64 {
		return testing.AllocsPerRun(3, func() {
			if _, err := scanCount(data); err != nil {
				t.Fatal(err)
			}
		})
	}
	if n, err := scanCount(big); err != nil || n != 20_000 {
		t.Fatalf("scanned %d entries: %v", n, err)
	}
	// A list held would grow by doubling: some 30 allocations of up to
	// 5 MB, besides the paths; the arena cuts paths from 64 KiB blocks.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	scanCount(big)
	runtime.ReadMemStats(&after)
	if bigBytes, limit := int64(after.TotalAlloc-before.TotalAlloc), int64(len(big))/2; bigBytes > limit {
		t.Fatalf("scanning a manifest of %d bytes allocated %d bytes, more than %d", len(big), bigBytes, limit)
	}
	if a, b := measure(big), measure(small); a > b+100 {
		t.Fatalf("scanning 20,000 entries made %.0f allocations, 10 entries %.0f", a, b)
	}
}

// scanCount counts a manifest's entries with a Scanner.
func scanCount(data []byte) (int, error) {
	s := manifest.NewScanner(bytes.NewReader(data))
	for {
		_, err := s.Next()
		if err == io.EOF {
			return s.Count(), nil
		}
		if err != nil {
			return 0, err
		}
	}
}
