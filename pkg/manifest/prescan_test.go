package manifest_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"testing"
	"testing/iotest"

	"github.com/dossier-evidence/dossier/pkg/manifest"
)

// scanPreamble reads data with a PreambleScanner, through a reader that
// gives one byte at a time if slow, and returns the preamble with the
// files it listed.
func scanPreamble(data []byte, slow bool) (*manifest.Preamble, error) {
	var r io.Reader = bytes.NewReader(data)
	if slow {
		r = iotest.OneByteReader(r)
	}
	s := manifest.NewPreambleScanner(r)
	head, err := s.Head()
	if err != nil {
		return nil, err
	}
	p := *head
	var files []manifest.File
	for {
		f, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		files = append(files, *f)
	}
	if s.Count() != len(files) {
		return nil, fmt.Errorf("Count says %d, Next gave %d", s.Count(), len(files))
	}
	if files == nil && head.Files != nil {
		files = []manifest.File{}
	}
	p.Files = files
	return &p, nil
}

// preScanAgrees checks that the PreambleScanner agrees with
// ParsePreamble on data (its paths then passing CheckPaths), and reports
// whether ParsePreamble accepts it.
func preScanAgrees(t *testing.T, data []byte, modes ...bool) bool {
	want, werr := manifest.ParsePreamble(data)
	for _, slow := range modes {
		got, gerr := scanPreamble(data, slow)
		if gerr != nil && !errors.Is(gerr, manifest.ErrInvalid) {
			t.Fatalf("error %v does not wrap ErrInvalid", gerr)
		}
		if gerr == nil {
			paths := make([]string, len(got.Files))
			for i, f := range got.Files {
				paths[i] = f.Path
			}
			if err := manifest.CheckPaths(paths); err != nil {
				if werr == nil {
					t.Fatalf("ParsePreamble accepts what CheckPaths refuses: %v", err)
				}
				continue
			}
		}
		switch {
		case werr == nil && gerr != nil:
			t.Fatalf("ParsePreamble accepts %q, the PreambleScanner refuses it: %v", data, gerr)
		case werr != nil && gerr == nil:
			t.Fatalf("the PreambleScanner accepts %q, ParsePreamble refuses it: %v", data, werr)
		case werr == nil && !reflect.DeepEqual(got, want):
			t.Fatalf("the PreambleScanner read\n%+v\nParsePreamble\n%+v", got, want)
		}
	}
	return werr == nil
}

func FuzzPreambleScanner(f *testing.F) {
	for _, s := range preambleSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) { preScanAgrees(t, data, false, true) })
}

// The PreambleScanner agrees with ParsePreamble on every seed, on the
// empty and null lists of each format, and on every preamble made from a
// valid one by deleting, doubling or changing one byte (but for most of
// the sender's card).
func TestPreambleScannerAgreesWithParse(t *testing.T) {
	valid := marshalP(t, validPreamble(t))
	docs := preambleSeeds(t)
	for _, v := range []int{manifest.Version1, manifest.Version2, manifest.Version3} {
		p := validPreamble(t)
		p.Version, p.Files, p.TotalSize = v, nil, 0
		docs = append(docs, marshalP(t, p))
		p.Files = []manifest.File{}
		docs = append(docs, marshalP(t, p))
	}
	for _, data := range docs {
		preScanAgrees(t, data, false, true)
	}
	// A change inside the sender's card is judged by the card's own
	// parser, the same in both, at the cost of a signature check: all
	// but its first bytes are left out.
	card := bytes.Index(valid, []byte(`"sender":{`)) + 64
	rest := bytes.Index(valid, []byte(`,"recipients":`))
	accepted := 0
	for i := range valid {
		if i > card && i < rest {
			continue
		}
		for _, c := range []byte{'1', '}', '"'} {
			changed := bytes.Clone(valid)
			changed[i] = c
			if preScanAgrees(t, changed, false) {
				accepted++
			}
		}
		preScanAgrees(t, append(bytes.Clone(valid[:i]), valid[i+1:]...), false)
		preScanAgrees(t, append(bytes.Clone(valid[:i+1]), valid[i:]...), false)
	}
	if accepted == 0 {
		t.Fatal("test premise: no change of one byte gave another valid preamble")
	}
}
