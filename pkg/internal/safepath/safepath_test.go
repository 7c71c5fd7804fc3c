package safepath

import (
	"errors"
	"fmt"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dossier-evidence/dossier/pkg/printable"
)

func TestCheckAccepts(t *testing.T) {
	for _, p := range []string{
		"a",
		"report.pdf",
		"case/2024/photos/img_0001.jpg",
		".hidden",
		"..foo",
		"a..b",
		"a/.config/x",
		"with space/file name.txt",
		" leading space",
		"Überweisung.pdf",
		"日本語/ファイル.txt",
		"café",         // NFC
		"👩\u200d💻.png", // ZWJ is allowed
		"console",      // not a device name
		"CONSOLE.log",
		"conx", "nul1", "com", "com10", "lpt", "lpt10", "comA", "auxiliary.txt",
		"com⁴", // only superscripts 1-3 are devices
		"CONIN", "CONOUT$x",
		"a$b", "a'b", "a#b", "a%b", "a&b", "a~1",
		"[x]", "{y}", "a;b", "a=b", "a,b", "a+b", "a@b", "a!b", "a^b", "a`b",
		"x.tar.gz",
		strings.Repeat("a", MaxComponentLen),
		strings.Repeat("é", MaxComponentLen/2),
		strings.Repeat("a/", MaxComponents-1) + "a",
		strings.Repeat(strings.Repeat("a", 63)+"/", MaxComponents-1) + strings.Repeat("a", MaxLen-64*(MaxComponents-1)),
	} {
		if err := Check(p); err != nil {
			t.Errorf("Check(%q) = %v, want nil", p, err)
		}
	}
}

func TestCheckRefuses(t *testing.T) {
	tests := []struct {
		name, path, reason string
	}{
		{"empty", "", "empty"},
		{"absolute", "/etc/passwd", "absolute"},
		{"root", "/", "absolute"},
		{"double slash leading", "//server/share", "absolute"},
		{"backslash", `a\b`, "backslash"},
		{"windows traversal", `..\..\x`, "backslash"},
		{"unc", `\\server\share`, "backslash"},
		{"drive letter", "C:/Windows", `':'`},
		{"drive relative", "c:x", `':'`},
		{"ads", "file.txt:stream", `':'`},
		{"ads data", "file.txt::$DATA", `':'`},
		{"empty component", "a//b", "empty component"},
		{"trailing slash", "a/", "ends in a slash"},
		{"dot", ".", `"." component`},
		{"dot component", "a/./b", `"." component`},
		{"dotdot", "..", `".." component`},
		{"dotdot leading", "../x", `".." component`},
		{"dotdot inside", "a/../../x", `".." component`},
		{"dotdot trailing", "a/..", `".." component`},
		{"trailing dot", "a./b", "ending in a dot"},
		{"trailing dots", "...", "ending in a dot"},
		{"trailing space", "a /b", "ending in a space"},
		{"trailing space file", "b/a ", "ending in a space"},
		{"only space", " ", "ending in a space"},
		{"nul", "a\x00b", "control character U+0000"},
		{"newline", "a\nb", "control character U+000A"},
		{"tab", "a\tb", "control character U+0009"},
		{"escape", "\x1b[31m", "control character U+001B"},
		{"del", "a\x7f", "control character U+007F"},
		{"c1", "a\u0085b", "control character U+0085"},
		{"c1 csi", "\u009b", "control character U+009B"},
		{"c1 last", "\u009f", "control character U+009F"},
		{"alm", "a\u061cb", "U+061C"},
		{"lrm", "a\u200eb", "U+200E"},
		{"rlm", "a\u200fb", "U+200F"},
		{"lre", "\u202a", "U+202A"},
		{"rlo", "invoice\u202efdp.exe", "U+202E"},
		{"lri", "\u2066", "U+2066"},
		{"pdi", "\u2069", "U+2069"},
		{"line separator", "a\u2028b", "U+2028"},
		{"paragraph separator", "a\u2029b", "U+2029"},
		{"bom", "\ufeffa", "U+FEFF"},
		{"lt", "a<b", `'<'`},
		{"gt", "a>b", `'>'`},
		{"quote", `a"b`, `'"'`},
		{"pipe", "a|b", `'|'`},
		{"question", "a?b", `'?'`},
		{"star", "a*b", `'*'`},
		{"invalid utf8", "a\xffb", "UTF-8"},
		{"surrogate", "\xed\xa0\x80", "UTF-8"},
		{"overlong slash", "a\xc0\xafb", "UTF-8"},
		{"nfd", "cafe\u0301", "NFC"},
		{"nfd hangul", "\u1100\u1161", "NFC"},
		{"con", "CON", "device name"},
		{"con lower", "con", "device name"},
		{"con mixed", "Con.txt", "device name"},
		{"nul ext", "nul.tar.gz", "device name"},
		{"nul dir", "nul/x", "device name"},
		{"prn", "dir/prn", "device name"},
		{"aux", "AUX.c", "device name"},
		{"aux space ext", "aux .txt", "device name"},
		{"com0", "COM0", "device name"},
		{"com1", "com1.log", "device name"},
		{"com9", "Com9", "device name"},
		{"lpt0", "lpt0", "device name"},
		{"lpt9", "LPT9.txt", "device name"},
		{"com superscript 1", "COM¹", "device name"},
		{"com superscript 2", "com².txt", "device name"},
		{"lpt superscript 3", "LPT³", "device name"},
		{"conin", "CONIN$", "device name"},
		{"conout", "conout$.txt", "device name"},
		{"component too long", strings.Repeat("a", MaxComponentLen+1), "longer than 255 bytes"},
		{"component too long multibyte", strings.Repeat("é", MaxComponentLen/2+1), "longer than 255 bytes"},
		{"too long", strings.Repeat(strings.Repeat("a", 99)+"/", 41) + "a", "longer than 4096 bytes"},
		{"too many components", strings.Repeat("a/", MaxComponents) + "a", "components"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.path)
			if err == nil {
				t.Fatalf("Check(%q) = nil, want error", tt.path)
			}
			if !errors.Is(err, ErrUnsafe) {
				t.Errorf("Check(%q) = %v, does not wrap ErrUnsafe", tt.path, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "safepath: unsafe path ") {
				t.Errorf("Check(%q) message %q lacks prefix", tt.path, msg)
			}
			if !strings.Contains(msg, tt.reason) {
				t.Errorf("Check(%q) = %q, want reason containing %q", tt.path, msg, tt.reason)
			}
			if len(tt.path) <= maxQuoted && !strings.Contains(msg, fmt.Sprintf("%q", tt.path)) {
				t.Errorf("Check(%q) = %q does not quote the path", tt.path, msg)
			}
		})
	}
}

