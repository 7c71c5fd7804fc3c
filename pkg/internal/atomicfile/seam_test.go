package atomicfile

import (
	"errors"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
)

// failNthRename makes the n-th rename Publish attempts fail with EIO.
func failNthRename(t *testing.T, n int) {
	calls := 0
	t.Cleanup(ReplaceRenameForTest(func(real func(string, string) error) func(string, string) error {
		return func(tmp, final string) error {
			calls++
			if calls == n {
				return &os.LinkError{Op: "rename", Old: tmp, New: final, Err: syscall.EIO}
			}
			return real(tmp, final)
		}
	}))
}

func TestPublishRenameFault(t *testing.T) {
	dir := testtmp.Dir(t)
	final := filepath.Join(dir, "doc.txt")
	f, err := CreateTemp(final, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	failNthRename(t, 1)
	if err := Publish(f.Name(), final); !errors.Is(err, syscall.EIO) || errors.Is(err, ErrExists) {
		t.Fatalf("err = %v, want EIO", err)
	}
	if _, err := os.Lstat(final); err == nil {
		t.Fatal("the final name exists after a failed rename")
	}
	if _, err := os.Lstat(f.Name()); err != nil {
		t.Fatal("the temporary is gone: the caller could not clean up or retry")
	}
}

// Publishing a folder onto an empty folder removes that folder first; if
// the rename then fails, the empty folder is put back as it was.
func TestPublishFolderRenameFaultKeepsEmptyTarget(t *testing.T) {
	strictUmask(t)
	dir := testtmp.Dir(t)
	final := filepath.Join(dir, "opened")
	if err := os.Mkdir(final, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(final, 0o750); err != nil {
		t.Fatal(err)
	}
	tmp, err := MkdirTemp(final)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(tmp, "a.txt"), "A")
	failNthRename(t, 2) // the first finds the folder (EEXIST), the retry fails
	if err := Publish(tmp, final); !errors.Is(err, syscall.EIO) {
		t.Fatalf("err = %v, want EIO", err)
	}
	st, err := os.Lstat(final)
	if err != nil || !st.IsDir() || (runtime.GOOS != "windows" && st.Mode().Perm() != 0o750) {
		t.Fatalf("the empty target folder was not put back: %v, %v", st, err)
	}
	if readFile(t, filepath.Join(tmp, "a.txt")) != "A" {
		t.Fatal("the temporary folder changed")
	}
}
