package spool

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"

	"github.com/dossier-evidence/dossier/pkg/internal/winpath"
)

// createUnnamed makes a temporary file in dir that no other handle may
// open and that Windows deletes when it is closed, or when the process
// ends, however it ends. (A file cannot lose its name while it is open
// there.) A long path is given in the \\?\ form, as the os package
// gives it.
func createUnnamed(dir string) (f *os.File, name string, err error) {
	if dir == "" {
		dir = os.TempDir()
	}
	var b [12]byte
	rand.Read(b[:])
	path := filepath.Join(dir, ".dossier-spool-"+hex.EncodeToString(b[:]))
	p, err := windows.UTF16PtrFromString(winpath.Long(path))
	if err != nil {
		return nil, "", err
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil, windows.CREATE_NEW,
		windows.FILE_ATTRIBUTE_TEMPORARY|windows.FILE_FLAG_DELETE_ON_CLOSE, 0)
	if err != nil {
		return nil, "", &os.PathError{Op: "create", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), "", nil
}
