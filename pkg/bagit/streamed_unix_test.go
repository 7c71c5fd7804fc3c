//go:build unix

package bagit

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Tag files read as streams keep the cap of those held (found by review:
// a payload manifest of gigabytes was parsed whole before it failed).
// The files are sparse, so they cost no disk.
func TestReadStreamedCap(t *testing.T) {
	for _, name := range []string{ManifestName, "kept.json"} {
		dir, _ := makeBag(t, samplePayload, nil, map[string][]byte{"kept.json": []byte("{}\n")})
		if err := os.Truncate(filepath.Join(dir, name), maxTagFile+1); err != nil {
			t.Fatal(err)
		}
		called := false
		_, err := ReadWith(context.Background(), dir, ReadOptions{Streamed: map[string]TagReader{"kept.json": func(*Bag, io.Reader) error { called = true; return nil }}})
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), name+" is larger than") || called {
			t.Fatalf("%s over the cap: %v (reader called: %v)", name, err, called)
		}
	}
}
