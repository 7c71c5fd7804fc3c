package bundle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
)

func planPaths(in []Input) []string {
	var out []string
	for _, f := range in {
		out = append(out, f.File.Path)
	}
	return out
}

func TestMakePlanExclude(t *testing.T) {
	dir := testtmp.Dir(t)
	for name, content := range map[string]string{
		"case/a.txt":             "a",
		"case/notes.tmp":         "tmp!",
		"case/medical/r.txt":     "medical",
		"case/medical/deep/x.md": "x",
		"case/keep/b.tmp":        "b",
		"loose.tmp":              "loose",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// An excluded symbolic link is left out rather than refused.
	testtmp.Symlink(t, "a.txt", filepath.Join(dir, "case", "link.tmp"))
	paths := []string{filepath.Join(dir, "case"), filepath.Join(dir, "loose.tmp")}
	plan, err := MakePlan(paths, nil, []category.ID{category.Other}, "**/*.tmp", "case/medical")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := planPaths(plan.Files), []string{"case/a.txt"}; !slices.Equal(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	got := planPaths(plan.Excluded)
	slices.Sort(got)
	want := []string{"case/keep/b.tmp", "case/link.tmp", "case/medical/deep/x.md", "case/medical/r.txt", "case/notes.tmp", "loose.tmp"}
	if !slices.Equal(got, want) {
		t.Fatalf("excluded %v, want %v", got, want)
	}
	if plan.TotalSize != 1 {
		t.Fatalf("TotalSize %d counts excluded files", plan.TotalSize)
	}
	for _, e := range plan.Excluded {
		if e.File.Path == "case/medical/r.txt" && e.File.Size != 7 {
			t.Fatalf("excluded size %d", e.File.Size)
		}
	}

	// Excluding the top-level folder leaves nothing.
	plan, err = MakePlan(paths[:1], nil, []category.ID{category.Other}, "case")
	if err != nil || len(plan.Files) != 0 || len(plan.Excluded) != 6 {
		t.Fatalf("excluding the folder: %v files, %v excluded, %v", planPaths(plan.Files), planPaths(plan.Excluded), err)
	}

	// A malformed glob is an error.
	if _, err := MakePlan(paths, nil, []category.ID{category.Other}, "case/["); !errors.Is(err, category.ErrBadPattern) {
		t.Fatalf("malformed exclude glob: %v", err)
	}
}

// Unlabelled files come back in the plan along with the error, for dry runs.
func TestMakePlanUnlabelledReturnsPlan(t *testing.T) {
	dir := testtmp.Dir(t)
	os.MkdirAll(filepath.Join(dir, "case", "i"), 0o755)
	os.WriteFile(filepath.Join(dir, "case", "i", "w.txt"), []byte("w"), 0o644)
	os.WriteFile(filepath.Join(dir, "case", "ledger.csv"), []byte("l"), 0o644)
	rule, _ := category.ParseRule("personal=case/i/**")
	plan, err := MakePlan([]string{filepath.Join(dir, "case")}, category.Rules{rule}, nil)
	var ue *UnlabelledError
	if !errors.As(err, &ue) || plan == nil {
		t.Fatalf("plan %v, err %v", plan, err)
	}
	if !slices.Equal(plan.Unlabelled, []string{"case/ledger.csv"}) || len(plan.Files) != 2 {
		t.Fatalf("unlabelled %v, files %v", plan.Unlabelled, planPaths(plan.Files))
	}
}

// A plan's lists are made at the size countFiles gives: the files given
// and those below the folders given, less those excluded. Where files it
// counted are gone when the folder is read, the lists are cut down.
func TestPlanListsAreCounted(t *testing.T) {
	dir := testtmp.Dir(t)
	files := map[string]string{"case/notes.txt": "n"}
	for i := range 3 {
		files[fmt.Sprintf("case/keep/%d.txt", i)] = "k"
	}
	for i := range 50 {
		files[fmt.Sprintf("case/drafts/%d.txt", i)] = "d"
		files[fmt.Sprintf("case/keep/%d.tmp", i)] = "t"
	}
	writeTree(t, dir, files)
	folder, notes := filepath.Join(dir, "case"), filepath.Join(dir, "case", "notes.txt")
	for _, tt := range []struct {
		paths   []string
		exclude []string
		want    int
	}{
		{[]string{folder, notes}, nil, 105},
		{[]string{folder, notes}, []string{"case/drafts"}, 55},
		{[]string{folder, notes}, []string{"case/drafts", "**/*.tmp"}, 5},
		{[]string{folder, notes}, []string{"notes.txt", "**/*.tmp"}, 54},
		{[]string{folder, notes}, []string{"case"}, 1},
		// What MakePlan refuses ends the count, so its error comes at once.
		{[]string{filepath.Join(dir, "missing"), folder}, nil, 0},
		{[]string{notes, filepath.Join(dir, "missing"), folder}, nil, 1},
	} {
		excluded := func(stored string) bool { return matchAny(tt.exclude, stored, nil) }
		if got := countFiles(context.Background(), tt.paths, excluded); got != tt.want {
			t.Errorf("countFiles(%d paths, exclude %q) = %d, want %d", len(tt.paths), tt.exclude, got, tt.want)
		}
	}
	for _, tt := range []struct {
		exclude []string
		want    int
	}{
		{nil, 104},
		{[]string{"case/drafts"}, 54},
		{[]string{"case/drafts", "**/*.tmp"}, 4},
	} {
		plan, err := MakePlan([]string{folder}, nil, []category.ID{category.Other}, tt.exclude...)
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.Files) != tt.want || cap(plan.Files) != tt.want || cap(plan.own.files) != tt.want {
			t.Errorf("exclude %q: %d files in lists of %d and %d, want %d in lists of their size", tt.exclude, len(plan.Files), cap(plan.Files), cap(plan.own.files), tt.want)
		}
	}
	// 104 counted, 50 of them gone before their folder is listed.
	beforeReadDir = func(name string) {
		if name == "keep" {
			for i := range 50 {
				os.Remove(filepath.Join(folder, "keep", fmt.Sprintf("%d.tmp", i)))
			}
		}
	}
	defer func() { beforeReadDir = nil }()
	plan, err := MakePlan([]string{folder}, nil, []category.ID{category.Other})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Files) != 54 || cap(plan.Files) != 54 || cap(plan.own.files) != 54 {
		t.Errorf("after deletions: %d files in lists of %d and %d, want 54 in lists of their size", len(plan.Files), cap(plan.Files), cap(plan.own.files))
	}
	for i := range plan.Files {
		if plan.Files[i].File != &plan.own.files[i] {
			t.Fatalf("file %d does not point into the plan's list", i)
		}
	}
}
