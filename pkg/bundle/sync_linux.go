package bundle

import (
	"os"

	"golang.org/x/sys/unix"
)

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
