package bundle

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/internal/safepath"
	"github.com/dossier-evidence/dossier/pkg/internal/spool"
	"github.com/dossier-evidence/dossier/pkg/manifest"
)

// SpoolPlan is MakePlanContext for a plan that keeps its file list not in
// memory but in an encrypted temporary file in dir (the system's
// temporary folder if dir is ""), which Close removes. Its Files is nil;
// Len and Each give the files (Each reads the file), Summary and
// CheckPreambleSize use totals kept while planning. Pack reads the list
// six times (to check the preamble, hash it, write it, pack the files,
// and hash and write the manifest), keeping the files' SHA-256s and
// offsets in a second such file. A plan in memory holds some 165 bytes a
// file (25 MB at 148,890 files); a spooled one holds none. What grows
// with the files is a 64-bit hash of each path and folder (some 20 bytes
// a path and a folder), kept to find colliding names while MakePlan
// walks the folders, and again while Pack checks the preamble.
//
// The plan must be closed when it is no longer used, also when it comes
// with an *UnlabelledError, and not while a Pack of it runs. A copy of
// the Plan value shares the file: closing one closes both.
func SpoolPlan(ctx context.Context, dir string, paths []string, rules category.Rules, defaults []category.ID, exclude ...string) (*Plan, error) {
	s, err := spool.New(dir)
	if err != nil {
		return nil, spoolError("plan", "the file list", dir, err)
	}
	ps := &plannedSpool{s: s, dir: dir, paths: safepath.NewSpellingChecker(maxPlanFolders)}
	plan, err := makePlan(ctx, ps, paths, rules, defaults, exclude...)
	if plan == nil {
		s.Close()
	}
	return plan, err
}

// plannedSpool holds a spooled plan's inputs on disk, one record each.
type plannedSpool struct {
	s   *spool.Spool
	dir string
	// n is the number of records written; found, of files planned,
	// which is more once it passes the limit (maxPlanFiles): the walk
	// goes on, to find what a plan in memory would report first, but
	// the spool does not grow.
	n, found int
	// shared are the origins shared by the files of a folder (see
	// folderOrigins), which a record names by origin.ref.
	shared []*origin
	tally  manifest.Tally
	// preambleLen is the length of the entries in a preamble's list and
	// their commas.
	preambleLen int
	// paths finds colliding names, and counts folders, as the walk
	// meets them; once a pair may collide, MakePlan reads the list back
	// to say which, and once the folders pass the limit, it says so, at
	// the point where a plan in memory checks both.
	paths          *safepath.CollisionChecker
	mayCollide     bool
	tooManyFolders bool
	rec            []byte
}

// maxRecordString bounds a string read back from the spool (a path).
const maxRecordString = 1 << 20

// add writes in to the spool.
func (ps *plannedSpool) add(in *Input) error {
	f := in.File
	if ps.found++; ps.found > maxPlanFiles {
		return nil // refused at the walk's end
	}
	if ps.paths != nil {
		err := ps.paths.Add(f.Path)
		switch {
		case errors.Is(err, safepath.ErrTooManyFolders):
			ps.tooManyFolders, ps.paths = true, nil
		case err != nil:
			ps.mayCollide, ps.paths = true, nil // the list is read back to say which
		}
	}
	b := ps.rec[:0]
	o := in.from
	if o.own {
		b = append(b, 0)
		b = appendRecordString(b, o.path)
		b = binary.AppendUvarint(b, uint64(o.cut))
		b = binary.AppendUvarint(b, uint64(o.root))
		b = binary.AppendUvarint(b, o.dev)
	} else {
		if o.ref == 0 {
			ps.shared = append(ps.shared, o)
			o.ref = uint32(len(ps.shared))
		}
		b = binary.AppendUvarint(b, uint64(o.ref))
	}
	b = appendRecordString(b, f.Path)
	b = binary.AppendVarint(b, f.Size)
	b = binary.AppendUvarint(b, uint64(f.Mode))
	b = binary.AppendVarint(b, int64(f.MTime))
	b = append(b, byte(f.Categories))
	b = binary.AppendVarint(b, in.mtime)
	b = binary.AppendUvarint(b, in.ino)
	ps.rec = b
	if _, err := ps.s.Write(b); err != nil {
		return fmt.Errorf("plan: keep the file list on disk: %w", err)
	}
	ps.n++
	ps.tally.Add(f)
	ps.preambleLen += f.PreambleLen() + 1
	return nil
}

// spoolError says that the temporary file to keep what in could not be
// made, and where.
func spoolError(op, what, dir string, err error) error {
	if dir == "" {
		dir = os.TempDir() + " (the temporary folder)"
	}
	return fmt.Errorf("%s: cannot make the temporary file that keeps %s, in %s: %w", op, what, dir, err)
}

