//go:build !unix

package bundle

import "os"

// openInput opens a file to pack; the caller checks it is the planned
// regular file.
func openInput(name string) (*os.File, error) {
	return os.Open(name)
}
