//go:build !linux

package bundle

import (
	"math"
	"os"
	"strings"
	"time"
)

// payloadFolders creates the payload's files under the staging folder's
// root, one folder at a time: the signed order keeps a folder's files
// together, so each folder is resolved once for all of them.
type payloadFolders struct {
	root *os.Root
	dir  *os.Root // the current folder
	name string   // its slash path under root
}

func newPayloadFolders(root *os.Root) (*payloadFolders, error) {
	return &payloadFolders{root: root}, nil
}

// enter makes dir, a slash path under the root, the folder files are
// created in, making it and the folders above it where missing.
func (p *payloadFolders) enter(dir string) error {
	if p.dir != nil && dir == p.name {
		return nil
	}
	p.close()
	for _, name := range strings.Split(dir, "/") {
		if err := plainName(name); err != nil {
			return err
		}
	}
	if err := p.root.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	d, err := p.root.OpenRoot(dir)
	if err != nil {
		return err
	}
	p.dir, p.name = d, dir
	return nil
}

// create creates the file name in the current folder; it must not exist.
func (p *payloadFolders) create(name string) (stagedFile, error) {
	if err := plainName(name); err != nil {
		return nil, err
	}
	return p.dir.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
}

// setTime sets the modification time of the file name in the current
// folder, not following a link. Chtimes takes times in nanoseconds since
// 1970 as an int64, so a time outside 1678–2262 is set to the nearest it
// can take, rather than wrapped around (the year 3000 was the year 1901).
func (p *payloadFolders) setTime(name string, t time.Time) error {
	if err := plainName(name); err != nil {
		return err
	}
	if lo, hi := time.Unix(0, math.MinInt64+1), time.Unix(0, math.MaxInt64); !t.IsZero() && t.Before(lo) {
		t = lo
	} else if t.After(hi) {
		t = hi
	}
	return p.dir.Chtimes(name, t, t)
}

// close closes the folders held open.
func (p *payloadFolders) close() {
	if p.dir != nil {
		p.dir.Close()
		p.dir, p.name = nil, ""
	}
}
