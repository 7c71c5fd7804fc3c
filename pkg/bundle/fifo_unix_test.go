//go:build unix

package bundle

import (
	"context"
	"errors"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
)

// TestFIFOSwappedInIsNotOpened: a file replaced by a FIFO between plan and
// pack is refused at once instead of blocking forever.
func TestFIFOSwappedInIsNotOpened(t *testing.T) {
	p := getParties(t)
	plan, dir := planOne(t, "a", category.Other)
	name := filepath.Join(dir, "case", "a.txt")
	os.Remove(name)
	if err := syscall.Mkfifo(name, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	out := filepath.Join(testtmp.Dir(t), "x.dossier")
	go func() {
		_, err := PackFile(context.Background(), out, FileOptions{}, plan, PackOptions{Sender: p.alice, Recipients: []*card.Card{p.bob.Card}})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrInput) {
			t.Fatalf("err = %v, want ErrInput", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("pack blocked on a FIFO")
	}
	assertNothingAt(t, out)
}
