package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/dossier-evidence/dossier/pkg/bundle"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/manifest"
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
	RetainUntil         specDate            `toml:"retain_until"`
	Recipients          []string            `toml:"recipients"`
	Paths               []string            `toml:"paths"`
	DefaultCategory     string              `toml:"default_category"`
	Categories          map[string][]string `toml:"categories"`
	Exclude             []string            `toml:"exclude"`
	Identity            string              `toml:"identity"`
	Output              string              `toml:"output"`
	Split               string              `toml:"split"`
	Armor               bool                `toml:"armor"`
	Format              int                 `toml:"format"`

	// path is the spec file, dir its folder; set lists the keys the file
	// sets (so that "armor = false" counts as set).
	path string
	dir  string
	set  map[string]bool
}

// specKeys maps each spec key to the pack flag that overrides it, and to
// the kind of value it takes (for messages about values of the wrong type).
var specKeys = []struct{ key, flag, kind string }{
	{"case", "case", "text"},
	{"purpose", "purpose", "text"},
	{"legal_basis", "legal-basis", "text"},
	{"requesting_authority", "requesting-authority", "text"},
	{"requested_authority", "requested-authority", "text"},
	{"restrictions", "restriction", "list"},
	{"retain_until", "retain-until", "date"},
	{"recipients", "recipient", "list"},
	{"paths", "", "list"},
	{"default_category", "default-category", "text"},
	{"categories", "category", "table"},
	{"exclude", "exclude", "list"},
	{"identity", "identity", "text"},
	{"output", "output", "text"},
	{"split", "split", "text"},
	{"armor", "armor", "bool"},
	{"format", "format", "int"},
}

// specKind is the kind of value key takes, or "" for an unknown key.
func specKind(key string) string {
	for _, e := range specKeys {
		if e.key == key {
			return e.kind
		}
	}
	return ""
}

// specDate is retain_until: a TOML local date (retain_until = 2031-12-31)
// or the same date in quotes, kept as YYYY-MM-DD.
type specDate string

// localDateZone is the name of the time zone BurntSushi/toml gives the
// time.Time it decodes a local date (2031-12-31) into; a local date-time
// (2031-12-31T00:00:00) gets "datetime-local" and an offset date-time a
// real zone.
const localDateZone = "date-local"

func (d *specDate) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		if _, err := time.Parse("2006-01-02", v); err != nil {
			return fmt.Errorf("retain_until %q is not a date like 2031-12-31", v)
		}
		*d = specDate(v)
		return nil
	case time.Time:
		if v.Location().String() != localDateZone {
			return errors.New("retain_until must be a date without a time, like retain_until = 2031-12-31")
		}
		*d = specDate(v.Format("2006-01-02"))
		return nil
	}
	return errors.New("retain_until must be a date, like retain_until = 2031-12-31 or retain_until = \"2031-12-31\"")
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
	return decodeSpec(path, string(data))
}

