package bundle

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/identity"
	"github.com/dossier-evidence/dossier/pkg/internal/multiset"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
	"github.com/dossier-evidence/dossier/pkg/manifest"
)

// openedBag packs a small case from sender (a card without an org, a
// bundle without case metadata: labels open leaves out) and opens it,
// returning the opened folder.
func openedBag(t *testing.T, sender *identity.Identity) string {
	t.Helper()
	return openedBagOf(t, sender, map[string]string{"case/a/one.txt": "one", "case/two.txt": "two"})
}

// openedBagOf is openedBag of files.
func openedBagOf(t *testing.T, sender *identity.Identity, files map[string]string) string {
	t.Helper()
	p := getParties(t)
	dir := testtmp.Dir(t)
	writeTree(t, dir, files)
	plan, err := MakePlan([]string{filepath.Join(dir, "case")}, nil, []category.ID{category.Other})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := Pack(context.Background(), &buf, plan, PackOptions{Sender: sender, Recipients: []*card.Card{p.bob.Card}, Now: func() time.Time { return fixedNow }}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(testtmp.Dir(t), "opened")
	if _, err := Open(context.Background(), bytes.NewReader(buf.Bytes()), out, ReadOptions{Identity: p.bob, Sender: sender.Card}); err != nil {
		t.Fatal(err)
	}
	if _, err := verifyBagChecked(t, out, sender.Card); err != nil {
		t.Fatalf("the bag as opened: %v", err)
	}
	return out
}

// retag rewrites bag's tag manifest over every top-level file, as anyone
// who edits an opened folder can.
func retag(t *testing.T, bag string) {
	t.Helper()
	entries, err := os.ReadDir(bag)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range entries {
		if e.IsDir() || e.Name() == "tagmanifest-sha256.txt" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(bag, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		lines = append(lines, hex.EncodeToString(sum[:])+"  "+e.Name()+"\n")
	}
	slices.Sort(lines)
	if err := os.WriteFile(filepath.Join(bag, "tagmanifest-sha256.txt"), []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
}

// copyBag copies the opened folder src to a new folder.
func copyBag(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(testtmp.Dir(t), "copy")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func appendToFile(t *testing.T, name, text string) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// Found by review: verify DIR passed a bag with case metadata the sender
// never signed, extra files beside data/ and empty folders in it, as long
// as the tag manifest was rewritten to match.
func TestVerifyBagRefusesWhatOpenDidNotWrite(t *testing.T) {
	dana, err := identity.Generate("Dana", "", nil, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	opened := openedBag(t, dana)
	reissued, err := card.New(dana.Card.Name, "Ministry of Truth", nil, fixedNow, mustRecipient(t, dana.Card), dana.Key)
	if err != nil {
		t.Fatal(err)
	}
	reissuedBytes, err := reissued.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(bag string)
		want   string
	}{
		{"a label open left out", func(bag string) {
			appendToFile(t, filepath.Join(bag, "bag-info.txt"), "Source-Organization: Ministry of Truth\n")
		}, "Source-Organization was added"},
		{"a case reference the bundle has none of", func(bag string) {
			appendToFile(t, filepath.Join(bag, "bag-info.txt"), "Internal-Sender-Identifier: MLA-2026-999\n")
		}, "Internal-Sender-Identifier was added"},
		{"a signed label in another case", func(bag string) {
			appendToFile(t, filepath.Join(bag, "bag-info.txt"), "dossier-purpose: Surveillance\n")
		}, "dossier-purpose was added"},
		{"a label of a registry's", func(bag string) {
			appendToFile(t, filepath.Join(bag, "bag-info.txt"), "External-Description: the confession\n")
		}, "External-Description was added"},
		{"a signed label removed from the middle", func(bag string) {
			name := filepath.Join(bag, "bag-info.txt")
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var kept []string
			for _, line := range strings.SplitAfter(string(data), "\n") {
				if !strings.HasPrefix(line, "Dossier-Created:") {
					kept = append(kept, line)
				}
			}
			if err := os.WriteFile(name, []byte(strings.Join(kept, "")), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "Dossier-Created was removed"},
		{"a second Payload-Oxum", func(bag string) {
			appendToFile(t, filepath.Join(bag, "bag-info.txt"), "Payload-Oxum: 999.9\n")
		}, "not one of each"},
		{"a card of the same keys with another org", func(bag string) {
			if err := os.WriteFile(filepath.Join(bag, BagSenderCardName), reissuedBytes, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "is not the sender's card"},
		{"a file beside data/", func(bag string) {
			if err := os.WriteFile(filepath.Join(bag, "NOTE-verified.txt"), []byte("all fine\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "NOTE-verified.txt is not a file that open writes"},
		{"an empty folder in data/", func(bag string) {
			if err := os.MkdirAll(filepath.Join(bag, "data", "case", "hidden", "empty"), 0o700); err != nil {
				t.Fatal(err)
			}
		}, "data/case/hidden holds no signed document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bag := copyBag(t, opened)
			tt.change(bag)
			retag(t, bag)
			_, err := verifyBagChecked(t, bag, dana.Card)
			if !errors.Is(err, ErrIntegrity) || !strings.Contains(fmt.Sprint(err), tt.want) {
				t.Fatalf("VerifyBag = %v, want an integrity failure saying %q", err, tt.want)
			}
		})
	}
	// Retagging alone changes nothing that matters.
	bag := copyBag(t, opened)
	retag(t, bag)
	if _, err := verifyBagChecked(t, bag, dana.Card); err != nil {
		t.Fatalf("a retagged, unchanged bag: %v", err)
	}
}

// verifyBagChecked is VerifyBag, and checks that the read holding no
// list (which VerifyBag tries first, reading again to explain a failure)
// passes and fails with it: a failure it missed would otherwise be
// found, and one it made up hidden, by the second read.
func verifyBagChecked(t testing.TB, dir string, sender *card.Card) (*BagResult, error) {
	t.Helper()
	res, err := VerifyBag(context.Background(), dir, sender, nil)
	key, kerr := sender.SigningKey()
	if kerr != nil {
		t.Fatal(kerr)
	}
	_, fast := verifyBag(context.Background(), dir, sender, key, nil, &payloadSum{x: multiset.NewHasher()})
	if (fast == nil) != (err == nil) || errors.Is(fast, ErrIntegrity) != errors.Is(err, ErrIntegrity) {
		t.Fatalf("VerifyBag: %v; the read holding no list: %v", err, fast)
	}
	return res, err
}

func mustRecipient(t *testing.T, c *card.Card) *age.HybridRecipient {
	t.Helper()
	r, err := c.Recipient()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Case metadata with blanks around a value (signed as sent) opens into a
// bag that verifies: bag-info.txt reads back without them (found by an
// audit: every such bag failed as altered).
func TestVerifyBagValuesWithBlanksAround(t *testing.T) {
	p := getParties(t)
	plan, _ := planOne(t, "a", category.Other)
	var buf bytes.Buffer
	mcase := manifest.Case{Reference: "MLA-2026-001 ", Purpose: "\u00a0Asset recovery", Restrictions: []string{" no onward transfer "}}
	if _, err := Pack(context.Background(), &buf, plan, PackOptions{Sender: p.alice, Recipients: []*card.Card{p.bob.Card}, Case: mcase, Now: func() time.Time { return fixedNow }}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(testtmp.Dir(t), "opened")
	if _, err := Open(context.Background(), bytes.NewReader(buf.Bytes()), out, ReadOptions{Identity: p.bob, Sender: p.alice.Card}); err != nil {
		t.Fatal(err)
	}
	if _, err := verifyBagChecked(t, out, p.alice.Card); err != nil {
		t.Fatalf("the bag as opened: %v", err)
	}
}

// VerifyBag reads a folder a second time only to say what is wrong: not
// for one signed by another sender than the card given, nor once
// cancelled; and a folder that fails the first read and passes the
// second changed between them, and is refused as such (found by review:
// the second read's pass was taken).
func TestVerifyBagSecondRead(t *testing.T) {
	p := getParties(t)
	// Files of a few MiB, so that each read tells progress as it goes.
	opened := openedBagOf(t, p.alice, map[string]string{"case/a/one.bin": strings.Repeat("1", 3<<20), "case/two.bin": strings.Repeat("2", 3<<20)})
	// reads counts the reads of the payload: the bytes hashed go back
	// when a second begins.
	reads := func(dir string, sender *card.Card, at func(done, total int64)) (int, error) {
		n, last := 0, int64(-1)
		_, err := VerifyBag(context.Background(), dir, sender, func(done, total int64) {
			if done < last || last < 0 {
				n++
			}
			last = done
			if at != nil {
				at(done, total)
			}
		})
		return n, err
	}
	if n, err := reads(opened, p.alice.Card, nil); err != nil || n != 1 {
		t.Fatalf("a sound folder: %d reads, %v", n, err)
	}
	if n, err := reads(opened, p.mallory.Card, nil); !errors.Is(err, ErrWrongSender) || n != 1 {
		t.Fatalf("another sender: %d reads, %v", n, err)
	}
	added := copyBag(t, opened)
	extra := filepath.Join(added, "data", "case", "b-extra.txt") // met before two.bin
	if err := os.WriteFile(extra, []byte("added"), 0o600); err != nil {
		t.Fatal(err)
	}
	if n, err := reads(added, p.alice.Card, nil); !errors.Is(err, ErrIntegrity) || !strings.Contains(err.Error(), "b-extra.txt") || n != 2 {
		t.Fatalf("a file added: %d reads, %v", n, err)
	}
	// The file is taken away once the first read has hashed the payload:
	// the second finds the folder as opened.
	removed := false
	n, err := reads(added, p.alice.Card, func(done, total int64) {
		if done == total && !removed {
			removed = true
			if err := os.Remove(extra); err != nil {
				t.Error(err)
			}
		}
	})
	if !removed || !errors.Is(err, ErrIntegrity) || !strings.Contains(err.Error(), "changed while it was verified") || n != 2 {
		t.Fatalf("a folder changed between the reads: %d reads, %v", n, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := VerifyBag(ctx, opened, p.alice.Card, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
