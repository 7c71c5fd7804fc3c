package bundle

import (
	"io/fs"
	"os"
	"path/filepath"
)

// syncsEarly is false: syncTree syncs each file, so calling it while the
// tree is still being written would sync the first files again and again.
const syncsEarly = false

// syncTree makes everything written under root durable: FlushFileBuffers
// on each file, which Windows grants only to a handle opened for writing.
// Folders cannot be flushed on Windows; the rename that publishes the tree
// is made with MOVEFILE_WRITE_THROUGH instead.
func syncTree(root *os.Root) error {
	return fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		f, err := root.OpenFile(filepath.FromSlash(p), os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Sync()
	})
}
