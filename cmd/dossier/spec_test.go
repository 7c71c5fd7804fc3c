package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

func TestDecodeSpec(t *testing.T) {
	src := "\uFEFF# comment\r\n" + `
case = "basic \"q\" \u00e9"   # trailing comment
purpose = """multi-line
strings are TOML too"""
legal_basis = 'literal \n no escapes'
restrictions = [ "x", 'y',
  # a comment inside
  "z", ]
recipients = []
retain_until = 2031-12-31
armor = false
format = 1

[categories]
personal = ["case/a/**"]
"special-category" = ["case/b/**", "case/c/**"]
`
	s, err := decodeSpec("dir/case.toml", src)
	if err != nil {
		t.Fatal(err)
	}
	if s.Case != "basic \"q\" é" || s.Purpose != "multi-line\nstrings are TOML too" || s.LegalBasis != `literal \n no escapes` ||
		!slices.Equal(s.Restrictions, []string{"x", "y", "z"}) || len(s.Recipients) != 0 || s.RetainUntil != "2031-12-31" ||
		!reflect.DeepEqual(s.Categories, map[string][]string{"personal": {"case/a/**"}, "special-category": {"case/b/**", "case/c/**"}}) || s.Format != 1 {
		t.Fatalf("decoded %+v", s)
	}
	if s.dir != "dir" {
		t.Errorf("dir = %q", s.dir)
	}
	for k, want := range map[string]bool{"case": true, "recipients": true, "armor": true, "categories": true, "paths": false, "output": false} {
		if s.set[k] != want {
			t.Errorf("set[%q] = %v, want %v", k, s.set[k], want)
		}
	}
	// retain_until may be a date in quotes too.
	if s, err := decodeSpec("x.toml", `retain_until = "2031-12-31"`); err != nil || s.RetainUntil != "2031-12-31" {
		t.Fatalf("quoted date: %v, %+v", err, s)
	}
	if s, err := decodeSpec("x.toml", ""); err != nil || slices.ContainsFunc(specKeys, func(e struct{ key, flag, kind string }) bool { return s.set[e.key] }) {
		t.Fatalf("empty spec: %v, %+v", err, s)
	}
}

// Every mistake is a usage error (exit 2) naming the spec and, where it
// can be told, the line; values of the wrong type name the key in words.
func TestDecodeSpecRefuses(t *testing.T) {
	for _, c := range []struct{ src, msg string }{
		{"case = \"X\"\nrecipient = [\"b\"]", `line 2: unknown key "recipient" (a spec takes: case, purpose,`},
		{"case = \"X\"\nrecipient = 1\n[extra]\nx = 1", `line 2: unknown key "recipient"; line 3: unknown key "extra" (a spec takes`},
		{"recipient.x = 1", `line 1: unknown key "recipient"`},
		{"case = \"x\"\nCase = \"y\"", `line 2: unknown key "Case"`},
		{"recipients = 1\nbogus = 2", `line 2: unknown key "bogus"`}, // unknown keys first, though decoding stopped
		{"case = 1", `line 1: case must be text in quotes, like case = "…"`},
		{"output = 2031-12-31", "line 1: output must be text in quotes"},
		{"paths = [\"a\"]\nrecipients = \"bob.card\"", "line 2: recipients must be a list of text in quotes"},
		{"exclude = [1]", "line 1: exclude must be a list of text in quotes"},
		{"armor = \"yes\"", "line 1: armor must be true or false"},
		{"format = \"1\"", "line 1: format must be a number, like format = 1"},
		{"format = 1.0", "line 1: format must be a number, like format = 1"},
		{"categories = \"x\"", "line 1: categories must be a table"},
		{"[[categories]]\npersonal = [\"x\"]", "line 1: categories must be a table"},
		{"[categories]\npersonal = \"x\"", `line 2: [categories]: personal must be a list of globs in quotes`},
		{"[categories.personal]", `line 1: [categories]: personal must be a list of globs in quotes`},
		{"[categories]\ngossip = [\"**\"]", `line 2: [categories]: category: unknown category "gossip"`},
		// The first bad value in the file is named, whatever order the
		// decoder fills the fields in.
		{"case = 1\narmor = 2\nsplit = 3\nretain_until = 4", "line 1: case must be text"},
		{"case = \"X\"\nretain_until = \"31/12/2031\"", `line 2: retain_until "31/12/2031" is not a date like 2031-12-31`},
		{"retain_until = 2031-12-31T00:00:00", "line 1: retain_until must be a date without a time"},
		{"retain_until = 2031-12-31T00:00:00Z", "line 1: retain_until must be a date without a time"},
		{"retain_until = 20311231", "line 1: retain_until must be a date, like"},
		{"case = \"X\"\npurpose = \"unterminated", "line 2: "},
		{"case = \"X\"\ncase = \"Y\"", "line 2: Key 'case' has already been defined"},
		{"a = \xff", "line 1: invalid UTF-8"},
		{"retain_until = 2031-02-31", "line 1: "},
	} {
		_, err := decodeSpec("x.toml", c.src)
		var ue *usageError
		if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), "spec x.toml: "+c.msg) {
			t.Errorf("decodeSpec(%q) = %v, want a usage error with %q", c.src, err, "spec x.toml: "+c.msg)
		}
	}
}

