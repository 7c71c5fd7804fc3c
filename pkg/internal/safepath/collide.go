package safepath

import (
	"errors"
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// maxPairs is the number of colliding pairs a CollisionError lists.
const maxPairs = 10

// CollisionError reports stored paths that would land on the same file on
// at least one supported system, or where one path is a file and also a
// folder holding another path.
type CollisionError struct {
	// Pairs lists up to the first 10 colliding pairs: pairs of same-name
	// paths first, then file/folder clashes, then folders spelled two
	// ways, each group in input order. In a same-name pair and in a
	// folder pair the first path is the earlier one in the input; in a
	// file/folder clash it is the file.
	Pairs [][2]string
	// More counts the colliding pairs found beyond those in Pairs.
	More int
}

// Error lists the colliding pairs and why each pair collides.
func (e *CollisionError) Error() string {
	var b strings.Builder
	b.WriteString("safepath: paths collide: ")
	for i, p := range e.Pairs {
		if i > 0 {
			b.WriteString("; ")
		}
		why, sameLook := reason(p[0], p[1])
		a, c := quote(p[0]), quote(p[1])
		if sameLook {
			// Show the code points, or the two names would print alike.
			a, c = quoteWith(p[0], strconv.QuoteToASCII), quoteWith(p[1], strconv.QuoteToASCII)
		}
		fmt.Fprintf(&b, "%s and %s (%s)", a, c, why)
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "; and %d more", e.More)
	}
	return b.String()
}

// Is reports whether target is ErrUnsafe, so that errors.Is(err,
// ErrUnsafe) holds for a *CollisionError.
func (e *CollisionError) Is(target error) bool {
	return target == ErrUnsafe
}

// Collisions reports stored paths that cannot all be extracted side by
// side. It returns nil or a *CollisionError (which matches ErrUnsafe)
// listing up to the first 10 colliding pairs. Two paths collide when they
// are
//   - exact duplicates;
//   - equal after Unicode normalization (an NFC and an NFD spelling);
//   - equal when case is ignored, as on Windows and on default macOS
//     volumes (Unicode full case folding, so "ß" and "ss" collide too);
//   - a file and a folder: one path is a leading run of components of the
//     other ("a" and "a/b"), also when case and normalization are ignored
//     ("A" and "a/b").
//
// Collisions does not apply Check; call Check on each path as well. It
// runs in time linear in the total length of the paths (times their
// component count for the file/folder check). Readers apply it; writers
// apply [CollisionsOrSpellings].
func Collisions(paths []string) error {
	fold := cases.Fold()
	if !mayCollide(paths, fold, false) {
		return nil
	}
	return collisions(paths, foldKey(fold), false)
}

// CollisionsOrSpellings is Collisions that also reports paths in one
// folder spelled two ways ("A/x" and "a/y", or an NFC and an NFD
// spelling): where case or normalization is ignored (Windows, macOS, a
// FAT stick) the two folders are one, the files land beside each other
// under the first spelling, and an opened bag, whose manifest names the
// second, would never verify there. pack refuses such a list; readers
// accept it, as bundles made before this check may hold one.
func CollisionsOrSpellings(paths []string) error {
	fold := cases.Fold()
	if !mayCollide(paths, fold, true) {
		return nil
	}
	return collisions(paths, foldKey(fold), true)
}

// CollisionsOrSpellingsWithin is CollisionsOrSpellings for paths that may
// be in at most maxFolders folders (counted as a CollisionChecker counts
// them): it returns an error wrapping ErrTooManyFolders for more.
func CollisionsOrSpellingsWithin(paths []string, maxFolders int) error {
	fold := cases.Fold()
	c := newChecker(fold, true, len(paths), maxFolders)
	for _, p := range paths {
		collide, tooMany := c.collides(p)
		if tooMany {
			return fmt.Errorf("%w: more than %d", ErrTooManyFolders, maxFolders)
		}
		if collide {
			if err := collisions(paths, foldKey(fold), true); err != nil {
				return err
			}
			// Two keys shared a hash: no collision, but the count
			// stopped there.
			if CountFolders(paths) > maxFolders {
				return fmt.Errorf("%w: more than %d", ErrTooManyFolders, maxFolders)
			}
			return nil
		}
	}
	return nil
}

// mayCollide reports whether any two of paths collide, keeping only a
// 64-bit hash of each folded key and of each folder key (see
// CollisionChecker): every same-name collision (exact, NFC or caseless)
// is also one of folded keys, equal keys have equal hashes, and a list
// without collisions (nearly every list) needs no more; two different
// keys that share a hash only send the list to the full search. At
// 150,000 paths collisions' three maps took 24 MB, and a map of the
// folded keys, with the keys, some 12 MB, while a preamble was being
// checked: the moment a reader's memory peaks. The hashes take 2-3 MB.
func mayCollide(paths []string, fold cases.Caser, spellings bool) bool {
	c := newChecker(fold, spellings, len(paths), 0)
	for _, p := range paths {
		if collide, _ := c.collides(p); collide {
			return true
		}
	}
	return false
}

