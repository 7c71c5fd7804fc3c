package manifest

import (
	"fmt"
	"strconv"
	"time"
)

// A bundle can list a million files, and a reader holds every entry from
// the preamble until the manifest is checked. An entry's modification
// time and mode were strings: 16 bytes of header each, and the time's 20
// bytes of text (24 allocated) for every file written in a second of its
// own, as most evidence is. Held as numbers they take 16 bytes with the
// padding that follows the mode, some 40 bytes a file less (6 MB at
// 150,000 files, for pack and for every reader). Their JSON is what it
// was.

// Time is a file's modification time in whole seconds, written as RFC
// 3339 in UTC ("2006-01-02T15:04:05Z", the only spelling the documents
// allow). It counts seconds since 1970-01-01 UTC. Only years 0000 to
// 9999 can be written so; [Time.Valid] reports whether t is in them.
type Time int64

// timeLayout is the one spelling of a Time.
const timeLayout = "2006-01-02T15:04:05Z"

// TimeOf returns t's Time: its whole seconds, the fraction dropped.
func TimeOf(t time.Time) Time { return Time(t.Unix()) }

// Time returns t as a time.Time in UTC.
func (t Time) Time() time.Time { return time.Unix(int64(t), 0).UTC() }

// Valid reports whether t's year is between 0000 and 9999, the years RFC
// 3339 can write.
func (t Time) Valid() bool {
	y := t.Time().Year()
	return y >= 0 && y <= 9999
}

// String returns t in its canonical spelling (for a time outside
// [Time.Valid]'s years, what Go writes for it, which no reader accepts).
func (t Time) String() string { return string(t.appendText(nil)) }

// appendText writes t's spelling. A list can hold a million entries,
// each spelled again to check it is canonical: for the years a document
// allows the digits are written directly, several times faster than
// AppendFormat, which interprets the layout each time.
func (t Time) appendText(b []byte) []byte {
	tt := t.Time()
	year, month, day := tt.Date()
	if year < 0 || year > 9999 {
		return tt.AppendFormat(b, timeLayout)
	}
	hour, minute, second := tt.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, second, 2)
	return append(b, 'Z')
}

// appendDigits writes v, which is not negative, as exactly n decimal
// digits.
func appendDigits(b []byte, v, n int) []byte {
	b = append(b, "0000"[:n]...)
	for i := len(b) - 1; n > 0; i, n = i-1, n-1 {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return b
}

// MarshalText returns t's canonical spelling.
func (t Time) MarshalText() ([]byte, error) { return t.appendText(nil), nil }

// UnmarshalText accepts only the canonical spelling: whole seconds, UTC,
// written with a Z.
func (t *Time) UnmarshalText(b []byte) error {
	v, ok := parseTime(b)
	if !ok {
		return fmt.Errorf("malformed mtime %q (want whole seconds in UTC, as 2006-01-02T15:04:05Z)", b)
	}
	*t = v
	return nil
}

// parseTime parses b if it is a Time's canonical spelling: digits where
// the layout has them, a date and time that exist (spelling the result
// again must give b back).
func parseTime(b []byte) (Time, bool) {
	if len(b) != len(timeLayout) {
		return 0, false
	}
	for i, c := range []byte(timeLayout) {
		if c >= '0' && c <= '9' {
			if b[i] < '0' || b[i] > '9' {
				return 0, false
			}
		} else if b[i] != c {
			return 0, false
		}
	}
	num := func(from, to int) int {
		v := 0
		for _, c := range b[from:to] {
			v = v*10 + int(c-'0')
		}
		return v
	}
	v := TimeOf(time.Date(num(0, 4), time.Month(num(5, 7)), num(8, 10), num(11, 13), num(14, 16), num(17, 19), 0, time.UTC))
	var buf [len(timeLayout) + 8]byte
	return v, string(v.appendText(buf[:0])) == string(b)
}

// Mode is a file's permission bits, written as four octal digits. A
// document accepts only [ModeRegular] and [ModeExecutable].
type Mode uint16

// The two modes a file can have.
const (
	ModeRegular    Mode = 0o644
	ModeExecutable Mode = 0o755
)

// Valid reports whether m is one of the two modes a document accepts.
func (m Mode) Valid() bool { return m == ModeRegular || m == ModeExecutable }

// String returns m as octal digits, at least four ("0644").
func (m Mode) String() string { return string(m.appendText(nil)) }

func (m Mode) appendText(b []byte) []byte {
	switch m {
	case ModeRegular:
		return append(b, "0644"...)
	case ModeExecutable:
		return append(b, "0755"...)
	}
	for k := 3; k > 0 && int(m) < 1<<(3*k); k-- {
		b = append(b, '0')
	}
	return strconv.AppendUint(b, uint64(m), 8)
}

// MarshalText returns m's octal digits.
func (m Mode) MarshalText() ([]byte, error) { return m.appendText(nil), nil }

// UnmarshalText accepts "0644" and "0755" only.
func (m *Mode) UnmarshalText(b []byte) error {
	v, ok := parseMode(b)
	if !ok {
		return fmt.Errorf("malformed mode %q (want 0644 or 0755)", b)
	}
	*m = v
	return nil
}

// parseMode parses the two spellings a document accepts.
func parseMode(b []byte) (Mode, bool) {
	switch string(b) {
	case "0644":
		return ModeRegular, true
	case "0755":
		return ModeExecutable, true
	}
	return 0, false
}

// textLen is the length of t's spelling.
func (t Time) textLen() int {
	if t.Valid() {
		return len(timeLayout)
	}
	var buf [32]byte
	return len(t.appendText(buf[:0]))
}

// textLen is the length of m's spelling.
func (m Mode) textLen() int {
	if m.Valid() {
		return 4
	}
	var buf [8]byte
	return len(m.appendText(buf[:0]))
}
