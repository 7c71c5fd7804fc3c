//go:build !unix

package bundle

import "io/fs"

// mayBeUnreadable is false where permission bits do not decide who may
// read a file (Windows' access lists): pack finds an unreadable file when
// it opens it.
func mayBeUnreadable(fs.FileInfo) bool { return false }
