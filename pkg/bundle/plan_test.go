package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
	"github.com/dossier-evidence/dossier/pkg/manifest"
)

// storedPath gives base/rel whatever path looks like, and shares path's
// memory where path ends in those bytes.
func TestStoredPath(t *testing.T) {
	for _, tt := range []struct {
		path, base, rel string
		shared          bool
	}{
		{"/cases/c1/a/b.txt", "c1", "a/b.txt", true},
		{"c1/b.txt", "c1", "b.txt", true},
		{"./b.txt", "c1", "b.txt", false},       // the folder was "."
		{"../b.txt", "up", "b.txt", false},      // or ".."
		{"/x/c1x/b.txt", "c1", "b.txt", false},  // base is only a suffix of the folder's name
		{"/x/c1/b.txt", "c1", "a/b.txt", false}, // not the same file
		{"b.txt", "a-long-folder-name", "b.txt", false},
	} {
		got := storedPath(tt.path, tt.base, tt.rel)
		if want := tt.base + "/" + tt.rel; got != want {
			t.Errorf("storedPath(%q, %q, %q) = %q, want %q", tt.path, tt.base, tt.rel, got, want)
		}
		if shared := sharesMemory(tt.path, got); shared != tt.shared {
			t.Errorf("storedPath(%q, %q, %q) shares the path's memory: %v, want %v", tt.path, tt.base, tt.rel, shared, tt.shared)
		}
	}
}

func sharesMemory(s, sub string) bool {
	start, p := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(sub)))
	return p >= start && p < start+uintptr(len(s))
}

