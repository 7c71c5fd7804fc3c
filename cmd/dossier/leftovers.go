package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/dossier-evidence/dossier/pkg/bundle"
	"github.com/dossier-evidence/dossier/pkg/seal"
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
	var files, folders []string
	for _, f := range found {
		if original, ok := bundle.MovedAside(f); ok {
			// Complete, and perhaps the only copy of the earlier bundle.
			what := "bundle"
			if strings.HasSuffix(original, seal.Ext) {
				what = "seal"
			}
			g.tellStderr(shownLine("dossier: warning: found %s, the earlier %s that an interrupted pack --force moved aside: if %s is missing or not the %s you want, rename it back; otherwise remove it\n",
				oneLine(f), oneLine(filepath.Base(original)), oneLine(original), what))
			continue
		}
		if st, err := os.Lstat(f); err == nil && st.IsDir() {
			folders = append(folders, f)
		} else {
			files = append(files, f)
		}
	}
	if len(folders) > 0 {
		// An open's staging folder: what it holds was decrypted, and not
		// all of it verified.
		g.tellStderr(shownLine("dossier: warning: found %s left by an interrupted open: %s; they hold decrypted documents that were not all verified: remove them (unless another dossier open is still writing them)\n",
			plural(len(folders), "unfinished folder"), oneLine(strings.Join(folders, ", "))))
	}
	if len(files) > 0 {
		g.tellStderr(shownLine("dossier: warning: found %s left by an interrupted run: %s; they are not complete, remove them (unless another dossier command is still writing them)\n",
			plural(len(files), "temporary file"), oneLine(strings.Join(files, ", "))))
	}
}
