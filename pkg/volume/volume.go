// Package volume splits a bundle into numbered volumes for removable media
// and joins them again, checking each volume against its own seal.
//
// Volumes are plain byte ranges of the bundle named OUT.001, OUT.002, …,
// OUT.999, OUT.1000, …, so `cat OUT.[0-9][0-9][0-9] > OUT` gives the
// single-file bundle back (adding OUT.[0-9][0-9][0-9][0-9] past 999
// volumes; OUT.0* would take the seals too). Each volume has its
// own seal (OUT.001.minisig, …) stating the bundle id and "volume i of n",
// so a courier can check every stick on its own, and a reader can name the
// volume that is missing, extra, out of order or from another bundle.
package volume

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/internal/asyncw"
	"github.com/dossier-evidence/dossier/pkg/internal/filekind"
	"github.com/dossier-evidence/dossier/pkg/seal"
)

// ErrMismatch is wrapped by every error about a volume set that is not the
// one the sender sealed: a missing, extra, reordered, altered or foreign
// volume, or a seal that does not verify.
var ErrMismatch error = sentinel("seal check failed")

// ErrNotFirstVolume is wrapped by Discover's error for a path that names a
// split bundle by something other than its first volume: a later volume
// (NAME.002), or NAME itself when only the volumes exist. The caller gave
// the wrong name; nothing is wrong with the bundle.
var ErrNotFirstVolume = errors.New("not the first volume of a split bundle")

// ErrSealForSet is returned by Discover when a seal path is given for a
// volume set: each volume's seal is read from beside it.
var ErrSealForSet = errors.New("a split bundle has a seal beside each volume (NAME.001.minisig, …), not one seal given apart")

// sentinel is an error type whose IntegrityFailure method tells readers of
// a bundle that the failure is about the bundle's integrity, not about I/O.
type sentinel string

func (s sentinel) Error() string { return string(s) }

// IntegrityFailure marks ErrMismatch as an integrity failure.
func (s sentinel) IntegrityFailure() bool { return true }

// Name returns the file name of volume i (1-based) of the bundle out.
func Name(out string, i int) string {
	return fmt.Sprintf("%s.%03d", out, i)
}

// Base returns the bundle name for the name of its first volume
// ("case.dossier.001" → "case.dossier"), or "" if name is not a first
// volume.
func Base(name string) string {
	if b, ok := strings.CutSuffix(name, ".001"); ok && b != "" {
		return b
	}
	return ""
}

// Source is a bundle on disk: a single file or a set of volumes, with the
// seals found beside them.
type Source struct {
	// Paths are the bundle's files in order (one for a single file).
	Paths []string
	// Seals holds each file's seal, or nil where there is none.
	Seals []*seal.Seal
	// Split is true for a volume set.
	Split bool
}

// seal returns file i's seal, or nil.
func (s *Source) seal(i int) *seal.Seal {
	if i < len(s.Seals) {
		return s.Seals[i]
	}
	return nil
}

// Sealed reports whether every file has a seal.
func (s *Source) Sealed() bool {
	for i := range s.Paths {
		if s.seal(i) == nil {
			return false
		}
	}
	return len(s.Paths) > 0
}

// BundleID returns the bundle id the seals state ("" if unsealed).
func (s *Source) BundleID() string {
	if len(s.Seals) > 0 && s.Seals[0] != nil {
		return s.Seals[0].BundleID
	}
	return ""
}

func mismatch(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMismatch, fmt.Sprintf(format, args...))
}

// Discover finds the bundle at path. A path that names a first volume
// (NAME.001) while NAME itself does not exist is a volume set: the seal of
// the first volume says how many volumes there are, and a missing or extra
// volume is reported by name. sealPath overrides where a single file's
// seal is looked for ("" means path+".minisig").
func Discover(path, sealPath string) (*Source, error) {
	return discover(path, sealPath, readSeal)
}

