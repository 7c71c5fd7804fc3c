// Command genvectors writes dossier's frozen test vectors: test keys and
// bundles with their expected outcome, listed in vectors.txt. Encryption is
// randomised, so vectors are generated once and committed, and kept when
// the format version changes: readers must go on reading old bundles. The
// first set (format 1) was made with
//
//	go run ./scripts/genvectors -out testdata/vectors
//
// and the bundles of a new format version with the same keys, beside the
// old ones, with
//
//	go run ./scripts/genvectors -keys testdata/vectors -prefix v2- -out testdata/vectors
//
// (then list them in vectors.txt); format 3's with -prefix v3-.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"time"

	"filippo.io/age"

	"github.com/dossier-evidence/dossier/pkg/bundle"
	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/identity"
	"github.com/dossier-evidence/dossier/pkg/manifest"
)

var now = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

func main() {
	out := flag.String("out", "testdata/vectors", "output folder (must not exist, unless -keys is given)")
	keyDir := flag.String("keys", "", "folder holding the test keys to use (default: make new ones in -out)")
	prefix := flag.String("prefix", "", "prefix for the bundles' file names")
	flag.Parse()
	keys := map[string]*identity.Identity{}
	if *keyDir == "" {
		if err := os.Mkdir(*out, 0o755); err != nil {
			log.Fatalf("genvectors: %v (remove the old vectors first, deliberately)", err)
		}
	}
	for _, name := range []string{"alice", "bob", "carol", "mallory"} {
		if *keyDir != "" {
			data, err := os.ReadFile(filepath.Join(*keyDir, name+".id"))
			check(err)
			id, err := identity.Parse(data, nil)
			check(err)
			keys[name] = id
			continue
		}
		id, err := identity.Generate(name, "Test Authority "+name, nil, now)
		check(err)
		check(id.Save(filepath.Join(*out, name+".id"), filepath.Join(*out, name+".card"), ""))
		keys[name] = id
	}
	write := func(name string, data []byte) { writeNew(*out, *prefix+name, data) }

	src, err := os.MkdirTemp("", "genvectors-")
	check(err)
	defer os.RemoveAll(src)
	files := map[string]string{
		"case/interviews/witness.txt": "Witness statement of J. Doe (test vector).\n",
		"case/medical/report.txt":     "Forensic medical report (test vector).\n",
		"case/ledger.csv":             "date,amount\n2026-07-03,120000.00\n",
		"case/empty.txt":              "",
	}
	for name, content := range files {
		p := filepath.Join(src, filepath.FromSlash(name))
		check(os.MkdirAll(filepath.Dir(p), 0o755))
		check(os.WriteFile(p, []byte(content), 0o644))
		check(os.Chtimes(p, now, now))
	}
	plan, err := bundle.MakePlan([]string{filepath.Join(src, "case")}, category.Rules{
		{Category: category.Personal, Glob: "case/interviews/**"},
		{Category: category.SpecialCategory, Glob: "case/medical/**"},
	}, []category.ID{category.LawEnforcement})
	check(err)
	var buf bytes.Buffer
	_, err = bundle.Pack(context.Background(), &buf, plan, bundle.PackOptions{
		Sender:     keys["alice"],
		Recipients: []*card.Card{keys["bob"].Card},
		Case:       manifest.Case{Reference: "VECTOR-1", Purpose: "test vectors", LegalBasis: "none"},
		Now:        func() time.Time { return now },
	})
	check(err)
	valid := buf.Bytes()
	write("valid.dossier", valid)

	plain := decrypt(valid, keys["bob"])
	write("reencrypted-to-carol.dossier", encrypt(plain, keys["carol"].Card))
	write("reencrypted-to-bob.dossier", encrypt(plain, keys["bob"].Card))

	flipped := append([]byte(nil), valid...)
	flipped[len(flipped)/2] ^= 0x40
	write("flipped-middle.dossier", flipped)
	write("truncated.dossier", valid[:len(valid)-100])
	write("trailing.dossier", append(append([]byte(nil), valid...), []byte("trailing data")...))
}

func decrypt(data []byte, id *identity.Identity) []byte {
	r, err := age.Decrypt(bytes.NewReader(data), id.Age)
	check(err)
	b, err := io.ReadAll(r)
	check(err)
	return b
}

func encrypt(plain []byte, c *card.Card) []byte {
	r, err := c.Recipient()
	check(err)
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	check(err)
	_, err = w.Write(plain)
	check(err)
	check(w.Close())
	return buf.Bytes()
}

// writeNew writes a new file; it never replaces a frozen vector.
func writeNew(dir, name string, data []byte) {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	check(err)
	_, err = f.Write(data)
	check(err)
	check(f.Close())
	fmt.Println("wrote", filepath.Join(dir, name))
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
