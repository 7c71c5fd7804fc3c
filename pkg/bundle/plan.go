package bundle

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/text/unicode/norm"

	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/internal/filekind"
	"github.com/dossier-evidence/dossier/pkg/internal/safepath"
	"github.com/dossier-evidence/dossier/pkg/internal/textarena"
	"github.com/dossier-evidence/dossier/pkg/manifest"
)

// Input is one file to pack: where it is on disk and how it is stored.
// MakePlan makes them; NewInput makes one for a plan made by hand.
type Input struct {
	// File is the stored entry (path, size, mode, mtime, categories). In
	// a plan made by MakePlan it points into the plan's own list, which
	// the plan's first Pack uses as the bundle's file list, filling in
	// each file's SHA-256 and offset, instead of copying it (a plan can
	// hold a million files). Such a plan finds most files found in a
	// folder by their stored path, so an entry's Path must not be
	// changed: make a plan by hand (NewInput) to store files otherwise.
	File *manifest.File
	// from is where the file lies on disk (see Source) and whether pack
	// checks that it is still the file planned.
	from *origin
	// mtime (in nanoseconds) and ino are, with the file's size
	// (File.Size) and device (from.dev), what pack checks to see that
	// the file is still the one planned.
	mtime int64
	ino   uint64
}

// origin is where on disk some of a plan's files lie. The path of a file
// MakePlan found in a folder it was given is not kept but made when asked
// for, from the folder's origin and the file's stored path, whose tail is
// the file's path below the folder: an input is 32 bytes instead of 64
// and its path on disk (some 9 MB less at 148,890 files). A file given by
// name, a file whose stored path is not its path on disk (a name
// normalized to NFC; on Windows, every file in a subfolder, whose
// separators differ) and an input made by hand have an origin of their
// own, holding their path.
type origin struct {
	// path is, for a folder's origin, the folder's path as given and a
	// separator ("" for "."); the file's path is path and
	// File.Path[cut:]. For a file's own origin, path is the file's path,
	// and if root is set, the file lies at path[cut:] below the folder.
	path string
	cut  int
	own  bool
	// A file found in a folder that pack was given lies below that
	// folder, the plan's roots[root-1]; pack opens it from there: on
	// Linux without following any symbolic link below the folder,
	// elsewhere through an os.Root, which follows only links that stay
	// inside it (see inputOpener). root is 0 for a file given by name
	// (and for one in a folder past the 65,535th given, opened by its
	// path as before).
	root uint16
	// planned says pack checks the file's identity: a plan made by hand
	// has none, and only the size is checked. dev is the files' device.
	planned bool
	dev     uint64
	// ref numbers a folder's shared origin in a spooled plan's records
	// (plannedSpool.shared), from 1; 0 until it is first written.
	ref uint32
}

// NewInput returns an input for a plan made by hand: the file at source,
// stored as file says. Pack checks only that the file still has
// file.Size bytes.
func NewInput(source string, file *manifest.File) Input {
	return Input{File: file, from: &origin{path: source, own: true}}
}

// Source returns the file's path on the local system.
func (in *Input) Source() string {
	switch o := in.from; {
	case o == nil:
		return ""
	case o.own:
		return o.path
	case in.File == nil || len(in.File.Path) < o.cut:
		// The entry was taken away or changed by hand: the folder is all
		// that is known.
		return o.path
	default:
		return o.path + in.File.Path[o.cut:]
	}
}

// below returns the file's path below the plan's folder roots[root-1]
// that holds it, or ok false if it was not found in a folder.
func (in *Input) below() (rel string, root uint16, ok bool) {
	switch o := in.from; {
	case o == nil || o.root == 0:
		return "", 0, false
	case o.own:
		return o.path[o.cut:], o.root, true
	case in.File == nil || len(in.File.Path) < o.cut:
		return "", 0, false
	default:
		return in.File.Path[o.cut:], o.root, true
	}
}

// planned reports whether pack checks the file's identity.
func (in *Input) planned() bool { return in.from != nil && in.from.planned }

// Plan is the list of files a pack would send, with their categories.
type Plan struct {
	// Files are the files, in the order they are packed; nil for a plan
	// made by SpoolPlan, whose list is on disk: Len and Each read either.
	Files     []Input
	TotalSize int64
	// Excluded lists what exclude globs left out (not counted in
	// TotalSize), in walk order; File has only Path and Size.
	Excluded []Input
	// Unlabelled lists the stored paths of files that got no category.
	Unlabelled []string
	// UnusedRules lists the category rules that matched no file (packed
	// or excluded), and UnusedExcludes the exclude globs that matched
	// nothing. Either is a safety net with nothing to catch this time, or
	// a glob that does not say what was meant (a bracket read as a
	// character class, a name in another case), whose files then went to
	// the default category, or were sent: SuggestGlob tells them apart.
	UnusedRules    category.Rules
	UnusedExcludes []string

	// own holds the entries that Files point to, as MakePlan made them.
	// It is a pointer so that a copy of the Plan shares whether a Pack
	// has taken them.
	own *ownedList
	// roots are the folders MakePlan was given, as given (origin.root).
	roots []string
	// spooled holds the list of a plan made by SpoolPlan, whose Files is
	// nil.
	spooled *plannedSpool
}

// Len returns the number of files in the plan.
func (p *Plan) Len() int {
	if p.spooled != nil {
		return p.spooled.n
	}
	return len(p.Files)
}