// DiscoverFiles finds the files of the bundle at path as Discover does,
// without reading a seal: a single file, or the volumes NAME.001, NAME.002,
// … that exist, in order. It suits a reader of the bytes alone (such as a
// receipt's check of the bundle's digest), which a damaged or foreign seal
// beside the bundle must not stop.
func DiscoverFiles(path string) (*Source, error) {
	return discover(path, "", func(string) (*seal.Seal, error) { return nil, nil })
}

func discover(path, sealPath string, readSeal func(string) (*seal.Seal, error)) (*Source, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && exists(Name(path, 1)) {
			return nil, fmt.Errorf("%w: %s does not exist, but %s does: give the first volume", ErrNotFirstVolume, path, Name(path, 1))
		}
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a folder, not a bundle", path)
	}
	base := Base(path)
	if base != "" {
		if _, err := os.Stat(base); err == nil {
			base = "" // NAME exists: path is a file that happens to end in .001
		}
	}
	if base == "" {
		if b, i := laterVolume(path); i > 1 && !exists(b) && exists(Name(b, 1)) {
			return nil, fmt.Errorf("%w: %s is volume %d of a split bundle: give its first volume, %s", ErrNotFirstVolume, path, i, Name(b, 1))
		}
	}
	if base != "" && sealPath != "" {
		return nil, ErrSealForSet
	}
	if base == "" {
		if sealPath == "" {
			sealPath = path + seal.Ext
		}
		s, err := readSeal(sealPath)
		if err != nil {
			return nil, err
		}
		if b, i := laterVolume(path); s != nil && s.Volumes > 0 && s.Volume == 1 && i == 1 && exists(b) {
			// Not damage: a file of the set's name (a copy joined from
			// it, as the README's recipe makes) hides the set.
			return nil, fmt.Errorf("%w: %s is the first of %d volumes, but the file %s beside it hides the set (a joined copy?): read %s itself, or move it out of this folder to read the volumes", ErrNotFirstVolume, path, s.Volumes, b, b)
		}
		if s != nil && s.Volumes > 0 {
			return nil, mismatch("%s is sealed as volume %d of %d of a split bundle: give the first volume (NAME.001), with no file NAME beside it", path, s.Volume, s.Volumes)
		}
		return &Source{Paths: []string{path}, Seals: []*seal.Seal{s}}, nil
	}
	src := &Source{Split: true}
	first, err := readSeal(path + seal.Ext)
	if err != nil {
		return nil, err
	}
	n := 0
	if first != nil {
		if first.Volumes == 0 || first.Volume != 1 {
			return nil, mismatch("%s is not sealed as the first volume of a split bundle", path)
		}
		n = first.Volumes
	}
	for i := 1; ; i++ {
		name := Name(base, i)
		st, err := os.Stat(name)
		exists := err == nil
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if exists && !st.Mode().IsRegular() {
			// A folder, a device or a pipe (or a link to one) would fail
			// late, or never end: /dev/zero as a volume.
			return nil, mismatch("volume %s is %s, not a file: copy the volume itself into the folder", name, filekind.Of(st.Mode()))
		}
		switch {
		case n > 0 && i <= n && !exists:
			return nil, mismatch("volume %s is missing: the bundle has %d volumes (bring every volume into the same folder)", name, n)
		case n > 0 && i > n && exists:
			return nil, mismatch("extra volume %s: the seals say the bundle has only %d volumes (is it from another bundle?)", name, n)
		case n == 0 && !exists:
			// Without seals the count is not known: a later volume past
			// this gap means this one is missing, not that the set ends.
			for _, later := range staleVolumes(base, i) {
				if !strings.HasSuffix(later, seal.Ext) {
					return nil, mismatch("volume %s is missing (%s is there): bring every volume into the same folder", name, later)
				}
			}
			return src, nil
		case n > 0 && i > n:
			return src, nil
		}
		s, err := readSeal(name + seal.Ext)
		if err != nil {
			return nil, err
		}
		if first != nil {
			switch {
			case s == nil:
				return nil, mismatch("volume %s has no seal %s while the first volume has one", name, name+seal.Ext)
			case s.BundleID != first.BundleID:
				return nil, mismatch("volume %s belongs to bundle %s, not %s (a foreign volume)", name, s.BundleID, first.BundleID)
			case s.Volumes != n || s.Volume != i:
				return nil, mismatch("%s is sealed as volume %d of %d, not %d of %d (volumes renamed or reordered?)", name, s.Volume, s.Volumes, i, n)
			}
		}
		src.Paths = append(src.Paths, name)
		src.Seals = append(src.Seals, s)
	}
}

