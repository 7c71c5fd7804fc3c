// Package removeall removes a folder tree, falling back to one os.Remove
// per entry when os.RemoveAll fails.
//
// The fallback exists for Windows systems that lack the
// FileDispositionInformationEx class that os.RemoveAll relies on since
// Go 1.25 (Wine 8, notably, answers "Invalid function"); os.Remove there
// uses DeleteFile and RemoveDirectory, which every Windows has.
package removeall

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// RemoveAll removes path and everything under it, like os.RemoveAll.
func RemoveAll(path string) error {
	err := os.RemoveAll(path)
	if err == nil {
		return nil
	}
	var entries []string
	walkErr := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		entries = append(entries, p)
		return nil
	})
	if walkErr != nil {
		if errors.Is(walkErr, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	// Deepest first: WalkDir lists a folder before what it holds.
	for _, p := range slices.Backward(entries) {
		if rerr := os.Remove(p); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return rerr
		}
	}
	return nil
}
