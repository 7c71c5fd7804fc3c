//go:build unix

package bundle

import (
	"io/fs"
	"syscall"
)

// devIno returns the file's device and inode numbers.
func devIno(info fs.FileInfo) (uint64, uint64) {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), uint64(st.Ino)
	}
	return 0, 0
}