// exists reports whether something is at name.
func exists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

// laterVolume splits a volume name into the bundle name and the volume's
// number: "case.dossier.002" gives "case.dossier", 2. i is 0 if name is
// not a volume's name.
func laterVolume(name string) (base string, i int) {
	dot := strings.LastIndexByte(name, '.')
	num := name[dot+1:]
	if dot <= 0 || len(num) < 3 || strings.Trim(num, "0123456789") != "" {
		return "", 0
	}
	i, err := strconv.Atoi(num)
	if err != nil || Name(name[:dot], i) != name {
		return "", 0
	}
	return name[:dot], i
}

func readSeal(path string) (*seal.Seal, error) {
	s, err := seal.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return s, err
}

// VerifySeals hashes every file and checks it against its seal and the
// expected signer: the courier's check, no decryption key needed. Every
// file must be sealed. It stops with ctx's error once ctx is done.
func (s *Source) VerifySeals(ctx context.Context, signer *card.Card, progress func(n int64)) error {
	for i, p := range s.Paths {
		if s.seal(i) == nil {
			return fmt.Errorf("%w: %s has no seal (%s): ask the sender for it, or verify the contents with -i", ErrMismatch, p, p+seal.Ext)
		}
		d, err := digestFile(ctx, p, progress)
		if err != nil {
			return err
		}
		if err := s.seal(i).Verify(signer, d); err != nil {
			var ws *seal.WrongSignerError
			if errors.As(err, &ws) {
				return fmt.Errorf("%w: %s: %w", ErrMismatch, p, err)
			}
			return fmt.Errorf("%w: %s: %w; get it and its seal again from the sender", ErrMismatch, p, err)
		}
	}
	return nil
}

func digestFile(ctx context.Context, path string, progress func(int64)) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := seal.NewHasher()
	var w io.Writer = h
	if progress != nil {
		w = io.MultiWriter(h, progressWriter(progress))
	}
	if _, err := io.CopyBuffer(w, ctxReader{ctx, f}, make([]byte, 256<<10)); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return h.Sum(nil), nil
}

// ctxReader reads from r until ctx is done: a volume of gigabytes on a slow
// stick must not hold up an interrupt.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

type progressWriter func(int64)

func (p progressWriter) Write(b []byte) (int, error) { p(int64(len(b))); return len(b), nil }

// Open returns a reader of the whole bundle: the files concatenated. If
// signer is not nil and the source is sealed, each file's bytes are hashed
// as they are read and checked against its seal when the file ends, so a
// changed, swapped or foreign volume is reported by name before the next
// one is read. Hashing runs in its own goroutine.
func (s *Source) Open(signer *card.Card) *Reader {
	return &Reader{src: s, signer: signer}
}

// Reader reads a bundle from its files; see [Source.Open]. Close may be
// called while another goroutine is in Read (a decompressor reading ahead
// when its consumer gives up): it waits for that Read, and later Reads fail
// with os.ErrClosed.
type Reader struct {
	mu     sync.Mutex
	closed bool
	src    *Source
	signer *card.Card
	i      int
	f      *os.File
	cur    hash.Hash // the current file's digest
	whole  hash.Hash // the whole bundle's digest, for volume sets
	async  *asyncw.Writer
	digest []byte
	err    error
}

// Read reads the next bytes of the bundle.
func (r *Reader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, os.ErrClosed
	}
	return r.read(p)
}

