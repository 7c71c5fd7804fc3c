package removeall

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRemoveAll(t *testing.T) {
	base, err := os.MkdirTemp("", "removeall-test-*")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	tree := filepath.Join(base, "tree")
	for _, p := range []string{"a/b/c", "a/d", "e"} {
		if err := os.MkdirAll(filepath.Join(tree, filepath.FromSlash(p)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tree, filepath.FromSlash(p), "f.txt"), []byte(p), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := RemoveAll(tree); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(tree); !os.IsNotExist(err) {
		t.Fatalf("the tree is still there: %v", err)
	}
	if err := RemoveAll(tree); err != nil {
		t.Fatalf("removing what is gone: %v", err)
	}
	if _, err := os.Lstat(base); err != nil {
		t.Fatalf("the parent was touched: %v", err)
	}
}
