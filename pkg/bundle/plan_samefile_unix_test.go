//go:build unix

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

// Found by review: one file given twice (a folder and a file in it) or
// hard-linked was packed twice, under two names and two labels, and the
// copy given by name escaped --exclude and the recipients' policy.
func TestMakePlanRefusesTheSameFileTwice(t *testing.T) {
	dir := testtmp.Dir(t)
	writeTree(t, dir, map[string]string{"case/medical/r.txt": "report", "case/s.txt": "summary"})
	report := filepath.Join(dir, "case", "medical", "r.txt")
	defaults := []category.ID{category.LawEnforcement}

	_, err := MakePlan([]string{filepath.Join(dir, "case"), report}, nil, defaults)
	if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "stored twice, as case/medical/r.txt and as r.txt") {
		t.Errorf("a file given twice: %v", err)
	}
	_, err = MakePlan([]string{filepath.Join(dir, "case"), report}, nil, defaults, "case/medical")
	if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "to be stored as r.txt, is also case/medical/r.txt, which --exclude leaves out") {
		t.Errorf("a file given again after its folder was excluded: %v", err)
	}
	if err := os.Link(filepath.Join(dir, "case", "s.txt"), filepath.Join(dir, "case", "s-link.txt")); err != nil {
		t.Fatal(err)
	}
	_, err = MakePlan([]string{filepath.Join(dir, "case")}, nil, defaults)
	if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "case/s-link.txt and as case/s.txt") {
		t.Errorf("hard links: %v", err)
	}
	// Both excluded is fine.
	if _, err := MakePlan([]string{filepath.Join(dir, "case")}, nil, defaults, "case/s*"); err != nil {
		t.Errorf("hard links both excluded: %v", err)
	}
}
