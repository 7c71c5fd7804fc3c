package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParseTOML(t *testing.T) {
	src := "\uFEFF# comment\r\n" + `
a = "basic \"q\" \\ \t \u00e9 \U0001F600"   # trailing comment
'b c' = 'literal \n no escapes'
"d" = true
e = false
f = -1_000
g = 2031-12-31
h = [ "x", 'y',
  # a comment inside
  "z", ]
i = []
j = [[ "nested" ]]

[t]
k = ["v"]
"quoted key" = 1
`
	got, err := parseTOML(src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"a":   "basic \"q\" \\ \t é 😀",
		"b c": `literal \n no escapes`,
		"d":   true,
		"e":   false,
		"f":   int64(-1000),
		"g":   tomlDate("2031-12-31"),
		"h":   []any{"x", "y", "z"},
		"i":   []any{},
		"j":   []any{[]any{"nested"}},
		"t":   map[string]any{"k": []any{"v"}, "quoted key": int64(1)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
}

// Everything outside the subset, and every malformed line, is an error
// naming the line, never a misreading.
func TestParseTOMLRefuses(t *testing.T) {
	for _, c := range []struct{ src, msg string }{
		{"a = 1\nb.c = 2", "line 2: dotted keys"},
		{"[a.b]", "line 1: nested tables"},
		{"[[a]]", "line 1: arrays of tables"},
		{"a = { b = 1 }", "inline tables"},
		{`a = """x"""`, "multi-line strings"},
		{"a = '''x'''", "multi-line strings"},
		{"a = 1.5", "is not a value"},
		{"a = 07:32:00", "is not a value"},
		{"a = 2031-12-31T00:00:00Z", "is not a value"},
		{"a = 2031-02-31", "not a valid date"},
		{"a = 99999999999999999999", "out of range"},
		{"a = 01", "is not a value"},
		{"a = inf", "is not a value"},
		{"a = yes", "is not a value"},
		{"a = \"x", "not closed"},
		{"a = \"x\ny\"", "line 1: the string is not closed"},
		{"a = \"\\q\"", "unknown escape"},
		{"a = \"\\uD800\"", "invalid escape"},
		{"a = \"\x01\"", "control character"},
		{"a = 1 # \x7f", "control character"},
		{"a = [1, 2", "not closed"},
		{"a = [1 2]", "expected , or ]"},
		{"a = 1 b = 2", "one key = value per line"},
		{"a = 1\na = 2", "line 2: the key \"a\" is set twice"},
		{"[t]\n[t]", "line 2: \"t\" is defined twice"},
		{"a = 1\n[a]", "line 2: \"a\" is defined twice"},
		{"a", "expected = after the key"},
		{"a =", "expected a value"},
		{"= 1", "expected a key"},
		{"[t", "expected ]"},
		{"a = \xff", "not valid UTF-8"},
	} {
		_, err := parseTOML(c.src)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("parseTOML(%q) = %v, want an error with %q", c.src, err, c.msg)
		}
	}
}

// FuzzParseTOML: the reader never panics, and what it accepts has only the
// documented value types.
func FuzzParseTOML(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "spec", "case.toml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(data))
	f.Add("a = [1, [\"x\"], 2031-01-01]\n[t]\nb = 'c'")
	f.Fuzz(func(t *testing.T, src string) {
		doc, err := parseTOML(src)
		if err != nil {
			return
		}
		var check func(v any)
		check = func(v any) {
			switch v := v.(type) {
			case string, bool, int64, tomlDate:
			case []any:
				for _, e := range v {
					check(e)
				}
			case map[string]any:
				for _, e := range v {
					check(e)
				}
			default:
				t.Fatalf("unexpected value %#v", v)
			}
		}
		check(doc)
	})
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
		if e.key != "split" && e.key != "armor" && !s.set[e.key] {
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