// CountFolders returns the number of folders paths are in, counted as
// a CollisionChecker counts them.
func CountFolders(paths []string) int {
	c := newChecker(cases.Fold(), false, len(paths), 0)
	for _, p := range paths {
		c.collides(p)
	}
	return c.Folders()
}

// A CollisionChecker applies the check of [Collisions] to paths one at a
// time, as a reader that does not hold a list meets them, keeping a
// 64-bit hash of each path's folded key and of each of its folders' (some
// 20 bytes a path and a folder), never the paths, and taking time linear
// in the paths' length. It cannot say which earlier path a path collides
// with, only that it does; and two different keys that share a hash (a
// chance of about one in 10^7 at a million paths and as many folders,
// with a seed chosen at random for each checker) are reported as a
// collision.
type CollisionChecker struct {
	fold       cases.Caser
	spellings  bool
	maxFolders int
	seed       maphash.Seed
	h          maphash.Hash
	files      map[uint64]struct{}
	// folders maps each folder key's hash to the hash of its first exact
	// spelling (0 unless spellings are checked).
	folders map[uint64]uint64
	k       []byte
}

// ErrTooManyFolders is returned by a CollisionChecker given paths in more
// folders than its limit.
var ErrTooManyFolders = errors.New("safepath: the paths are in too many folders")

// NewCollisionChecker returns an empty CollisionChecker that refuses
// paths in more than maxFolders folders (counted as Unicode full case
// folding and canonical normalisation make them one), or any number if
// maxFolders is 0: its memory is bounded by the number of paths and
// that limit, whatever the paths hold.
func NewCollisionChecker(maxFolders int) *CollisionChecker {
	return newChecker(cases.Fold(), false, 0, maxFolders)
}

// NewSpellingChecker is NewCollisionChecker with CollisionsOrSpellings's
// check: it also refuses a folder spelled two ways, as a sender does.
func NewSpellingChecker(maxFolders int) *CollisionChecker {
	return newChecker(cases.Fold(), true, 0, maxFolders)
}

func newChecker(fold cases.Caser, spellings bool, size, maxFolders int) *CollisionChecker {
	c := &CollisionChecker{fold: fold, spellings: spellings, maxFolders: maxFolders, seed: maphash.MakeSeed(),
		files: make(map[uint64]struct{}, size), folders: make(map[uint64]uint64)}
	c.h.SetSeed(c.seed)
	return c
}

// Add adds p and returns an error wrapping ErrUnsafe if it collides with
// a path added before it (the same path, in another case or
// normalisation, a file named as an earlier path's folder, or a folder
// named as an earlier file), or ErrTooManyFolders if it takes the
// folders past the limit.
func (c *CollisionChecker) Add(p string) error {
	collide, tooMany := c.collides(p)
	if tooMany {
		return fmt.Errorf("%w: more than %d", ErrTooManyFolders, c.maxFolders)
	}
	if collide {
		return unsafe(p, "collides with a path listed before it (the same name in another case or Unicode normalisation, or a file that is also a folder)")
	}
	return nil
}

// Folders returns the number of folders of the paths added.
func (c *CollisionChecker) Folders() int { return len(c.folders) }

// collides adds p and reports whether it may collide with a path added
// before it, or takes the folders past the limit.
func (c *CollisionChecker) collides(p string) (collide, tooMany bool) {
	c.k = appendKey(c.k[:0], p, c.fold)
	k := c.k
	// Each folder's key is a leading run of the path's, hashed as the
	// path's is written: the n-th '/' of the key ends the same folder as
	// the n-th of p (neither folding nor normalization makes or removes
	// one).
	c.h.Reset()
	pj, done := 0, 0
	for j := 0; j < len(k); j++ {
		if k[j] != '/' {
			continue
		}
		c.h.Write(k[done:j])
		done = j
		d := c.h.Sum64()
		pj += strings.IndexByte(p[pj:], '/')
		if _, ok := c.files[d]; ok {
			return true, false // a folder named as an earlier file
		}
		var exact uint64
		if c.spellings {
			exact = maphash.String(c.seed, p[:pj])
		}
		if first, ok := c.folders[d]; !ok {
			if c.maxFolders > 0 && len(c.folders) >= c.maxFolders {
				return false, true
			}
			c.folders[d] = exact
		} else if first != exact {
			return true, false // a folder spelled two ways
		}
		pj++
	}
	c.h.Write(k[done:])
	f := c.h.Sum64()
	_, dup := c.files[f]
	_, isFolder := c.folders[f]
	if dup || isFolder {
		return true, false // the same key twice, or a file named as another's folder
	}
	c.files[f] = struct{}{}
	return false, false
}

