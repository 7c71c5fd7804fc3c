package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/bundle"
	"github.com/dossier-evidence/dossier/pkg/manifest"
)

// A bundle encrypted to more or fewer recipients than its signed list
// names is warned of (no command packs one; pkg/bundle's tests make them
// and check the counts), under --json too, on stderr.
func TestWarnRecipients(t *testing.T) {
	listed := &manifest.Preamble{Recipients: make([]manifest.Party, 3)}
	for _, tt := range []struct {
		res  bundle.Result
		want string
	}{
		{bundle.Result{Preamble: listed}, ""},
		{bundle.Result{Preamble: listed, UnlistedRecipients: 1}, "encrypted to 1 more recipient than the 3 recipients its sender signed for"},
		{bundle.Result{Preamble: listed, UnreachableRecipients: 2}, "names 3 recipients but is encrypted to only 1: at least 2 of them cannot decrypt it"},
	} {
		for _, asJSON := range []bool{false, true} {
			var stderr, stdout bytes.Buffer
			g := &globalOptions{JSON: asJSON, stdout: &stdout, stderr: &stderr}
			g.warnRecipients(&tt.res)
			got := stderr.String()
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) || stdout.Len() > 0 {
				t.Errorf("json %v: stderr %q, stdout %q; want stderr saying %q", asJSON, got, stdout.String(), tt.want)
			}
		}
	}
}