func TestCheckErrorIsShortAndPrintable(t *testing.T) {
	p := strings.Repeat("é\u202e", 5000)
	err := Check(p)
	if err == nil {
		t.Fatal("Check accepted a huge path")
	}
	msg := err.Error()
	if len(msg) > 2*maxQuoted+200 {
		t.Errorf("error message is %d bytes long", len(msg))
	}
	if printable.String(strings.ReplaceAll(msg, `\`, "")) != strings.ReplaceAll(msg, `\`, "") {
		t.Errorf("error message is not printable: %q", msg)
	}
	if !strings.Contains(msg, `..."`) && !strings.Contains(msg, `"...`) {
		t.Errorf("long path not marked as shortened: %q", msg)
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain/path.txt", "plain/path.txt"},
		{"cafe\u0301", "café"},
		{"a/U\u0308bersicht.pdf", "a/Übersicht.pdf"},
		{"\u1100\u1161", "\uac00"},
		{"café", "café"},
	}
	for _, tt := range tests {
		got := Normalize(tt.in)
		if got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if tt.want != "" && Check(got) != nil {
			t.Errorf("Check(Normalize(%q)) = %v", tt.in, Check(got))
		}
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"a", "a/b", "../x", "a/../../b", "/abs", `a\b`, "C:x", "con.txt", "a//b", "a/", ".",
		"cafe\u0301", "a\u202eb", "a\x00", "..", "...", "a ", "x/y/z.jpg", "COM¹", "nul.\ufffd",
	} {
		f.Add(s)
	}
	root := filepath.Join(testtmp.Dir(f), "root")
	f.Fuzz(func(t *testing.T, p string) {
		err := Check(p)
		if err != nil {
			if !errors.Is(err, ErrUnsafe) {
				t.Fatalf("Check(%q) = %v, does not wrap ErrUnsafe", p, err)
			}
			for _, r := range err.Error() {
				if r < 0x20 || r == 0x7f || printable.IsBidiOrFormat(r) || r == 0xfffd {
					t.Fatalf("Check(%q) error %q contains %U", p, err, r)
				}
			}
			return
		}
		local := filepath.FromSlash(p)
		if !filepath.IsLocal(local) {
			t.Fatalf("Check(%q) = nil but filepath.IsLocal is false", p)
		}
		joined := filepath.Join(root, local)
		rel, err := filepath.Rel(root, joined)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
			t.Fatalf("Check(%q) = nil but %q is not strictly inside %q (rel %q, %v)", p, joined, root, rel, err)
		}
		if !strings.HasPrefix(joined, root+string(filepath.Separator)) {
			t.Fatalf("Check(%q) = nil but %q is not below %q", p, joined, root)
		}
		if rel != local {
			t.Fatalf("Check(%q) = nil but joining changed it to %q", p, rel)
		}
		if n := Normalize(p); n != p {
			t.Fatalf("Check(%q) = nil but Normalize gives %q", p, n)
		}
		// A safe path holds nothing that could disturb a terminal; it may
		// hold characters that show as nothing, which are shown escaped.
		if strings.ContainsFunc(p, printable.IsUnsafe) {
			t.Fatalf("Check(%q) = nil but it holds a character printable.String must escape", p)
		}
		if err := Collisions([]string{p}); err != nil {
			t.Fatalf("Collisions of single path %q: %v", p, err)
		}
	})
}

func ExampleCheck() {
	for _, p := range []string{
		"case/photos/img_0001.jpg",
		"../../etc/passwd",
		"Con.txt",
		"C:/Windows/win.ini",
		"invoice\u202efdp.exe",
	} {
		fmt.Println(Check(p))
	}
	// Output:
	// <nil>
	// safepath: unsafe path "../../etc/passwd": path has a ".." component
	// safepath: unsafe path "Con.txt": path has component "Con.txt", a Windows device name
	// safepath: unsafe path "C:/Windows/win.ini": path contains ':', which Windows does not allow
	// safepath: unsafe path "invoice\u202efdp.exe": path contains invisible format character U+202E
}

func ExampleNormalize() {
	nfd := "cafe\u0301.txt" // as read from a macOS disk
	fmt.Println(Check(nfd) != nil)
	fmt.Println(Check(Normalize(nfd)))
	fmt.Printf("%q\n", Normalize(nfd))
	// Output:
	// true
	// <nil>
	// "café.txt"
}

// Check takes a shortcut for paths of plain ASCII; every ASCII character
// is still judged as the full rules judge it.
func TestCheckEveryASCIICharacter(t *testing.T) {
	for c := range utf8.RuneSelf {
		p := "a" + string(rune(c)) + "b"
		refused := c < 0x20 || c == 0x7f || c == '\\' || strings.ContainsRune(forbiddenChars, rune(c))
		if c == '/' {
			refused = false // "a/b" is a path of two components
		}
		if err := Check(p); (err != nil) != refused {
			t.Errorf("Check(%q) = %v, want refused %v", p, err, refused)
		}
		if plainASCII(p) == refused && c != '/' {
			t.Errorf("plainASCII(%q) = %v", p, !refused)
		}
	}
}

// No byte beyond ASCII is plain.
func TestPlainASCIIRefusesHighBytes(t *testing.T) {
	for c := utf8.RuneSelf; c < 256; c++ {
		if p := string([]byte{'a', byte(c)}); plainASCII(p) {
			t.Errorf("plainASCII(%q) = true", p)
		}
	}
}

// referenceIsReserved is isReserved without its shortcut on length and
// first letter.
func referenceIsReserved(c string) bool {
	base := c
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	base = strings.TrimRight(base, " ")
	if len(base) < 3 {
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

// isReserved's shortcut rules out no device name: every spelling of
// each, in any case, with spaces and extensions, and names a letter away.
func TestIsReservedShortcut(t *testing.T) {
	var names []string
	for _, dev := range []string{"con", "prn", "aux", "nul", "conin$", "conout$", "com", "lpt"} {
		for _, tail := range []string{"", "0", "9", "¹", "²", "³", "x", "10"} {
			names = append(names, dev+tail)
		}
	}
	for _, n := range names {
		for mask := 0; mask < 1<<len(n); mask++ {
			b := []byte(n)
			for i := range b {
				if mask&(1<<i) != 0 && b[i] >= 'a' && b[i] <= 'z' {
					b[i] -= 'a' - 'A'
				}
			}
			for _, c := range []string{string(b), string(b) + ".txt", string(b) + "  .tar.gz", " " + string(b), "x" + string(b), string(b[1:])} {
				if got, want := isReserved(c), referenceIsReserved(c); got != want {
					t.Fatalf("isReserved(%q) = %v, want %v", c, got, want)
				}
			}
		}
	}
}

func FuzzIsReserved(f *testing.F) {
	for _, s := range []string{"CON", "com¹.txt", "Conout$ .x", "lpt0", "nul"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		if got, want := isReserved(c), referenceIsReserved(c); got != want {
			t.Fatalf("isReserved(%q) = %v, want %v", c, got, want)
		}
	})
}
