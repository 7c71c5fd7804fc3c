package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/identity"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
	"github.com/dossier-evidence/dossier/pkg/manifest"
)

// rebag rewrites an opened folder's payload manifest and Payload-Oxum
// from what data/ holds, and its tag manifest, as anyone who edits the
// folder can: what is left to catch a change is the signed manifest.
func rebag(t *testing.T, bag string) {
	t.Helper()
	var lines []string
	var total int64
	err := filepath.WalkDir(filepath.Join(bag, "data"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(bag, p)
		sum := sha256.Sum256(data)
		lines = append(lines, hex.EncodeToString(sum[:])+"  "+filepath.ToSlash(rel)+"\n")
		total += int64(len(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(lines)
	if err := os.WriteFile(filepath.Join(bag, "manifest-sha256.txt"), []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	info, err := os.ReadFile(filepath.Join(bag, "bag-info.txt"))
	if err != nil {
		t.Fatal(err)
	}
	info = regexp.MustCompile(`(?m)^Payload-Oxum: .*$`).ReplaceAll(info, fmt.Appendf(nil, "Payload-Oxum: %d.%d", total, len(lines)))
	if err := os.WriteFile(filepath.Join(bag, "bag-info.txt"), info, 0o600); err != nil {
		t.Fatal(err)
	}
	retag(t, bag)
}

// resign replaces an opened folder's kept manifest with edit's change of
// it, signed by signer in format version, and retags the folder.
func resign(t *testing.T, bag string, signer *identity.Identity, version int, edit func(m *manifest.Manifest)) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(bag, BagManifestName))
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	m.Version = version
	edit(m)
	m.TotalSize = 0
	for _, f := range m.Files {
		m.TotalSize += f.Size
	}
	doc, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	sig, err := manifest.SignManifest(signer.Key, version, doc)
	if err != nil {
		t.Fatal(err)
	}
	writeBagFile(t, bag, BagManifestName, string(doc))
	writeBagFile(t, bag, BagManifestSigName, string(sig))
	// bag-info.txt states the categories' totals, as open wrote them.
	info, err := os.ReadFile(filepath.Join(bag, "bag-info.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var totals []string
	for _, c := range manifest.Summary(m.Files) {
		totals = append(totals, fmt.Sprintf("Dossier-Category: %s: %d files, %d bytes", c.Category, c.Files, c.Bytes))
	}
	if len(totals) != 1 {
		t.Fatalf("test premise: %d categories", len(totals))
	}
	info = regexp.MustCompile(`(?m)^Dossier-Category: .*$`).ReplaceAll(info, []byte(totals[0]))
	writeBagFile(t, bag, "bag-info.txt", string(info))
	rebag(t, bag)
}

func writeBagFile(t *testing.T, bag, name, content string) {
	t.Helper()
	full := filepath.Join(bag, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// verify DIR reads the kept manifest as a stream. What differs from the
// folder is reported once the signature holds: a kept manifest edited to
// match an edited folder fails on its signature, whatever was edited; a
// manifest the sender signed that breaks the rules is refused as invalid.
func TestVerifyBagKeptManifest(t *testing.T) {
	dana, err := identity.Generate("Dana", "", nil, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	opened := openedBag(t, dana)
	two := sha256.Sum256([]byte("two"))
	changed := sha256.Sum256([]byte("TWO"))
	tests := []struct {
		name   string
		change func(t *testing.T, bag string)
		want   string // "" for none
	}{
		{"a document and its payload line changed", func(t *testing.T, bag string) {
			writeBagFile(t, bag, "data/case/two.txt", "TWO")
			rebag(t, bag)
		}, `"case/two.txt" does not match the signed manifest (altered)`},
		{"a document and the kept manifest changed, not signed again", func(t *testing.T, bag string) {
			writeBagFile(t, bag, "data/case/two.txt", "TWO")
			name := filepath.Join(bag, BagManifestName)
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			edited := bytes.Replace(data, []byte(hex.EncodeToString(two[:])), []byte(hex.EncodeToString(changed[:])), 1)
			if bytes.Equal(edited, data) {
				t.Fatal("test premise: the hash is not in the kept manifest")
			}
			writeBagFile(t, bag, BagManifestName, string(edited))
			rebag(t, bag)
		}, "signature by"},
		{"a document removed", func(t *testing.T, bag string) {
			os.Remove(filepath.Join(bag, "data", "case", "two.txt"))
			rebag(t, bag)
		}, `"case/two.txt" is in the signed manifest but not in the folder`},
		{"a document added", func(t *testing.T, bag string) {
			writeBagFile(t, bag, "data/case/three.txt", "three")
			rebag(t, bag)
		}, `"case/three.txt" is in the folder but not in the signed manifest`},
		{"a document added, the kept manifest not signed again", func(t *testing.T, bag string) {
			writeBagFile(t, bag, "data/case/three.txt", "three")
			writeBagFile(t, bag, BagManifestName, "{}\n")
			rebag(t, bag)
		}, "the kept manifest is invalid"},
		{"signed again by its sender in format 1", func(t *testing.T, bag string) {
			resign(t, bag, dana, manifest.Version1, func(m *manifest.Manifest) {})
		}, ""},
		{"signed again in format 1, a document changed", func(t *testing.T, bag string) {
			resign(t, bag, dana, manifest.Version1, func(m *manifest.Manifest) {})
			writeBagFile(t, bag, "data/case/two.txt", "TWO")
			rebag(t, bag)
		}, `"case/two.txt" does not match the signed manifest (altered)`},
		{"signed by its sender, listing a document twice", func(t *testing.T, bag string) {
			resign(t, bag, dana, manifest.FormatVersion, func(m *manifest.Manifest) {
				m.Files = append(m.Files, m.Files[len(m.Files)-1])
				m.Files[len(m.Files)-1].Offset++
			})
		}, `the kept manifest is invalid: it lists "case/two.txt" twice`},
		{"signed by its sender, two names that differ in case only", func(t *testing.T, bag string) {
			if caseless(t) {
				t.Skip("the file system ignores case: the folder cannot hold both names")
			}
			writeBagFile(t, bag, "data/case/TWO.txt", "TWO")
			resign(t, bag, dana, manifest.FormatVersion, func(m *manifest.Manifest) {
				f := m.Files[len(m.Files)-1]
				f.Path, f.SHA256, f.Offset = "case/TWO.txt", changed, f.Offset+1000
				m.Files = append(m.Files, f)
			})
		}, "the kept manifest is invalid"},
		{"signed by its sender, a document more", func(t *testing.T, bag string) {
			writeBagFile(t, bag, "data/case/three.txt", "TWO")
			resign(t, bag, dana, manifest.FormatVersion, func(m *manifest.Manifest) {
				f := m.Files[len(m.Files)-1]
				f.Path, f.SHA256, f.Offset = "case/three.txt", changed, f.Offset+1000
				m.Files = append(m.Files, f)
			})
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bag := copyBag(t, opened)
			tt.change(t, bag)
			res, err := verifyBagChecked(t, bag, dana.Card)
			if tt.want == "" {
				if err != nil || res.FileCount != payloadFiles(t, bag) || len(res.Categories) != 1 || res.Categories[0].Files != res.FileCount {
					t.Fatalf("VerifyBag = %+v, %v", res, err)
				}
				return
			}
			if !errors.Is(err, ErrIntegrity) || !strings.Contains(fmt.Sprint(err), tt.want) {
				t.Fatalf("VerifyBag = %v, want an integrity failure saying %q", err, tt.want)
			}
		})
	}
}

// caseless reports whether the test's temporary file system ignores case.
func caseless(t *testing.T) bool {
	dir := testtmp.Dir(t)
	writeBagFile(t, dir, "a", "")
	_, err := os.Stat(filepath.Join(dir, "A"))
	return err == nil
}
