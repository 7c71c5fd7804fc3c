// Command genvectors writes dossier's frozen test vectors: test keys and
// bundles with their expected outcome, listed in vectors.txt. Encryption is
// randomised, so vectors are generated once and committed; regenerate them
// only when the format version changes.
//
//	go run ./scripts/genvectors -out testdata/vectors
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
	out := flag.String("out", "testdata/vectors", "output folder (must not exist)")
	flag.Parse()
	if err := os.Mkdir(*out, 0o755); err != nil {
		log.Fatalf("genvectors: %v (remove the old vectors first, deliberately)", err)
	}
	keys := map[string]*identity.Identity{}
	for _, name := range []string{"alice", "bob", "carol", "mallory"} {
		id, err := identity.Generate(name, "Test Authority "+name, nil, now)
		check(err)
		check(id.Save(filepath.Join(*out, name+".id"), filepath.Join(*out, name+".card"), ""))
		keys[name] = id
	}

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
	write(*out, "valid.dossier", valid)

	plain := decrypt(valid, keys["bob"])
	write(*out, "reencrypted-to-carol.dossier", encrypt(plain, keys["carol"].Card))
	write(*out, "reencrypted-to-bob.dossier", encrypt(plain, keys["bob"].Card))

	flipped := append([]byte(nil), valid...)
	flipped[len(flipped)/2] ^= 0x40
	write(*out, "flipped-middle.dossier", flipped)
	write(*out, "truncated.dossier", valid[:len(valid)-100])
	write(*out, "trailing.dossier", append(append([]byte(nil), valid...), []byte("trailing data")...))
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

func write(dir, name string, data []byte) {
	check(os.WriteFile(filepath.Join(dir, name), data, 0o644))
	fmt.Println("wrote", filepath.Join(dir, name))
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
