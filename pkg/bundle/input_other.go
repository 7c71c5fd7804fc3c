//go:build !linux

package bundle

import "os"

// inputFile is a file opened for packing.
type inputFile struct{ *os.File }

// openInput opens a file to pack (on Unix without following a symbolic
// link in its last component and without blocking on a FIFO or device
// swapped in since the plan was made: inputOpenFlags); the caller then
// checks it is the planned regular file.
func openInput(name string) (*inputFile, error) {
	f, err := os.OpenFile(name, inputOpenFlags, 0)
	if err != nil {
		return nil, err
	}
	return &inputFile{f}, nil
}

// stat reports whether the open file is a regular file, and its identity
// now, as [idOf] gives it for the planned one.
func (f *inputFile) stat() (bool, fileID, error) {
	info, err := f.Stat()
	if err != nil {
		return false, fileID{}, err
	}
	return info.Mode().IsRegular(), idOf(info), nil
}
