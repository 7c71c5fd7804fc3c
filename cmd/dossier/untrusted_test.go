package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/identity"
)

// hostile is a piece of a file name that rewrites a terminal: it sets the
// window title, returns to the line's start, erases it and hides what
// follows, and holds a zero-width space.
const hostile = "\x1b]0;T\x07\r\x1b[2K\x1b[8m\u200b"

// requireShownSafely fails if out holds a character that could rewrite a
// terminal, or an invisible one, raw; want is what it must show instead.
func requireShownSafely(t *testing.T, what, out string, want ...string) {
	t.Helper()
	for _, r := range out {
		if (r < 0x20 && r != '\n') || r == 0x7f || (0x80 <= r && r <= 0x9f) || r == '\u200b' {
			t.Errorf("%s printed %U raw: %q", what, r, out)
			break
		}
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%s did not print %q: %q", what, w, out)
		}
	}
}

// Paths, globs and names that come from other people's files, spec files
// or the command line are shown escaped in every message, success and
// warning alike (found by an audit: success lines printed paths raw, and
// a card file's name could wipe the impersonation warning).
func TestUntrustedTextIsShownEscaped(t *testing.T) {
	dir := sandbox(t, 4096)
	p := func(name string) string { return filepath.Join(dir, name) }
	runOut := func(args ...string) (int, string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := run(args, nil, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	shown := `\x1b]0;T\x07\x0d\x1b[2K\x1b[8m\u200b`

	bundle := p("in" + hostile + ".dossier")
	code, out, errs := runOut("pack", "-i", p("alice.id"), "-r", p("bob.card"), "-o", bundle, "--default-category", "other", p("case"))
	if code != 0 {
		t.Fatalf("pack: exit %d: %s", code, errs)
	}
	requireShownSafely(t, "pack", out+errs, "in"+shown+".dossier", "in"+shown+".dossier.minisig")

	code, out, errs = runOut("verify", bundle, "--from", p("alice.card"))
	if code != 0 {
		t.Fatalf("verify of the seal: exit %d: %s", code, errs)
	}
	requireShownSafely(t, "verify of the seal", out+errs, "in"+shown+".dossier")

	target := p("out" + hostile)
	code, out, errs = runOut("open", bundle, "-i", p("bob.id"), "--from", p("alice.card"), "-o", target)
	if code != 0 {
		t.Fatalf("open: exit %d: %s", code, errs)
	}
	requireShownSafely(t, "open", out+errs, "out"+shown+"/data")

	// (A glob without the '[' of the sequences above, which would make
	// it malformed.)
	code, out, errs = runOut("plan", "-r", p("bob.card"), "--default-category", "other", "--category", "personal=no\x1b]0;T\x07\r\u200b/*", p("case"))
	if code != 0 {
		t.Fatalf("plan: exit %d: %s", code, errs)
	}
	requireShownSafely(t, "plan", out+errs, `no\x1b]0;T\x07\x0d\u200b/*`, "matched no file")

	spec := p("case.toml")
	if err := os.WriteFile(spec, []byte(`exclude = ["**/*.zz\u001b]0;T\u0007\r\u001b[2K\u001b[8m\u200b"]`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, out, errs = runOut("plan", "--spec", spec, "--exclude", "**/*.yy", "--default-category", "other", "-r", p("bob.card"), p("case"))
	requireShownSafely(t, "plan --spec", out+errs, "replaces the spec's exclude: **/*.zz"+shown)

	// A card file named to wipe the line, whose name reads as a contact's.
	if code, _, errs := runOut("contacts", "add", p("bob.card"), "--as", "Bob Camilleri", "--yes"); code != 0 {
		t.Fatalf("contacts add: exit %d: %s", code, errs)
	}
	mallory := p("bob.card" + hostile)
	if code, _, errs := runOut("keygen", "--name", "Bob Cami\u200blleri", "--identity", p("mallory.id"), "--card", mallory, "--no-passphrase"); code != 0 {
		t.Fatalf("keygen: exit %d: %s", code, errs)
	}
	code, out, errs = runOut("key", "fingerprint", mallory)
	if code != 0 {
		t.Fatalf("key fingerprint: exit %d: %s", code, errs)
	}
	requireShownSafely(t, "key fingerprint", out+errs, "the card "+p("bob.card"+shown), "may be an impersonation", "'"+p("bob.card"+shown)+"' --as NAME")

	// inspect without --from says first that the sender is unconfirmed,
	// and that the claimed name reads as a contact's.
	fromMallory := p("mallory.dossier")
	if code, _, errs := runOut("pack", "-i", p("mallory.id"), "-r", p("bob.card"), "-o", fromMallory, "--default-category", "other", p("case")); code != 0 {
		t.Fatalf("pack from mallory: exit %d: %s", code, errs)
	}
	code, out, errs = runOut("inspect", fromMallory, "-i", p("bob.id"))
	if code != 0 {
		t.Fatalf("inspect: exit %d: %s", code, errs)
	}
	requireShownSafely(t, "inspect", out+errs, "sender:     UNCONFIRMED (pass --from CARD to check who sent it): Bob Cami\\u200blleri",
		`reads as your contact "Bob Camilleri"`)
}

// An error message longer than maxMessage bytes loses its middle, on
// characters' boundaries: its start and its end (the reason) stay.
func TestCapLine(t *testing.T) {
	if s := strings.Repeat("x", maxMessage); capLine(s) != s {
		t.Fatal("a message of maxMessage bytes was cut")
	}
	long := "unsafe path " + strings.Repeat("é", maxMessage) + ": path is longer than 4096 bytes"
	got := capLine(long)
	if !utf8.ValidString(got) || !strings.HasPrefix(got, "unsafe path é") || !strings.HasSuffix(got, "é: path is longer than 4096 bytes") ||
		!strings.Contains(got, "… ("+strconv.Itoa(len(long)-maxMessage)+" bytes not shown) …") || len(got) > maxMessage+40 {
		t.Fatalf("capLine gave %d bytes: %q … %q", len(got), got[:40], got[len(got)-80:])
	}
	if code := run([]string{"plan", "--category", "personal=" + strings.Repeat("\x1b", 3*maxMessage)}, nil, io.Discard, io.Discard); code == 0 {
		t.Fatal("plan with a hostile glob and no input succeeded")
	}
}

// Replacing a contact's card by one of the same key under another name or
// organisation warns that bundles sent with the earlier card will be
// refused with this contact (found by review: readers require the
// bundle's card to name the sender as the contact's does).
func TestContactsAddWarnsOfARenamedCard(t *testing.T) {
	dir := sandbox(t, 1)
	data, err := os.ReadFile(filepath.Join(dir, "alice.id"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := identity.Parse(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	renamed, err := card.New(id.Card.Name, "Europol", nil, time.Now(), id.Age.Recipient(), id.Key)
	if err != nil {
		t.Fatal(err)
	}
	cardData, err := renamed.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "renamed.card"), cardData, 0o644); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"contacts", "add", filepath.Join(dir, "alice.card"), "--yes"}, nil, io.Discard, io.Discard); code != 0 {
		t.Fatalf("contacts add: exit %d", code)
	}
	var stderr bytes.Buffer
	if code := run([]string{"contacts", "add", filepath.Join(dir, "renamed.card"), "--yes"}, nil, io.Discard, &stderr); code != 0 {
		t.Fatalf("contacts add of the card issued again: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "bundles sent with the earlier card will be refused") {
		t.Fatalf("no warning: %q", stderr.String())
	}
}
