package volume

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dossier-evidence/dossier/pkg/internal/asyncw"
	"github.com/dossier-evidence/dossier/pkg/internal/atomicfile"
	"github.com/dossier-evidence/dossier/pkg/internal/filelock"
	"github.com/dossier-evidence/dossier/pkg/internal/writeback"
	"github.com/dossier-evidence/dossier/pkg/seal"
)

// ErrExists is returned when an output file (or a stale volume) exists.
var ErrExists = errors.New("the output exists")

// Writer writes a bundle to temporaries beside out, as one file or split
// into volumes of at most Split bytes, hashing each file for its seal.
// Nothing appears under a final name until [Writer.Publish].
type Writer struct {
	out       string
	split     int64
	overwrite bool
	files     []*os.File
	hashes    []hash.Hash
	whole     hash.Hash      // the whole bundle's digest, when split
	async     *asyncw.Writer // hashes the current volume
	disk      *asyncw.Writer // writes the current volume
	cur       int64
	err       error
}

// NewWriter prepares to write the bundle out; split > 0 cuts it into
// volumes out.001, out.002, … of split bytes (the last may be shorter).
// Unless overwrite is set, every name it would publish must be free now
// (checked again when publishing).
func NewWriter(out string, split int64, overwrite bool) (*Writer, error) {
	w := &Writer{out: out, split: split, overwrite: overwrite}
	if split > 0 {
		w.whole = seal.NewHasher()
	}
	if split == 0 {
		for _, p := range []string{out, out + seal.Ext} {
			if err := w.free(p); err != nil {
				return nil, err
			}
		}
		// Even with overwrite, as for a split beside a single file: the
		// file would hide the set (its first volume then reads as a file
		// that happens to end in .001), and travel with it. An existing
		// file of that name (one joined from the set) hides it already:
		// replacing it with overwrite changes nothing there.
		if _, err := os.Lstat(Name(out, 1)); err == nil && !exists(out) {
			return nil, fmt.Errorf("%w: %s is the first volume of an earlier split bundle of that name, which a single file %s would hide; remove the volumes or choose another name", ErrExists, Name(out, 1), out)
		}
	} else {
		if err := w.free(Name(out, 1)); err != nil {
			return nil, err
		}
		if _, err := os.Lstat(out); err == nil {
			return nil, fmt.Errorf("%w: %s (a single-file bundle of that name would hide the volumes; remove it or choose another name)", ErrExists, out)
		}
		// Any other volume of that name is refused when publishing, after
		// all the work: as a name taken, as a folder (which --force does
		// not replace), or as a stale volume past the new set's last.
		// Without --force every one would be; with it, a folder would.
		for _, p := range staleVolumes(out, 0) {
			if st, err := os.Lstat(p); err == nil && st.IsDir() {
				return nil, folderError(p)
			} else if err == nil && !overwrite {
				return nil, fmt.Errorf("%w: %s, from an earlier bundle of that name (choose another name, or remove the earlier volumes; --force replaces only those the new set writes)", ErrExists, p)
			}
		}
	}
	return w, nil
}

// free checks that the name p may be published: free, or (with
// overwrite) a file.
func (w *Writer) free(p string) error {
	st, err := os.Lstat(p)
	switch {
	case err == nil && st.IsDir():
		return folderError(p)
	case err == nil && !w.overwrite:
		return fmt.Errorf("%w: %s (choose another name, or pass --force to replace it)", ErrExists, p)
	case err != nil && !errors.Is(err, fs.ErrNotExist) && !w.overwrite:
		return err
	}
	return nil
}

// folderError refuses the folder p as a name to publish.
func folderError(p string) error {
	return fmt.Errorf("%w: %s is a folder (choose another name: --force replaces files, never a folder)", ErrExists, p)
}

func (w *Writer) finalName(i int) string {
	if w.split == 0 {
		return w.out
	}
	return Name(w.out, i+1)
}

func (w *Writer) next() error {
	f, err := atomicfile.CreateTemp(w.finalName(len(w.files)), 0o644)
	if err != nil {
		return fmt.Errorf("create output: %w", err)
	}
	if err := w.finishCurrent(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	w.files = append(w.files, f)
	w.disk = asyncw.NewWriter(writeback.New(f))
	h := seal.NewHasher()
	w.hashes = append(w.hashes, h)
	if w.whole != nil {
		w.async = asyncw.NewHasher(h, w.whole)
	} else {
		w.async = asyncw.NewHasher(h)
	}
	w.cur = 0
	return nil
}

// finishCurrent waits until the current volume's bytes are written and
// hashed, and returns the first write error.
func (w *Writer) finishCurrent() error {
	var err error
	if w.disk != nil {
		if err = w.disk.Finish(); err != nil {
			err = fmt.Errorf("write %s: %w", w.finalName(len(w.files)-1), err)
		}
		w.disk = nil
	}
	if w.async != nil {
		w.async.Finish()
		w.async = nil
	}
	return err
}

// Write writes bundle bytes, starting a new volume when one is full.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	written := 0
	for len(p) > 0 {
		if len(w.files) == 0 || (w.split > 0 && w.cur == w.split) {
			if w.err = w.next(); w.err != nil {
				return written, w.err
			}
		}
		chunk := p
		if w.split > 0 && int64(len(chunk)) > w.split-w.cur {
			chunk = chunk[:w.split-w.cur]
		}
		n, err := w.disk.Write(chunk)
		w.async.Write(chunk[:n])
		w.cur += int64(n)
		written += n
		if err != nil {
			w.err = fmt.Errorf("write %s: %w", w.finalName(len(w.files)-1), err)
			return written, w.err
		}
		p = p[n:]
	}
	return written, nil
}

