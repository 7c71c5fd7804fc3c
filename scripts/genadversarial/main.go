// Command genadversarial writes dossier's frozen adversarial corpus: bundles
// that are validly signed by the test sender (or deliberately not) but
// hostile in one way each, with the outcome every reader must give, listed
// in cases.txt. pkg/bundle's TestAdversarial opens each one.
//
// The sections up to format2 are bundle format 1 (the manifest signature
// covers the manifest's bytes). format2 holds the format-2 cases
// (v2-*.dossier: the manifest signature covers the manifest's SHA-512),
// among them the manifest cases again in format 2, and bundles that mix
// the two formats' versions and signature forms. The format3-* sections
// (v3-*.dossier) are the format-1 sections made again in format 3 (the
// preamble signature covers the preamble's SHA-512 too), and format3 its
// own cases.
//
//	rm -r testdata/adversarial && go run ./scripts/genadversarial -out testdata/adversarial
//
// rewrites every bundle (see below). To add cases, generate into a
// temporary folder instead and copy only the new bundles and cases.txt:
//
//	go run ./scripts/genadversarial -out /tmp/adv && cp /tmp/adv/cases.txt /tmp/adv/NEW-*.dossier testdata/adversarial
//
// The clock is fixed and the keys are the frozen test keys of
// testdata/vectors (alice sends, bob receives, carol is a third party,
// mallory the attacker), so cards and bundle ids are stable. age encryption
// and ML-DSA signatures are randomised, so the bytes differ from one run to
// the next while every case keeps its meaning and its expected outcome.
//
// The generator writes the three layers itself (the age header with a file
// key it knows, zstd frames, tar header blocks) because the package's own
// writers refuse to produce most of these bundles.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dossier-evidence/dossier/pkg/identity"
	"github.com/dossier-evidence/dossier/pkg/manifest"
)

type gen struct {
	alice, bob, carol, mallory *identity.Identity
	now                        time.Time
	out                        string
	cases                      strings.Builder
	names                      map[string]bool
	count                      int
	groups                     []string
	groupCount                 map[string]int
	group                      string
	bytes                      int64
	chunked                    []byte // ok-chunked, the base of the truncation cases
	// version is the format newBundle makes, and prefix what add puts
	// before a case's name and section's: format 1 and none, but while
	// the format-1 sections are made again in format 3.
	version int
	prefix  string
	// expect3 replaces, in format 3, the expectations of the cases it
	// names (without the prefix).
	expect3 map[string][]string
}

func main() {
	out := flag.String("out", "testdata/adversarial", "output folder (must not exist)")
	keys := flag.String("keys", "testdata/vectors", "folder holding alice, bob, carol and mallory's .id files")
	flag.Parse()
	g := &gen{
		now:        time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC),
		out:        *out,
		names:      map[string]bool{},
		groupCount: map[string]int{},
		version:    manifest.Version1,
	}
	load := func(name string) *identity.Identity {
		data, err := os.ReadFile(filepath.Join(*keys, name+".id"))
		check(err)
		id, err := identity.Parse(data, nil)
		check(err)
		return id
	}
	g.alice, g.bob, g.carol, g.mallory = load("alice"), load("bob"), load("carol"), load("mallory")
	if err := os.Mkdir(*out, 0o755); err != nil {
		log.Fatalf("genadversarial: %v (remove the old corpus first, deliberately)", err)
	}
	g.cases.WriteString(header)
	g.all()
	check(os.WriteFile(filepath.Join(*out, "cases.txt"), []byte(g.cases.String()), 0o644))
	fmt.Printf("wrote %d bundles, %d cases, %d bytes to %s\n", len(g.names), g.count, g.bytes, *out)
	for _, gr := range g.groups {
		fmt.Printf("  %-10s %3d cases\n", gr, g.groupCount[gr])
	}
}

const header = `# Adversarial corpus for bundle formats 1 to 3 (issue 5): BUNDLE IDENTITY SENDER EXPECT
#
# The sections up to format2 are format 1 (the manifest signature covers
# the manifest's bytes); format2 is format 2 (v2-*: the signature covers
# the manifest's SHA-512) and bundles mixing the two formats; the
# format3-* sections (v3-*) are the format-1 sections made again in
# format 3 (the preamble's signature covers its SHA-512 too, and a reader
# holds no file list), and format3 its own cases.
#
# IDENTITY and SENDER name the frozen test keys in testdata/vectors
# (alice sends, bob receives, carol is a third party, mallory the attacker):
# the bundle is opened with IDENTITY.id and --from SENDER.card.
# EXPECT is ok, integrity (exit 3), wrong-sender (exit 3), not-addressed
# (exit 3) or no-identity (exit 4). Text after '#' on a line is a comment.
#
# Made by scripts/genadversarial with a fixed clock; regenerate with
#   rm -r testdata/adversarial && go run ./scripts/genadversarial -out testdata/adversarial
# (encryption and ML-DSA signatures are randomised: the bytes change, the
# meaning and the expected outcome of every case do not; to add cases,
# generate into a temporary folder and copy only the new bundles and this
# file). Run with
#   go test ./pkg/bundle -run 'TestAdversarial'
`

// section starts a group of cases.
func (g *gen) section(name, desc string) {
	if g.prefix != "" {
		name, desc = "format3-"+name, "in format 3: "+desc
	}
	g.group = name
	g.groups = append(g.groups, name)
	fmt.Fprintf(&g.cases, "\n## %s: %s\n", name, desc)
}

// add builds b, writes it as NAME.dossier and lists its checks
// ("IDENTITY SENDER EXPECT").
func (g *gen) add(name, desc string, b *bundle, checks ...string) {
	g.addBytes(name, desc, b.build(), checks...)
}

func (g *gen) addBytes(name, desc string, data []byte, checks ...string) {
	if g.prefix != "" {
		if c, ok := g.expect3[name]; ok {
			checks = c
		}
		name = g.prefix + name
	}
	file := name + ".dossier"
	if g.names[file] {
		log.Fatalf("duplicate case %s", name)
	}
	g.names[file] = true
	check(os.WriteFile(filepath.Join(g.out, file), data, 0o644))
	g.bytes += int64(len(data))
	for i, c := range checks {
		f := strings.Fields(c)
		if len(f) != 3 {
			log.Fatalf("bad check %q", c)
		}
		line := fmt.Sprintf("%-44s %-7s %-7s %-13s", file, f[0], f[1], f[2])
		if i == 0 {
			line += " # " + desc
		}
		g.cases.WriteString(strings.TrimRight(line, " ") + "\n")
		g.count++
		g.groupCount[g.group]++
	}
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
