// Package safepath validates the relative, slash-separated paths stored in
// a bundle so that extracting them is safe on Linux, Windows and macOS.
//
// Stored paths arrive from possibly hostile senders. Check refuses every
// path that could escape the extraction folder, name a device, hide its
// real name on screen, or be written differently on the three systems;
// Collisions refuses sets of paths that would overwrite one another.
package safepath

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/dossier-evidence/dossier/pkg/printable"
)

// Limits enforced by Check.
const (
	// MaxLen is the maximum length of a path in bytes.
	MaxLen = 4096
	// MaxComponentLen is the maximum length of one path component in bytes.
	MaxComponentLen = 255
	// MaxComponents is the maximum number of components in a path.
	MaxComponents = 64
)

// ErrUnsafe is wrapped by every error that Check and Collisions return.
var ErrUnsafe = errors.New("safepath: unsafe path")

// forbiddenChars are refused anywhere in a path because Windows does not
// allow them in file names (the colon also selects NTFS alternate data
// streams and drive letters).
const forbiddenChars = `<>:"|?*`

// Check reports whether p is safe to use as a stored path. It returns nil
// or an error wrapping ErrUnsafe that names the broken rule and quotes p.
//
// A safe path is non-empty, valid UTF-8 in Unicode normalization form NFC,
// relative and slash-separated: it has no leading "/", no backslash and no
// colon (so no drive letter and no alternate data stream), no empty, "."
// or ".." component, and no trailing "/". It contains no control
// character (U+0000–U+001F, U+007F, U+0080–U+009F), no bidirectional or
// format control (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069),
// no line or paragraph separator (U+2028, U+2029), no U+FEFF and none of
// the characters < > : " | ? *. No component ends in "." or " ", and no
// component is a Windows device name (CON, PRN, AUX, NUL, COM0–COM9,
// LPT0–LPT9, COM¹–COM³, LPT¹–LPT³, CONIN$, CONOUT$) in any letter case,
// alone or followed by an extension: "nul", "Con.txt", "aux .tar.gz" are
// refused, "console" is not. Each component is at most MaxComponentLen
// bytes, the whole path at most MaxLen bytes with at most MaxComponents
// components.
func Check(p string) error {
	if p == "" {
		return unsafe(p, "path is empty")
	}
	if len(p) > MaxLen {
		return unsafe(p, fmt.Sprintf("path is longer than %d bytes", MaxLen))
	}
	if err := checkChars(p); err != nil {
		return err
	}
	if p[0] == '/' {
		return unsafe(p, "path is absolute")
	}
	if p[len(p)-1] == '/' {
		return unsafe(p, "path ends in a slash")
	}
	if n := strings.Count(p, "/") + 1; n > MaxComponents {
		return unsafe(p, fmt.Sprintf("path has %d components, more than %d", n, MaxComponents))
	}
	for c := range strings.SplitSeq(p, "/") {
		if err := checkComponent(p, c); err != nil {
			return err
		}
	}
	return nil
}

// checkChars applies the character rules of Check to p: valid UTF-8, no
// control, invisible format or forbidden characters, NFC. An ASCII path,
// the common case, is valid UTF-8 and NFC as it is, and needs one pass.
func checkChars(p string) error {
	if plainASCII(p) {
		return nil
	}
	if !utf8.ValidString(p) {
		return unsafe(p, "path is not valid UTF-8")
	}
	for _, r := range p {
		switch {
		case r < 0x20 || r == 0x7f || (0x80 <= r && r <= 0x9f):
			return unsafe(p, fmt.Sprintf("path contains control character %U", r))
		case printable.IsBidiOrFormat(r):
			return unsafe(p, fmt.Sprintf("path contains invisible format character %U", r))
		case r == '\\':
			return unsafe(p, "path contains a backslash")
		case r < utf8.RuneSelf && strings.ContainsRune(forbiddenChars, r):
			return unsafe(p, fmt.Sprintf("path contains %q, which Windows does not allow", r))
		}
	}
	if !norm.NFC.IsNormalString(p) {
		return unsafe(p, "path is not in Unicode normalization form NFC")
	}
	return nil
}