// Each calls fn with each of the plan's files in order, stopping at fn's
// first error, which it returns; it ends with ctx's error once ctx is
// done. For a plan made by SpoolPlan, which reads its list from disk,
// the Input and its File are valid only during the call, and must not be
// changed.
func (p *Plan) Each(ctx context.Context, fn func(in *Input) error) error {
	if p.spooled != nil {
		return p.spooled.each(ctx, fn)
	}
	for i := range p.Files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(&p.Files[i]); err != nil {
			return err
		}
	}
	return nil
}

// Close removes the temporary file of a plan made by SpoolPlan; for any
// other plan it does nothing. The plan cannot be packed or read after.
func (p *Plan) Close() error {
	if p.spooled == nil {
		return nil
	}
	return p.spooled.s.Close()
}

// ownedList is a plan's own list of entries; the first Pack takes it as
// the bundle's list.
type ownedList struct {
	files []manifest.File
	taken atomic.Bool
}

// ownList returns the plan's own list if Files still point into it, in
// order, and nil otherwise.
func (p *Plan) ownList() *ownedList {
	if p.own == nil || len(p.own.files) != len(p.Files) {
		return nil
	}
	for i := range p.Files {
		if p.Files[i].File != &p.own.files[i] {
			return nil
		}
	}
	return p.own
}

// takeFileList returns the list of entries for a bundle of the plan: the
// plan's own list to the first Pack that asks, if Files still point into
// it in order, and otherwise a copy. A bundle's list is written to as it
// is packed and then belongs to its manifest, so a plan packed again, or
// by two Packs at once, gives each later one a copy; the copy takes only
// the planned fields, which Pack never writes.
func (p *Plan) takeFileList() ([]manifest.File, error) {
	if own := p.ownList(); own != nil && own.taken.CompareAndSwap(false, true) {
		if own.files == nil {
			return []manifest.File{}, nil // encoded as [], like any empty list
		}
		return own.files, nil
	}
	files := make([]manifest.File, len(p.Files))
	for i, in := range p.Files {
		if in.File == nil {
			return nil, fmt.Errorf("plan entry %d (%s) has no stored entry", i+1, in.Source())
		}
		if in.from == nil {
			return nil, fmt.Errorf("plan entry %d (%s) has no file on disk: make a plan's inputs with MakePlan or NewInput", i+1, in.File.Path)
		}
		files[i] = in.Planned()
	}
	return files, nil
}

// Planned returns the planned fields of the input's entry (path, size,
// mode, mtime, categories), without the SHA-256 and offset that a Pack
// fills in. It reads only fields that Pack never writes.
func (in *Input) Planned() manifest.File {
	f := in.File
	return manifest.File{Path: f.Path, Size: f.Size, Mode: f.Mode, MTime: f.MTime, Categories: f.Categories}
}

// UnlabelledError lists files that no category rule matched when there was
// no default category.
type UnlabelledError struct {
	Paths []string
}

func (e *UnlabelledError) Error() string {
	const show = 10
	list := e.Paths
	more := ""
	if len(list) > show {
		more = fmt.Sprintf(" and %d more", len(list)-show)
		list = list[:show]
	}
	count := fmt.Sprintf("%d files have", len(e.Paths))
	if len(e.Paths) == 1 {
		count = "1 file has"
	}
	return fmt.Sprintf("%s no category: %s%s; label them with --category CAT=GLOB or give --default-category CAT",
		count, strings.Join(quoteAll(list), ", "), more)
}

// ErrInput is wrapped by errors about the files given to pack: unsupported
// file types, unsafe or colliding names, files that changed while packing.
var ErrInput = errors.New("unsuitable input")

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

// maxUnsafeListed is how many names no system can store a plan's error
// lists.
const maxUnsafeListed = 10

// MakePlan walks paths and assigns categories. A folder is stored under its
// own base name, as tar does; a file under its base name. Every file gets
// all categories whose rule matches its stored path, or defaults if none
// does; a file with neither makes an *UnlabelledError listing all such
// files, returned together with the plan (whose Unlabelled lists them too)
// so that a dry run can show it. Symbolic links, devices, pipes and sockets
// are refused.
//
// A file or folder whose stored path matches one of the exclude globs (see
// [category.Match]) is left out, with everything below it, whatever its
// type, and listed in Excluded. A malformed glob is an error wrapping
// [category.ErrBadPattern]; a default category outside the vocabulary, one
// wrapping ErrInput and [category.ErrUnknown].
func MakePlan(paths []string, rules category.Rules, defaults []category.ID, exclude ...string) (*Plan, error) {
	return MakePlanContext(context.Background(), paths, rules, defaults, exclude...)
}

// MakePlanContext is MakePlan that ends with ctx's error once ctx is done,
// checked at every entry of the walk: a walk of many thousand files on
// slow media takes minutes.
func MakePlanContext(ctx context.Context, paths []string, rules category.Rules, defaults []category.ID, exclude ...string) (*Plan, error) {
	return makePlan(ctx, nil, paths, rules, defaults, exclude...)
}

