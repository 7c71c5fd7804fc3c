// Package atomicfile publishes files and folders under their final names
// only when they are complete, and never over something that exists.
//
// Work happens in a temporary beside the target (same folder, so the final
// rename is atomic), named ".NAME.dossier-tmp-RANDOM" so that a temporary
// left by a killed process is recognisable. Publishing uses
// renameat2(RENAME_NOREPLACE) where the system has it, a hard link where it
// does not, and a checked rename as the last resort.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dossier-evidence/dossier/pkg/internal/owneronly"
)

// TempMarker is part of every temporary's name.
const TempMarker = ".dossier-tmp-"

// ErrExists is returned when the final name is already taken.
var ErrExists = errors.New("atomicfile: target already exists")

// CreateTemp creates a new temporary file beside final with mode perm. A
// perm that gives a group and others nothing (0600) is also honoured where
// modes mean nothing: on Windows the file is created with an access list
// for the current user alone (package owneronly), or not at all.
func CreateTemp(final string, perm fs.FileMode) (*os.File, error) {
	dir, base := filepath.Split(final)
	if dir == "" {
		dir = "."
	}
	pattern := "." + base + TempMarker + "*"
	var f *os.File
	var err error
	if perm&0o077 == 0 {
		f, err = owneronly.CreateTemp(dir, pattern)
	} else {
		f, err = os.CreateTemp(dir, pattern)
	}
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// MkdirTemp creates a new temporary folder beside final that only the
// current user can enter: mode 0700, and on Windows an access list for the
// current user alone that what is created inside inherits.
func MkdirTemp(final string) (string, error) {
	final = filepath.Clean(final)
	dir, base := filepath.Split(final)
	if dir == "" {
		dir = "."
	}
	return owneronly.MkdirTemp(dir, "."+base+TempMarker+"*")
}

// Publish renames the temporary file or folder tmp to final, failing with
// ErrExists if final exists. For folders, an existing empty folder at final
// is replaced.
func Publish(tmp, final string) error {
	err := publishRename(tmp, final)
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		if st, serr := os.Lstat(final); serr == nil && st.IsDir() {
			if tst, terr := os.Lstat(tmp); terr == nil && tst.IsDir() {
				// An empty target folder is allowed: remove it (fails if
				// something was put in meanwhile) and try once more.
				if rerr := os.Remove(final); rerr == nil {
					if err = publishRename(tmp, final); err == nil {
						return nil
					}
					if !errors.Is(err, fs.ErrExist) {
						// Leave the target as it was: put the empty
						// folder back (unless someone else took the
						// name meanwhile).
						if os.Mkdir(final, st.Mode().Perm()) == nil {
							os.Chmod(final, st.Mode().Perm()|st.Mode()&(fs.ModeSetgid|fs.ModeSticky))
						}
					}
				}
			}
		}
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s", ErrExists, final)
		}
	}
	return err
}

// MoveAside renames the file final to a new name beside it, made as a
// temporary's name is (".NAME.dossier-tmp-old-RANDOM", so that one a
// killed process leaves behind is found by Leftovers), without replacing
// anything, and returns that name. It refuses a folder: what replaces a
// file must not take a folder's place.
func MoveAside(final string) (string, error) {
	st, err := os.Lstat(final)
	if err != nil {
		return "", err
	}
	if st.IsDir() {
		return "", fmt.Errorf("%w: %s is a folder", ErrExists, final)
	}
	dir, base := filepath.Split(filepath.Clean(final))
	for {
		var r [8]byte
		if _, err := rand.Read(r[:]); err != nil {
			return "", err
		}
		aside := filepath.Join(dir, "."+base+TempMarker+asideMarker+hex.EncodeToString(r[:]))
		err := renameNoReplace(final, aside)
		if !errors.Is(err, fs.ErrExist) {
			if err != nil {
				return "", err
			}
			return aside, nil
		}
	}
}

// asideMarker follows TempMarker in the names MoveAside makes.
const asideMarker = "old-"

// MovedAside reports whether path is a name MoveAside made, and the name
// the file had before.
func MovedAside(path string) (original string, ok bool) {
	dir, name := filepath.Split(path)
	i := strings.LastIndex(name, TempMarker)
	if i < 1 || name[0] != '.' || !strings.HasPrefix(name[i+len(TempMarker):], asideMarker) {
		return "", false
	}
	return filepath.Join(dir, name[1:i]), true
}

