package bundle

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
)

// Someone who can write in the folder open publishes into renames the
// staging folder and puts a link to a folder of theirs under its name:
// the tag files still go into the staging folder (through its root), and
// nothing is published (found by an audit: the tag files went into the
// linked folder, and the link was published as the opened bundle, exit 0).
func TestOpenRefusesASwappedStagingFolder(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs symbolic links")
	}
	p := getParties(t)
	data, _, _ := packSample(t, p.bob.Card)
	parent := testtmp.Dir(t)
	theirs := filepath.Join(testtmp.Dir(t), "theirs")
	if err := os.Mkdir(theirs, 0o755); err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(parent, "moved")
	beforeTagsHook = func(staging string) {
		if err := os.Rename(staging, moved); err != nil {
			t.Error(err)
		}
		if err := os.Symlink(theirs, staging); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() { beforeTagsHook = nil })
	target := filepath.Join(parent, "opened")
	_, err := Open(context.Background(), bytes.NewReader(data), target, ReadOptions{Identity: p.bob, Sender: p.alice.Card})
	if !errors.Is(err, ErrIntegrity) {
		t.Fatalf("open with its staging folder swapped: %v, want an integrity error", err)
	}
	if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s was published (%v)", target, err)
	}
	if entries, _ := os.ReadDir(theirs); len(entries) != 0 {
		t.Fatalf("open wrote %d files into the folder linked in: %v", len(entries), entries)
	}
	if _, err := os.Stat(filepath.Join(moved, "bagit.txt")); err != nil {
		t.Fatalf("the tag files were not written into the staging folder itself: %v", err)
	}
}