// Sealer makes the seal of file i (0-based) of n from its digest.
type Sealer func(i, n int, digest []byte) ([]byte, error)

// Publish syncs and closes every file, writes their seals, and renames
// everything to its final name without replacing anything (unless
// overwrite). It returns the published bundle files in order. On failure
// nothing is left under a final name that this call created.
func (w *Writer) Publish(sealer Sealer) ([]string, error) {
	return w.PublishContext(context.Background(), sealer)
}

// PublishContext is Publish that publishes nothing if ctx is done once the
// files are synced and sealed (syncing a bundle to a slow USB stick can
// take minutes): it then removes its temporaries and returns ctx's error.
func (w *Writer) PublishContext(ctx context.Context, sealer Sealer) ([]string, error) {
	if w.err != nil {
		return nil, w.err
	}
	if len(w.files) == 0 {
		if err := w.next(); err != nil {
			return nil, err
		}
	}
	if err := w.finishCurrent(); err != nil {
		w.err = err
		return nil, err
	}
	n := len(w.files)
	// Checked before the files are synced (minutes on a USB stick), and
	// again once no other pack can be publishing beside them.
	if err := w.checkNoStaleVolumes(n); err != nil {
		return nil, err
	}
	type pub struct{ tmp, final string }
	var toPublish []pub
	var sealTemps []string
	fail := func(err error) ([]string, error) {
		for _, t := range sealTemps {
			os.Remove(t)
		}
		return nil, err
	}
	for i, f := range w.files {
		// A sync a volume, each seconds on a slow stick: a Ctrl-C is
		// heard between them (found by an audit: after all of them).
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		if err := f.Sync(); err != nil {
			return fail(fmt.Errorf("write %s: %w", w.finalName(i), err))
		}
		if err := f.Close(); err != nil {
			return fail(fmt.Errorf("write %s: %w", w.finalName(i), err))
		}
		toPublish = append(toPublish, pub{f.Name(), w.finalName(i)})
		if sealer == nil {
			continue
		}
		data, err := sealer(i, n, w.hashes[i].Sum(nil))
		if err != nil {
			return fail(err)
		}
		st, err := atomicfile.CreateTemp(w.finalName(i)+seal.Ext, 0o644)
		if err != nil {
			return fail(fmt.Errorf("write seal: %w", err))
		}
		sealTemps = append(sealTemps, st.Name())
		_, err = st.Write(data)
		if err == nil {
			err = st.Sync()
		}
		if cerr := st.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fail(fmt.Errorf("write seal: %w", err))
		}
		toPublish = append(toPublish, pub{st.Name(), w.finalName(i) + seal.Ext})
	}
	w.files = nil
	// Another pack publishing the same names at the same time (two
	// --force runs) must not interleave with this one, leaving one's
	// bundle with the other's seal: the names are changed under the
	// folder's lock.
	unlock, err := filelock.LockFolder(ctx, filepath.Dir(w.out), folderLockPatience)
	if err == nil {
		defer unlock()
		if err = ctx.Err(); err == nil {
			err = w.checkNoStaleVolumes(n)
		}
	}
	if err != nil {
		for _, q := range toPublish {
			os.Remove(q.tmp)
		}
		return nil, err
	}
	// With overwrite, existing files are first moved aside (to a name
	// nothing has, made as a temporary's is, so that a run killed before
	// removing them leaves them to be reported), so that a failure
	// half-way can put the old bundle back instead of leaving a mix of old
	// and new files.
	type aside struct{ final, backup string }
	var moved []aside
	var done []string
	undo := func() {
		for _, d := range done {
			os.Remove(d)
		}
		for _, q := range toPublish {
			os.Remove(q.tmp)
		}
		for _, m := range moved {
			os.Rename(m.backup, m.final)
		}
	}
	for _, p := range toPublish {
		var err error
		if w.overwrite {
			if _, serr := os.Lstat(p.final); serr == nil {
				var backup string
				if backup, err = atomicfile.MoveAside(p.final); err == nil {
					moved = append(moved, aside{p.final, backup})
				}
			}
			if err == nil {
				err = atomicfile.Replace(p.tmp, p.final)
			}
		} else {
			err = atomicfile.Publish(p.tmp, p.final)
		}
		if err != nil {
			undo()
			if errors.Is(err, atomicfile.ErrExists) {
				if w.overwrite {
					return nil, fmt.Errorf("%w (nothing was replaced)", folderError(p.final))
				}
				return nil, fmt.Errorf("%w: %s (nothing was replaced; choose another name, or pass --force)", ErrExists, p.final)
			}
			return nil, err
		}
		done = append(done, p.final)
	}
	for _, m := range moved {
		os.Remove(m.backup)
	}
	atomicfile.SyncDir(filepath.Dir(w.out))
	var paths []string
	for i := 0; i < n; i++ {
		paths = append(paths, w.finalName(i))
	}
	return paths, nil
}

