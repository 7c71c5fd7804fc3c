package bundle

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncTree makes everything written under dir durable. On Linux one
// syncfs(2) of dir's file system is far cheaper than an fsync per file.
func syncTree(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return unix.Syncfs(int(d.Fd()))
}