// collisions is Collisions for paths that do collide: it finds and
// explains the pairs.
func collisions(paths []string, key func(string) string, spellings bool) error {

	exact := make(map[string]int, len(paths))
	nfc := make(map[string]int, len(paths))
	folded := make(map[string]int, len(paths))
	keys := make([]string, len(paths))
	var e CollisionError
	add := func(a, b string) {
		if len(e.Pairs) < maxPairs {
			e.Pairs = append(e.Pairs, [2]string{a, b})
		} else {
			e.More++
		}
	}

	// Same-name collisions: compare each path with the first path that
	// has the same exact, NFC or folded spelling.
	for i, p := range paths {
		k := key(p)
		keys[i] = k
		n := p
		if !isASCII(p) {
			n = norm.NFC.String(p)
		}
		switch j, ok := exact[p]; {
		case ok:
			add(paths[j], p)
		default:
			exact[p] = i
			if j, ok := nfc[n]; ok {
				add(paths[j], p)
			} else if j, ok := folded[k]; ok {
				add(paths[j], p)
			}
		}
		if _, ok := nfc[n]; !ok {
			nfc[n] = i
		}
		if _, ok := folded[k]; !ok {
			folded[k] = i
		}
	}

	// File/folder clashes: a folded leading run of components of one path
	// that is the whole folded key of another path.
	for i, p := range paths {
		k := keys[i]
		for j := 0; j < len(k); j++ {
			if k[j] != '/' {
				continue
			}
			if f, ok := folded[k[:j]]; ok {
				add(paths[f], p)
			}
		}
	}

	// Folders spelled two ways: a folded folder key first met with another
	// exact spelling. One pair per path, for its first such folder.
	type spelling struct {
		exact string
		path  int
	}
	folders := map[string]spelling{}
	for i, p := range paths {
		k := keys[i]
		if !spellings {
			break
		}
		if folded[k] != i {
			continue // already paired as the same name
		}
		pj := 0
		for j := 0; j < len(k); j++ {
			if k[j] != '/' {
				continue
			}
			pj += strings.IndexByte(p[pj:], '/')
			if first, ok := folders[k[:j]]; !ok {
				folders[k[:j]] = spelling{p[:pj], i}
			} else if first.exact != p[:pj] {
				add(paths[first.path], p)
				break
			}
			pj++
		}
	}

	if len(e.Pairs) == 0 {
		return nil
	}
	return &e
}

// reason explains why the paths a and b collide. sameLook reports that
// the two differ only in Unicode normalization and so print alike.
func reason(a, b string) (why string, sameLook bool) {
	key := foldKey(cases.Fold())
	ka, kb := key(a), key(b)
	switch {
	case a == b:
		return "duplicate path", false
	case norm.NFC.String(a) == norm.NFC.String(b):
		return "same name after Unicode normalization", true
	case ka == kb:
		return "same name when case is ignored", false
	case strings.HasPrefix(b, a+"/"):
		return "file is also a folder", false
	case strings.HasPrefix(kb, ka+"/"):
		return "file is also a folder when case is ignored", false
	}
	// A folder spelled two ways: the first components that differ.
	ca, cb := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < min(len(ca), len(cb))-1; i++ {
		if ca[i] == cb[i] {
			continue
		}
		if norm.NFC.String(ca[i]) == norm.NFC.String(cb[i]) {
			return "same folder, spelled two ways after Unicode normalization", true
		}
		if key(ca[i]) == key(cb[i]) {
			return "same folder, spelled in two cases", false
		}
		break
	}
	return "same file", false
}

// foldKey returns a function computing the caseless comparison key of a
// path with fold, following Unicode canonical caseless matching:
// NFD(fold(NFD(p))). For a path in ASCII, as most are, that is the path
// in lower case (normalization leaves ASCII alone, and full case folding
// changes only its capital letters), which strings.ToLower gives without
// allocating when there is no capital.
func foldKey(fold cases.Caser) func(string) string {
	return func(p string) string {
		if isASCII(p) {
			return strings.ToLower(p) // p itself if it has no capitals
		}
		return string(appendKey(nil, p, fold))
	}
}

// appendKey appends foldKey's key for p to dst: for an ASCII path, p with
// its capitals lowered, without making a string of it.
func appendKey(dst []byte, p string, fold cases.Caser) []byte {
	if !isASCII(p) {
		return append(dst, norm.NFD.String(fold.String(norm.NFD.String(p)))...)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// isASCII reports whether s is all ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