// IsTemp reports whether name looks like a temporary made by this package.
func IsTemp(name string) bool {
	return strings.HasPrefix(filepath.Base(name), ".") && strings.Contains(filepath.Base(name), TempMarker)
}

// Leftovers lists temporaries for final left in its folder by earlier runs
// that were killed.
func Leftovers(final string) []string {
	dir, base := filepath.Split(filepath.Clean(final))
	return LeftoversMatching(dir, func(target string) bool { return target == base })
}

// LeftoversMatching lists the temporaries in dir whose target name (NAME in
// ".NAME.dossier-tmp-RANDOM") is accepted by match.
func LeftoversMatching(dir string, match func(target string) bool) []string {
	if dir == "" {
		dir = "."
	}
	// List the folder rather than glob it: the folder's own name may hold
	// glob metacharacters ("case[2024]"), which Glob would not take
	// literally.
	entries, _ := os.ReadDir(dir)
	var matches []string
	for _, e := range entries {
		name := e.Name()
		i := strings.LastIndex(name, TempMarker)
		if i >= 1 && name[0] == '.' && match(name[1:i]) {
			matches = append(matches, filepath.Join(dir, name))
		}
	}
	return matches
}

// WriteFile writes data to a temporary beside path with mode perm, syncs
// it, and publishes it under path: without replacing an existing file
// (ErrExists) unless replace is set, in which case an existing file is
// replaced atomically. The folder is synced afterwards (see SyncDir); if
// that fails, the error says the file was written. On failure the
// temporary is removed.
func WriteFile(path string, data []byte, perm fs.FileMode, replace bool) error {
	tmp, err := CreateTemp(path, perm)
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if replace {
			err = Replace(tmp.Name(), path)
		} else {
			err = Publish(tmp.Name(), path)
		}
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	// The file is published; a file system that cannot sync folders is
	// no error (SyncDir), but a folder sync that fails is said as what it
	// is, not as a file not written.
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("%s was written, but its folder could not be synced, so it may not survive a power loss: %w", path, err)
	}
	return nil
}

// Pending is a file made before what it will hold is known, for a result
// that cannot be taken back once the work is done (a bundle sent to
// standard output, documents published): a file that cannot be written
// there (a folder without write permission, a full disk) must fail before
// the work, not after it.
type Pending struct {
	final string
	tmp   *os.File
	// says words an error for the caller (a seal, a receipt).
	says func(error) error
}

// Reserve creates the temporary for the file final, beside it, with mode
// perm, and takes room bytes of space for it. It fails with ErrExists if
// final exists; that is checked again when the file is published. Every
// error Reserve and Write return is first given to says, which words it
// for the caller's file (nil: as it is).
func Reserve(final string, perm fs.FileMode, room int, says func(error) error) (*Pending, error) {
	if says == nil {
		says = func(err error) error { return err }
	}
	if _, err := os.Lstat(final); err == nil {
		return nil, says(fmt.Errorf("%w: %s", ErrExists, final))
	}
	tmp, err := CreateTemp(final, perm)
	if err != nil {
		return nil, says(err)
	}
	p := &Pending{final: final, tmp: tmp, says: says}
	if _, err := tmp.Write(make([]byte, room)); err != nil {
		p.Abort()
		return nil, says(err)
	}
	return p, nil
}

// Write writes data into the room taken (and more if needed), syncs it,
// and publishes it under its name without replacing a file that appeared
// there meanwhile (ErrExists); then the folder is synced, as WriteFile
// does. On failure nothing is left under the name, and the temporary is
// removed.
func (p *Pending) Write(data []byte) error {
	if err := p.write(data); err != nil {
		return p.says(err)
	}
	return nil
}

func (p *Pending) write(data []byte) error {
	if p.tmp == nil {
		return fmt.Errorf("write %s: already written or abandoned", p.final)
	}
	tmp := p.tmp
	p.tmp = nil
	_, err := tmp.WriteAt(data, 0)
	if err == nil {
		err = tmp.Truncate(int64(len(data)))
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = Publish(tmp.Name(), p.final)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := syncDir(filepath.Dir(p.final)); err != nil {
		return fmt.Errorf("%s was written, but its folder could not be synced, so it may not survive a power loss: %w", p.final, err)
	}
	return nil
}

// Abort removes the temporary of a file not written. It is safe after
// Write.
func (p *Pending) Abort() {
	if p.tmp != nil {
		p.tmp.Close()
		os.Remove(p.tmp.Name())
		p.tmp = nil
	}
}
