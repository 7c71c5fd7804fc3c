package owneronly

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/internal/removeall"
)

// tempDir is t.TempDir, removed with removeall (testtmp cannot be used
// here: it imports this package).
func tempDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "owneronly-test-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeall.RemoveAll(dir) })
	return dir
}

func TestCreateTempIsOwnerOnly(t *testing.T) {
	dir := tempDir(t)
	f, err := CreateTemp(dir, ".key.dossier-tmp-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if filepath.Dir(f.Name()) != dir || !strings.HasPrefix(filepath.Base(f.Name()), ".key.dossier-tmp-") {
		t.Fatalf("temporary %s is not named after the pattern in %s", f.Name(), dir)
	}
	if _, err := f.WriteString("secret"); err != nil {
		t.Fatal(err)
	}
	if err := Check(f.Name()); err != nil {
		t.Fatalf("a new temporary is not owner-only: %v", err)
	}
	// A second call never returns the same file.
	g, err := CreateTemp(dir, ".key.dossier-tmp-*")
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if g.Name() == f.Name() {
		t.Fatal("two temporaries share a name")
	}
}

func TestMkdirTempIsOwnerOnlyAndPassesItOn(t *testing.T) {
	dir, err := MkdirTemp(tempDir(t), ".case.dossier-tmp-*")
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(dir); err != nil {
		t.Fatalf("a new folder is not owner-only: %v", err)
	}
	if runtime.GOOS != "windows" {
		return // on Unix each file's own mode decides; dossier gives 0600
	}
	// On Windows what is created inside inherits the single entry.
	if skipInheritance() {
		t.Log("Wine does not implement access-list inheritance; the inside of the folder is not checked")
		return
	}
	if err := os.MkdirAll(filepath.Join(dir, "data", "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	child := filepath.Join(dir, "data", "sub", "evidence.pdf")
	if err := os.WriteFile(child, []byte("evidence"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, "data"), child} {
		if err := Check(p); err != nil {
			t.Errorf("created inside an owner-only folder, %s is not owner-only: %v", p, err)
		}
	}
}

func TestCheckRefusesWiderAccess(t *testing.T) {
	p := filepath.Join(tempDir(t), "open.txt")
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	err := Check(p)
	if runtime.GOOS == "windows" {
		// Whether a plain file in the temp folder is shared depends on
		// that folder's access list, which the system decides; only a
		// refusal, if any, is checked here (the Windows-only test below
		// builds a file that is certainly shared).
		if err != nil && !errors.Is(err, ErrNotRestricted) {
			t.Fatalf("Check = %v, want nil or ErrNotRestricted", err)
		}
		return
	}
	if !errors.Is(err, ErrNotRestricted) {
		t.Fatalf("Check of a 0644 file = %v, want ErrNotRestricted", err)
	}
}