func (r *Reader) read(p []byte) (int, error) {
	for r.err == nil {
		if r.f == nil {
			if r.i >= len(r.src.Paths) {
				r.err = io.EOF
				break
			}
			f, err := os.Open(r.src.Paths[r.i])
			if err != nil {
				r.err = err
				break
			}
			r.f = f
			r.cur = seal.NewHasher()
			if len(r.src.Paths) > 1 && r.whole == nil {
				r.whole = seal.NewHasher()
			}
			if r.whole != nil {
				r.async = asyncw.NewHasher(r.cur, r.whole)
			} else {
				r.async = asyncw.NewHasher(r.cur)
			}
		}
		n, err := r.f.Read(p)
		r.async.Write(p[:n])
		if err == io.EOF {
			r.f.Close()
			r.f = nil
			r.async.Finish()
			r.async = nil
			if verr := r.check(); verr != nil {
				r.err = verr
				return n, r.err
			}
			if r.whole == nil {
				r.digest = r.cur.Sum(nil)
			}
			r.i++
			if r.i == len(r.src.Paths) && r.whole != nil {
				r.digest = r.whole.Sum(nil)
			}
			if n > 0 {
				return n, nil
			}
			continue
		}
		if err != nil {
			r.err = fmt.Errorf("read %s: %w", r.src.Paths[r.i], err)
		}
		return n, err
	}
	return 0, r.err
}

// Digest returns the BLAKE2b-512 of the whole bundle once every file has
// been read to its end, or nil before.
func (r *Reader) Digest() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.digest
}

func (r *Reader) check() error {
	s := r.src.seal(r.i)
	if r.signer == nil || s == nil {
		return nil
	}
	if err := s.Verify(r.signer, r.cur.Sum(nil)); err != nil {
		what := "the bundle"
		if r.src.Split {
			what = "volume " + strconv.Itoa(r.i+1)
		}
		var ws *seal.WrongSignerError
		if errors.As(err, &ws) {
			return fmt.Errorf("%w: %s was sealed by the key %s, but --from names %s: check who sent it", ErrMismatch, r.src.Paths[r.i], ws.StatedShort(), ws.Expected.Label())
		}
		return fmt.Errorf("%w: %s (%s) does not match its seal: %w; get it and its seal again from the sender", ErrMismatch, r.src.Paths[r.i], what, err)
	}
	return nil
}

// Close closes the file being read and stops the hashing goroutine.
func (r *Reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	if r.async != nil {
		r.async.Finish()
		r.async = nil
	}
	if r.f != nil {
		return r.f.Close()
	}
	return nil
}

// IsVolumeSet reports whether data at path would be read as a volume set.
func IsVolumeSet(path string) bool {
	b := Base(path)
	if b == "" {
		return false
	}
	_, err := os.Stat(b)
	return err != nil
}

// ReaderAt opens every file of the source for random access, as one
// stream (volumes back to back). Close the returned closer when done.
func (s *Source) ReaderAt() (io.ReaderAt, int64, io.Closer, error) {
	m := &multiReaderAt{}
	for _, p := range s.Paths {
		f, err := os.Open(p)
		if err != nil {
			m.Close()
			return nil, 0, nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			m.Close()
			return nil, 0, nil, err
		}
		m.files = append(m.files, f)
		m.starts = append(m.starts, m.size)
		m.size += st.Size()
	}
	return m, m.size, m, nil
}

// multiReaderAt reads files back to back as one.
type multiReaderAt struct {
	files  []*os.File
	starts []int64
	size   int64
}

func (m *multiReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("volume: negative offset")
	}
	n := 0
	for len(p) > 0 {
		if off >= m.size {
			return n, io.EOF
		}
		i := len(m.starts) - 1
		for i > 0 && m.starts[i] > off {
			i--
		}
		end := m.size
		if i+1 < len(m.starts) {
			end = m.starts[i+1]
		}
		chunk := p
		if int64(len(chunk)) > end-off {
			chunk = chunk[:end-off]
		}
		k, err := m.files[i].ReadAt(chunk, off-m.starts[i])
		n += k
		off += int64(k)
		p = p[k:]
		if err != nil && !(err == io.EOF && k == len(chunk)) {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return n, err
		}
	}
	return n, nil
}

func (m *multiReaderAt) Close() error {
	for _, f := range m.files {
		f.Close()
	}
	return nil
}