// folderLockPatience is how long Publish waits for another process's lock
// on the output folder (another pack putting its files in place takes
// milliseconds) before it goes on without it.
const folderLockPatience = 10 * time.Second

// ExistingVolumes returns the files and folders beside out named as its
// volumes or their seals (OUT.001, OUT.002.minisig, …, in any case): the
// names a split pack of out may replace with overwrite.
func ExistingVolumes(out string) []string { return staleVolumes(out, 0) }

// checkNoStaleVolumes refuses to publish a set of n volumes beside files
// that would be taken for part of it.
func (w *Writer) checkNoStaleVolumes(n int) error {
	if w.split == 0 {
		return nil
	}
	// Even with overwrite: a stale volume past the last one, or a
	// single-file bundle of the same name, would make the new set
	// unreadable, and deleting files this run did not write is not
	// pack's business.
	if _, err := os.Lstat(w.out); err == nil {
		return fmt.Errorf("%w: %s is left from an earlier bundle and would be taken for part of this one; remove it and pack again", ErrExists, w.out)
	}
	// Every later volume, not only the next: one left past a gap
	// would travel with the new set (a courier copies OUT.*).
	if stale := staleVolumes(w.out, n); len(stale) > 0 {
		return fmt.Errorf("%w: %s left from an earlier bundle would be taken for part of this one, or travel with it; remove them and pack again", ErrExists, strings.Join(stale, ", "))
	}
	return nil
}

// Abort removes every temporary. It is safe after Publish.
func (w *Writer) Abort() {
	w.finishCurrent()
	for _, f := range w.files {
		f.Close()
		os.Remove(f.Name())
	}
	w.files = nil
}

// Digest returns the BLAKE2b-512 of everything written: the whole bundle,
// all volumes in order.
func (w *Writer) Digest() []byte {
	w.finishCurrent()
	if w.whole != nil {
		return w.whole.Sum(nil)
	}
	if len(w.hashes) == 0 {
		return seal.NewHasher().Sum(nil)
	}
	return w.hashes[0].Sum(nil)
}

// staleVolumes lists the files named as volumes of out past the n-th
// (OUT.NNN with three or more digits and a number above n), and their
// seals, in name order. On a file system that ignores case (macOS,
// Windows) that includes a name spelled in another case (case.dossier.004
// for Case.dossier), which opening OUT.004 would open.
func staleVolumes(out string, n int) []string {
	dir, base := filepath.Split(out)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		// A folder that cannot be listed: at least the next volume.
		if _, err := os.Lstat(Name(out, n+1)); err == nil {
			return []string{Name(out, n+1)}
		}
		return nil
	}
	var stale []string
	for _, e := range entries {
		name := e.Name()
		if len(name) <= len(base) || name[len(base)] != '.' || !strings.EqualFold(name[:len(base)], base) {
			continue
		}
		num, sealed := cutSuffixFold(name[len(base)+1:], seal.Ext)
		if len(num) < 3 || strings.Trim(num, "0123456789") != "" {
			continue
		}
		if i, err := strconv.Atoi(num); err != nil || i <= n {
			continue
		}
		path := filepath.Join(filepath.Dir(out), name)
		want := base + "." + num
		if sealed {
			want += seal.Ext
		}
		// Spelled in another case, it is stale only if the file system
		// finds it under this bundle's spelling.
		if name != want && !sameFile(path, filepath.Join(filepath.Dir(out), want)) {
			continue
		}
		stale = append(stale, path)
	}
	return stale
}

// cutSuffixFold is strings.CutSuffix ignoring ASCII case.
func cutSuffixFold(s, suffix string) (string, bool) {
	if len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix) {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}

// sameFile reports whether the names a and b both exist and are one file.
func sameFile(a, b string) bool {
	sa, err := os.Lstat(a)
	if err != nil {
		return false
	}
	sb, err := os.Lstat(b)
	return err == nil && os.SameFile(sa, sb)
}
