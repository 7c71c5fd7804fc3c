package bundle

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
)

// A Ctrl-C that comes once everything is read, while open writes the tag
// files and syncs (minutes on a USB stick), publishes nothing (found by
// an audit: the folder was published, with exit 0).
func TestOpenCancelledWhileSyncingPublishesNothing(t *testing.T) {
	p := getParties(t)
	data, _, _ := packSample(t, p.bob.Card)
	parent := testtmp.Dir(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	beforeTagsHook = func(string) { cancel() }
	t.Cleanup(func() { beforeTagsHook = nil })
	target := filepath.Join(parent, "opened")
	if _, err := Open(ctx, bytes.NewReader(data), target, ReadOptions{Identity: p.bob, Sender: p.alice.Card}); !errors.Is(err, context.Canceled) {
		t.Fatalf("open cancelled before its tag files: %v", err)
	}
	if left, _ := os.ReadDir(parent); len(left) != 0 {
		t.Fatalf("left in %s: %v", parent, left)
	}
}

// The same for extract, cancelled once the file is written, before it is
// synced and published.
func TestExtractCancelledWhileSyncingPublishesNothing(t *testing.T) {
	p := getParties(t)
	data, _, _ := packSample(t, p.bob.Card)
	parent := testtmp.Dir(t)
	out := filepath.Join(parent, "witness.txt")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := ReadOptions{Identity: p.bob, Sender: p.alice.Card, Progress: func(done, total int64) {
		if done == total {
			cancel()
		}
	}}
	if _, err := ExtractFile(ctx, bytes.NewReader(data), int64(len(data)), "case/interviews/witness.txt", out, false, opts); !errors.Is(err, context.Canceled) {
		t.Fatalf("extract cancelled once written: %v", err)
	}
	if left, _ := os.ReadDir(parent); len(left) != 0 {
		t.Fatalf("left in %s: %v", parent, left)
	}
}

// inspect, which reads only the preamble, ends with the context's error
// too (found by an audit: it printed the list after Ctrl-C, exit 0).
func TestInspectCancelled(t *testing.T) {
	p := getParties(t)
	data, _, _ := packSample(t, p.bob.Card)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Inspect(ctx, bytes.NewReader(data), ReadOptions{Identity: p.bob, Sender: p.alice.Card}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Inspect with its context done: %v", err)
	}
}