// A plan of a folder keeps no path on disk per file: the files share
// their folder's origin, and each one's Source is made from it and the
// stored path, whatever the folder was named. A name stored otherwise
// than it is on disk (normalized to NFC) keeps its own. The lists are
// made at their size.
func TestPlanKeepsNoPathPerFile(t *testing.T) {
	dir := testtmp.Dir(t)
	if err := os.MkdirAll(filepath.Join(dir, "case", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	nfd := "case/sub/Cafe\u0301.txt" // stored as "Café.txt", one code point
	names := []string{"case/a.txt", "case/sub/b.txt", nfd}
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct{ cwd, arg string }{
		{"", filepath.Join(dir, "case")},
		{"", "case"},
		{"", "case/"},
		{"case", "."},
		{"case/sub", ".."},
		{"case/sub", "../../case/"},
	} {
		t.Chdir(filepath.Join(dir, tt.cwd))
		arg := tt.arg
		plan, err := MakePlan([]string{arg}, nil, []category.ID{category.Other})
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.Files) != len(names) || cap(plan.Files) != len(names) || cap(plan.own.files) != len(names) {
			t.Fatalf("%s: %d files in lists of %d and %d, want %d in lists of their size", arg, len(plan.Files), cap(plan.Files), cap(plan.own.files), len(names))
		}
		shared := plan.Files[0].from
		for _, in := range plan.Files {
			disk := in.Source()
			if arg != "." {
				disk = strings.TrimPrefix(disk, filepath.Clean(arg)+string(filepath.Separator))
			}
			rel, _ := strings.CutPrefix(in.File.Path, "case/")
			if got, want := in.Source(), filepath.Join(arg, filepath.FromSlash(disk)); got != want || !slices.Contains(names, "case/"+filepath.ToSlash(disk)) {
				t.Errorf("%s: %s comes from %q, want a file of the folder", arg, in.File.Path, got)
			}
			wantOwn := rel != filepath.ToSlash(disk) || filepath.Separator != '/' && strings.Contains(rel, "/")
			if in.from.own != wantOwn || !wantOwn && in.from != shared {
				t.Errorf("%s: %s (on disk %s) has its own origin: %v, want %v", arg, in.File.Path, disk, in.from.own, wantOwn)
			}
		}
	}
}

// Each file gets the set of categories whose rules match it, or the default.
func TestPlanCategorySets(t *testing.T) {
	dir := testtmp.Dir(t)
	for _, name := range []string{"a.txt", "b.jpg", "c.txt", "d.jpg", "e.bin"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var rules category.Rules
	for _, r := range []string{"personal=**/*.txt", "personal=**/*.jpg", "special-category=**/*.jpg"} {
		rule, err := category.ParseRule(r)
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, rule)
	}
	plan, err := MakePlan([]string{dir}, rules, []category.ID{category.Other})
	if err != nil {
		t.Fatal(err)
	}
	f := plan.Files
	want := []category.Set{category.MustSet(category.Personal), category.MustSet(category.Personal, category.SpecialCategory),
		category.MustSet(category.Personal), category.MustSet(category.Personal, category.SpecialCategory), category.MustSet(category.Other)}
	for i := range f {
		if f[i].File.Categories != want[i] {
			t.Errorf("%s: %v, want %v", f[i].File.Path, f[i].File.Categories, want[i])
		}
	}
}

// Each file's mtime is its own modification time, in whole seconds.
func TestPlanModificationTimes(t *testing.T) {
	dir := testtmp.Dir(t)
	t1 := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	t2 := t1.Add(90 * time.Minute)
	times := map[string]time.Time{"a": t1, "b": t1.Add(400 * time.Millisecond), "c": t2, "d": t2, "e": t1}
	for name, mt := range times {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	plan, err := MakePlan([]string{dir}, nil, []category.ID{category.Other})
	if err != nil {
		t.Fatal(err)
	}
	f := plan.Files
	for _, in := range f {
		if want := times[path.Base(in.File.Path)].Truncate(time.Second).UTC().Format(time.RFC3339); in.File.MTime.String() != want {
			t.Errorf("%s: mtime %s, want %s", in.File.Path, in.File.MTime, want)
		}
	}
}

// Pack uses a plan's own list as the bundle's file list, filling in the
// hashes and offsets; a plan whose entries were reordered or replaced is
// copied in its new order; an entry without a File is an error.
func TestPackUsesThePlansList(t *testing.T) {
	p := getParties(t)
	dir := testtmp.Dir(t)
	writeTree(t, dir, map[string]string{"case/a.txt": "aaa", "case/b.txt": "bb", "case/c.txt": "c"})
	opts := PackOptions{Sender: p.alice, Recipients: []*card.Card{p.bob.Card}}
	pack := func(plan *Plan) (*manifest.Manifest, error) {
		return Pack(context.Background(), io.Discard, plan, opts)
	}
	plan, err := MakePlan([]string{filepath.Join(dir, "case")}, nil, []category.ID{category.Other})
	if err != nil {
		t.Fatal(err)
	}
	man, err := pack(plan)
	if err != nil {
		t.Fatal(err)
	}
	if &man.Files[0] != plan.Files[0].File {
		t.Error("the manifest's list is a copy of the plan's")
	}
	for i, in := range plan.Files {
		if in.File.SHA256 != man.Files[i].SHA256 || in.File.SHA256.IsZero() || in.File.Offset == 0 {
			t.Errorf("%s: the plan's entry has sha256 %s offset %d", in.File.Path, in.File.SHA256, in.File.Offset)
		}
	}

	// Reversed: packed in the new order, from a copy.
	slices.Reverse(plan.Files)
	man, err = pack(plan)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, f := range man.Files {
		order = append(order, f.Path)
	}
	if got := strings.Join(order, ","); got != "case/c.txt,case/b.txt,case/a.txt" {
		t.Errorf("reversed plan packed as %s", got)
	}
	if &man.Files[0] == plan.Files[0].File {
		t.Error("a reordered plan's entries were used in place")
	}

	plan.Files[1].File = nil
	var out bytes.Buffer
	if _, err := Pack(context.Background(), &out, plan, opts); err == nil || !strings.Contains(err.Error(), "has no stored entry") {
		t.Fatalf("err = %v for an entry without File", err)
	}
	if out.Len() != 0 {
		t.Fatalf("a plan with an empty entry wrote %d bytes before failing", out.Len())
	}
	if sum := plan.Summary(); len(sum) != 1 || sum[0].Files != 2 {
		t.Errorf("summary of a plan with an empty entry: %+v", sum)
	}
}

// A plan packed again, or by two Packs at once, gives each bundle its own
// list: a manifest Pack returned does not change afterwards, and both
// bundles verify.
func TestPackAPlanTwice(t *testing.T) {
	p := getParties(t)
	dir := testtmp.Dir(t)
	writeTree(t, dir, map[string]string{"case/a.txt": "aaa", "case/b.txt": "bb"})
	plan, err := MakePlan([]string{filepath.Join(dir, "case")}, nil, []category.ID{category.Other})
	if err != nil {
		t.Fatal(err)
	}
	pack := func(ref string) ([]byte, *manifest.Manifest, error) {
		var buf bytes.Buffer
		man, err := Pack(context.Background(), &buf, plan, PackOptions{Sender: p.alice, Recipients: []*card.Card{p.bob.Card},
			Case: manifest.Case{Reference: ref}})
		return buf.Bytes(), man, err
	}
	_, first, err := pack("C-1")
	if err != nil {
		t.Fatal(err)
	}
	firstBytes, err := first.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	firstOffset := first.Files[0].Offset
	// A longer case reference moves every offset in the second bundle.
	_, second, err := pack(strings.Repeat("C-2 ", 200))
	if err != nil {
		t.Fatal(err)
	}
	if second.Files[0].Offset == firstOffset {
		t.Fatal("the second bundle's offsets did not move: the test proves nothing")
	}
	if again, _ := first.Marshal(); first.Files[0].Offset != firstOffset || !bytes.Equal(again, firstBytes) {
		t.Fatal("packing the plan again changed the first manifest")
	}

	// Two at once, of a fresh plan and of a copy of its value: exactly one
	// takes the plan's list (run with -race to see a shared list written).
	if plan, err = MakePlan([]string{filepath.Join(dir, "case")}, nil, []category.ID{category.Other}); err != nil {
		t.Fatal(err)
	}
	plans := []*Plan{plan, new(Plan)}
	*plans[1] = *plan
	var wg sync.WaitGroup
	bundles := make([][]byte, 2)
	mans := make([]*manifest.Manifest, 2)
	errs := make([]error, 2)
	for i := range bundles {
		wg.Go(func() {
			var buf bytes.Buffer
			mans[i], errs[i] = Pack(context.Background(), &buf, plans[i], PackOptions{Sender: p.alice, Recipients: []*card.Card{p.bob.Card},
				Case: manifest.Case{Reference: fmt.Sprint("C-", i+3, strings.Repeat("x", 300*i))}})
			bundles[i] = buf.Bytes()
		})
	}
	wg.Wait()
	shared := 0
	for i, b := range bundles {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if _, err := Verify(context.Background(), bytes.NewReader(b), ReadOptions{Identity: p.bob, Sender: p.alice.Card}); err != nil {
			t.Fatalf("bundle %d of two packed at once: %v", i, err)
		}
		if &mans[i].Files[0] == plan.Files[0].File {
			shared++
		}
	}
	if shared != 1 {
		t.Fatalf("%d of two Packs at once used the plan's own list, want 1", shared)
	}
}

// An empty folder makes a bundle whose lists are empty lists, [], as
// before plans kept their own list (whose empty form is nil).
func TestPackAnEmptyFolder(t *testing.T) {
	p := getParties(t)
	dir := testtmp.Dir(t)
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	plan, err := MakePlan([]string{filepath.Join(dir, "empty")}, nil, []category.ID{category.Other})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := Pack(context.Background(), &buf, plan, PackOptions{Sender: p.alice, Recipients: []*card.Card{p.bob.Card}}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(testtmp.Dir(t), "opened")
	res, err := Open(context.Background(), bytes.NewReader(buf.Bytes()), out, ReadOptions{Identity: p.bob, Sender: p.alice.Card})
	if err != nil {
		t.Fatal(err)
	}
	if mb := bagManifest(t, out); !bytes.HasSuffix(mb, []byte(`"files":[]}`+"\n")) || sha256.Sum256(mb) != res.ManifestSHA256 {
		t.Fatalf("manifest ends %q", mb[max(0, len(mb)-40):])
	}
	if res, err = Inspect(context.Background(), bytes.NewReader(buf.Bytes()), ReadOptions{Identity: p.bob, Sender: p.alice.Card}); err != nil {
		t.Fatal(err)
	}
	pre, err := res.Preamble.Marshal()
	if err != nil || !bytes.HasSuffix(pre, []byte(`"files":[]}`+"\n")) {
		t.Fatalf("preamble ends %q (%v)", pre[max(0, len(pre)-40):], err)
	}
}

// Pack checks the preamble it is about to sign by a receiver's rules: a
// plan altered after MakePlan into one no receiver accepts is refused
// before anything is written.
func TestPackChecksThePreamble(t *testing.T) {
	p := getParties(t)
	dir := testtmp.Dir(t)
	for _, name := range []string{"a.txt", "b.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, edit := range map[string]func(*Plan){
		"escaping path":   func(pl *Plan) { pl.Files[0].File.Path = "../a.txt" },
		"reserved path":   func(pl *Plan) { pl.Files[0].File.Path = ".dossier/a.txt" },
		"same path twice": func(pl *Plan) { pl.Files[1].File.Path = pl.Files[0].File.Path },
		"no categories":   func(pl *Plan) { pl.Files[0].File.Categories = 0 },
		"wrong total":     func(pl *Plan) { pl.TotalSize++ },
	} {
		plan, err := MakePlan([]string{dir}, nil, []category.ID{category.Other})
		if err != nil {
			t.Fatal(err)
		}
		edit(plan)
		var out bytes.Buffer
		_, err = Pack(context.Background(), &out, plan, PackOptions{Sender: p.alice, Recipients: []*card.Card{p.bob.Card}})
		if !errors.Is(err, manifest.ErrInvalid) {
			t.Errorf("%s: Pack = %v, want manifest.ErrInvalid", name, err)
		}
	}
}

// writePreamble writes the preamble entry only if its encoding is the
// one signed: same length and hash.
func TestWritePreambleChecksTheEncoding(t *testing.T) {
	pre := &manifest.Preamble{Type: manifest.PreambleType, Version: manifest.FormatVersion,
		Files: []manifest.File{{Path: "a.txt", Size: 1, Mode: manifest.ModeRegular, MTime: manifest.TimeOf(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), Categories: category.MustSet(category.Other)}}}
	data, err := pre.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	write := func(size int64, sum [32]byte) error {
		tw := tar.NewWriter(io.Discard)
		header := func(name string, size int64) error {
			return tw.WriteHeader(&tar.Header{Name: name, Size: size, Mode: 0o644})
		}
		return writePreamble(tw, header, pre.WriteTo, size, sum)
	}
	if err := write(int64(len(data)), sum); err != nil {
		t.Fatalf("the signed encoding: %v", err)
	}
	other := sum
	other[0] ^= 1
	for name, err := range map[string]error{
		"another hash": write(int64(len(data)), other),
		"longer":       write(int64(len(data))+1, sum),
		"shorter":      write(int64(len(data))-1, sum),
	} {
		if err == nil || !strings.Contains(err.Error(), "encoded differently") {
			t.Errorf("%s: writePreamble = %v, want the internal error", name, err)
		}
	}
}

// PackOptions.FormatVersion writes format 2 or 1 for receivers whose
// dossier predates format 3 or 2; all open, re-verify as bags and
// extract, only format 3 is read without holding its list, and an unknown
// version is refused.
func TestPackFormatVersion(t *testing.T) {
	p := getParties(t)
	dir := testtmp.Dir(t)
	if err := os.MkdirAll(filepath.Join(dir, "case", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"case/a.txt", "case/sub/b.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("content of "+name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ asked, want int }{{0, manifest.FormatVersion}, {manifest.FormatVersion, manifest.FormatVersion}, {manifest.Version2, manifest.Version2}, {manifest.Version1, manifest.Version1}} {
		plan, err := MakePlan([]string{filepath.Join(dir, "case")}, nil, []category.ID{category.Other})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := Pack(context.Background(), &buf, plan, PackOptions{Sender: p.alice, Recipients: []*card.Card{p.bob.Card}, FormatVersion: tc.asked}); err != nil {
			t.Fatal(err)
		}
		opts := ReadOptions{Identity: p.bob, Sender: p.alice.Card}
		out := filepath.Join(testtmp.Dir(t), "out")
		res, err := Open(context.Background(), bytes.NewReader(buf.Bytes()), out, opts)
		if err != nil {
			t.Fatalf("format %d: %v", tc.asked, err)
		}
		if res.Preamble.Version != tc.want || res.Manifest.Version != tc.want || (res.ManifestBytes != nil) != (tc.want == manifest.Version1) ||
			res.Streamed != (tc.want == manifest.Version3) || res.FileCount != 2 {
			t.Fatalf("asked for format %d: got preamble %d, manifest %d, bytes kept %v, streamed %v, %d files", tc.asked, res.Preamble.Version, res.Manifest.Version, res.ManifestBytes != nil, res.Streamed, res.FileCount)
		}
		if _, err := verifyBagChecked(t, out, p.alice.Card); err != nil {
			t.Fatalf("format %d bag: %v", tc.want, err)
		}
		var got bytes.Buffer
		if _, err := Extract(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), "case/sub/b.txt", &got, opts); err != nil || got.String() != "content of case/sub/b.txt" {
			t.Fatalf("format %d extract: %q, %v", tc.want, got.String(), err)
		}
	}
	plan, err := MakePlan([]string{filepath.Join(dir, "case")}, nil, []category.ID{category.Other})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Pack(context.Background(), io.Discard, plan, PackOptions{Sender: p.alice, Recipients: []*card.Card{p.bob.Card}, FormatVersion: 4}); !errors.Is(err, ErrInput) {
		t.Fatalf("format 4: %v, want ErrInput", err)
	}
}

// Every name no system can store is counted, and the first ten listed,
// so that an officer can rename them in one go rather than one per run.
func TestMakePlanListsUnsafeNames(t *testing.T) {
	dir := testtmp.Dir(t)
	files := map[string]string{"case/fine.txt": "ok"}
	// A bidi override: every system can create such a name (Windows
	// cannot a trailing dot or CON), and safepath refuses it everywhere.
	for i := range 12 {
		files[fmt.Sprintf("case/bad%02d\u202etxt.exe", i)] = "bidi"
	}
	writeTree(t, dir, files)
	_, err := MakePlan([]string{filepath.Join(dir, "case")}, nil, []category.ID{category.Other})
	if !errors.Is(err, ErrInput) {
		t.Fatalf("MakePlan = %v, want ErrInput", err)
	}
	msg := err.Error()
	for i := range 10 {
		if !strings.Contains(msg, fmt.Sprintf("bad%02d", i)) {
			t.Errorf("the error does not name bad%02d: %s", i, msg)
		}
	}
	if strings.Contains(msg, "bad10") || !strings.Contains(msg, "12 names cannot be stored safely") || !strings.Contains(msg, "; and 2 more (rename them") {
		t.Errorf("the error should count all 12 and list the first 10: %s", msg)
	}
	// One alone reads as before.
	one := testtmp.Dir(t)
	writeTree(t, one, map[string]string{"case/one\u202etxt.exe": "x"})
	if _, err := MakePlan([]string{filepath.Join(one, "case")}, nil, []category.ID{category.Other}); err == nil || !strings.Contains(err.Error(), "one") || !strings.HasSuffix(err.Error(), "(rename it, or leave it out with --exclude)") {
		t.Errorf("one unsafe name: %v", err)
	}
}

// Found by review: a rule whose glob matched nothing (the brackets of
// MLA[2026-077] read as a character class) left the medical report to the
// default category, and an exclude that matched nothing let the drafts
// go; the plan said nothing. MakePlan now lists both, and counts a rule
// for files that were then excluded as used.
func TestMakePlanReportsUnusedGlobs(t *testing.T) {
	dir := testtmp.Dir(t)
	writeTree(t, dir, map[string]string{
		"MLA[2026-077]/medical/hiv.txt":  "x",
		"MLA[2026-077]/drafts/u.txt":     "d",
		"MLA[2026-077]/interviews/a.txt": "a",
	})
	rules := category.Rules{
		{Category: category.SpecialCategory, Glob: "MLA[2026-077]/medical/**"},
		{Category: category.Personal, Glob: `MLA\[2026-077\]/interviews/**`},
		{Category: category.TradeSecret, Glob: `MLA\[2026-077\]/drafts/**`},
	}
	plan, err := MakePlan([]string{filepath.Join(dir, "MLA[2026-077]")}, rules, []category.ID{category.LawEnforcement},
		"MLA[2026-077]/drafts", `./MLA\[2026-077\]/drafts`)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.UnusedRules) != 1 || plan.UnusedRules[0] != rules[0] {
		t.Errorf("UnusedRules = %v, want only the bracketed medical rule", plan.UnusedRules)
	}
	if !slices.Equal(plan.UnusedExcludes, []string{"MLA[2026-077]/drafts"}) {
		t.Errorf("UnusedExcludes = %q, want the unescaped one (./ is dropped from the other)", plan.UnusedExcludes)
	}
	if len(plan.Excluded) != 1 || len(plan.Files) != 2 {
		t.Errorf("excluded %d and planned %d files, want 1 and 2", len(plan.Excluded), len(plan.Files))
	}
}

// SuggestGlob finds the reading of an unmatched glob that matches, and
// only then: a glob with nothing to match is a safety net, not a mistake.
func TestSuggestGlob(t *testing.T) {
	dir := testtmp.Dir(t)
	writeTree(t, dir, map[string]string{"MLA[7]/Medical/r.txt": "r", "MLA[7]/notes.txt": "n"})
	plan, err := MakePlan([]string{filepath.Join(dir, "MLA[7]")}, nil, []category.ID{category.Other})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spooled(t, "", []string{filepath.Join(dir, "MLA[7]")}, nil, []category.ID{category.Other})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		glob    string
		folders bool
		want    string
	}{
		{"MLA[7]/Medical/**", false, "MLA[[]7]/Medical/**"},
		{"Medical/**", false, "MLA[[]7]/Medical/**"},
		{`MLA[[]7]\Medical\r.txt`, false, "MLA[[]7]/Medical/r.txt"},
		{"MLA[[]7]/Medical/** ", false, "MLA[[]7]/Medical/**"},
		{"MLA[[]7]/medical/**", false, "MLA[7]/Medical/r.txt"},
		{"MLA[7]/Medical", true, "MLA[[]7]/Medical"},
		{"MLA[7]/Medical", false, "MLA[[]7]/Medical/**"},
		{"MLA[[]7]/Medical", false, "MLA[[]7]/Medical/**"},
		{"MLA[[]7]/Medical/", false, "MLA[[]7]/Medical/**"},
		// The path to the folder given, as typed, in front.
		{"evidence/MLA[[]7]/Medical/**", false, "MLA[[]7]/Medical/**"},
		{"x/y/MLA[[]7]/Medical", false, "MLA[[]7]/Medical/**"},
		{"evidence/MLA[[]7]/Medical", true, "MLA[[]7]/Medical"},
		{"evidence/Medical/**", false, ""},
		{"intercepts/**/x", false, ""}, // not "**/x": a wildcard is no folder's name
		// A glob starting with a folder given is taken as written, even
		// if its tail would match from another folder (found by review).
		{"MLA[[]7]/x/MLA[[]7]/Medical/**", false, ""},
		{"**/*.tmp", true, ""},
		{"intercepts/**", false, ""},
	} {
		got, why := plan.SuggestGlob(c.glob, c.folders)
		if got != c.want || (got != "") != (why != "") {
			t.Errorf("SuggestGlob(%q, %v) = %q, %q; want %q", c.glob, c.folders, got, why, c.want)
		}
		if s, w := sp.SuggestGlob(c.glob, c.folders); s != got || w != why {
			t.Errorf("SuggestGlob(%q, %v) of the spooled plan = %q, %q; in memory %q, %q", c.glob, c.folders, s, w, got, why)
		}
	}
}

// A default category outside the vocabulary is refused while planning.
func TestPlanRefusesUnknownDefault(t *testing.T) {
	dir := testtmp.Dir(t)
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := MakePlan([]string{dir}, nil, []category.ID{"secret"})
	if !errors.Is(err, ErrInput) || !errors.Is(err, category.ErrUnknown) {
		t.Fatalf("err = %v, want ErrInput and category.ErrUnknown", err)
	}
}

// An input made without MakePlan or NewInput has no file on disk: pack
// says which entry, rather than failing to open "".
func TestPackRefusesAnInputWithoutASource(t *testing.T) {
	f := &manifest.File{Path: "a.txt", Size: 1, Mode: manifest.ModeRegular, Categories: category.MustSet(category.Other)}
	plan := &Plan{TotalSize: 1, Files: []Input{{File: f}}}
	if _, err := plan.takeFileList(); err == nil || !strings.Contains(err.Error(), `plan entry 1 (a.txt) has no file on disk`) {
		t.Fatalf("takeFileList = %v, want an error naming the entry", err)
	}
	plan.Files[0] = NewInput("a.txt", f)
	if _, err := plan.takeFileList(); err != nil {
		t.Fatalf("an input from NewInput: %v", err)
	}
}

// A folder named like dossier's reserved one in another case is refused:
// readers accept it, but a stock "tar -x" on a caseless file system would
// put its files among dossier's own entries (found by an independent
// reading of SPEC §5).
func TestMakePlanRefusesTheReservedFolderInAnyCase(t *testing.T) {
	for _, name := range []string{".dossier", ".DOSSIER", ".Dossier", ".doſſier"} {
		dir := testtmp.Dir(t)
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "preamble.json"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := MakePlan([]string{filepath.Join(dir, name)}, nil, []category.ID{category.Other})
		if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "reserved for dossier's own entries") {
			t.Errorf("a folder %q: %v, want it refused as reserved", name, err)
		}
	}
	for _, stored := range []string{"dossier/a", "x/.dossier/a", ".dossiers/a", ".dossier.txt"} {
		if isReserved(stored) {
			t.Errorf("isReserved(%q) = true", stored)
		}
	}
}

