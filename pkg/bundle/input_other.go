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

// inputOpener opens the files of a plan. A file found in a folder pack
// was given is opened through an os.Root on that folder, which refuses a
// path that leaves it, so that a subfolder swapped for a symbolic link to
// somewhere else since planning is refused rather than read. Unlike the
// Linux opener it follows a link that stays inside the folder, and
// os.OpenRoot follows one in the given folder's own path; only files
// with the planned size and time (and, where the system has them, device
// and inode) are packed either way.
type inputOpener struct {
	roots []string
	cur   *os.Root
	curAt uint16
}

func newInputOpener(roots []string) *inputOpener { return &inputOpener{roots: roots} }

// open opens in's file, as openInput does.
func (o *inputOpener) open(in *Input) (*inputFile, error) {
	rel, root, ok := in.below()
	if !ok || int(root) > len(o.roots) {
		return openInput(in.Source())
	}
	if o.cur == nil || o.curAt != root {
		o.close()
		r, err := os.OpenRoot(o.roots[root-1])
		if err != nil {
			return nil, err
		}
		o.cur, o.curAt = r, root
	}
	f, err := o.cur.OpenFile(rel, inputOpenFlags, 0)
	if err != nil {
		return nil, err
	}
	return &inputFile{f}, nil
}

// close lets the folder's handle go.
func (o *inputOpener) close() {
	if o.cur != nil {
		o.cur.Close()
		o.cur = nil
	}
}
