package writeback

import "golang.org/x/sys/unix"

// start asks the kernel to start writing n bytes of f from off to disk,
// without waiting for them. It is advice: an error changes nothing, as the
// fsync that follows writes whatever is left.
func start(f Target, off, n int64) {
	unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
