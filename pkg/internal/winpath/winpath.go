// Package winpath prepares paths for direct Windows API calls.
//
// The os package lets paths of 260 characters and more through to Windows
// by giving them the \\?\ prefix; code that calls CreateFile, MoveFileEx
// or GetNamedSecurityInfo itself must do the same, or fail on long paths
// where os would not (unless the system has long paths enabled).
package winpath

import (
	"path/filepath"
	"strings"
)

// maxShort is the longest path given to Windows as it is: MAX_PATH (260)
// less room for an 8.3 name, as CreateDirectory requires (248).
const maxShort = 247

// Long returns p in the \\?\ form when it is too long for the plain form,
// and p itself otherwise or when it cannot be made absolute.
func Long(p string) string {
	if len(p) <= maxShort || strings.HasPrefix(p, `\\?\`) {
		return p
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	abs = strings.ReplaceAll(abs, "/", `\`)
	if strings.HasPrefix(abs, `\\`) { // \\server\share\... (UNC)
		return `\\?\UNC\` + abs[2:]
	}
	return `\\?\` + abs
}
