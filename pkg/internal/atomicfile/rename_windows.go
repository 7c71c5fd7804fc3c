package atomicfile

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"

	"github.com/dossier-evidence/dossier/pkg/internal/winpath"
)

// moveFile is MoveFileEx on long-path-safe names. flags always include
// MOVEFILE_WRITE_THROUGH, which asks Windows to finish the move on disk
// before returning. Microsoft documents that for moves that copy; for a
// rename in one volume it is the most Windows offers, since a folder
// cannot be flushed (SyncDir's job elsewhere).
func moveFile(oldpath, newpath string, flags uint32) error {
	from, err := windows.UTF16PtrFromString(winpath.Long(oldpath))
	if err != nil {
		return err
	}
	to, err := windows.UTF16PtrFromString(winpath.Long(newpath))
	if err != nil {
		return err
	}
	return windows.MoveFileEx(from, to, flags|windows.MOVEFILE_WRITE_THROUGH)
}

// renameNoReplace uses MoveFileEx without MOVEFILE_REPLACE_EXISTING, which
// fails, atomically, when newpath exists (os.Rename would replace a file).
func renameNoReplace(oldpath, newpath string) error {
	// MoveFileEx refuses an existing target by itself on Windows; the
	// check first is for Wine, which lets it replace a dangling symlink.
	if _, err := os.Lstat(newpath); err == nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: os.ErrExist}
	}
	err := moveFile(oldpath, newpath, 0)
	if err == nil {
		return nil
	}
	if errors.Is(err, windows.ERROR_ALREADY_EXISTS) || errors.Is(err, windows.ERROR_FILE_EXISTS) {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: os.ErrExist}
	}
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) {
		// Moving a folder onto an existing one can be refused this way;
		// report it as taken if it is.
		if _, serr := os.Lstat(newpath); serr == nil {
			return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: os.ErrExist}
		}
	}
	return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
}
