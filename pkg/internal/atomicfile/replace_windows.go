package atomicfile

import (
	"os"

	"golang.org/x/sys/windows"
)

// Replace renames tmp to final, replacing final if it exists: the rename
// os.Rename makes (MOVEFILE_REPLACE_EXISTING), asking for write-through
// (see moveFile), since a folder cannot be flushed on Windows.
func Replace(tmp, final string) error {
	if err := moveFile(tmp, final, windows.MOVEFILE_REPLACE_EXISTING); err != nil {
		return &os.LinkError{Op: "rename", Old: tmp, New: final, Err: err}
	}
	return nil
}
