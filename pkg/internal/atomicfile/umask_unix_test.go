//go:build unix

package atomicfile

import (
	"syscall"
	"testing"
)

// strictUmask sets the umask to 077 for the test.
func strictUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	t.Cleanup(func() { syscall.Umask(old) })
}
