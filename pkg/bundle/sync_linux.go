package bundle

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncsEarly says that syncTree may be called while the tree is still
// being written, to start writing it to disk early: one syncfs costs
// about as much whenever it is called.
const syncsEarly = true

// syncTree makes everything written under root durable. On Linux one
// syncfs(2) of root's file system is far cheaper than an fsync per file.
func syncTree(root *os.Root) error {
	d, err := root.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	return unix.Syncfs(int(d.Fd()))
}