// makePlan is MakePlanContext, keeping the list in sp if it is set (see
// SpoolPlan) and in the plan's Files if it is nil.
func makePlan(ctx context.Context, sp *plannedSpool, paths []string, rules category.Rules, defaults []category.ID, exclude ...string) (*Plan, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("%w: nothing to pack: name at least one file or folder", ErrInput)
	}
	if a, b, ok := givenTwice(paths); ok {
		if a == b {
			return nil, fmt.Errorf("%w: %s is given twice: give it once", ErrInput, a)
		}
		return nil, fmt.Errorf("%w: %s and %s are the same %s, given twice (through a link, or spelled two ways): its files would go in twice, under two names, the second copy escaping --exclude and the recipients' policy; give it once", ErrInput, a, b, fileOrFolder(a))
	}
	if inner, outer, ok := givenInside(paths); ok {
		return nil, fmt.Errorf("%w: %s is inside %s, which is packed too: its files would go in twice, under two names and perhaps two labels, the copy given by name escaping --exclude and the recipients' policy; give only %s (and leave out what should not go with --exclude)", ErrInput, inner, outer, outer)
	}
	exclude = slices.Clone(exclude)
	for i, g := range exclude {
		exclude[i] = category.NormalizeGlob(g)
		if _, err := category.Match(exclude[i], "x"); err != nil {
			return nil, fmt.Errorf("exclude %q: %w", g, err)
		}
	}
	usedExcludes := make([]bool, len(exclude))
	usedRules := make([]bool, len(rules))
	excluded := func(stored string) bool {
		return matchAny(exclude, safepath.Normalize(stored), usedExcludes)
	}
	plan := &Plan{spooled: sp}
	// The lists are made at their size, counted first: built by
	// appending (or in chunks copied together at the end), a list of
	// 148,890 files held twice its final size, 21 MB more, at planning's
	// end, where pack's memory peaked. A spooled plan has no lists.
	n := 0
	if sp == nil {
		n = countFiles(ctx, paths, func(stored string) bool {
			return len(exclude) > 0 && matchAny(exclude, safepath.Normalize(stored), nil)
		})
	}
	files := make([]Input, 0, n)
	entries := make([]manifest.File, 0, n)
	// Stored paths are cut from shared blocks; a file's path on disk is
	// made from its folder's and its stored path when asked for.
	var storedPaths textarena.Arena
	var unlabelled []string
	// Names no system can store are all listed (the first few of them),
	// not only the first: an officer renames them in one go.
	var unsafeNames shortList
	// Files this process may not read, found now rather than by pack
	// part-way through (a plan must say whether pack would go ahead).
	var unreadable shortList
	// Links, pipes, devices found in the folders: all of them are listed.
	var special shortList
	specialLinks := 0
	var firstSpecial error
	readable := func(path string, info fs.FileInfo, open func() (*os.File, error)) bool {
		if !mayBeUnreadable(info) {
			return true
		}
		f, err := open()
		if err == nil {
			f.Close()
			return true
		}
		if !errors.Is(err, fs.ErrPermission) {
			return true // pack meets and reports whatever this is
		}
		unreadable.add(path)
		return false
	}
	mtimeOf := func(info fs.FileInfo) manifest.Time { return manifest.TimeOf(info.ModTime()) }
	skip := func(src, stored string, info fs.FileInfo) {
		stored = safepath.Normalize(stored)
		// A rule for files that were then left out did its job.
		rules.AssignMarking(stored, usedRules)
		id := idOf(info)
		plan.Excluded = append(plan.Excluded, Input{File: &manifest.File{Path: stored, Size: info.Size()},
			from: &origin{path: src, own: true, planned: true, dev: id.dev}, mtime: id.mtime, ino: id.ino})
	}
	// skipTree lists everything below an excluded folder (at dir, and at
	// from in fsys) as excluded; what cannot be read there is of no
	// concern.
	skipTree := func(fsys fs.FS, from, dir, stored string) {
		fs.WalkDir(fsys, from, func(name string, d fs.DirEntry, err error) error {
			if ctx.Err() != nil {
				return fs.SkipAll // the walk that called it ends with the error
			}
			if err != nil {
				return nil
			}
			rel, rerr := filepath.Rel(filepath.FromSlash(from), filepath.FromSlash(name))
			if rerr != nil {
				return nil
			}
			// An exclude that also matches something in here did match
			// (--exclude '**/*.tmp' beside --exclude case/drafts).
			excluded(stored + "/" + filepath.ToSlash(rel))
			if d.IsDir() {
				return nil
			}
			if info, err := d.Info(); err == nil {
				skip(filepath.Join(dir, rel), stored+"/"+filepath.ToSlash(rel), info)
			}
			return nil
		})
	}
	// add plans the file src (stored as stored), found in folder at
	// src[rel:] (folder nil: given by name).
	add := func(src, stored string, info fs.FileInfo, folder *folderOrigins, rel int) error {
		stored = safepath.Normalize(stored)
		if err := safepath.Check(stored); err != nil {
			unsafeNames.add(fmt.Sprintf("%s: %v", src, err))
			return nil
		}
		if isReserved(stored) {
			return fmt.Errorf("%w: %s: the name %q is reserved for dossier's own entries, in any case; rename it", ErrInput, src, strings.TrimSuffix(manifest.ReservedPrefix, "/"))
		}
		cats, err := category.SetOf(rules.AssignMarking(stored, usedRules)...)
		if err == nil && cats.Len() == 0 {
			cats, err = category.SetOf(defaults...)
		}
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInput, src, err)
		}
		if cats.Len() == 0 {
			unlabelled = append(unlabelled, stored)
		}
		mode := manifest.ModeRegular
		if info.Mode().Perm()&0o111 != 0 {
			mode = manifest.ModeExecutable
		}
		id := idOf(info)
		if sp != nil {
			entry := manifest.File{Path: stored, Size: info.Size(), Mode: mode, MTime: mtimeOf(info), Categories: cats}
			in := Input{File: &entry, from: folder.originOf(src, rel, stored, id.dev), mtime: id.mtime, ino: id.ino}
			if err := sp.add(&in); err != nil {
				return err
			}
			plan.TotalSize += info.Size()
			return nil
		}
		stored = storedPaths.String(stored)
		// File is pointed at the entry once the list is complete.
		files = append(files, Input{from: folder.originOf(src, rel, stored, id.dev), mtime: id.mtime, ino: id.ino})
		entries = append(entries, manifest.File{
			Path:       stored,
			Size:       info.Size(),
			Mode:       mode,
			MTime:      mtimeOf(info),
			Categories: cats,
		})
		plan.TotalSize += info.Size()
		return nil
	}
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		info, err := os.Lstat(p)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInput, err)
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		base := filepath.Base(abs)
		switch {
		case excluded(base) && info.IsDir():
			if root, err := openFolder(p, info); err == nil {
				skipTree(root.FS(), ".", p, base)
				root.Close()
			}
		case excluded(base):
			skip(p, base, info)
		case info.Mode().IsRegular():
			if !readable(p, info, func() (*os.File, error) { return os.Open(p) }) {
				continue
			}
			if err := add(p, base, info, nil, 0); err != nil {
				return nil, err
			}
		case info.IsDir():
			// The folder is read through a handle on it, so that a
			// folder below it swapped for a symbolic link to somewhere
			// else while it is listed cannot bring that place's files
			// into the plan (os.Root refuses a path that leaves it).
			root, err := openFolder(p, info)
			if err != nil {
				return nil, err
			}
			var rootIdx uint16
			if len(plan.roots) < math.MaxUint16 {
				plan.roots = append(plan.roots, p)
				rootIdx = uint16(len(plan.roots))
			}
			folder := newFolderOrigins(p, base, rootIdx)
			err = fs.WalkDir(walkFS(root.FS()), ".", func(name string, d fs.DirEntry, err error) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				rel := filepath.FromSlash(name)
				path := filepath.Join(p, rel)
				if err != nil {
					return fmt.Errorf("%w: cannot read %s: %w", ErrInput, path, err)
				}
				stored := storedPath(path, base, rel)
				if d.IsDir() {
					if rel != "." && excluded(stored) {
						skipTree(root.FS(), name, path, stored)
						return fs.SkipDir
					}
					return nil
				}
				info, err := d.Info()
				if err != nil {
					return fmt.Errorf("%w: cannot read %s: %w", ErrInput, path, err)
				}
				if excluded(stored) {
					skip(path, stored, info)
					return nil
				}
				if err := checkType(path, info); err != nil {
					if special.n == 0 {
						firstSpecial = err
					}
					if info.Mode()&fs.ModeSymlink != 0 {
						specialLinks++
					}
					special.add(fmt.Sprintf("%s (%s)", path, filekind.Of(info.Mode())))
					return nil
				}
				if !readable(path, info, func() (*os.File, error) { return root.Open(name) }) {
					return nil
				}
				// path is p and rel joined and cleaned, and ends in rel.
				return add(path, stored, info, folder, len(path)-len(rel))
			})
			root.Close()
			if err != nil {
				return nil, err
			}
		default:
			if err := checkType(p, info); err != nil {
				return nil, err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch {
	case special.n == 1:
		return nil, firstSpecial
	case special.n > 1:
		what := "leave them out with --exclude"
		if specialLinks > 0 {
			what = "copy a link's target in instead, or leave them out with --exclude"
		}
		return nil, fmt.Errorf("%w: %d entries are not regular files: %s; dossier packs regular files only (%s)",
			ErrInput, special.n, &special, what)
	}
	if n := unreadable.n; n > 0 {
		return nil, fmt.Errorf("%w: %s cannot be read (permission denied): %s (make %s readable to you, or leave %s out with --exclude)",
			ErrInput, plural(n, "file"), &unreadable, itOrThem(n), itOrThem(n))
	}
	switch {
	case unsafeNames.n == 1:
		return nil, fmt.Errorf("%w: %s (rename it, or leave it out with --exclude)", ErrInput, &unsafeNames)
	case unsafeNames.n > 1:
		return nil, fmt.Errorf("%w: %d names cannot be stored safely: %s (rename them, or leave them out with --exclude)", ErrInput, unsafeNames.n, &unsafeNames)
	}
	for i, r := range rules {
		if !usedRules[i] {
			plan.UnusedRules = append(plan.UnusedRules, r)
		}
	}
	for i, g := range exclude {
		if !usedExcludes[i] {
			plan.UnusedExcludes = append(plan.UnusedExcludes, g)
		}
	}
	if sp != nil {
		sp.paths = nil // its hashes are not needed again
		if err := sp.s.Finish(); err != nil {
			return nil, fmt.Errorf("plan: keep the file list on disk: %w", err)
		}
		plan.Unlabelled = unlabelled
		if len(unlabelled) > 0 {
			return plan, &UnlabelledError{Paths: unlabelled}
		}
		switch {
		case sp.mayCollide:
			// Two names may collide: the list is read back to say which
			// (or that two hashes were the same by chance).
			list, err := sp.load(ctx)
			if err != nil {
				return nil, err
			}
			if err := checkStoredNames(list); err != nil {
				return nil, err
			}
		case sp.tooManyFolders:
			return nil, errTooManyFolders()
		}
		if sp.found > maxPlanFiles {
			return nil, tooManyFilesError(sp.found)
		}
		return plan, nil
	}
	if len(entries) < cap(entries)-cap(entries)/8 {
		// Counted files were excluded or gone: let the room go.
		files = append(make([]Input, 0, len(files)), files...)
		entries = append(make([]manifest.File, 0, len(entries)), entries...)
	}
	if len(files) == 0 {
		files, entries = nil, nil // as before the lists were counted
	}
	plan.Files, plan.own = files, &ownedList{files: entries}
	for i := range plan.Files {
		plan.Files[i].File = &plan.own.files[i]
	}
	plan.Unlabelled = unlabelled
	if len(unlabelled) > 0 {
		return plan, &UnlabelledError{Paths: unlabelled}
	}
	if err := checkStoredNames(plan.Files); err != nil {
		return nil, err
	}
	if len(plan.Files) > maxPlanFiles {
		return nil, tooManyFilesError(len(plan.Files))
	}
	return plan, nil
}

