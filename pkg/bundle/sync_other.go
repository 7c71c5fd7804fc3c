//go:build !linux && !windows

package bundle

import (
	"io/fs"
	"os"
	"path/filepath"
)

// syncTree makes everything written under dir durable, one fsync per file
// and folder.
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Sync()
	})
}
