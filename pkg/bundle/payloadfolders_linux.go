package bundle

import (
	"io"
	"os"
	"path"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// payloadFolders creates the payload's files under the staging folder's
// root with bare system calls, each relative to a descriptor of its
// folder, refusing links at every step (O_NOFOLLOW).
//
// The signed order keeps a folder's files together, so the folders of the
// current one's path are kept open, and moving to the next folder opens
// only the part of its path that differs. Going through os.Root, each file
// cost ten system calls: the four fcntl and the epoll_ctl with which an
// *os.File tries the poller, and a readlinkat before the time was set;
// each new folder was resolved from the root twice, a mkdirat and seven
// openat and close calls for a folder seven deep. Here a file takes
// openat, write, close and utimensat, as with tar; a new folder, mkdirat
// and openat.
type payloadFolders struct {
	root  *os.File // the staging folder
	names []string // the current folder's path under root, a name each
	fds   []int    // a descriptor of each, opened in the one before
}

func newPayloadFolders(root *os.Root) (*payloadFolders, error) {
	f, err := root.Open(".")
	if err != nil {
		return nil, err
	}
	return &payloadFolders{root: f}, nil
}

// current is the descriptor of the current folder.
func (p *payloadFolders) current() int {
	if len(p.fds) == 0 {
		return int(p.root.Fd())
	}
	return p.fds[len(p.fds)-1]
}

// enter makes dir, a slash path under the root, the folder files are
// created in, making it and the folders above it where missing.
func (p *payloadFolders) enter(dir string) error {
	names := strings.Split(dir, "/")
	same := 0
	for same < len(names) && same < len(p.names) && names[same] == p.names[same] {
		same++
	}
	p.leave(same)
	for _, name := range names[same:] {
		if err := plainName(name); err != nil {
			return err
		}
		parent := p.current()
		at := path.Join(path.Join(p.names...), name)
		err := ignoringEINTR(func() error { return unix.Mkdirat(parent, name, 0o700) })
		if err != nil && err != unix.EEXIST {
			return &os.PathError{Op: "mkdirat", Path: at, Err: err}
		}
		fd, err := openat(parent, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC)
		if err != nil {
			return &os.PathError{Op: "openat", Path: at, Err: err}
		}
		p.names, p.fds = append(p.names, name), append(p.fds, fd)
	}
	return nil
}

// leave closes the folders below the first keep of the current path.
func (p *payloadFolders) leave(keep int) {
	for _, fd := range p.fds[keep:] {
		unix.Close(fd)
	}
	p.names, p.fds = p.names[:keep], p.fds[:keep]
}

// create creates the file name in the current folder; it must not exist.
func (p *payloadFolders) create(name string) (stagedFile, error) {
	if err := plainName(name); err != nil {
		return nil, err
	}
	var fd int
	err := ignoringEINTR(func() (err error) {
		fd, err = unix.Openat(p.current(), name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		return err
	})
	if err != nil {
		return nil, &os.PathError{Op: "openat", Path: name, Err: err}
	}
	return rawFile(fd), nil
}

// setTime sets the modification (and access) time of the file name in
// the current folder, not following a link. A zero time leaves it as it
// is, as os.Chtimes does.
func (p *payloadFolders) setTime(name string, t time.Time) error {
	if err := plainName(name); err != nil {
		return err
	}
	ts := unix.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
	if t.IsZero() {
		ts = unix.Timespec{Nsec: unix.UTIME_OMIT}
	}
	err := ignoringEINTR(func() error {
		return unix.UtimesNanoAt(p.current(), name, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
	})
	if err != nil {
		return &os.PathError{Op: "utimensat", Path: name, Err: err}
	}
	return nil
}

// close closes the folders held open.
func (p *payloadFolders) close() {
	p.leave(0)
	p.root.Close()
}

// rawFile is a file written through its bare descriptor.
type rawFile int

// Write writes all of b, or fails.
func (f rawFile) Write(b []byte) (int, error) {
	done := 0
	for done < len(b) {
		n, err := unix.Write(int(f), b[done:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return done, err
		}
		if n == 0 {
			return done, io.ErrShortWrite
		}
		done += n
	}
	return done, nil
}

// Fd is the file's descriptor.
func (f rawFile) Fd() uintptr { return uintptr(f) }

// Close closes the descriptor. It is not retried on EINTR: Linux has
// closed it by then.
func (f rawFile) Close() error { return unix.Close(int(f)) }

// ignoringEINTR calls fn again for as long as it fails with EINTR.
func ignoringEINTR(fn func() error) error {
	for {
		if err := fn(); err != unix.EINTR {
			return err
		}
	}
}