// plainASCII reports whether p is ASCII without a character that Check
// refuses.
func plainASCII(p string) bool {
	for i := 0; i < len(p); i++ {
		if !plainByte[p[i]] {
			return false
		}
	}
	return true
}

// plainByte is true for the bytes of a plain ASCII path: printable, no
// backslash and none of forbiddenChars.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '\\' && !strings.ContainsRune(forbiddenChars, rune(c))
	}
	return t
}()

// checkComponent applies the per-component rules of Check to c, a
// component of p.
func checkComponent(p, c string) error {
	switch {
	case c == "":
		return unsafe(p, "path has an empty component")
	case c == "." || c == "..":
		return unsafe(p, fmt.Sprintf("path has a %q component", c))
	case len(c) > MaxComponentLen:
		return unsafe(p, fmt.Sprintf("path has a component longer than %d bytes", MaxComponentLen))
	case c[len(c)-1] == '.':
		return unsafe(p, "path has a component ending in a dot, which Windows drops")
	case c[len(c)-1] == ' ':
		return unsafe(p, "path has a component ending in a space, which Windows drops")
	case isReserved(c):
		return unsafe(p, fmt.Sprintf("path has component %s, a Windows device name", quote(c)))
	}
	return nil
}

// isReserved reports whether the path component c names a Windows device.
// Windows ignores everything from the first dot and the spaces before it.
func isReserved(c string) bool {
	base := c
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	base = strings.TrimRight(base, " ")
	// Every device name is 3 to 7 bytes long ("COM¹" is 5) and starts
	// with one of these letters: most components are ruled out here.
	if len(base) < 3 || len(base) > 7 {
		return false
	}
	switch base[0] | 0x20 {
	case 'a', 'c', 'l', 'n', 'p':
	default:
		return false
	}
	head, tail := base[:3], base[3:]
	for _, dev := range []string{"CON", "PRN", "AUX", "NUL"} {
		if tail == "" && strings.EqualFold(head, dev) {
			return true
		}
	}
	if strings.EqualFold(head, "COM") || strings.EqualFold(head, "LPT") {
		switch tail {
		case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
			return true
		}
	}
	return strings.EqualFold(base, "CONIN$") || strings.EqualFold(base, "CONOUT$")
}

// unsafe returns an error wrapping ErrUnsafe for path p broken by reason.
func unsafe(p, reason string) error {
	return fmt.Errorf("%w %s: %s", ErrUnsafe, quote(p), reason)
}

// maxQuoted is the number of bytes of a path quoted in an error message.
const maxQuoted = 200

// quote returns p quoted with %q, shortened to about maxQuoted bytes so
// that a hostile path cannot flood a log.
func quote(p string) string {
	return quoteWith(p, quoteEscapingReplacement)
}

// quoteEscapingReplacement is strconv.Quote, but a U+FFFD in p is written
// \ufffd: strconv.Quote writes it as it is, and it would then look like the
// \xff it writes for a byte that is not UTF-8.
func quoteEscapingReplacement(p string) string {
	return strings.ReplaceAll(strconv.Quote(p), "\ufffd", `\ufffd`)
}

// quoteWith returns p quoted by q, shortened like quote.
func quoteWith(p string, q func(string) string) string {
	if len(p) <= maxQuoted {
		return q(p)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(p[cut]) {
		cut--
	}
	return q(p[:cut]) + "..."
}

// Normalize returns p in Unicode normalization form NFC. Use it on the
// packing side: file names read from a macOS disk may be decomposed (NFD),
// and Check refuses them until they are normalized.
func Normalize(p string) string {
	return norm.NFC.String(p)
}
