package atomicfile

import (
	"os"

	"golang.org/x/sys/windows"

	"github.com/dossier-evidence/dossier/pkg/internal/winpath"
)

// Replace renames tmp to final, replacing final if it exists, with
// MoveFileEx(MOVEFILE_REPLACE_EXISTING|MOVEFILE_WRITE_THROUGH): the same
// rename os.Rename makes, asking the system to finish it on disk before
// returning, since a folder cannot be flushed on Windows.
func Replace(tmp, final string) error {
	from, err := windows.UTF16PtrFromString(winpath.Long(tmp))
	if err != nil {
		return &os.LinkError{Op: "rename", Old: tmp, New: final, Err: err}
	}
	to, err := windows.UTF16PtrFromString(winpath.Long(final))
	if err != nil {
		return &os.LinkError{Op: "rename", Old: tmp, New: final, Err: err}
	}
	if err := windows.MoveFileEx(from, to, windows.MOVEFILE_REPLACE_EXISTING|windows.MOVEFILE_WRITE_THROUGH); err != nil {
		return &os.LinkError{Op: "rename", Old: tmp, New: final, Err: err}
	}
	return nil
}
