package bundle

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
)

// Found by review: a file given by name inside a folder also given
// (pack case case/medical/r.txt) was packed twice, under two names and
// two labels, and the copy given by name escaped --exclude and the
// recipients' policy. Hard links, like copies, are packed as found (a
// first fix refused them, and left trees made with cp -al unpackable).
func TestMakePlanRefusesAPathInsideAnother(t *testing.T) {
	dir := testtmp.Dir(t)
	writeTree(t, dir, map[string]string{"case/medical/r.txt": "report", "case/s.txt": "summary"})
	caseDir := filepath.Join(dir, "case")
	report := filepath.Join(caseDir, "medical", "r.txt")
	defaults := []category.ID{category.LawEnforcement}
	for _, paths := range [][]string{
		{caseDir, report},
		{report, caseDir},
		{caseDir, filepath.Join(caseDir, "medical")},
		{caseDir, filepath.Join(caseDir, "medical", "..", "s.txt")},
	} {
		_, err := MakePlan(paths, nil, defaults, "case/medical")
		if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "is inside "+caseDir+", which is packed too") {
			t.Errorf("MakePlan(%q) = %v, want it refused", paths, err)
		}
	}
	// The same folder or file under two names (found by an audit: a link
	// to the folder, with the slash shell completion adds, went in twice
	// and its copy escaped --exclude).
	twice := [][]string{
		{caseDir, caseDir},
		{caseDir, caseDir + "/"},
		{caseDir, filepath.Join(caseDir, ".")},
		{report, filepath.Join(caseDir, "medical", "..", "medical", "r.txt")},
	}
	// (Wine's CreateSymbolicLink reports success and makes nothing.)
	if err := os.Symlink(caseDir, filepath.Join(dir, "link")); err == nil && sameFile(filepath.Join(dir, "link"), caseDir) {
		twice = append(twice, []string{caseDir, filepath.Join(dir, "link") + "/"}, []string{filepath.Join(dir, "link", "."), caseDir})
	}
	for _, paths := range twice {
		_, err := MakePlan(paths, nil, defaults, "case/medical")
		if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "given twice") || !strings.Contains(err.Error(), "give it once") {
			t.Errorf("MakePlan(%q) = %v, want it refused as given twice", paths, err)
		}
	}
	if err := os.Link(filepath.Join(caseDir, "s.txt"), filepath.Join(caseDir, "s-link.txt")); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	plan, err := MakePlan([]string{caseDir}, nil, defaults)
	if err != nil {
		t.Fatalf("a tree with a hard link: %v", err)
	}
	if len(plan.Files) != 3 {
		t.Fatalf("a tree with a hard link: %d files planned, want 3", len(plan.Files))
	}
	// Two hard links given by name are two names, as copies would be
	// (found by review: givenTwice first took them for one file twice).
	plan, err = MakePlan([]string{filepath.Join(caseDir, "s.txt"), filepath.Join(caseDir, "s-link.txt")}, nil, defaults)
	if err != nil || len(plan.Files) != 2 {
		t.Fatalf("two hard links given by name: %v", err)
	}
}

// Two files stored under one name say which files they are on disk (found
// by an audit: the message showed the stored name twice, alike).
func TestMakePlanNamesFilesStoredAlike(t *testing.T) {
	dir := testtmp.Dir(t)
	writeTree(t, dir, map[string]string{"case/caf\u00e9.txt": "nfc", "case/cafe\u0301.txt": "nfd", "a/evidence/x.txt": "a", "b/evidence/x.txt": "b"})
	defaults := []category.ID{category.Other}
	entries, _ := os.ReadDir(filepath.Join(dir, "case"))
	if len(entries) == 2 {
		_, err := MakePlan([]string{filepath.Join(dir, "case")}, nil, defaults)
		if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), `caf\u00e9.txt"`) || !strings.Contains(err.Error(), `cafe\u0301.txt"`) ||
			!strings.Contains(err.Error(), "one name in two Unicode spellings") {
			t.Errorf("NFC and NFD names: %v", err)
		}
	}
	_, err := MakePlan([]string{filepath.Join(dir, "a", "evidence"), filepath.Join(dir, "b", "evidence")}, nil, defaults)
	want := filepath.Join(dir, "a", "evidence", "x.txt") + " and " + filepath.Join(dir, "b", "evidence", "x.txt") + ` would both be stored as "evidence/x.txt"`
	if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), want) {
		t.Errorf("two folders of one name: %v, want it to say %s", err, want)
	}
}

// sameFile reports whether a and b exist and are one file.
func sameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}
