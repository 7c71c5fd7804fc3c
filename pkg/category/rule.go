package category

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// ErrBadPattern is wrapped by the errors returned for a malformed glob.
// It is path.ErrBadPattern itself, so callers may test for either.
var ErrBadPattern = path.ErrBadPattern

// Rule assigns Category to every stored path that matches Glob (see
// Match).
type Rule struct {
	Category ID
	Glob     string
}

// String returns the rule in the CAT=GLOB form read by ParseRule.
func (r Rule) String() string {
	return string(r.Category) + "=" + r.Glob
}

// ParseRule parses a rule written as CAT=GLOB, for example
// "personal=**/*.jpg". The text is split at the first '=', so the glob
// may itself contain '='; nothing is trimmed, but the glob is put in the
// form stored paths have (see NormalizeGlob). It is an error, wrapping
// ErrBadRule, if the '=' is missing, the category is unknown (also
// wrapping ErrUnknown) or the glob is empty or malformed (also wrapping
// ErrBadPattern). The glob is checked in full here, so that Match cannot
// fail later for a parsed rule.
func ParseRule(s string) (Rule, error) {
	cat, glob, ok := strings.Cut(s, "=")
	if !ok {
		return Rule{}, fmt.Errorf("%w %q: want CATEGORY=GLOB", ErrBadRule, s)
	}
	id, err := Parse(cat)
	if err != nil {
		return Rule{}, fmt.Errorf("%w %q: %w", ErrBadRule, s, err)
	}
	glob = NormalizeGlob(glob)
	if glob == "" {
		return Rule{}, fmt.Errorf("%w %q: empty glob", ErrBadRule, s)
	}
	if err := validate(glob); err != nil {
		return Rule{}, fmt.Errorf("%w %q: %w", ErrBadRule, s, err)
	}
	return Rule{Category: id, Glob: glob}, nil
}

// NormalizeGlob puts a glob in the form stored paths have, so that it
// matches what it reads as: Unicode NFC (a name typed or completed in
// decomposed form, as macOS gives it, would otherwise match nothing) and
// without leading "./" segments, which no stored path has.
func NormalizeGlob(glob string) string {
	for strings.HasPrefix(glob, "./") {
		glob = strings.TrimLeft(glob[2:], "/")
	}
	return norm.NFC.String(glob)
}

// Match reports whether the stored path name matches the glob.
//
// Both are slash-separated, and the glob is matched one path segment at a
// time. A segment that is exactly "**" matches zero or more whole
// segments, except that a "**" ending the glob matches one or more: so
// "case/**" matches everything below case ("case/a", "case/x/y/z") but
// not "case" itself, "**/*.jpg" matches "a.jpg" and "x/y/a.jpg", "a/**/b"
// matches "a/b" and "a/x/y/b", and "**" alone matches every name. Any
// other segment is matched against exactly one name segment with the
// syntax of path.Match: '*' matches any run of characters, '?' any one
// character, '[...]' a character class and '\' escapes the next
// character. A "**" that is not a whole segment, as in "a**b" or "***",
// is two or three single stars and so never crosses a '/'. A '/' cannot
// be escaped or put in a class. Matching is case-sensitive and compares
// bytes: the caller should pass NFC paths (see safepath.Check).
//
// The whole glob is checked, even where matching stops early. A glob that
// is empty, has an empty segment (a leading, trailing or doubled '/') or
// a malformed segment yields an error wrapping ErrBadPattern.
func Match(glob, name string) (bool, error) {
	if err := validate(glob); err != nil {
		return false, err
	}
	return match(strings.Split(glob, "/"), strings.Split(name, "/")), nil
}

// validate reports whether glob is a well-formed pattern for Match.
func validate(glob string) error {
	if glob == "" {
		return fmt.Errorf("category: empty glob: %w", ErrBadPattern)
	}
	for seg := range strings.SplitSeq(glob, "/") {
		if seg == "" {
			return fmt.Errorf("category: glob %q has an empty segment: %w", glob, ErrBadPattern)
		}
		if seg == "**" {
			continue
		}
		// path.Match checks the whole pattern even when it fails to match.
		if _, err := path.Match(seg, ""); err != nil {
			return fmt.Errorf("category: malformed glob %q: %w", glob, ErrBadPattern)
		}
	}
	return nil
}

// match reports whether the name segments ns match the validated glob
// segments gs. It runs in O(len(gs) * len(ns)) segment comparisons, with
// dynamic programming over suffixes: next[j] is whether gs[i+1:] matches
// ns[j:], cur[j] whether gs[i:] does.
func match(gs, ns []string) bool {
	n := len(ns)
	next := make([]bool, n+1)
	cur := make([]bool, n+1)
	next[n] = true // the empty glob matches only the empty remainder
	for i := len(gs) - 1; i >= 0; i-- {
		g := gs[i]
		last := i == len(gs)-1
		cur[n] = g == "**" && !last && next[n]
		for j := n - 1; j >= 0; j-- {
			switch {
			case g == "**" && last:
				cur[j] = true // one or more segments: all that is left
			case g == "**":
				cur[j] = next[j] || cur[j+1] // zero segments, or one more
			default:
				ok, _ := path.Match(g, ns[j])
				cur[j] = ok && next[j+1]
			}
		}
		cur, next = next, cur
	}
	return next[0]
}

// Rules is an ordered list of rules.
type Rules []Rule

// Assign returns the categories of every rule whose glob matches name, in
// vocabulary order without duplicates, or nil if no rule matches. A rule
// with a malformed glob (possible only if it was not built by ParseRule)
// matches nothing.
func (rs Rules) Assign(name string) []ID {
	return rs.assign(name, nil)
}

// AssignMarking is Assign that also sets used[i] for every rule i whose
// glob matches name (used has one element per rule), so that a caller
// can tell which rules matched no path at all: a glob that does not match
// what it was meant to (a bracket read as a character class, a name in
// another case) would otherwise leave those files to the default
// category unnoticed.
func (rs Rules) AssignMarking(name string, used []bool) []ID {
	return rs.assign(name, used)
}

func (rs Rules) assign(name string, used []bool) []ID {
	var ids []ID
	ns := strings.Split(name, "/")
	for i, r := range rs {
		have := slices.Contains(ids, r.Category)
		if have && (used == nil || used[i]) || validate(r.Glob) != nil {
			continue
		}
		if match(strings.Split(r.Glob, "/"), ns) {
			if used != nil {
				used[i] = true
			}
			if !have {
				ids = append(ids, r.Category)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return Sort(ids)
}
