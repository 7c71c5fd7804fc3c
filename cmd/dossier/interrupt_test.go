package main

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
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
