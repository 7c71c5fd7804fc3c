//go:build unix

package bundle

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
)

// A file the user may not read fails pack as a permission error (which the
// command line explains), not as a file "replaced while packing".
func TestPackUnreadableFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any file")
	}
	dir := testtmp.Dir(t)
	writeTree(t, dir, map[string]string{"case/locked.txt": "secret"})
	locked := filepath.Join(dir, "case", "locked.txt")
	plan, err := MakePlan([]string{filepath.Join(dir, "case")}, nil, []category.ID{category.Other})
	if err != nil {
		t.Fatal(err)
	}
	// Made unreadable after planning: MakePlan refuses such a file.
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(locked, 0o644)
	p := getParties(t)
	var out bytes.Buffer
	_, err = Pack(context.Background(), &out, plan, PackOptions{Sender: p.alice, Recipients: []*card.Card{p.bob.Card}})
	if !errors.Is(err, ErrInput) || !errors.Is(err, fs.ErrPermission) || strings.Contains(err.Error(), "replaced") {
		t.Fatalf("Pack = %v, want a permission error", err)
	}
}

// mayBeUnreadable reads the permission bits as the OS applies them to a
// user other than root: the owner's, else the group's, else others'.
func TestMayBeUnreadable(t *testing.T) {
	saved := ids
	defer func() { ids = saved }()
	for _, tt := range []struct {
		uid, fileUID, fileGID int
		gids                  []int
		perm                  fs.FileMode
		want                  bool
	}{
		{0, 1, 1, nil, 0, false}, // root
		{5, 5, 9, nil, 0o400, false},
		{5, 5, 9, []int{9}, 0o044, true}, // the owner's bits decide
		{5, 6, 9, []int{9}, 0o040, false},
		{5, 6, 9, []int{9}, 0o404, true}, // the group's bits decide
		{5, 6, 9, []int{8}, 0o004, false},
		{5, 6, 9, []int{8}, 0o440, true},
	} {
		ids = func() (int, []int) { return tt.uid, tt.gids }
		info := fakeInfo{mode: tt.perm, st: &syscall.Stat_t{Uid: uint32(tt.fileUID), Gid: uint32(tt.fileGID)}}
		if got := mayBeUnreadable(info); got != tt.want {
			t.Errorf("uid %d groups %v, file %d:%d %v: mayBeUnreadable = %v, want %v", tt.uid, tt.gids, tt.fileUID, tt.fileGID, tt.perm, got, tt.want)
		}
	}
}

type fakeInfo struct {
	mode fs.FileMode
	st   *syscall.Stat_t
}

func (f fakeInfo) Name() string       { return "f" }
func (f fakeInfo) Size() int64        { return 0 }
func (f fakeInfo) Mode() fs.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return false }
func (f fakeInfo) Sys() any           { return f.st }
