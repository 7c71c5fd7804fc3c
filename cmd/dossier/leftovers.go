package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dossier-evidence/dossier/pkg/bundle"
)

// reportLeftovers tells the user about temporaries that an earlier run,
// killed before it could clean up (SIGKILL, power loss), left for any of
// the given final names. They are reported, never removed: they might
// belong to another run that is still writing them.
func (g *globalOptions) reportLeftovers(finals ...string) {
	g.warnLeftovers(bundle.Leftovers(finals...))
}

// reportPackLeftovers reports the temporaries left for the bundle out, its
// seal, and its volumes and their seals.
func (g *globalOptions) reportPackLeftovers(out string) {
	g.warnLeftovers(bundle.PackLeftovers(out))
}

func (g *globalOptions) warnLeftovers(found []string) {
	if len(found) == 0 || g.Quiet {
		return
	}
	var temps []string
	for _, f := range found {
		if original, ok := bundle.MovedAside(f); ok {
			// Complete, and perhaps the only copy of the earlier bundle.
			fmt.Fprintf(g.stderr, "dossier: warning: found %s, the earlier %s that an interrupted pack --force moved aside: if %s is missing or not the bundle you want, rename it back; otherwise remove it\n",
				oneLine(f), oneLine(filepath.Base(original)), oneLine(original))
			continue
		}
		temps = append(temps, f)
	}
	if len(temps) == 0 {
		return
	}
	fmt.Fprintf(g.stderr, "dossier: warning: found %d temporary file(s) left by an interrupted run: %s; they are not complete, remove them (unless another dossier command is still writing them)\n",
		len(temps), oneLine(strings.Join(temps, ", ")))
}
