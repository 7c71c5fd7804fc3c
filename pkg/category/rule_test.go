package category

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		glob, name string
		want       bool
	}{
		// Plain segments, as path.Match.
		{"a.jpg", "a.jpg", true},
		{"a.jpg", "b.jpg", false},
		{"*.jpg", "a.jpg", true},
		{"*.jpg", "x/a.jpg", false},
		{"*", "a", true},
		{"*", "a/b", false},
		{"*/*", "a/b", true},
		{"?.txt", "a.txt", true},
		{"?.txt", "ab.txt", false},
		{"?", "é", true},
		{"[abc].txt", "b.txt", true},
		{"[^abc].txt", "b.txt", false},
		{"[a-c]", "d", false},
		{`\*.txt`, "*.txt", true},
		{`\*.txt`, "a.txt", false},
		{"A.JPG", "a.jpg", false}, // case-sensitive
		{"case/*.pdf", "case/r.pdf", true},
		{"case/*.pdf", "case/sub/r.pdf", false},

		// "**" ending the glob: one or more segments.
		{"case/**", "case/a", true},
		{"case/**", "case/x/y/z", true},
		{"case/**", "case", false},
		{"case/**", "cases/a", false},
		{"case/**", "other/case/a", false},
		{"case/**/**", "case/a", true},
		{"case/**/**", "case", false},

		// Leading "**": zero or more segments.
		{"**/*.jpg", "a.jpg", true},
		{"**/*.jpg", "x/a.jpg", true},
		{"**/*.jpg", "x/y/a.jpg", true},
		{"**/*.jpg", "x/y/a.png", false},
		{"**/*.jpg", "a.jpg/x", false},
		{"**/case/**", "case/a", true},
		{"**/case/**", "x/y/case/a/b", true},
		{"**/case/**", "x/case", false},

		// Middle "**".
		{"a/**/b", "a/b", true},
		{"a/**/b", "a/x/b", true},
		{"a/**/b", "a/x/y/z/b", true},
		{"a/**/b", "a/x/y/z/c", false},
		{"a/**/b", "a/b/c", false},
		{"a/**/b/**", "a/x/b/y", true},
		{"a/**/b/**", "a/b", false},
		{"a/**/**/b", "a/b", true},
		{"a/**/*.jpg/c", "a/x/p.jpg/c", true},

		// "**" alone.
		{"**", "a", true},
		{"**", "a/b/c", true},
		{"**", "", true},
		{"**/**", "a", true},

		// "**" inside a segment is single stars.
		{"a**b", "ab", true},
		{"a**b", "axxb", true},
		{"a**b", "a/b", false},
		{"a**b", "ax/yb", false},
		{"***", "abc", true},
		{"***", "a/b", false},
		{"**.jpg", "x.jpg", true},
		{"**.jpg", "d/x.jpg", false},
		{"x**", "x/y", false},

		// Odd names.
		{"*", "", true},
		{"a", "", false},
		{"a/*", "a/", true},
		{"*/b", "/b", true},
	}
	for _, tt := range tests {
		got, err := Match(tt.glob, tt.name)
		if err != nil {
			t.Errorf("Match(%q, %q) error: %v", tt.glob, tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.glob, tt.name, got, tt.want)
		}
	}
}

