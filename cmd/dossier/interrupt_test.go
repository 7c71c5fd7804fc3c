package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dossier-evidence/dossier/pkg/bundle"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/custody"
)

// An identity unlocked after a Ctrl-C is not used: the command ends with
// the interruption (found by an audit: key age-identity printed the
// secret key after Ctrl-C during the passphrase's second of scrypt).
func TestLoadIdentityAfterInterrupt(t *testing.T) {
	dir := sandbox(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	g := &globalOptions{ctx: ctx, stdout: io.Discard, stderr: io.Discard}
	if _, err := g.loadIdentity(filepath.Join(dir, "alice.id")); err != nil {
		t.Fatal(err)
	}
	cancel()
	if id, err := g.loadIdentity(filepath.Join(dir, "alice.id")); !errors.Is(err, context.Canceled) || id != nil {
		t.Fatalf("after the interrupt: %v, %v", id, err)
	}
}

// receipt verify's hash of the bundle ends with the interruption, not
// after the whole bundle (found by an audit: 4.6 s for a 3.4 GB bundle,
// then exit 3 for a receipt of other bytes).
func TestBundleDigestInterrupted(t *testing.T) {
	name := filepath.Join(t.TempDir(), "b.dossier")
	if err := os.WriteFile(name, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := bundleDigest(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := bundleDigest(ctx, name); !errors.Is(err, context.Canceled) {
		t.Fatalf("bundleDigest after the interrupt: %v", err)
	}
}

// log ends with the interruption while it reads the log (found by an
// audit: 5.3 s for a log of 60,000 entries, then the listing, exit 0).
func TestLogInterrupted(t *testing.T) {
	l, err := custody.Open(filepath.Join(t.TempDir(), "home"))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := l.Append(custody.Event{Action: "verify", Outcome: "ok", Time: time.Now()}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := (&globalOptions{stdout: io.Discard}).printLogJSON(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	// Done at the second entry, after the lock was taken.
	ctx := &countdown{Context: context.Background(), n: 2}
	var out bytes.Buffer
	if err := (&globalOptions{stdout: &out}).printLogJSON(ctx, l); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted at the second entry: %v", err)
	}
}

// countdown is a context that is done (by Err, not Done) once Err has
// been asked for after n times.
type countdown struct {
	context.Context
	n int
}

func (c *countdown) Err() error {
	if c.n--; c.n < 0 {
		return context.Canceled
	}
	return nil
}

// plan's second look at globs that matched nothing (up to a second each
// at 150,000 files) stops once interrupted (found by an audit: 3 s for
// ten such rules, then the report, exit 0).
func TestUnusedGlobsInterrupted(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "case"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "case", "a.txt"), []byte("a"), 0o600); err != nil {
		t.Fatal(err)
	}
	rule, err := category.ParseRule("personal=nothing/**")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := bundle.MakePlan([]string{filepath.Join(dir, "case")}, category.Rules{rule}, []category.ID{category.Other}, "**/*.tmp")
	if err != nil {
		t.Fatal(err)
	}
	if _, notes := unusedGlobs(context.Background(), plan); len(notes) != 2 {
		t.Fatalf("notes %q, want one for the rule and one for the exclude", notes)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if problem, notes := unusedGlobs(ctx, plan); problem != "" || len(notes) != 0 {
		t.Fatalf("after the interrupt: %q, %q", problem, notes)
	}
}
