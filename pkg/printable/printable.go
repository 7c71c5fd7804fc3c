// Package printable makes untrusted text safe to print on a terminal.
//
// Names and metadata read from a bundle come from a possibly hostile
// sender. Printed verbatim they could move the cursor, rewrite earlier
// output, change the window title (ANSI escape sequences) or reorder what
// the reader sees (Unicode bidirectional controls, "Trojan Source").
// String escapes every such character and leaves ordinary text, including
// non-ASCII letters, untouched.
package printable

import (
	"strings"
	"unicode/utf8"
)

// String returns s with every character that could disturb a terminal
// replaced by a visible escape, so it is safe to print.
//
// Escaped are:
//   - C0 controls U+0000–U+001F (including tab and newline) and DEL
//     U+007F, written as \x1b;
//   - C1 controls U+0080–U+009F, written as \u0085;
//   - bidirectional and format controls (U+061C, U+200E, U+200F,
//     U+202A–U+202E, U+2066–U+2069), the line and paragraph separators
//     U+2028 and U+2029, and U+FEFF, written as \u202e;
//   - characters that show as nothing in a name (see IsInvisible), such
//     as the zero-width space U+200B and the soft hyphen U+00AD, so that
//     "re\u200bport.pdf" is not read as "report.pdf";
//   - each byte that is not part of valid UTF-8, written as \xff;
//   - the backslash itself, written as \\.
//
// Because the backslash is escaped, the output is unambiguous: a valid
// C1 or format character (\u0085) is never confused with an invalid byte
// (\x85). Everything else, including non-ASCII letters, emoji and the
// replacement character U+FFFD when it is really present in s, is
// returned unchanged. If nothing needs escaping, s itself is returned.
func String(s string) string {
	return escape(s, true)
}

// Text is String for a line that is already safe but for what was put in
// it: it escapes the same characters, except the backslash, which it
// leaves as it is. So a Windows path reads as typed, and text that went
// through String (or Text) before is returned unchanged. The price is
// that a name holding a backslash and "x1b" reads like one holding an
// escape character; use String where that must be told apart.
func Text(s string) string {
	return escape(s, false)
}

func escape(s string, backslash bool) string {
	i := firstUnsafe(s, backslash)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\\' && backslash:
				b.WriteString(`\\`)
			case c < 0x20 || c == 0x7f:
				writeHex(&b, `\x`, uint32(c), 2)
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			writeHex(&b, `\x`, uint32(c), 2)
		case IsUnsafe(r):
			writeHex(&b, `\u`, uint32(r), 4)
		case r > 0xffff && IsInvisible(r):
			writeHex(&b, `\U`, uint32(r), 8)
		case IsInvisible(r):
			writeHex(&b, `\u`, uint32(r), 4)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// IsUnsafe reports whether String escapes the valid rune r: C0 and C1
// controls, DEL, the backslash, bidirectional and format controls, the
// line and paragraph separators and U+FEFF. It does not cover invalid
// UTF-8, which String escapes byte by byte.
func IsUnsafe(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r == '\\':
		return true
	case r < 0x80:
		return false
	case r <= 0x9f:
		return true
	}
	return IsBidiOrFormat(r)
}

// IsInvisible reports whether r is a character that String escapes
// because it shows as nothing, or as blank space, in a name, so that two
// names differing only by it look the same: the soft hyphen U+00AD, the
// combining grapheme joiner U+034F, the Hangul fillers U+115F, U+1160,
// U+3164 and U+FFA0, the Khmer vowels U+17B4 and U+17B5, the Mongolian
// selectors and vowel separator U+180B–U+180F, the zero-width space
// U+200B, the word joiner and invisible operators U+2060–U+2064, the
// deprecated format characters U+206A–U+206F, the
// shorthand format controls U+1BCA0–U+1BCA3, the musical format controls
// U+1D173–U+1D17A and the tag characters U+E0000–U+E007F. It leaves out
// the zero-width joiner and non-joiner (U+200D, U+200C) and the variation
// selectors, which emoji and several scripts need. Unlike
// IsBidiOrFormat, it is about how text reads, not a rule of the format:
// names holding these characters are valid.
func IsInvisible(r rune) bool {
	switch {
	case r == 0x00ad, r == 0x034f, r == 0x115f, r == 0x1160, r == 0x17b4, r == 0x17b5,
		r == 0x200b, r == 0x3164, r == 0xffa0:
		return true
	case 0x180b <= r && r <= 0x180f, 0x2060 <= r && r <= 0x2064, 0x206a <= r && r <= 0x206f,
		0x1bca0 <= r && r <= 0x1bca3, 0x1d173 <= r && r <= 0x1d17a, 0xe0000 <= r && r <= 0xe007f:
		return true
	}
	return false
}

// IsBidiOrFormat reports whether r is one of the invisible characters
// that can reorder or hide text on screen: the Arabic letter mark U+061C,
// the left-to-right and right-to-left marks U+200E and U+200F, the
// embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069, the
// line and paragraph separators U+2028 and U+2029, and the byte order
// mark / zero-width no-break space U+FEFF.
func IsBidiOrFormat(r rune) bool {
	switch {
	case r == 0x061c, r == 0x200e, r == 0x200f, r == 0xfeff:
		return true
	case 0x2028 <= r && r <= 0x202e:
		return true
	case 0x2066 <= r && r <= 0x2069:
		return true
	}
	return false
}

// firstUnsafe returns the byte offset of the first byte or rune in s that
// must be escaped (the backslash too if backslash is set), or -1 if there
// is none.
func firstUnsafe(s string, backslash bool) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f || c == '\\' && backslash {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || IsUnsafe(r) || IsInvisible(r) {
			return i
		}
		i += size
	}
	return -1
}

const hexDigits = "0123456789abcdef"

// writeHex writes prefix followed by v as exactly width lower-case
// hexadecimal digits.
func writeHex(b *strings.Builder, prefix string, v uint32, width int) {
	b.WriteString(prefix)
	for shift := 4 * (width - 1); shift >= 0; shift -= 4 {
		b.WriteByte(hexDigits[(v>>uint(shift))&0xf])
	}
}
