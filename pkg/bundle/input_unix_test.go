//go:build unix

package bundle

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
)

func TestInputFileRefusesSymlink(t *testing.T) {
	dir := testtmp.Dir(t)
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if f, err := openInput(link); err == nil {
		f.Close()
		t.Fatal("a symbolic link was followed")
	}
}