func appendRecordString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// each calls fn with each input in order. The Input, its File and its
// origin are reused: valid only during the call.
func (ps *plannedSpool) each(ctx context.Context, fn func(in *Input) error) error {
	r, err := ps.s.Reader()
	if err != nil {
		return fmt.Errorf("read the plan's file list: %w", err)
	}
	var (
		in   Input
		f    manifest.File
		own  origin
		rerr error
		buf  []byte // a string's bytes, copied once into the string
	)
	uvarint := func() uint64 {
		if rerr != nil {
			return 0
		}
		v, err := binary.ReadUvarint(r)
		rerr = err
		return v
	}
	varint := func() int64 {
		if rerr != nil {
			return 0
		}
		v, err := binary.ReadVarint(r)
		rerr = err
		return v
	}
	str := func() string {
		n := uvarint()
		if rerr != nil {
			return ""
		}
		if n > maxRecordString {
			rerr = errors.New("a record is malformed")
			return ""
		}
		buf = slices.Grow(buf[:0], int(n))[:n]
		_, rerr = io.ReadFull(r, buf)
		return string(buf)
	}
	for i := 0; i < ps.n; i++ {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		in = Input{File: &f}
		if ref := uvarint(); ref == 0 {
			own = origin{own: true, planned: true}
			own.path = str()
			own.cut = int(uvarint())
			own.root = uint16(uvarint())
			own.dev = uvarint()
			in.from = &own
		} else if ref <= uint64(len(ps.shared)) {
			in.from = ps.shared[ref-1]
		} else if rerr == nil {
			rerr = errors.New("a record is malformed")
		}
		f = manifest.File{Path: str(), Size: varint(), Mode: manifest.Mode(uvarint()), MTime: manifest.Time(varint())}
		if rerr == nil {
			var c byte
			c, rerr = r.ReadByte()
			f.Categories = category.Set(c)
		}
		in.mtime = varint()
		in.ino = uvarint()
		if rerr != nil {
			return fmt.Errorf("read the plan's file list: %w", noEOF(rerr))
		}
		if err := fn(&in); err != nil {
			return err
		}
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return fmt.Errorf("read the plan's file list: %w", noEOF(errors.Join(err, errors.New("it holds more than was written"))))
	}
	return nil
}

// noEOF says that a list that ended early was cut short.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// load reads the whole list back into memory: for the few uses that
// need it whole (explaining a collision, tests).
func (ps *plannedSpool) load(ctx context.Context) ([]Input, error) {
	var list []Input
	err := ps.each(ctx, func(in *Input) error {
		f := *in.File
		cp := *in
		cp.File = &f
		if in.from.own {
			o := *in.from
			cp.from = &o
		}
		list = append(list, cp)
		return nil
	})
	return list, err
}

// A sumSpool keeps, for one Pack of a spooled plan, each file's SHA-256
// and offset in the order packed, on disk: the manifest lists them
// after the files.
type sumSpool struct {
	s   *spool.Spool
	rec []byte
}

func newSumSpool(dir string) (*sumSpool, error) {
	s, err := spool.New(dir)
	if err != nil {
		return nil, spoolError("pack", "the files' hashes", dir, err)
	}
	return &sumSpool{s: s}, nil
}

func (ss *sumSpool) add(sum manifest.SHA256Sum, off int64) error {
	b := append(ss.rec[:0], sum[:]...)
	b = binary.AppendVarint(b, off)
	ss.rec = b
	if _, err := ss.s.Write(b); err != nil {
		return fmt.Errorf("pack: keep the files' hashes on disk: %w", err)
	}
	return nil
}

// packed is the manifest's file list: the plan's entries, in order, with
// the SHA-256s and offsets added.
func (ss *sumSpool) packed(ctx context.Context, plan *plannedSpool) manifest.FileSource {
	return func(yield func(*manifest.File) error) error {
		var r *bufio.Reader
		var file manifest.File
		err := plan.each(ctx, func(in *Input) error {
			if r == nil {
				var err error
				if r, err = ss.s.Reader(); err != nil {
					return fmt.Errorf("pack: read the files' hashes: %w", err)
				}
			}
			file = *in.File
			if _, err := io.ReadFull(r, file.SHA256[:]); err != nil {
				return fmt.Errorf("pack: read the files' hashes: %w", noEOF(err))
			}
			off, err := binary.ReadVarint(r)
			if err != nil {
				return fmt.Errorf("pack: read the files' hashes: %w", noEOF(err))
			}
			file.Offset = off
			return yield(&file)
		})
		if err == nil && r != nil {
			if _, end := r.ReadByte(); end != io.EOF {
				err = fmt.Errorf("pack: read the files' hashes: %w", errors.Join(end, errors.New("more hashes than files")))
			}
		}
		return err
	}
}

func (ss *sumSpool) close() { ss.s.Close() }
