package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dossier-evidence/dossier/pkg/category"
)

// maxSpecSize bounds a transfer spec file.
const maxSpecSize = 1 << 20

// spec is a transfer spec: a TOML file holding what pack's flags hold.
// Relative file names in it are relative to the spec's folder.
type spec struct {
	Case                string              `toml:"case"`
	Purpose             string              `toml:"purpose"`
	LegalBasis          string              `toml:"legal_basis"`
	RequestingAuthority string              `toml:"requesting_authority"`
	RequestedAuthority  string              `toml:"requested_authority"`
	Restrictions        []string            `toml:"restrictions"`
	RetainUntil         string              `toml:"retain_until"`
	Recipients          []string            `toml:"recipients"`
	Paths               []string            `toml:"paths"`
	DefaultCategory     string              `toml:"default_category"`
	Categories          map[string][]string `toml:"categories"`
	Exclude             []string            `toml:"exclude"`
	Identity            string              `toml:"identity"`
	Output              string              `toml:"output"`
	Split               string              `toml:"split"`
	Armor               bool                `toml:"armor"`

	// path is the spec file, dir its folder; set lists the keys the file
	// sets (so that "armor = false" counts as set).
	path string
	dir  string
	set  map[string]bool
}

// specKeys maps each spec key to the pack flag that overrides it.
var specKeys = []struct{ key, flag string }{
	{"case", "case"},
	{"purpose", "purpose"},
	{"legal_basis", "legal-basis"},
	{"requesting_authority", "requesting-authority"},
	{"requested_authority", "requested-authority"},
	{"restrictions", "restriction"},
	{"retain_until", "retain-until"},
	{"recipients", "recipient"},
	{"paths", ""},
	{"default_category", "default-category"},
	{"categories", "category"},
	{"exclude", "exclude"},
	{"identity", "identity"},
	{"output", "output"},
	{"split", "split"},
	{"armor", "armor"},
}

// specError is a mistake in a spec file (exit 2).
func specError(path, format string, args ...any) error {
	return usagef("spec %s: %s", path, fmt.Sprintf(format, args...))
}

// loadSpec reads and checks a transfer spec file.
func loadSpec(path string) (*spec, error) {
	data, err := readSmallFile(path, maxSpecSize)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read spec: %w (check the --spec path)", err)
		}
		return nil, fmt.Errorf("read spec: %w", err)
	}
	doc, err := parseTOML(string(data))
	if err != nil {
		return nil, specError(path, "%v", err)
	}
	s := &spec{path: path, dir: filepath.Dir(path), set: map[string]bool{}}
	if err := s.decode(doc); err != nil {
		return nil, err
	}
	return s, nil
}

// decode fills s from a parsed document, refusing unknown keys and values
// of the wrong type.
func (s *spec) decode(doc map[string]any) error {
	var unknown []string
	for k := range doc {
		if !slices.ContainsFunc(specKeys, func(e struct{ key, flag string }) bool { return e.key == k }) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		known := make([]string, len(specKeys))
		for i, e := range specKeys {
			known[i] = e.key
		}
		return specError(s.path, "unknown key %s (a spec takes: %s)", strings.Join(quoteEach(unknown), ", "), strings.Join(known, ", "))
	}
	str := func(k string, dst *string) error {
		v, ok := doc[k]
		if !ok {
			return nil
		}
		switch v := v.(type) {
		case string:
			*dst = v
		case tomlDate:
			if k != "retain_until" {
				return specError(s.path, "%s must be text in quotes", k)
			}
			*dst = string(v)
		default:
			return specError(s.path, "%s must be text in quotes, like %s = \"…\"", k, k)
		}
		s.set[k] = true
		return nil
	}
	list := func(k string, dst *[]string) error {
		v, ok := doc[k]
		if !ok {
			return nil
		}
		l, err := stringList(v)
		if err != nil {
			return specError(s.path, "%s must be a list of text in quotes, like %s = [\"…\", \"…\"]", k, k)
		}
		*dst = l
		s.set[k] = true
		return nil
	}
	for _, f := range []struct {
		k   string
		dst *string
	}{
		{"case", &s.Case}, {"purpose", &s.Purpose}, {"legal_basis", &s.LegalBasis},
		{"requesting_authority", &s.RequestingAuthority}, {"requested_authority", &s.RequestedAuthority},
		{"retain_until", &s.RetainUntil}, {"default_category", &s.DefaultCategory},
		{"identity", &s.Identity}, {"output", &s.Output}, {"split", &s.Split},
	} {
		if err := str(f.k, f.dst); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		k   string
		dst *[]string
	}{
		{"restrictions", &s.Restrictions}, {"recipients", &s.Recipients}, {"paths", &s.Paths}, {"exclude", &s.Exclude},
	} {
		if err := list(f.k, f.dst); err != nil {
			return err
		}
	}
	if s.RetainUntil != "" {
		if _, err := time.Parse("2006-01-02", s.RetainUntil); err != nil {
			return specError(s.path, "retain_until %q is not a date like 2031-12-31", s.RetainUntil)
		}
	}
	if v, ok := doc["armor"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return specError(s.path, "armor must be true or false")
		}
		s.Armor, s.set["armor"] = b, true
	}
	if v, ok := doc["categories"]; ok {
		t, isTable := v.(map[string]any)
		if !isTable {
			return specError(s.path, "categories must be a table: a [categories] line, then lines like personal = [\"case/interviews/**\"]")
		}
		s.Categories = map[string][]string{}
		for id, globs := range t {
			if _, err := category.Parse(id); err != nil {
				return specError(s.path, "[categories]: %v", err)
			}
			l, err := stringList(globs)
			if err != nil {
				return specError(s.path, "[categories]: %s must be a list of globs in quotes, like %s = [\"case/x/**\"]", id, id)
			}
			s.Categories[id] = l
		}
		s.set["categories"] = true
	}
	return nil
}

