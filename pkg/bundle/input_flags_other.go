//go:build !unix

package bundle

import "os"

// inputOpenFlags open a file to pack.
const inputOpenFlags = os.O_RDONLY
