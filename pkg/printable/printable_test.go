package printable

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"ascii", "report.pdf", "report.pdf"},
		{"spaces and punctuation", "a b~!@#$%^&*()_+{}|:\"<>?", "a b~!@#$%^&*()_+{}|:\"<>?"},
		{"non-ascii letters", "Überweisung_日本語_Ελλάδα_عربى.txt", "Überweisung_日本語_Ελλάδα_عربى.txt"},
		{"emoji with zwj", "👩\u200d💻.png", "👩\u200d💻.png"},
		{"real replacement char", "a\uFFFDb", "a\uFFFDb"},
		{"backslash", `a\b`, `a\\b`},
		{"escape sequence", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"title change", "\x1b]0;pwned\x07", `\x1b]0;pwned\x07`},
		{"nul", "a\x00b", `a\x00b`},
		{"tab newline cr", "a\tb\nc\rd", `a\x09b\x0ac\x0dd`},
		{"del", "a\x7fb", `a\x7fb`},
		{"c1 nel", "a\u0085b", `a\u0085b`},
		{"c1 csi", "\u009b31m", `\u009b31m`},
		{"last c1", "\u009f", `\u009f`},
		{"nbsp is printable", "a\u00a0b", "a\u00a0b"},
		{"rlo", "invoice\u202efdp.exe", `invoice\u202efdp.exe`},
		{"all bidi", "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
			`\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069`},
		{"line and paragraph separators", "a\u2028b\u2029c", `a\u2028b\u2029c`},
		{"bom", "\ufeffname", `\ufeffname`},
		{"neighbours of bidi are kept", "\u2027\u202f\u2065", "\u2027\u202f\u2065"},
		{"deprecated format characters", "report\u206a.pdf", `report\u206a.pdf`},
		{"invalid byte", "a\xffb", `a\xffb`},
		{"c1 byte alone is invalid", "\x85", `\x85`},
		{"truncated sequence", "\xe2\x80", `\xe2\x80`},
		{"surrogate encoding", "\xed\xa0\x80", `\xed\xa0\x80`},
		{"overlong slash", "\xc0\xaf", `\xc0\xaf`},
		{"mixed", "\\\x1b\u202e\xff", `\\\x1b\u202e\xff`},
		{"zero-width space", "re\u200bport.pdf", `re\u200bport.pdf`},
		{"soft hyphen and word joiner", "a\u00adb\u2060c", `a\u00adb\u2060c`},
		{"hangul filler", "\u3164Bob", `\u3164Bob`},
		{"tag characters", "report\U000e0041.pdf", `report\U000e0041.pdf`},
		{"zwnj kept", "\u0645\u06cc\u200c\u0631\u0648\u0645", "\u0645\u06cc\u200c\u0631\u0648\u0645"},
		{"variation selector kept", "\u2764\ufe0f.png", "\u2764\ufe0f.png"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestStringUnchangedReturnsSame(t *testing.T) {
	s := strings.Repeat("naïve ", 10)
	if got := String(s); got != s {
		t.Fatalf("String changed printable text: %q", got)
	}
	if n := testing.AllocsPerRun(100, func() { String(s) }); n != 0 {
		t.Errorf("String allocated %v times for printable text, want 0", n)
	}
}

func TestIsUnsafe(t *testing.T) {
	tests := []struct {
		r    rune
		want bool
	}{
		{'a', false}, {' ', false}, {'~', false}, {'é', false}, {'\u00a0', false},
		{0, true}, {'\n', true}, {0x1f, true}, {0x7f, true}, {'\\', true},
		{0x80, true}, {0x9f, true}, {0xa0, false},
		{0x061c, true}, {0x061b, false}, {0x200d, false}, {0x200e, true}, {0x200f, true},
		{0x2027, false}, {0x2028, true}, {0x2029, true}, {0x202a, true}, {0x202e, true}, {0x202f, false},
		{0x2065, false}, {0x2066, true}, {0x2069, true}, {0x206a, false},
		{0xfeff, true}, {0xfffd, false},
	}
	for _, tt := range tests {
		if got := IsUnsafe(tt.r); got != tt.want {
			t.Errorf("IsUnsafe(%U) = %v, want %v", tt.r, got, tt.want)
		}
	}
}

// unescape reverses String; it exists to prove that String loses nothing.
func unescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			i++
			continue
		}
		if i+1 >= len(s) {
			return "", fmt.Errorf("dangling backslash at %d", i)
		}
		switch s[i+1] {
		case '\\':
			b.WriteByte('\\')
			i += 2
		case 'x':
			if i+4 > len(s) {
				return "", fmt.Errorf("short \\x at %d", i)
			}
			v, err := strconv.ParseUint(s[i+2:i+4], 16, 8)
			if err != nil {
				return "", err
			}
			b.WriteByte(byte(v))
			i += 4
		case 'U':
			if i+10 > len(s) {
				return "", fmt.Errorf("short \\U at %d", i)
			}
			v, err := strconv.ParseUint(s[i+2:i+10], 16, 32)
			if err != nil {
				return "", err
			}
			b.WriteRune(rune(v))
			i += 10
		case 'u':
			if i+6 > len(s) {
				return "", fmt.Errorf("short \\u at %d", i)
			}
			v, err := strconv.ParseUint(s[i+2:i+6], 16, 16)
			if err != nil {
				return "", err
			}
			b.WriteRune(rune(v))
			i += 6
		default:
			return "", fmt.Errorf("unknown escape at %d", i)
		}
	}
	return b.String(), nil
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"", "plain", "a\\b", "\x1b[2J", "\u202e", "\xff\xfe", "\u0085", "日本\u2028語", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		if !utf8.ValidString(out) {
			t.Fatalf("String(%q) = %q is not valid UTF-8", s, out)
		}
		for i := 0; i < len(out); i++ {
			if c := out[i]; c < 0x20 || c == 0x7f {
				t.Fatalf("String(%q) = %q contains byte %#x", s, out, c)
			}
		}
		for _, r := range out {
			if (0x80 <= r && r <= 0x9f) || IsBidiOrFormat(r) || IsInvisible(r) {
				t.Fatalf("String(%q) = %q contains %U", s, out, r)
			}
		}
		back, err := unescape(out)
		if err != nil {
			t.Fatalf("unescape(String(%q)): %v", s, err)
		}
		if back != s {
			t.Fatalf("round trip of %q gave %q", s, back)
		}
		if String(out) != strings.ReplaceAll(out, `\`, `\\`) {
			t.Fatalf("String(String(%q)) escaped more than backslashes", s)
		}
		// Text escapes what String does but the backslash, and leaves
		// String's output as it is.
		if got := Text(out); got != out {
			t.Fatalf("Text(String(%q)) = %q, want it unchanged", s, got)
		}
		if got, want := Text(s), strings.ReplaceAll(out, `\\`, `\`); !strings.Contains(s, `\`) && got != want {
			t.Fatalf("Text(%q) = %q, want %q", s, got, want)
		}
	})
}

func TestText(t *testing.T) {
	for in, want := range map[string]string{
		`C:\Users\amy\case`:    `C:\Users\amy\case`,
		"a\\b\x1b[2J":          `a\b\x1b[2J`,
		"x\u200by \u202e":      `x\u200by \u202e`,
		`already \x1b escaped`: `already \x1b escaped`,
		"bad\xffbyte":          `bad\xffbyte`,
	} {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsInvisible(t *testing.T) {
	for _, r := range []rune{0x00ad, 0x034f, 0x115f, 0x1160, 0x17b4, 0x17b5, 0x180b, 0x180e, 0x180f, 0x200b,
		0x2060, 0x2064, 0x206a, 0x206f, 0x3164, 0xffa0, 0x1bca0, 0x1bca3, 0x1d173, 0x1d17a, 0xe0000, 0xe0041, 0xe007f} {
		if !IsInvisible(r) {
			t.Errorf("IsInvisible(%U) = false", r)
		}
	}
	for _, r := range []rune{'a', ' ', 0x00a0, 0x00ac, 0x00ae, 0x200a, 0x200c, 0x200d, 0x2065, 0xfe0f, 0xe0080, 0xe0100, 0x1d172} {
		if IsInvisible(r) {
			t.Errorf("IsInvisible(%U) = true", r)
		}
	}
}

func ExampleString() {
	fmt.Println(String("invoice\u202efdp.exe"))
	fmt.Println(String("\x1b[31mred\x1b[0m"))
	fmt.Println(String("bad\xffbyte, C:\\dir, tab\there"))
	fmt.Println(String("Überweisung 2024.pdf"))
	// Output:
	// invoice\u202efdp.exe
	// \x1b[31mred\x1b[0m
	// bad\xffbyte, C:\\dir, tab\x09here
	// Überweisung 2024.pdf
}