// decodeSpec decodes and checks the text src of the spec file path.
func decodeSpec(path, src string) (*spec, error) {
	s := &spec{path: path, dir: filepath.Dir(path), set: map[string]bool{}}
	md, err := toml.Decode(src, s)
	var pe toml.ParseError
	if errors.As(err, &pe) && len(md.Keys()) == 0 {
		// Not valid TOML: the decoder stops before it returns any key.
		return nil, specError(path, "line %d: %s", pe.Position.Line, pe.Message)
	}
	if err := s.checkKeys(src, md); err != nil {
		return nil, err
	}
	if err != nil || md.Type("categories") != "" && md.Type("categories") != "Hash" {
		// A value of the wrong type, or a date that is none. (The decoder
		// quietly leaves a map empty when the value is no table, hence
		// the second test.)
		return nil, s.valueError(src, md, err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		// Keys under known ones that no field took: this cannot happen
		// with spec's fields, but no key is ever silently ignored.
		return nil, specError(path, "%sunknown key %q", atLine(keyLine(src, md, u[0])), u[0].String())
	}
	for _, k := range md.Keys() {
		if len(k) == 2 && k[0] == "categories" {
			if _, err := category.Parse(k[1]); err != nil {
				return nil, specError(path, "%s[categories]: %v", atLine(keyLine(src, md, k)), err)
			}
		}
	}
	for _, e := range specKeys {
		s.set[e.key] = md.IsDefined(e.key)
	}
	return s, nil
}

// checkKeys refuses keys a spec does not take, naming each unknown
// top-level key with its line, in the order of the file. It goes by the
// names of all the keys rather than by md.Undecoded(): the decoder also
// matches keys to fields case-insensitively ("Case" for case, though TOML
// keys are case-sensitive), and when it stops at a value of the wrong
// type the keys it did not reach are undecoded too.
// maxUnknownKeys is how many unknown keys an error names (each line
// number costs a decoding of the file).
const maxUnknownKeys = 5

func (s *spec) checkKeys(src string, md toml.MetaData) error {
	var unknown []toml.Key // the first key under each unknown top-level name
	seen := map[string]bool{}
	for _, k := range md.Keys() {
		if specKind(k[0]) == "" && !seen[k[0]] {
			seen[k[0]] = true
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	var msgs []string
	for i, k := range unknown {
		if i == maxUnknownKeys {
			msgs = append(msgs, fmt.Sprintf("and %d more unknown keys", len(unknown)-i))
			break
		}
		msgs = append(msgs, fmt.Sprintf("%sunknown key %q", atLine(keyLine(src, md, k)), k[0]))
	}
	known := make([]string, len(specKeys))
	for i, e := range specKeys {
		known[i] = e.key
	}
	return specError(s.path, "%s (a spec takes: %s)", strings.Join(msgs, "; "), strings.Join(known, ", "))
}

// valueError names the first key, in the order of the file, whose value
// is of the wrong type (or, for retain_until, no date); decodeErr is the
// decoder's own message, the fallback. (The decoder fills the fields in
// no set order, so its error may be about any of several bad values.)
func (s *spec) valueError(src string, md toml.MetaData, decodeErr error) error {
	var doc map[string]any
	if _, err := toml.Decode(src, &doc); err != nil {
		return specError(s.path, "%s", strings.TrimPrefix(err.Error(), "toml: "))
	}
	var seen []string
	for _, k := range md.Keys() {
		key := k[0]
		if slices.Contains(seen, key) {
			continue
		}
		seen = append(seen, key)
		v := doc[key]
		line := atLine(keyLine(src, md, k[:1]))
		if line == "" {
			line = atLine(keyLine(src, md, k)) // k[0] is only implied, as in [categories.personal]
		}
		switch specKind(key) {
		case "text":
			if _, ok := v.(string); !ok {
				return specError(s.path, "%s%s must be text in quotes, like %s = \"…\"", line, key, key)
			}
		case "date":
			if err := new(specDate).UnmarshalTOML(v); err != nil {
				return specError(s.path, "%s%v", line, err)
			}
		case "list":
			if !isStringList(v) {
				return specError(s.path, "%s%s must be a list of text in quotes, like %s = [\"…\", \"…\"]", line, key, key)
			}
		case "bool":
			if _, ok := v.(bool); !ok {
				return specError(s.path, "%sarmor must be true or false", line)
			}
		case "int":
			if _, ok := v.(int64); !ok {
				return specError(s.path, "%s%s must be a number, like %s = 1", line, key, key)
			}
		case "table":
			t, ok := v.(map[string]any)
			if !ok {
				return specError(s.path, "%scategories must be a table: a [categories] line, then lines like personal = [\"case/interviews/**\"]", line)
			}
			for _, ck := range md.Keys() {
				if len(ck) == 2 && ck[0] == key && !isStringList(t[ck[1]]) {
					return specError(s.path, "%s[categories]: %s must be a list of globs in quotes, like %s = [\"case/x/**\"]", atLine(keyLine(src, md, ck)), ck[1], ck[1])
				}
			}
		}
	}
	if decodeErr == nil {
		decodeErr = errors.New("a value of the wrong type")
	}
	return specError(s.path, "%s", strings.TrimPrefix(decodeErr.Error(), "toml: "))
}

func isStringList(v any) bool {
	l, ok := v.([]any)
	if !ok {
		return false
	}
	for _, e := range l {
		if _, ok := e.(string); !ok {
			return false
		}
	}
	return true
}

// atLine is "line N: ", or "" when the line is not known (0).
func atLine(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf("line %d: ", n)
}

// keyLine is the line of src on which key is set, or 0 if that cannot be
// told; md is src's. The decoder records every key's line but tells it only in the
// errors it returns, and it returns one, with the line of the key being
// decoded, when a field's UnmarshalTOML fails. So decode src again into a
// struct with one field for key (nested for a dotted key) of the type
// lineProbe, which always fails.
func keyLine(src string, md toml.MetaData, key toml.Key) int {
	var probe reflect.Type = reflect.TypeFor[lineProbe]()
	for i := len(key) - 1; i >= 0; i-- {
		fields := []reflect.StructField{{Name: "V", Type: probe, Tag: tomlTag(key[i])}}
		// The decoder gives a key to a field of the same name if there is
		// one, else to one whose name differs only in case. Give each key
		// that would otherwise reach the probe that way ("Case" besides
		// "case") a field of its own, which takes anything.
		var others []string
		for _, k := range md.Keys() {
			if len(k) > i && slices.Equal(k[:i], key[:i]) && k[i] != key[i] && strings.EqualFold(k[i], key[i]) && !slices.Contains(others, k[i]) {
				others = append(others, k[i])
				fields = append(fields, reflect.StructField{Name: fmt.Sprintf("V%d", len(others)), Type: reflect.TypeFor[toml.Primitive](), Tag: tomlTag(k[i])})
			}
		}
		for _, f := range fields {
			if f.Tag == "" {
				return 0
			}
		}
		probe = reflect.StructOf(fields)
	}
	_, err := toml.Decode(src, reflect.New(probe).Interface())
	var pe toml.ParseError
	if errors.As(err, &pe) && pe.Message == errLineProbe.Error() && pe.LastKey == key.String() {
		return pe.Position.Line
	}
	return 0
}

// tomlTag is the struct tag for the TOML key k, or "" if no tag can name
// it (the decoder splits tags at commas).
func tomlTag(k string) reflect.StructTag {
	if strings.Contains(k, ",") {
		return ""
	}
	return reflect.StructTag("toml:" + strconv.Quote(k))
}

type lineProbe struct{}

var errLineProbe = errors.New("dossier: line probe")

func (*lineProbe) UnmarshalTOML(any) error { return errLineProbe }

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
	// Values the flags would refuse are refused here, naming the spec
	// and its key rather than a flag the user never typed.
	if use("default_category", "default-category") {
		if _, err := category.ParseList(s.DefaultCategory); err != nil {
			return specError(s.path, "default_category: %v", err)
		}
	}
	if use("exclude", "exclude") {
		for _, g := range s.Exclude {
			if !validExclude(g) {
				return specError(s.path, "exclude = %q is not a glob like \"case/drafts/**\" or \"**/*.tmp\"", g)
			}
		}
	}
	if use("split", "split") {
		if n, err := parseSize(s.Split); err != nil {
			return specError(s.path, "split = %q is not a size like \"4G\", \"700M\" or \"2GiB\"", s.Split)
		} else if n < bundle.MinVolumeSize {
			return specError(s.path, "split = %q is too small: volumes must be at least %d bytes", s.Split, bundle.MinVolumeSize)
		}
	}
	if s.set["paths"] && len(*paths) == 0 && slices.Contains(s.Paths, "") {
		return specError(s.path, "paths holds an empty name: name each file or folder, relative to the spec's folder")
	}
	// A repeatable flag replaces the spec's whole list, as documented; an
	// officer adding one rule on the command line is told what went.
	var specCategories []string
	for _, id := range category.All() {
		for _, g := range s.Categories[string(id)] {
			specCategories = append(specCategories, string(id)+"="+g)
		}
	}
	for _, l := range []struct {
		key, flag string
		items     []string
	}{
		{"categories", "category", specCategories},
		{"exclude", "exclude", s.Exclude},
		{"recipients", "recipient", s.Recipients},
		{"restrictions", "restriction", s.Restrictions},
	} {
		if s.set[l.key] && changed(l.flag) && len(l.items) > 0 {
			o.specReplaced = append(o.specReplaced, fmt.Sprintf("--%s replaces the spec's %s: %s; repeat on the command line what should stay", l.flag, l.key, strings.Join(l.items, ", ")))
		}
	}
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
		{"retain_until", "retain-until", &o.RetainUntil, string(s.RetainUntil)},
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
	if use("format", "format") {
		if !manifest.Supported(s.Format) {
			return usagef("%s: format = %d: dossier writes format %d, or %s for a receiver whose dossier predates it", s.path, s.Format, manifest.FormatVersion, olderFormats)
		}
		o.Format = s.Format
	}
	if use("recipients", "recipient") {
		o.Recipients = nil
		for _, r := range s.Recipients {
			o.Recipients = append(o.Recipients, s.recipient(r))
		}
	}
	if use("categories", "category") {
		o.Categories = specCategories
	}
	if s.set["paths"] && len(*paths) == 0 {
		for _, p := range s.Paths {
			*paths = append(*paths, s.rel(p))
		}
	}
	return nil
}
