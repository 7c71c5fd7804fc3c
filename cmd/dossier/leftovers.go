package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/dossier-evidence/dossier/pkg/seal"
)

// tempMarker is in the name of every temporary dossier writes before
// publishing: ".NAME.dossier-tmp-RANDOM" beside NAME. It is
// pkg/internal/atomicfile's TempMarker, which this package may not import.
const tempMarker = ".dossier-tmp-"

// leftovers lists the temporaries in final's folder whose target name (the
// NAME in .NAME.dossier-tmp-RANDOM) is accepted by match, given final's
// base name.
func leftovers(final string, match func(target, base string) bool) []string {
	dir, base := filepath.Split(filepath.Clean(final))
	if dir == "" {
		dir = "."
	}
	entries, _ := os.ReadDir(dir)
	var found []string
	for _, e := range entries {
		name := e.Name()
		i := strings.LastIndex(name, tempMarker)
		if i < 1 || name[0] != '.' {
			continue
		}
		if match(name[1:i], base) {
			found = append(found, filepath.Join(dir, name))
		}
	}
	return found
}

// reportLeftovers tells the user about temporaries that an earlier run,
// killed before it could clean up (SIGKILL, power loss), left for any of
// the given final names. They are reported, never removed: they might
// belong to another run that is still writing them.
func (g *globalOptions) reportLeftovers(finals ...string) {
	var found []string
	seen := map[string]bool{}
	for _, f := range finals {
		for _, p := range leftovers(f, func(target, base string) bool { return target == base }) {
			if !seen[p] {
				seen[p] = true
				found = append(found, p)
			}
		}
	}
	g.warnLeftovers(found)
}

// volumeRe matches the names of a split bundle's volumes and their seals:
// OUT.001, OUT.001.minisig, … (group 1 is OUT).
var volumeRe = regexp.MustCompile(`^(.*)\.[0-9]{3,}(` + regexp.QuoteMeta(seal.Ext) + `)?$`)

// reportPackLeftovers reports the temporaries left for the bundle out, its
// seal, and its volumes and their seals.
func (g *globalOptions) reportPackLeftovers(out string) {
	g.warnLeftovers(leftovers(out, func(target, base string) bool {
		if target == base || target == base+seal.Ext {
			return true
		}
		m := volumeRe.FindStringSubmatch(target)
		return m != nil && m[1] == base
	}))
}

func (g *globalOptions) warnLeftovers(found []string) {
	if len(found) == 0 || g.Quiet {
		return
	}
	fmt.Fprintf(g.stderr, "dossier: warning: found %d temporary file(s) left by an interrupted run: %s; they are not complete, remove them (unless another dossier command is still writing them)\n",
		len(found), oneLine(strings.Join(found, ", ")))
}
