package writeback

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
)

// Everything written arrives, and writeback is asked for every Every
// bytes and for the rest on Flush.
func TestFile(t *testing.T) {
	f, err := os.Create(filepath.Join(testtmp.Dir(t), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := New(f)
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	var want []byte
	for i := 0; i < 3*Every/len(chunk)+7; i++ {
		chunk[0] = byte(i)
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
		want = append(want, chunk...)
		if w.Pending() >= Every {
			t.Fatalf("after %d bytes, %d are pending, want fewer than %d", len(want), w.Pending(), Every)
		}
	}
	if w.Pending() != int64(len(want)%Every) {
		t.Fatalf("pending %d, want %d", w.Pending(), len(want)%Every)
	}
	w.Flush()
	if w.Pending() != 0 {
		t.Fatalf("pending %d after Flush", w.Pending())
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read back %d bytes, wrote %d (or they differ)", len(got), len(want))
	}
}
