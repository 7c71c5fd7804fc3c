package main

// A strict reader for the subset of TOML v1.0.0 that transfer specs use.
//
// github.com/BurntSushi/toml is the intended decoder, but it is not in
// go.mod yet; until it is, this reader stands in. It accepts only: comments,
// key = value lines with bare or quoted (single-line) keys, one level of
// [table] headers, basic and literal single-line strings, booleans,
// decimal integers, local dates (2031-12-31) and arrays of these, spanning
// lines. Everything else TOML allows (dotted keys, inline tables, arrays of
// tables, multi-line strings, floats, times) is refused with an error
// naming the line, never misread, so that replacing this reader with the
// full decoder only ever accepts more.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// tomlDate is a TOML local date, kept as written (YYYY-MM-DD).
type tomlDate string

// tomlError is a syntax error in a TOML document.
type tomlError struct {
	line int
	msg  string
}

func (e *tomlError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

type tomlReader struct {
	s    string
	pos  int
	line int
}

// parseTOML reads a document into a map whose values are string, bool,
// int64, tomlDate, []any or (for tables) map[string]any.
func parseTOML(src string) (map[string]any, error) {
	if !utf8.ValidString(src) {
		return nil, &tomlError{1, "the file is not valid UTF-8"}
	}
	r := &tomlReader{s: strings.TrimPrefix(src, "\uFEFF"), line: 1}
	root := map[string]any{}
	cur := root
	for {
		if err := r.skipBlank(true); err != nil {
			return nil, err
		}
		if r.eof() {
			return root, nil
		}
		if r.peek() == '[' {
			r.pos++
			if r.peek() == '[' {
				return nil, r.errorf("arrays of tables ([[…]]) are not supported in a transfer spec")
			}
			r.skipBlank(false)
			name, err := r.key()
			if err != nil {
				return nil, err
			}
			r.skipBlank(false)
			if r.peek() == '.' {
				return nil, r.errorf("nested tables ([a.b]) are not supported in a transfer spec")
			}
			if r.peek() != ']' {
				return nil, r.errorf("expected ] to close the table name %q", name)
			}
			r.pos++
			if _, dup := root[name]; dup {
				return nil, r.errorf("%q is defined twice", name)
			}
			cur = map[string]any{}
			root[name] = cur
		} else {
			k, err := r.key()
			if err != nil {
				return nil, err
			}
			r.skipBlank(false)
			if r.peek() == '.' {
				return nil, r.errorf("dotted keys (a.b = …) are not supported in a transfer spec")
			}
			if r.peek() != '=' {
				return nil, r.errorf("expected = after the key %q", k)
			}
			r.pos++
			r.skipBlank(false)
			v, err := r.value()
			if err != nil {
				return nil, err
			}
			if _, dup := cur[k]; dup {
				return nil, r.errorf("the key %q is set twice", k)
			}
			cur[k] = v
		}
		if err := r.endOfLine(); err != nil {
			return nil, err
		}
	}
}

func (r *tomlReader) eof() bool { return r.pos >= len(r.s) }

func (r *tomlReader) peek() byte {
	if r.eof() {
		return 0
	}
	return r.s[r.pos]
}

func (r *tomlReader) errorf(format string, args ...any) error {
	return &tomlError{r.line, fmt.Sprintf(format, args...)}
}

// skipBlank skips spaces and tabs and, with lines, also newlines and
// comments.
func (r *tomlReader) skipBlank(lines bool) error {
	for !r.eof() {
		switch c := r.peek(); {
		case c == ' ' || c == '\t':
			r.pos++
		case lines && c == '\n':
			r.pos++
			r.line++
		case lines && c == '\r' && strings.HasPrefix(r.s[r.pos:], "\r\n"):
			r.pos += 2
			r.line++
		case lines && c == '#':
			if err := r.comment(); err != nil {
				return err
			}
		default:
			return nil
		}
	}
	return nil
}

// comment skips a comment up to (not including) the end of the line.
func (r *tomlReader) comment() error {
	for !r.eof() && r.peek() != '\n' {
		c, size := utf8.DecodeRuneInString(r.s[r.pos:])
		if c == '\r' && strings.HasPrefix(r.s[r.pos:], "\r\n") {
			return nil
		}
		if isControl(c) {
			return r.errorf("control character %U in a comment", c)
		}
		r.pos += size
	}
	return nil
}

// endOfLine requires the rest of the line to be blank or a comment.
func (r *tomlReader) endOfLine() error {
	r.skipBlank(false) // without lines, it cannot fail
	if r.peek() == '#' {
		if err := r.comment(); err != nil {
			return err
		}
	}
	switch {
	case r.eof():
		return nil
	case r.peek() == '\n':
		r.pos++
		r.line++
		return nil
	case strings.HasPrefix(r.s[r.pos:], "\r\n"):
		r.pos += 2
		r.line++
		return nil
	}
	return r.errorf("unexpected %q after the value (one key = value per line)", r.rest())
}

// rest is what is left of the line, for messages.
func (r *tomlReader) rest() string {
	s := r.s[r.pos:]
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 20 {
		s = s[:20] + "…"
	}
	return s
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

func isControl(c rune) bool {
	return c < 0x20 && c != '\t' || c == 0x7f
}

func (r *tomlReader) key() (string, error) {
	switch c := r.peek(); {
	case c == '"' || c == '\'':
		return r.str()
	case isBare(c):
		start := r.pos
		for !r.eof() && isBare(r.peek()) {
			r.pos++
		}
		return r.s[start:r.pos], nil
	case r.eof():
		return "", r.errorf("expected a key, found the end of the file")
	}
	return "", r.errorf("expected a key (letters, digits, _ and -, or a quoted string), found %q", r.rest())
}

var (
	tomlDateRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	tomlIntRe  = regexp.MustCompile(`^[+-]?(0|[1-9](_?\d)*)$`)
)

func (r *tomlReader) value() (any, error) {
	switch c := r.peek(); {
	case c == '"' || c == '\'':
		return r.str()
	case c == '[':
		return r.array()
	case c == '{':
		return nil, r.errorf("inline tables ({…}) are not supported in a transfer spec")
	case r.eof() || c == '\n' || c == '\r' || c == '#':
		return nil, r.errorf("expected a value after =")
	}
	start := r.pos
	for !r.eof() && (isBare(r.peek()) || strings.IndexByte("+.:", r.peek()) >= 0) {
		r.pos++
	}
	tok := r.s[start:r.pos]
	switch {
	case tok == "true":
		return true, nil
	case tok == "false":
		return false, nil
	case tomlDateRe.MatchString(tok):
		if _, err := time.Parse("2006-01-02", tok); err != nil {
			return nil, r.errorf("%s is not a valid date", tok)
		}
		return tomlDate(tok), nil
	case tomlIntRe.MatchString(tok):
		n, err := strconv.ParseInt(strings.ReplaceAll(tok, "_", ""), 10, 64)
		if err != nil {
			return nil, r.errorf("%s is out of range", tok)
		}
		return n, nil
	case tok == "":
		return nil, r.errorf("expected a value, found %q", r.rest())
	}
	return nil, r.errorf("%q is not a value a transfer spec takes: quote text (\"…\"), write true or false, a whole number or a date like 2031-12-31", tok)
}

func (r *tomlReader) array() ([]any, error) {
	r.pos++ // [
	out := []any{}
	for {
		if err := r.skipBlank(true); err != nil {
			return nil, err
		}
		if r.peek() == ']' {
			r.pos++
			return out, nil
		}
		v, err := r.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		if err := r.skipBlank(true); err != nil {
			return nil, err
		}
		switch r.peek() {
		case ',':
			r.pos++
		case ']':
			r.pos++
			return out, nil
		default:
			if r.eof() {
				return nil, r.errorf("the list is not closed with ]")
			}
			return nil, r.errorf("expected , or ] in a list, found %q", r.rest())
		}
	}
}

// str reads a single-line basic ("…") or literal ('…') string.
func (r *tomlReader) str() (string, error) {
	q := r.peek()
	if strings.HasPrefix(r.s[r.pos:], strings.Repeat(string(q), 3)) {
		return "", r.errorf("multi-line strings are not supported in a transfer spec")
	}
	r.pos++
	var b strings.Builder
	for {
		if r.eof() {
			return "", r.errorf("the string is not closed with %c", q)
		}
		c, size := utf8.DecodeRuneInString(r.s[r.pos:])
		switch {
		case c == rune(q):
			r.pos++
			return b.String(), nil
		case c == '\n' || c == '\r':
			return "", r.errorf("the string is not closed with %c before the end of the line", q)
		case isControl(c):
			return "", r.errorf("control character %U in a string (write it as an escape)", c)
		case c == '\\' && q == '"':
			r.pos++
			if err := r.escape(&b); err != nil {
				return "", err
			}
			continue
		}
		b.WriteRune(c)
		r.pos += size
	}
}

func (r *tomlReader) escape(b *strings.Builder) error {
	if r.eof() {
		return r.errorf("the string ends in a lone \\")
	}
	c := r.peek()
	r.pos++
	simple := map[byte]string{'b': "\b", 't': "\t", 'n': "\n", 'f': "\f", 'r': "\r", '"': "\"", '\\': "\\"}
	if s, ok := simple[c]; ok {
		b.WriteString(s)
		return nil
	}
	n := map[byte]int{'u': 4, 'U': 8}[c]
	if n == 0 || r.pos+n > len(r.s) {
		return r.errorf("unknown escape \\%c in a string (use \\\\ for a backslash, or a literal string in single quotes)", c)
	}
	v, err := strconv.ParseUint(r.s[r.pos:r.pos+n], 16, 32)
	if err != nil || !utf8.ValidRune(rune(v)) {
		return r.errorf("invalid escape \\%c%s", c, r.s[r.pos:r.pos+n])
	}
	r.pos += n
	b.WriteRune(rune(v))
	return nil
}
