//go:build !windows

package owneronly

import (
	"fmt"
	"os"
)

// CreateTemp is os.CreateTemp, with the file's mode set to 0600.
func CreateTemp(dir, pattern string) (*os.File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("%w: %s: %w", ErrNotRestricted, f.Name(), err)
	}
	return f, nil
}

// MkdirTemp is os.MkdirTemp, which already creates the folder with mode
// 0700.
func MkdirTemp(dir, pattern string) (string, error) {
	return os.MkdirTemp(dir, pattern)
}

// Check reports (wrapping ErrNotRestricted) whether a group or others have
// any access to path.
func Check(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o", ErrNotRestricted, path, perm)
	}
	return nil
}
