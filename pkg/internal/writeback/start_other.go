//go:build !linux

package writeback

// start does nothing where there is no sync_file_range(2): the fsync that
// follows writes everything.
func start(f Target, off, n int64) {}