// The limits a bundle's list has (variables so that tests can lower
// them).
var (
	maxPlanFiles   = manifest.MaxFiles
	maxPlanFolders = manifest.MaxFolders
)

// tooManyFilesError refuses a plan of n files, more than a bundle takes.
func tooManyFilesError(n int) error {
	return fmt.Errorf("%w: %d files is more than the limit of %d per bundle", ErrInput, n, maxPlanFiles)
}

// errTooManyFolders refuses a plan whose files are in more folders than
// a bundle takes.
func errTooManyFolders() error {
	return fmt.Errorf("%w: the files are in more than %d folders, the limit per bundle; split the case into several bundles", ErrInput, maxPlanFolders)
}

// checkStoredNames refuses a list with two files stored under colliding
// names, or in more folders than a bundle may have.
func checkStoredNames(files []Input) error {
	stored := make([]string, len(files))
	for i, f := range files {
		stored[i] = f.File.Path
	}
	if err := safepath.CollisionsOrSpellingsWithin(stored, maxPlanFolders); errors.Is(err, safepath.ErrTooManyFolders) {
		return errTooManyFolders()
	} else if err != nil {
		if msg := sameStoredName(files, err); msg != "" {
			return fmt.Errorf("%w: %s", ErrInput, msg)
		}
		return fmt.Errorf("%w: %v (rename one of them)", ErrInput, err)
	}
	return nil
}

