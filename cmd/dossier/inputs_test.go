package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --force replaces an output, never a file the command reads: the
// identity, a card, the spec or the passphrase file (found by an audit:
// 'pack -i al.id --force -o al.id' replaced the secret key with the
// bundle).
func TestForceNeverReplacesTheCommandsOwnFiles(t *testing.T) {
	dir := sandbox(t, 1000)
	p := func(name string) string { return filepath.Join(dir, name) }
	if err := os.WriteFile(p("pass"), []byte("unused\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p("case.toml"), []byte("default_category = \"other\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(p("alice.id"), p("id-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(p("bob.card"), p("bob.001")); err != nil {
		t.Fatal(err)
	}
	bundle := p("ok.dossier")
	if code := run([]string{"pack", "-i", p("alice.id"), "-r", p("bob.card"), "-o", bundle, "--default-category", "other", p("case")}, nil, &bytes.Buffer{}, &bytes.Buffer{}); code != 0 {
		t.Fatalf("pack: exit %d", code)
	}
	before := map[string][]byte{}
	for _, name := range []string{"alice.id", "bob.card", "bob.id", "alice.card", "pass", "case.toml", "bob.001"} {
		data, err := os.ReadFile(p(name))
		if err != nil {
			t.Fatal(err)
		}
		before[name] = data
	}
	packTo := func(out string, extra ...string) []string {
		return append(append([]string{"pack", "-i", p("alice.id"), "-r", p("bob.card"), "--force", "-o", out}, extra...), p("case"))
	}
	for _, args := range [][]string{
		packTo(p("alice.id"), "--default-category", "other"),
		packTo(p("id-link"), "--default-category", "other"),
		packTo(p("bob.card"), "--default-category", "other"),
		packTo(p("case.toml"), "--spec", p("case.toml")),
		// A volume the set would write.
		{"pack", "-i", p("alice.id"), "-r", p("bob.001"), "--force", "--split", "100K", "-o", p("bob"), "--default-category", "other", p("case")},
		append([]string{"--passphrase-file", p("pass")}, packTo(p("pass"), "--default-category", "other")...),
		{"extract", bundle, "-i", p("bob.id"), "--from", p("alice.card"), "--force", "-o", p("bob.id"), "case/big.bin"},
		{"extract", bundle, "-i", p("bob.id"), "--from", p("alice.card"), "--force", "-o", p("alice.card"), "case/big.bin"},
	} {
		var stderr bytes.Buffer
		code := run(args, nil, &bytes.Buffer{}, &stderr)
		if code != exitUsage {
			t.Errorf("%s: exit %d, want %d: %s", strings.Join(args, " "), code, exitUsage, stderr.String())
		}
	}
	for name, data := range before {
		if now, err := os.ReadFile(p(name)); err != nil || !bytes.Equal(now, data) {
			t.Errorf("%s was changed (%v)", name, err)
		}
	}
}
