//go:build unix

package atomicfile

import (
	"errors"
	"io/fs"
	"syscall"
	"testing"
)

// The errors of a file system that cannot sync folders are told apart from
// a sync that failed.
func TestCannotSyncFolders(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&fs.PathError{Op: "sync", Path: "d", Err: syscall.EINVAL}, true},
		{&fs.PathError{Op: "sync", Path: "d", Err: syscall.ENOTSUP}, true},
		{errors.ErrUnsupported, true},
		{&fs.PathError{Op: "sync", Path: "d", Err: syscall.EIO}, false},
		{&fs.PathError{Op: "sync", Path: "d", Err: syscall.ENOSPC}, false},
	} {
		if got := cannotSyncFolders(tt.err); got != tt.want {
			t.Errorf("cannotSyncFolders(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