// openFolder opens the folder p, which info (from Lstat) describes, as an
// os.Root, and checks that it is the folder info describes: not something
// swapped in since, such as a symbolic link to another folder.
func openFolder(p string, info fs.FileInfo) (*os.Root, error) {
	root, err := os.OpenRoot(p)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot read %s: %w", ErrInput, p, err)
	}
	if now, err := root.Stat("."); err != nil || !os.SameFile(now, info) {
		root.Close()
		return nil, fmt.Errorf("%w: %s was replaced while it was being listed; plan again", ErrInput, p)
	}
	return root, nil
}

// beforeReadDir, if set (by tests), is called with each folder's name
// before MakePlan lists it.
var beforeReadDir func(name string)

// walkFS is fsys, whose ReadDir first calls beforeReadDir, if set.
func walkFS(fsys fs.FS) fs.FS {
	if beforeReadDir == nil {
		return fsys
	}
	return hookedFS{fsys}
}

type hookedFS struct{ fs.FS }

func (h hookedFS) ReadDir(name string) ([]fs.DirEntry, error) {
	beforeReadDir(name)
	return fs.ReadDir(h.FS, name)
}

// storedPath is the stored path base/rel of the file at path, rel being
// path relative to the folder named base. Where path ends in exactly
// those bytes, as it does on Unix for a folder not given as "." or "..",
// it is a substring of path, sharing its memory: no string is made for
// it before the plan copies it into its blocks.
func storedPath(path, base, rel string) string {
	rel = filepath.ToSlash(rel)
	n := len(base) + 1 + len(rel)
	if len(path) >= n {
		tail := path[len(path)-n:]
		if strings.HasPrefix(tail, base) && tail[len(base)] == '/' && tail[len(base)+1:] == rel {
			return tail
		}
	}
	return base + "/" + rel
}

// countFiles counts the files MakePlan would plan in paths: those given,
// and the regular files below the folders given, less what excluded
// reports (a stored path an exclude glob matches, and all below a folder
// it matches). It is an estimate, and at most manifest.MaxFiles+1: what
// cannot be read is not counted, and the folders can change before
// MakePlan reads them. It stops at the first path MakePlan will refuse
// (one that cannot be read, or neither a file nor a folder), whose error
// then comes at once. It reads the folders as MakePlan does, through an
// os.Root, but only their names, not their files' details: some 0.05 s
// for 100,000 files, against 0.5 s to plan them.
func countFiles(ctx context.Context, paths []string, excluded func(stored string) bool) int {
	n := 0
	for _, p := range paths {
		info, err := os.Lstat(p)
		if err != nil {
			return n
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return n
		}
		base := filepath.Base(abs)
		switch {
		case excluded(base):
			continue
		case info.Mode().IsRegular():
			n++
			continue
		case !info.IsDir():
			return n
		}
		root, err := os.OpenRoot(p)
		if err != nil {
			return n
		}
		fs.WalkDir(root.FS(), ".", func(name string, d fs.DirEntry, err error) error {
			switch {
			case n > manifest.MaxFiles || ctx.Err() != nil:
				return fs.SkipAll
			case err != nil || name == ".":
			case excluded(base + "/" + name):
				if d.IsDir() {
					return fs.SkipDir
				}
			case d.Type().IsRegular():
				n++
			}
			return nil
		})
		root.Close()
	}
	return n
}

