package bundle

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
)

// swapForLink moves the folder dir to target and puts a symbolic link to
// target in its place, as someone with write access to a folder being
// packed could, racing pack.
func swapForLink(t *testing.T, dir, target string) {
	t.Helper()
	if err := os.Rename(dir, target); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, dir); err != nil {
		t.Skipf("cannot make a symbolic link here: %v", err)
	}
}

// A folder below the one given to pack, swapped after planning for a link
// to the same files elsewhere (so that every file is still the one
// planned, inode and all), is refused: pack reads only what lies below
// the given folder.
func TestPackRefusesAFolderSwappedForALink(t *testing.T) {
	dir := testtmp.Dir(t)
	writeTree(t, dir, map[string]string{"ev/docs/a.txt": "alpha", "ev/sub/secret.txt": "not for the bundle"})
	if err := os.Mkdir(filepath.Join(dir, "elsewhere"), 0o700); err != nil {
		t.Fatal(err)
	}
	plan, err := MakePlan([]string{filepath.Join(dir, "ev")}, nil, []category.ID{category.Other})
	if err != nil {
		t.Fatal(err)
	}
	swapForLink(t, filepath.Join(dir, "ev", "sub"), filepath.Join(dir, "elsewhere", "sub"))
	p := getParties(t)
	var out bytes.Buffer
	_, err = Pack(context.Background(), &out, plan, PackOptions{Sender: p.alice, Recipients: []*card.Card{p.bob.Card}})
	if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "secret.txt") {
		t.Fatalf("Pack = %v, want the swapped folder's file refused", err)
	}
}

// A folder swapped for a link to somewhere else just before MakePlan lists
// it (the race a reviewer won one plan in 15) is refused, and nothing from
// the link's target is planned.
func TestPlanRefusesAFolderSwappedWhileListed(t *testing.T) {
	dir := testtmp.Dir(t)
	writeTree(t, dir, map[string]string{"ev/docs/a.txt": "alpha", "ev/sub/b.txt": "bravo", "secret/key.txt": "officer's key"})
	sub := filepath.Join(dir, "ev", "sub")
	beforeReadDir = func(name string) {
		if name == "sub" {
			os.Rename(sub, sub+".real")
			os.Symlink(filepath.Join(dir, "secret"), sub)
		}
	}
	defer func() { beforeReadDir = nil }()
	plan, err := MakePlan([]string{filepath.Join(dir, "ev")}, nil, []category.ID{category.Other})
	if _, lerr := os.Lstat(sub + ".real"); lerr != nil {
		t.Skipf("the swap did not happen: %v", lerr)
	}
	if err == nil {
		for _, in := range plan.Files {
			t.Errorf("planned %s", in.Source())
		}
		t.Fatal("MakePlan accepted a folder swapped for a link")
	}
	if !errors.Is(err, ErrInput) {
		t.Fatalf("MakePlan = %v, want ErrInput", err)
	}
}

// Two folders given to pack can spell the same Source folder while being
// two folders: "l/../a/b" (l a link elsewhere) and "a", since Source is
// joined and cleaned without resolving links. The opener's cached folder
// must not serve one root's file from the other's folder.
func TestPackTwoRootsSpellingOneFolder(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs symbolic links")
	}
	dir := testtmp.Dir(t)
	writeTree(t, dir, map[string]string{
		"x/a/b/c/f.txt": "through the link",
		"a/b/c/f.txt":   "alpha",
		"a/b/c/g.txt":   "golf",
	})
	if err := os.MkdirAll(filepath.Join(dir, "x", "y"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "x", "y"), filepath.Join(dir, "l")); err != nil {
		t.Skipf("cannot make a symbolic link here: %v", err)
	}
	viaLink := dir + string(filepath.Separator) + "l/../a/b" // not cleaned
	plan, err := MakePlan([]string{viaLink, filepath.Join(dir, "a")}, nil, []category.ID{category.Other})
	if err != nil {
		t.Fatal(err)
	}
	p := getParties(t)
	var out bytes.Buffer
	man, err := Pack(context.Background(), &out, plan, PackOptions{Sender: p.alice, Recipients: []*card.Card{p.bob.Card}})
	if err != nil {
		t.Fatalf("Pack = %v", err)
	}
	if len(man.Files) != 3 {
		t.Fatalf("packed %d files", len(man.Files))
	}
}
