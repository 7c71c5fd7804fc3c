//go:build !windows

package spool

import "os"

// createUnnamed makes a temporary file in dir, readable and writable by
// its owner only, and removes its name at once: the file lives while it
// is open. If the name cannot be removed it is returned, for Close.
func createUnnamed(dir string) (f *os.File, name string, err error) {
	f, err = os.CreateTemp(dir, ".dossier-spool-*")
	if err != nil {
		return nil, "", err
	}
	if err := os.Remove(f.Name()); err != nil {
		return f, f.Name(), nil
	}
	return f, "", nil
}
