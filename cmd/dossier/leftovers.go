package main

import (
	"fmt"
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
	fmt.Fprintf(g.stderr, "dossier: warning: found %d temporary file(s) left by an interrupted run: %s; they are not complete, remove them (unless another dossier command is still writing them)\n",
		len(found), oneLine(strings.Join(found, ", ")))
}
