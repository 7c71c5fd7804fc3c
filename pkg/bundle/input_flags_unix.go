//go:build unix && !linux

package bundle

import (
	"os"
	"syscall"
)

// inputOpenFlags open a file to pack without following a symbolic link in
// its last component and without blocking on a FIFO or device swapped in
// since the plan was made. O_NONBLOCK has no effect on reads of regular
// files.
const inputOpenFlags = os.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_NONBLOCK