func TestMatchBadPattern(t *testing.T) {
	for _, glob := range []string{
		"", "/", "/a", "a/", "a//b", "**/",
		"[", "a[", "[a-", "[]", "[^]", "[a-]", "[-a]", `\`, `a\`, `a\/b`, "[/]",
		// Malformed part after a part that can never match.
		"nomatch/[", "x/**/[",
	} {
		ok, err := Match(glob, "nomatch-at-all")
		if err == nil {
			t.Errorf("Match(%q) = %v, nil; want error", glob, ok)
			continue
		}
		if !errors.Is(err, ErrBadPattern) || !errors.Is(err, path.ErrBadPattern) {
			t.Errorf("Match(%q) error %v does not wrap ErrBadPattern", glob, err)
		}
		if !strings.HasPrefix(err.Error(), "category: ") {
			t.Errorf("Match(%q) error %q lacks prefix", glob, err)
		}
		if ok {
			t.Errorf("Match(%q) = true with error", glob)
		}
	}
}

func TestParseRule(t *testing.T) {
	tests := []struct {
		in   string
		want Rule
	}{
		{"personal=**/*.jpg", Rule{Personal, "**/*.jpg"}},
		{"law-enforcement=case/**", Rule{LawEnforcement, "case/**"}},
		{"other=a=b", Rule{Other, "a=b"}},
		{"trade-secret=*", Rule{TradeSecret, "*"}},
		{"intelligence= spaced name", Rule{Intelligence, " spaced name"}},
	}
	for _, tt := range tests {
		got, err := ParseRule(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseRule(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
		if got.String() != tt.in {
			t.Errorf("ParseRule(%q).String() = %q", tt.in, got.String())
		}
	}
}

func TestParseRuleErrors(t *testing.T) {
	tests := []struct {
		in                  string
		unknown, badPattern bool
		msg                 string
	}{
		{in: "", msg: `category: invalid rule "": want CATEGORY=GLOB`},
		{in: "personal", msg: "want CATEGORY=GLOB"},
		{in: "**/*.jpg", msg: "want CATEGORY=GLOB"},
		{in: "personal=", msg: `category: invalid rule "personal=": empty glob`},
		{in: "=**", unknown: true, msg: `unknown category ""`},
		{in: "pii=**", unknown: true, msg: `category: invalid rule "pii=**": category: unknown category "pii"`},
		{in: "Personal=**", unknown: true, msg: "unknown category"},
		{in: " personal=**", unknown: true, msg: "unknown category"},
		{in: "personal=[", badPattern: true, msg: `category: invalid rule "personal=[": category: malformed glob "["`},
		{in: "personal=ok/[", badPattern: true, msg: "malformed glob"},
		{in: "personal=a//b", badPattern: true, msg: "empty segment"},
		{in: "personal=/abs", badPattern: true, msg: "empty segment"},
		{in: "personal=dir/", badPattern: true, msg: "empty segment"},
	}
	for _, tt := range tests {
		r, err := ParseRule(tt.in)
		if err == nil {
			t.Errorf("ParseRule(%q) = %+v, want error", tt.in, r)
			continue
		}
		if !errors.Is(err, ErrBadRule) {
			t.Errorf("ParseRule(%q) error %v does not wrap ErrBadRule", tt.in, err)
		}
		if errors.Is(err, ErrUnknown) != tt.unknown {
			t.Errorf("ParseRule(%q) error %v: errors.Is(ErrUnknown) = %v", tt.in, err, !tt.unknown)
		}
		if errors.Is(err, ErrBadPattern) != tt.badPattern {
			t.Errorf("ParseRule(%q) error %v: errors.Is(ErrBadPattern) = %v", tt.in, err, !tt.badPattern)
		}
		if !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseRule(%q) error %q, want it to contain %q", tt.in, err, tt.msg)
		}
		if r != (Rule{}) {
			t.Errorf("ParseRule(%q) returned %+v with error", tt.in, r)
		}
	}
}

func TestAssign(t *testing.T) {
	rs := Rules{
		{Other, "**"},
		{LawEnforcement, "case/**"},
		{Personal, "**/*.jpg"},
		{Personal, "people/**"},
		{SpecialCategory, "case/medical/**"},
		{TradeSecret, "["}, // malformed: matches nothing
	}
	tests := []struct {
		name string
		want []ID
	}{
		{"readme.txt", []ID{Other}},
		{"a.jpg", []ID{Personal, Other}},
		{"people/p.jpg", []ID{Personal, Other}},
		{"case/medical/x.jpg", []ID{Personal, SpecialCategory, LawEnforcement, Other}},
		{"case/notes.txt", []ID{LawEnforcement, Other}},
	}
	for _, tt := range tests {
		if got := rs.Assign(tt.name); !slices.Equal(got, tt.want) {
			t.Errorf("Assign(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := (Rules{{Personal, "*.jpg"}}).Assign("a.png"); got != nil {
		t.Errorf("Assign with no match = %#v, want nil", got)
	}
	if got := Rules(nil).Assign("a"); got != nil {
		t.Errorf("nil Rules Assign = %#v, want nil", got)
	}
}

// refMatch is a plain recursive implementation of Match's semantics used
// to cross-check the dynamic-programming version on short inputs.
func refMatch(gs, ns []string) bool {
	if len(gs) == 0 {
		return len(ns) == 0
	}
	if gs[0] == "**" {
		if len(gs) == 1 {
			return len(ns) >= 1
		}
		for k := 0; k <= len(ns); k++ {
			if refMatch(gs[1:], ns[k:]) {
				return true
			}
		}
		return false
	}
	if len(ns) == 0 {
		return false
	}
	ok, _ := path.Match(gs[0], ns[0])
	return ok && refMatch(gs[1:], ns[1:])
}

func FuzzMatch(f *testing.F) {
	seeds := [][2]string{
		{"**", "a/b"}, {"case/**", "case"}, {"**/*.jpg", "x/y/a.jpg"}, {"a/**/b", "a/b"},
		{"a**b", "a/b"}, {"[", "x"}, {`\`, "x"}, {"a//b", "a//b"}, {"", ""}, {"**/**/**", "a"},
		{"*/?/[a-z]", "x/y/z"}, {"a/**/b/**/c", "a/b/x/c"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, glob, name string) {
		// ParseRule takes a glob as a user types it, "./" in front
		// included (NormalizeGlob): it accepts what Match accepts of that
		// (found by fuzzing: ".//0" is the glob "0").
		if _, nerr := Match(NormalizeGlob(glob), name); NormalizeGlob(glob) != "" {
			_, perr := ParseRule("other=" + glob)
			if nerr != nil && perr == nil {
				t.Fatalf("ParseRule accepted glob %q that Match refuses once normalized: %v", glob, nerr)
			}
			if nerr == nil && perr != nil {
				t.Fatalf("ParseRule refused glob %q that Match accepts once normalized: %v", glob, perr)
			}
		}
		ok, err := Match(glob, name)
		if err != nil {
			if !errors.Is(err, ErrBadPattern) {
				t.Fatalf("Match(%q, %q) error %v does not wrap ErrBadPattern", glob, name, err)
			}
			if ok {
				t.Fatalf("Match(%q, %q) = true with error", glob, name)
			}
		} else {
			gs, ns := strings.Split(glob, "/"), strings.Split(name, "/")
			if len(gs) <= 8 && len(ns) <= 8 {
				if want := refMatch(gs, ns); ok != want {
					t.Fatalf("Match(%q, %q) = %v, reference says %v", glob, name, ok, want)
				}
			}
			// A glob without "**" segments matches like path.Match.
			if !slices.Contains(gs, "**") {
				want, perr := path.Match(glob, name)
				if perr == nil && ok != want {
					t.Fatalf("Match(%q, %q) = %v, path.Match says %v", glob, name, ok, want)
				}
			}
			// Prefixing "**/" keeps every match.
			if ok {
				if ok2, _ := Match("**/"+glob, name); !ok2 {
					t.Fatalf("Match(%q, %q) but not with **/ prefix", glob, name)
				}
			}
		}
		if ok, err := Match("**", name); !ok || err != nil {
			t.Fatalf("Match(\"**\", %q) = %v, %v", name, ok, err)
		}
	})
}

func ExampleMatch() {
	for _, c := range [][2]string{
		{"case/**", "case/a"},
		{"case/**", "case/x/y/z"},
		{"case/**", "case"},
		{"**/*.jpg", "a.jpg"},
		{"**/*.jpg", "x/y/a.jpg"},
		{"*.jpg", "x/a.jpg"},
		{"a**b", "a/b"},
	} {
		ok, _ := Match(c[0], c[1])
		fmt.Printf("%-9s %-11s %v\n", c[0], c[1], ok)
	}
	_, err := Match("case/[", "x")
	fmt.Println(err)
	// Output:
	// case/**   case/a      true
	// case/**   case/x/y/z  true
	// case/**   case        false
	// **/*.jpg  a.jpg       true
	// **/*.jpg  x/y/a.jpg   true
	// *.jpg     x/a.jpg     false
	// a**b      a/b         false
	// category: malformed glob "case/[": syntax error in pattern
}

func ExampleParseRule() {
	r, err := ParseRule("personal=**/*.jpg")
	fmt.Printf("%q %q %v\n", r.Category, r.Glob, err)
	_, err = ParseRule("personal=photos/[")
	fmt.Println(err)
	// Output:
	// "personal" "**/*.jpg" <nil>
	// category: invalid rule "personal=photos/[": category: malformed glob "photos/[": syntax error in pattern
}

func ExampleRules_Assign() {
	var rs Rules
	for _, s := range []string{"other=**", "law-enforcement=case/**", "personal=**/*.jpg"} {
		r, err := ParseRule(s)
		if err != nil {
			panic(err)
		}
		rs = append(rs, r)
	}
	fmt.Println(rs.Assign("case/suspect.jpg"))
	fmt.Println(rs.Assign("case/notes.txt"))
	fmt.Println(rs.Assign("readme.txt"))
	fmt.Println(Rules{}.Assign("readme.txt") == nil)
	// Output:
	// [personal law-enforcement other]
	// [law-enforcement other]
	// [other]
	// true
}

func TestNormalizeGlob(t *testing.T) {
	for in, want := range map[string]string{
		"case/medical/**":    "case/medical/**",
		"./case/medical/**":  "case/medical/**",
		".//./case/x":        "case/x",
		"case/me\u0301dical": "case/m\u00e9dical",
		"./":                 "",
		"x/./y":              "x/./y", // not a leading segment: left for validate to refuse
	} {
		if got := NormalizeGlob(in); got != want {
			t.Errorf("NormalizeGlob(%q) = %q, want %q", in, got, want)
		}
	}
	r, err := ParseRule("personal=./case/me\u0301dical/**")
	if err != nil || r.Glob != "case/m\u00e9dical/**" {
		t.Fatalf("ParseRule = %+v, %v; want the glob in stored form", r, err)
	}
	if _, err := ParseRule("personal=./"); err == nil {
		t.Fatal("a glob of only ./ was accepted")
	}
}

// AssignMarking marks every rule that matches, also one whose category an
// earlier rule already gave.
func TestAssignMarking(t *testing.T) {
	rs := Rules{
		{Category: Personal, Glob: "case/**"},
		{Category: Personal, Glob: "case/interviews/**"},
		{Category: SpecialCategory, Glob: "case/medical/**"},
		{Category: TradeSecret, Glob: "MLA[2026]/**"},
	}
	used := make([]bool, len(rs))
	if got := rs.AssignMarking("case/interviews/a.txt", used); !slices.Equal(got, []ID{Personal}) {
		t.Fatalf("AssignMarking = %v", got)
	}
	if got := rs.AssignMarking("MLA[2026]/x", used); got != nil {
		t.Fatalf("a bracket is a class: AssignMarking = %v, want nil", got)
	}
	if want := []bool{true, true, false, false}; !slices.Equal(used, want) {
		t.Fatalf("used = %v, want %v", used, want)
	}
	if got := rs.Assign("case/medical/r.txt"); !slices.Equal(got, []ID{Personal, SpecialCategory}) {
		t.Fatalf("Assign = %v", got)
	}
}
