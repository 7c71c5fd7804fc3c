package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/custody"
)

// `log --json` prints the log an entry at a time, byte for byte what
// printJSON prints for the whole list, for an empty log, one entry and
// several (with text that encoding/json would HTML-escape by default,
// and a home folder whose name needs it too).
func TestLogJSONMatchesPrintJSON(t *testing.T) {
	l, err := custody.Open(filepath.Join(t.TempDir(), "home <&>"))
	if err != nil {
		t.Fatal(err)
	}
	for n := range 4 {
		if n > 0 {
			ev := custody.Event{Action: custody.ActionVerify, BundleID: strings.Repeat("0f", 16), Outcome: custody.OutcomeOK,
				Detail: "entry <" + strings.Repeat("&", n) + "> \"quoted\""}
			if _, err := l.Append(ev, nil); err != nil {
				t.Fatal(err)
			}
		}
		entries, err := l.Entries()
		if err != nil {
			t.Fatal(err)
		}
		if entries == nil {
			entries = []custody.Entry{}
		}
		var want, got bytes.Buffer
		if err := (&globalOptions{stdout: &want}).printJSON(map[string]any{"log": l.Path(), "entries": entries}); err != nil {
			t.Fatal(err)
		}
		if err := (&globalOptions{stdout: &got}).printLogJSON(context.Background(), l); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("%d entries: streamed\n%s\nwant\n%s", n, got.Bytes(), want.Bytes())
		}
	}
}