// FuzzDecodeSpec: decoding never panics (the line probe builds struct
// types from the file's keys), and every refusal is a usage error.
func FuzzDecodeSpec(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "spec", "case.toml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(data))
	f.Add("a = [1, [\"x\"], 2031-01-01]\n[t]\nb = 'c'")
	f.Add("\"a,b\".\"\\\"\" = 1\n[categories.\"x y\"]\nz = 1\n[[paths]]")
	f.Fuzz(func(t *testing.T, src string) {
		s, err := decodeSpec("x.toml", src)
		var ue *usageError
		if err != nil && !errors.As(err, &ue) {
			t.Fatalf("not a usage error: %v", err)
		}
		if err == nil && s.RetainUntil != "" {
			if _, err := time.Parse("2006-01-02", string(s.RetainUntil)); err != nil {
				t.Fatalf("retain_until %q accepted", s.RetainUntil)
			}
		}
	})
}

func TestKeyLine(t *testing.T) {
	// With "A" besides "a", the decoder could give either to the probe
	// for the other (it matches names case-insensitively too).
	src := "A = 0\na = 1\n\"b,c\" = 2\n[t]\nx = 1\n\"y z\" = [\n 1]\n[u.v]\nw = 1\n"
	md, err := toml.Decode(src, &map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key  toml.Key
		line int
	}{
		{toml.Key{"a"}, 2}, {toml.Key{"A"}, 1}, {toml.Key{"b,c"}, 0}, {toml.Key{"t"}, 4}, {toml.Key{"t", "x"}, 5},
		{toml.Key{"t", "y z"}, 6}, {toml.Key{"u", "v", "w"}, 9}, {toml.Key{"u"}, 0}, {toml.Key{"nope"}, 0},
	} {
		if got := keyLine(src, md, c.key); got != c.line {
			t.Errorf("keyLine(%v) = %d, want %d", c.key, got, c.line)
		}
	}
}

// The example spec in testdata/spec decodes to what it says, and the
// README shows exactly that file.
func TestExampleSpec(t *testing.T) {
	path := filepath.Join("..", "..", "testdata", "spec", "case.toml")
	s, err := loadSpec(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Case != "MLA-2026-077" || s.RetainUntil != "2031-12-31" || s.DefaultCategory != "law-enforcement" ||
		!slices.Equal(s.Recipients, []string{"bob.card"}) || !slices.Equal(s.Paths, []string{"case"}) ||
		!slices.Equal(s.Categories["special-category"], []string{"case/medical/**"}) || s.Identity != "alice.id" {
		t.Fatalf("decoded %+v", s)
	}
	for _, e := range specKeys {
		if e.key != "split" && e.key != "armor" && e.key != "format" && !s.set[e.key] {
			t.Errorf("the example spec does not show the key %q", e.key)
		}
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, []byte("```toml\n"+string(data)+"```\n")) {
		t.Error("README.md does not show testdata/spec/case.toml verbatim in a ```toml block")
	}
}

// The example spec drives a real plan and pack, with names relative to
// the spec's folder.
func TestExampleSpecPacks(t *testing.T) {
	dir := sandbox(t, 1)
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "spec", "case.toml"))
	if err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(dir, "case.toml")
	if err := os.WriteFile(spec, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"case/interviews/w.txt":          "witness",
		"case/medical/r.txt":             "report",
		"case/finance/supplier-a.txt":    "terms",
		"case/drafts/d.txt":              "draft",
		"case/interviews/notes.tmp":      "scratch",
		"case/finance/ledger-2026q3.csv": "a,b",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if code := run([]string{"plan", "--spec", spec}, nil, &out, io.Discard); code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, out.String())
	}
	for _, want := range []string{"case/medical/r.txt", "special-category", "trade-secret", "excluded by --exclude (2 files", "case/drafts/d.txt", "ready"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("plan does not show %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if code := run([]string{"pack", "--spec", spec}, nil, &out, &out); code != 0 {
		t.Fatalf("pack: exit %d\n%s", code, out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "case.dossier")); err != nil {
		t.Fatalf("the output named in the spec was not written beside it: %v", err)
	}
}
