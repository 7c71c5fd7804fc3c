package manifest_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/manifest"
)

// largePreamble is a valid preamble listing n files, shaped like the
// benchmark corpus of many small files.
func largePreamble(b testing.TB, n int) *manifest.Preamble {
	p := validPreamble(b)
	p.Files = make([]manifest.File, n)
	p.TotalSize = 0
	for i := range p.Files {
		p.Files[i] = manifest.File{
			Path:       fmt.Sprintf("many/d%03d/f%06d.txt", i/1000, i),
			Size:       int64(1000 + i%3000),
			Mode:       manifest.ModeRegular,
			MTime:      manifest.Time(1795669200 + i/100),
			Categories: category.MustSet(category.Other),
		}
		p.TotalSize += p.Files[i].Size
	}
	return p
}

func BenchmarkMarshalPreamble(b *testing.B) {
	p := largePreamble(b, 100000)
	b.ResetTimer()
	for range b.N {
		data, err := p.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(data)))
	}
}

func BenchmarkParsePreamble(b *testing.B) {
	data := marshalP(b, largePreamble(b, 100000))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := manifest.ParsePreamble(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseManifest(b *testing.B) {
	p := largePreamble(b, 100000)
	data := marshalM(b, manifestFor(p, hash("p")))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := manifest.ParseManifestSized(data, len(p.Files)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodesTo(b *testing.B) {
	p := largePreamble(b, 100000)
	m := manifestFor(p, hash("p"))
	data := marshalM(b, m)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		if !m.EncodesTo(data) {
			b.Fatal("differs")
		}
	}
}

func BenchmarkScanManifest(b *testing.B) {
	p := largePreamble(b, 100000)
	data := marshalM(b, manifestFor(p, hash("p")))
	benchmarkScan(b, data, func(r io.Reader) func() (*manifest.File, error) { return manifest.NewScanner(r).Next })
}

func BenchmarkScanPreamble(b *testing.B) {
	data := marshalP(b, largePreamble(b, 100000))
	benchmarkScan(b, data, func(r io.Reader) func() (*manifest.File, error) { return manifest.NewPreambleScanner(r).Next })
}

// benchmarkScan times reading every entry of data with the Next of the
// scanner that scanner makes.
func benchmarkScan(b *testing.B, data []byte, scanner func(io.Reader) func() (*manifest.File, error)) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		next := scanner(bytes.NewReader(data))
		for {
			_, err := next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}
