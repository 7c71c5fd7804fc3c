package manifest_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/manifest"
)

// scanPreamble reads a preamble with a PreambleScanner (see scanDoc).
func scanPreamble(data []byte, slow bool) (*manifest.Preamble, error) {
	return scanDoc(data, slow, func(r io.Reader) docScanner[manifest.Preamble] { return manifest.NewPreambleScanner(r) },
		func(p *manifest.Preamble) *[]manifest.File { return &p.Files })
}

// preScanAgrees checks that the PreambleScanner agrees with
// ParsePreamble on data (see agrees), and reports whether ParsePreamble
// accepts it.
func preScanAgrees(t *testing.T, data []byte, modes ...bool) bool {
	return agrees(t, data, "ParsePreamble", "the PreambleScanner", manifest.ParsePreamble, scanPreamble,
		func(p *manifest.Preamble) []manifest.File { return p.Files }, modes...)
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