// matchAny reports whether the stored path matches any of globs, and
// marks in used, if it is not nil, every glob that matches it.
func matchAny(globs []string, stored string, used []bool) bool {
	hit := false
	for i, g := range globs {
		if ok, _ := category.Match(g, stored); ok {
			if used == nil {
				return true
			}
			used[i], hit = true, true
		}
	}
	return hit
}

// folderOrigins makes the origins of the files found in one folder given
// to MakePlan: one for the folder per device, shared by the files whose
// path on disk is the folder's and their stored path's tail, and one of
// its own for any other file.
type folderOrigins struct {
	path  string // the folder's path and a separator; "" for "."
	cut   int    // a stored path's tail, from cut on, is the path below the folder
	root  uint16
	byDev map[uint64]*origin
}

func newFolderOrigins(p, base string, root uint16) *folderOrigins {
	path := filepath.Clean(p)
	switch {
	case path == ".":
		path = ""
	case !os.IsPathSeparator(path[len(path)-1]):
		path += string(filepath.Separator)
	}
	return &folderOrigins{path: path, cut: len(base) + 1, root: root, byDev: map[uint64]*origin{}}
}

// originOf returns the origin of the file src, found at src[rel:] below
// the folder (or given by name, if f is nil), stored as stored, on device
// dev.
func (f *folderOrigins) originOf(src string, rel int, stored string, dev uint64) *origin {
	if f == nil {
		return &origin{path: src, own: true, planned: true, dev: dev}
	}
	if len(stored) >= f.cut && len(src) == len(f.path)+len(stored)-f.cut &&
		src[:len(f.path)] == f.path && src[len(f.path):] == stored[f.cut:] {
		o := f.byDev[dev]
		if o == nil {
			o = &origin{path: f.path, cut: f.cut, root: f.root, planned: true, dev: dev}
			f.byDev[dev] = o
		}
		return o
	}
	return &origin{path: src, cut: rel, own: true, root: f.root, planned: true, dev: dev}
}

func checkType(path string, info fs.FileInfo) error {
	m := info.Mode()
	switch {
	case m.IsRegular():
		return nil
	case m&fs.ModeSymlink != 0:
		return fmt.Errorf("%w: %s is a symbolic link; dossier packs regular files only (copy the target in instead, or leave it out with --exclude)", ErrInput, path)
	case m&fs.ModeNamedPipe != 0:
		return fmt.Errorf("%w: %s is a named pipe (FIFO); dossier packs regular files only (leave it out with --exclude)", ErrInput, path)
	case m&fs.ModeSocket != 0:
		return fmt.Errorf("%w: %s is a socket; dossier packs regular files only (leave it out with --exclude)", ErrInput, path)
	case m&fs.ModeDevice != 0:
		return fmt.Errorf("%w: %s is a device; dossier packs regular files only (leave it out with --exclude)", ErrInput, path)
	default:
		return fmt.Errorf("%w: %s is not a regular file (%v; leave it out with --exclude)", ErrInput, path, m.Type())
	}
}

// preambleRoom is what a plan's check leaves, below MaxPreamble, for what
// a preamble holds besides its file list: the sender's card (some 9 KB),
// the recipients and the case metadata. It is an estimate, not a bound (a
// card may be 64 KiB, and there may be 256 recipients): near the limit
// pack, which measures the preamble it makes, has the last word.
const preambleRoom = 64 << 10

// CheckPreambleSize fails, wrapping ErrInput, when the plan's file list
// alone would make a preamble larger than a receiver accepts (MaxPreamble,
// less preambleRoom), as pack would once it has made it: that limit, not
// the million files, is what bounds a bundle (some 700,000 files of short
// names, fewer of long ones). It reads the entries, not the files.
func (p *Plan) CheckPreambleSize() error {
	n := 0
	if p.spooled != nil {
		n = p.spooled.preambleLen
	}
	for _, in := range p.Files {
		if in.File != nil {
			n += in.File.PreambleLen() + 1 // and its comma
		}
	}
	if n > MaxPreamble-preambleRoom {
		return fmt.Errorf("%w: the file list (%d files) makes a preamble of about %d bytes with the sender's card and the case, more than the %d a receiver accepts; split the case into several bundles", ErrInput, p.Len(), n+preambleRoom, MaxPreamble)
	}
	return nil
}

// Summary totals the plan's files and bytes per category.
func (p *Plan) Summary() []manifest.CategoryTotal {
	if p.spooled != nil {
		return p.spooled.tally.Summary()
	}
	files := make([]manifest.File, 0, len(p.Files))
	for _, in := range p.Files {
		if in.File != nil { // a hand-made plan may have an empty entry
			// Only what Pack never writes: a Pack may be filling in hashes.
			files = append(files, manifest.File{Size: in.File.Size, Categories: in.File.Categories})
		}
	}
	return manifest.Summary(files)
}

