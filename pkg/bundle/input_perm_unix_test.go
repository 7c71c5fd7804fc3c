//go:build unix

package bundle

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
)

// A file the user may not read fails pack as a permission error (which the
// command line explains), not as a file "replaced while packing".
func TestPackUnreadableFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any file")
	}
	dir := testtmp.Dir(t)
	writeTree(t, dir, map[string]string{"case/locked.txt": "secret"})
	locked := filepath.Join(dir, "case", "locked.txt")
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(locked, 0o644)
	plan, err := MakePlan([]string{filepath.Join(dir, "case")}, nil, []category.ID{category.Other})
	if err != nil {
		t.Fatal(err)
	}
	p := getParties(t)
	var out bytes.Buffer
	_, err = Pack(context.Background(), &out, plan, PackOptions{Sender: p.alice, Recipients: []*card.Card{p.bob.Card}})
	if !errors.Is(err, ErrInput) || !errors.Is(err, fs.ErrPermission) || strings.Contains(err.Error(), "replaced") {
		t.Fatalf("Pack = %v, want a permission error", err)
	}
}
