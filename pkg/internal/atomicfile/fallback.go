package atomicfile

import (
	"errors"
	"os"
)

// renameFallback publishes without RENAME_NOREPLACE: a hard link (which
// fails if newpath exists) for files, else a checked rename, which has a
// small race window that the system leaves us no way to close.
func renameFallback(oldpath, newpath string) error {
	st, err := os.Lstat(oldpath)
	if err != nil {
		return err
	}
	if st.Mode().IsRegular() {
		if err := os.Link(oldpath, newpath); err == nil {
			return os.Remove(oldpath)
		} else if errors.Is(err, os.ErrExist) {
			return err
		}
	}
	if _, err := os.Lstat(newpath); err == nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: os.ErrExist}
	}
	return os.Rename(oldpath, newpath)
}
