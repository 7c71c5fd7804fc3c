//go:build !linux && !windows

package bundle

import (
	"io/fs"
	"os"
	"path/filepath"
)

// syncsEarly is false: syncTree syncs each file, so calling it while the
// tree is still being written would sync the first files again and again.
const syncsEarly = false

// syncTree makes everything written under root durable, one fsync per file
// and folder.
func syncTree(root *os.Root) error {
	return fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		f, err := root.Open(filepath.FromSlash(p))
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Sync()
	})
}
