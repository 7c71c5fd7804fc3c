//go:build unix

package bundle

import (
	"os"
	"syscall"
)

// openInput opens a file to pack without following a symbolic link in its
// last component and without blocking on a FIFO or device swapped in since
// the plan was made; the caller then checks it is the planned regular file.
// O_NONBLOCK has no effect on reads of regular files.
func openInput(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
}
