package bundle

import (
	"path/filepath"
	"regexp"
	"sync"

	"github.com/dossier-evidence/dossier/pkg/internal/atomicfile"
	"github.com/dossier-evidence/dossier/pkg/seal"
)

// Leftovers lists the temporaries that runs killed before they could clean
// up (SIGKILL, power loss) left for any of the given output paths. They
// are incomplete; callers report them and never remove them, since another
// run might still be writing them.
func Leftovers(finals ...string) []string {
	var found []string
	seen := map[string]bool{}
	for _, f := range finals {
		for _, p := range atomicfile.Leftovers(f) {
			if !seen[p] {
				seen[p] = true
				found = append(found, p)
			}
		}
	}
	return found
}

// MovedAside reports whether the leftover at path is a bundle or seal
// that pack --force moved aside before putting the new one in its place,
// left there because the run was killed; original is the name it had.
// Unlike other leftovers it is complete: the earlier bundle.
func MovedAside(path string) (original string, ok bool) {
	return atomicfile.MovedAside(path)
}

// volumeRe matches the names of a split bundle's volumes and their seals:
// OUT.001, OUT.001.minisig, … (group 1 is OUT).
var volumeRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(.*)\.[0-9]{3,}(` + regexp.QuoteMeta(seal.Ext) + `)?$`)
})

// PackLeftovers lists the temporaries left for the bundle out by [PackFile]:
// for the bundle, its seal, and its volumes and their seals.
func PackLeftovers(out string) []string {
	dir, base := filepath.Split(filepath.Clean(out))
	return atomicfile.LeftoversMatching(dir, func(target string) bool {
		if target == base || target == base+seal.Ext {
			return true
		}
		m := volumeRe().FindStringSubmatch(target)
		return m != nil && m[1] == base
	})
}
