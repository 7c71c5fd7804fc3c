// Package testtmp gives tests temporary folders, as t.TempDir does, but
// removes them with removeall so that the package tests also pass under
// Wine 8, where t.TempDir's clean-up fails with "Invalid function" (see
// package removeall). WantPerm checks a file's permissions in the way the
// system it runs on has them.
package testtmp

import (
	"io/fs"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/internal/owneronly"
	"github.com/dossier-evidence/dossier/pkg/internal/removeall"
)

// Dir returns a new, empty folder that is removed when t ends.
func Dir(t testing.TB) string {
	t.Helper()
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, t.Name())
	if len(name) > 40 {
		name = name[:40]
	}
	dir, err := os.MkdirTemp("", name+"-*")
	if err != nil {
		t.Fatalf("testtmp: %v", err)
	}
	t.Cleanup(func() {
		if err := removeall.RemoveAll(dir); err != nil {
			t.Errorf("testtmp: remove %s: %v", dir, err)
		}
	})
	return dir
}

// WantPerm fails t unless path has permission bits want. On Windows, where
// modes mean nothing, it checks instead that a want giving the group and
// others nothing is honoured by an access list for the current user alone
// (package owneronly), and accepts any other want.
func WantPerm(t testing.TB, path string, want fs.FileMode) {
	t.Helper()
	wantPerm(t, path, want, false)
}

// WantPermInherited is WantPerm for a file that is private on Windows
// because the owner-only folder it was created in passes its access list
// on. Wine does not pass access lists on, so under Wine a shared file is
// logged rather than failed.
func WantPermInherited(t testing.TB, path string, want fs.FileMode) {
	t.Helper()
	wantPerm(t, path, want, true)
}

func wantPerm(t testing.TB, path string, want fs.FileMode, inherited bool) {
	t.Helper()
	if runtime.GOOS == "windows" {
		if want&0o077 == 0 {
			if err := owneronly.Check(path); err != nil {
				if inherited && IsWine() {
					t.Logf("not checked under Wine, which does not inherit access lists: %v", err)
					return
				}
				t.Errorf("%s should be private: %v", path, err)
			}
		}
		return
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("testtmp: %v", err)
	}
	if got := st.Mode().Perm(); got != want {
		t.Errorf("%s: permissions %04o, want %04o", path, got, want)
	}
}

// Symlink makes newname a symbolic link to oldname, or skips t when the
// system cannot. Wine's CreateSymbolicLink reports success and makes
// nothing, so the link is looked for afterwards.
func Symlink(t testing.TB, oldname, newname string) {
	t.Helper()
	if err := os.Symlink(oldname, newname); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	if _, err := os.Lstat(newname); err != nil {
		t.Skipf("os.Symlink reported success but made no link (%v): Wine's CreateSymbolicLink does that", err)
	}
}
