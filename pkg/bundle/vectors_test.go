package bundle

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/identity"
	"github.com/dossier-evidence/dossier/pkg/manifest"
)

const vectorDir = "../../testdata/vectors"

// TestVectors runs the frozen vectors of every format with their expected
// outcome, so that a change that stops reading old bundles (or starts
// accepting bad ones) is caught.
func TestVectors(t *testing.T) {
	f, err := os.Open(filepath.Join(vectorDir, "vectors.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 4 {
			t.Fatalf("bad vectors.txt line %q", line)
		}
		n++
		name, who, from, expect := fields[0], fields[1], fields[2], fields[3]
		t.Run(name+"/"+who+"/"+from, func(t *testing.T) {
			data := readVector(t, name)
			id := vectorIdentity(t, who)
			sender := vectorCard(t, from)
			out := filepath.Join(testtmp.Dir(t), "out")
			res, err := Open(context.Background(), bytes.NewReader(data), out, ReadOptions{Identity: id, Sender: sender})
			var want error
			switch expect {
			case "ok":
			case "integrity":
				want = ErrIntegrity
			case "wrong-sender":
				want = ErrWrongSender
			case "not-addressed":
				want = ErrNotAddressed
			case "no-identity":
				want = ErrNoIdentity
			default:
				t.Fatalf("unknown expectation %q", expect)
			}
			if want == nil {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				format := manifest.Version1
				if strings.HasPrefix(name, "v2-") {
					format = manifest.Version2
				} else if strings.HasPrefix(name, "v3-") {
					format = manifest.Version3
				}
				if res.Preamble.Version != format || res.Manifest.Version != format {
					t.Fatalf("opened as format %d (manifest %d), want %d", res.Preamble.Version, res.Manifest.Version, format)
				}
				if _, err := verifyBagChecked(t, out, sender); err != nil {
					t.Fatalf("opened vector does not re-verify: %v", err)
				}
				return
			}
			if !errors.Is(err, want) {
				t.Fatalf("got %v, want %v", err, want)
			}
			assertNothingAt(t, out)
		})
	}
	if n == 0 {
		t.Fatal("vectors.txt lists no vectors")
	}
}

func readVector(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(vectorDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func vectorIdentity(t *testing.T, name string) *identity.Identity {
	t.Helper()
	id, err := identity.Parse(readVector(t, name+".id"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func vectorCard(t *testing.T, name string) *card.Card {
	t.Helper()
	c, err := card.Parse(readVector(t, name+".card"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