// CheckPreambleSize says before packing what pack finds once it has made
// the preamble: a file list too long for a receiver (found by an audit:
// plan said ready for 700,000 files, and pack refused them after the
// work). The estimate is the list's exact encoding.
func TestPlanCheckPreambleSize(t *testing.T) {
	cats, err := category.SetOf(category.Other)
	if err != nil {
		t.Fatal(err)
	}
	entry := manifest.File{Path: "case/" + strings.Repeat("n", 80) + ".txt", Size: 12345, Mode: manifest.ModeRegular,
		MTime: manifest.TimeOf(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), Categories: cats}
	each := entry.PreambleLen() + 1
	fits := (MaxPreamble - preambleRoom) / each
	plan := &Plan{}
	for range fits {
		plan.Files = append(plan.Files, Input{File: &entry})
	}
	if err := plan.CheckPreambleSize(); err != nil {
		t.Fatalf("%d files of %d bytes each: %v", fits, each, err)
	}
	plan.Files = append(plan.Files, Input{File: &entry})
	err = plan.CheckPreambleSize()
	if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "split the case into several bundles") {
		t.Fatalf("%d files: %v, want the preamble refused", fits+1, err)
	}
	// The length is the encoding's.
	pre := &manifest.Preamble{Files: []manifest.File{entry}}
	one, _ := pre.Marshal()
	pre.Files = nil
	none, _ := pre.Marshal()
	if got := len(one) - len(none) - len(`[]`) + len(`null`); got != entry.PreambleLen() {
		t.Errorf("PreambleLen = %d, the encoding adds %d", entry.PreambleLen(), got)
	}
}
