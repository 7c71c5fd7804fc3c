package bundle

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"testing"

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