// Within reports whether the output path would be inside (or equal to)
// any of the inputs, following symbolic links, so that pack can refuse to
// write its output into what it packs.
func Within(path string, inputs []string) bool {
	out := resolve(path)
	for _, in := range inputs {
		a := resolve(in)
		if out == a || strings.HasPrefix(out, a+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// resolve returns the absolute path with symbolic links evaluated, as far
// as the path exists.
func resolve(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	// The file does not exist yet: resolve its folder.
	dir, base := filepath.Split(abs)
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		return filepath.Join(r, base)
	}
	return abs
}

// fileID identifies a file's version: size, modification time and, where
// the system has them, device and inode numbers.
type fileID struct {
	size, mtime int64
	dev, ino    uint64
}

func idOf(info fs.FileInfo) fileID {
	id := fileID{size: info.Size(), mtime: info.ModTime().UnixNano()}
	id.dev, id.ino = devIno(info)
	return id
}

// unchanged reports whether now describes the planned file, unchanged:
// for an input without an identity, whether it has the planned size.
func (in *Input) unchanged(now fileID) bool {
	if now.size != in.File.Size {
		return false
	}
	return !in.planned() || (now.mtime == in.mtime && now.dev == in.from.dev && now.ino == in.ino)
}

// replaced reports whether the file now open is another than the planned
// one (by device and inode, where the system has them).
func (in *Input) replaced(now fileID) bool {
	return in.planned() && (now.dev != in.from.dev || now.ino != in.ino)
}

// SuggestGlob looks for the likely mistake in a glob that matched nothing
// in the plan (see UnusedRules, UnusedExcludes): read with brackets taken
// literally, with '\' as '/', without surrounding spaces, with the name
// of the folder given in front, or ignoring case, does it match a file the
// plan holds or excluded (or, with folders, a folder holding one, as an
// exclude glob may name)? It returns the first such reading that does, as
// a glob to use (or, for case, the path it matches) with why, or "", ""
// if none does: then the glob simply has nothing to match in this case.
func (p *Plan) SuggestGlob(glob string, folders bool) (suggestion, why string) {
	// The plan is read through twice, holding none of its paths (it may
	// be on disk and list a million): once for the first components of
	// its paths (the names of what was given), once to try every reading
	// at each path. A plan that cannot be read back suggests what its
	// exclusions suggest.
	each := func(fn func(path string) bool) {
		stop := errors.New("stop")
		visit := func(in *Input) error {
			path := in.File.Path
			if !fn(path) {
				return stop
			}
			for j := len(path) - 1; folders && j > 0; j-- {
				if path[j] == '/' && !fn(path[:j]) {
					return stop
				}
			}
			return nil
		}
		if err := p.Each(context.Background(), visit); err == stop {
			return
		}
		for i := range p.Excluded {
			if visit(&p.Excluded[i]) != nil {
				return
			}
		}
	}
	firsts := map[string]bool{}
	each(func(path string) bool {
		first, _, _ := strings.Cut(path, "/")
		firsts[first] = true
		return true
	})

	// The readings, in the order they are preferred.
	type reading struct{ glob, why string }
	var readings []reading
	try := func(g, why string) {
		if _, err := category.Match(g, "x"); err == nil {
			readings = append(readings, reading{g, why})
		}
	}
	// "[[]" is a class holding only '[', and ']' alone is itself: a
	// suggestion without backslashes, which messages would show doubled.
	if literal := strings.ReplaceAll(glob, "[", "[[]"); literal != glob {
		try(literal, "in a glob [ ] is a class of characters: write [[] for a [ that is part of a name")
	}
	if s := strings.ReplaceAll(glob, `\`, "/"); s != glob {
		try(s, "paths are written with /")
	}
	if s := strings.TrimSpace(glob); s != glob {
		try(s, "it has spaces around it")
	}
	for _, first := range slices.Sorted(maps.Keys(firsts)) {
		quoted := strings.NewReplacer("[", "[[]", "*", "[*]", "?", "[?]").Replace(first)
		try(quoted+"/"+glob, "stored paths start with the name of the folder given")
	}
	// A rule naming a folder (case/medical, as an exclude may) labels
	// nothing: a category glob matches files.
	inFolder := func(g, why string) {
		if folders || strings.HasSuffix(g, "/**") {
			return
		}
		g = strings.TrimSuffix(g, "/") + "/**"
		try(g, why)
		if s := strings.ReplaceAll(g, "[", "[[]"); s != g {
			try(s, why)
		}
	}
	inFolder(glob, "a category glob matches files, not folders: FOLDER/** labels every file in it")
	// The path to the folder as typed (evidence/case/medical/** for the
	// folder evidence/case, whose files are stored as case/…). Not for a
	// glob that already starts with a given folder's name: with case and
	// photos given, case/photos/medical/** is right, if idle this time.
	isFirst := func(segment string) bool {
		if strings.ContainsAny(segment, "*?") {
			return false // a wildcard, not the name of a folder given
		}
		for f := range firsts {
			if ok, err := category.Match(segment, f); err == nil && ok {
				return true
			}
		}
		return false
	}
	lead, _, _ := strings.Cut(glob, "/")
	for i := strings.IndexByte(glob, '/'); i >= 0 && !isFirst(lead); i = nextSlash(glob, i) {
		rest := glob[i+1:]
		if first, _, _ := strings.Cut(rest, "/"); !isFirst(first) {
			continue
		}
		try(rest, "stored paths start with the name of the folder given, not the path to it")
		inFolder(rest, "stored paths start with the name of the folder given, not the path to it, and a category glob matches files: FOLDER/** labels every file in it")
	}

	matched := make([]bool, len(readings))
	lower := strings.ToLower(glob)
	_, lowerErr := category.Match(lower, "x")
	var inOtherCase string
	each(func(path string) bool {
		for i, r := range readings {
			if !matched[i] {
				matched[i], _ = category.Match(r.glob, path)
			}
		}
		if inOtherCase == "" && lowerErr == nil {
			if ok, _ := category.Match(lower, strings.ToLower(path)); ok {
				inOtherCase = path
			}
		}
		return len(matched) == 0 || !matched[0] // the first reading matched: no other is wanted
	})
	for i, r := range readings {
		if matched[i] {
			return r.glob, r.why
		}
	}
	if inOtherCase != "" {
		return inOtherCase, "matching is case-sensitive, and this path differs in case"
	}
	return "", ""
}

// nextSlash returns the index of the first '/' in s after i, or -1.
func nextSlash(s string, i int) int {
	if j := strings.IndexByte(s[i+1:], '/'); j >= 0 {
		return i + 1 + j
	}
	return -1
}

// givenTwice finds two paths to pack that are one folder (a link to it
// and the folder, "case" and "case/"), or one file by one name (a link to
// it and the file, "a.txt" twice). Two hard links to one file are two
// names, packed as found, like copies.
func givenTwice(paths []string) (a, b string, ok bool) {
	type folderID struct{ dev, ino uint64 }
	folders := map[folderID]string{}
	var noIDs []int // folders whose identity this system does not give
	files := map[string]string{}
	for i, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		if !st.IsDir() {
			real, err := filepath.EvalSymlinks(p)
			if err != nil {
				continue
			}
			if abs, err := filepath.Abs(real); err == nil {
				if first, seen := files[abs]; seen {
					return first, p, true
				}
				files[abs] = p
			}
			continue
		}
		dev, ino := devIno(st)
		if dev == 0 && ino == 0 {
			noIDs = append(noIDs, i)
			continue
		}
		if first, seen := folders[folderID{dev, ino}]; seen {
			return first, p, true
		}
		folders[folderID{dev, ino}] = p
	}
	// Where folders have no inode numbers (Windows), compare them in
	// pairs; few folders are given.
	for x, i := range noIDs {
		si, err := os.Stat(paths[i])
		if err != nil {
			continue
		}
		for _, j := range noIDs[x+1:] {
			if sj, err := os.Stat(paths[j]); err == nil && os.SameFile(si, sj) {
				return paths[i], paths[j], true
			}
		}
	}
	return "", "", false
}

// fileOrFolder says which path is.
func fileOrFolder(path string) string {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return "folder"
	}
	return "file"
}

// givenInside finds a path to pack that lies inside a folder also given
// (case and case/medical/report.txt), by file identity, so that links,
// "..", and other spellings of a folder are seen through: its files would
// otherwise be packed twice. The path is resolved first (a ".." after a
// link leads out of the link's target, which cleaning the name would
// miss), then its folders are compared one by one. A folder given twice
// is givenTwice's to find.
func givenInside(paths []string) (inner, outer string, ok bool) {
	for _, o := range paths {
		ost, err := os.Stat(o)
		if err != nil || !ost.IsDir() {
			continue
		}
		for _, in := range paths {
			real, err := filepath.EvalSymlinks(in)
			if err != nil {
				continue
			}
			abs, err := filepath.Abs(real)
			if err != nil {
				continue
			}
			if st, err := os.Stat(abs); err == nil && os.SameFile(st, ost) {
				continue // o itself
			}
			for p := filepath.Dir(abs); ; p = filepath.Dir(p) {
				if st, err := os.Stat(p); err == nil && os.SameFile(st, ost) {
					return in, o, true
				}
				if filepath.Dir(p) == p {
					break
				}
			}
		}
	}
	return "", "", false
}

// shortList keeps the first maxUnsafeListed of the problems found of one
// kind, and counts them all.
type shortList struct {
	items []string
	n     int
}

func (l *shortList) add(item string) {
	if l.n++; len(l.items) < maxUnsafeListed {
		l.items = append(l.items, item)
	}
}

// String joins the items kept, and says how many more there were.
func (l *shortList) String() string {
	s := strings.Join(l.items, "; ")
	if l.n > len(l.items) {
		s += fmt.Sprintf("; and %d more", l.n-len(l.items))
	}
	return s
}

// plural is "1 file", "2 files".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// itOrThem is "it" for one, "them" for more.
func itOrThem(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// sameStoredName explains a collision of two files stored under one name,
// which the stored paths alone cannot: both read "case/é.txt". It names
// the files on disk, with their code points where they look alike (an
// NFC and an NFD spelling of one name, both stored in NFC). It returns ""
// if err lists no such pair.
func sameStoredName(files []Input, err error) string {
	var ce *safepath.CollisionError
	if !errors.As(err, &ce) {
		return ""
	}
	for _, pair := range ce.Pairs {
		if pair[0] != pair[1] {
			continue
		}
		var sources []string
		for i := range files {
			if files[i].File.Path == pair[0] {
				sources = append(sources, files[i].Source())
			}
		}
		if len(sources) < 2 {
			continue
		}
		a, b := sources[0], sources[1]
		if a != b && norm.NFC.String(a) == norm.NFC.String(b) {
			return fmt.Sprintf("%s and %s are one name in two Unicode spellings (composed and decomposed), which would both be stored as %s: rename one of them",
				strconv.QuoteToASCII(a), strconv.QuoteToASCII(b), strconv.QuoteToASCII(pair[0]))
		}
		return fmt.Sprintf("%s and %s would both be stored as %q: rename one of them, or give their folders under different names", a, b, pair[0])
	}
	return ""
}

// isReserved reports whether the stored path's first component is
// dossier's reserved folder in any case (".DOSSIER", ".Dossier"): readers
// accept those, but a stock "tar -x" on a caseless file system would put
// such a file beside dossier's own entries, or over them (SPEC §5).
func isReserved(stored string) bool {
	first, _, _ := strings.Cut(stored, "/")
	return strings.EqualFold(first, strings.TrimSuffix(manifest.ReservedPrefix, "/"))
}
