//go:build !windows

package atomicfile

import "os"

// Replace renames tmp to final, replacing final if it exists: atomically,
// as rename(2) does. Call SyncDir afterwards to make it durable.
func Replace(tmp, final string) error {
	return os.Rename(tmp, final)
}