func stringList(v any) ([]string, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, errors.New("not a list")
	}
	out := make([]string, len(l))
	for i, e := range l {
		if out[i], ok = e.(string); !ok {
			return nil, errors.New("not a list of strings")
		}
	}
	return out, nil
}

func quoteEach(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

// rel makes a file name in the spec relative to the spec's folder.
func (s *spec) rel(name string) string {
	if name == "" || name == "-" || filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(s.dir, name)
}

// recipient resolves an entry of recipients: a file relative to the spec's
// folder, or else a contact's name. An entry that looks like a file name
// (with a folder or ending in .card) is always a file.
func (s *spec) recipient(r string) string {
	if filepath.IsAbs(r) {
		return r
	}
	p := filepath.Join(s.dir, r)
	if looksLikeFile(r) {
		return p
	}
	if _, err := os.Lstat(p); err == nil {
		return p
	}
	return r
}

// apply sets o's options and the paths from the spec, except those given
// explicitly on the command line (changed reports which flags were).
func (s *spec) apply(o *packOptions, changed func(flag string) bool, paths *[]string) error {
	use := func(key, flag string) bool { return s.set[key] && !changed(flag) }
	for _, f := range []struct {
		key, flag string
		dst       *string
		v         string
	}{
		{"case", "case", &o.Case, s.Case},
		{"purpose", "purpose", &o.Purpose, s.Purpose},
		{"legal_basis", "legal-basis", &o.LegalBasis, s.LegalBasis},
		{"requesting_authority", "requesting-authority", &o.RequestingAuthority, s.RequestingAuthority},
		{"requested_authority", "requested-authority", &o.RequestedAuthority, s.RequestedAuthority},
		{"retain_until", "retain-until", &o.RetainUntil, s.RetainUntil},
		{"default_category", "default-category", &o.DefaultCategory, s.DefaultCategory},
		{"identity", "identity", &o.IdentityPath, s.rel(s.Identity)},
		{"output", "output", &o.Output, s.rel(s.Output)},
		{"split", "split", &o.Split, s.Split},
	} {
		if use(f.key, f.flag) {
			*f.dst = f.v
		}
	}
	if use("restrictions", "restriction") {
		o.Restrictions = s.Restrictions
	}
	if use("exclude", "exclude") {
		o.Exclude = s.Exclude
	}
	if use("armor", "armor") {
		o.Armor = s.Armor
	}
	if use("recipients", "recipient") {
		o.Recipients = nil
		for _, r := range s.Recipients {
			o.Recipients = append(o.Recipients, s.recipient(r))
		}
	}
	if use("categories", "category") {
		o.Categories = nil
		for _, id := range category.All() {
			for _, g := range s.Categories[string(id)] {
				o.Categories = append(o.Categories, string(id)+"="+g)
			}
		}
	}
	if s.set["paths"] && len(*paths) == 0 {
		for _, p := range s.Paths {
			*paths = append(*paths, s.rel(p))
		}
	}
	return nil
}
