package bundle

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
)

// One early sync runs at a time, and the first error of any is kept for
// the end: a write error a sync reported is not reported by the next.
func TestEarlySyncOneAtATime(t *testing.T) {
	if !syncsEarly {
		var e earlySync
		if e.start(nil) {
			t.Fatal("started an early sync where syncTree syncs each file")
		}
		return
	}
	release := make(chan struct{})
	var calls atomic.Int32
	errDisk := errors.New("input/output error")
	earlySyncTree = func(*os.Root) error {
		if calls.Add(1) == 1 {
			<-release
			return errDisk
		}
		return nil
	}
	t.Cleanup(func() { earlySyncTree = syncTree })
	var e earlySync
	if !e.start(nil) {
		t.Fatal("the first early sync did not start")
	}
	if e.start(nil) {
		t.Fatal("a second early sync started while the first ran")
	}
	close(release)
	if err := e.wait(); !errors.Is(err, errDisk) {
		t.Fatalf("wait: %v, want the first sync's error", err)
	}
	if !e.start(nil) {
		t.Fatal("no early sync started once the first had ended")
	}
	if err := e.wait(); !errors.Is(err, errDisk) {
		t.Fatalf("wait after a second sync that passed: %v, want the first sync's error still", err)
	}
	if calls.Load() != 2 {
		t.Fatalf("%d syncs, want 2", calls.Load())
	}
}

// open syncs in the background as it writes (where syncsEarly), and the
// folder it publishes is whole.
func TestOpenSyncsEarly(t *testing.T) {
	p := getParties(t)
	data, _, _ := packSample(t, p.bob.Card)
	earlySyncEvery = 1
	var calls atomic.Int32
	earlySyncTree = func(root *os.Root) error {
		calls.Add(1)
		return syncTree(root)
	}
	t.Cleanup(func() { earlySyncEvery, earlySyncTree = 64<<20, syncTree })
	target := filepath.Join(testtmp.Dir(t), "opened")
	if _, err := Open(context.Background(), bytes.NewReader(data), target, ReadOptions{Identity: p.bob, Sender: p.alice.Card}); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); syncsEarly && n == 0 || !syncsEarly && n != 0 {
		t.Fatalf("%d early syncs (syncsEarly %v)", n, syncsEarly)
	}
	if _, err := verifyBagChecked(t, target, p.alice.Card); err != nil {
		t.Fatal(err)
	}
}

// An early sync that fails fails the open, and nothing is published,
// even though the sync before publishing would pass.
func TestOpenEarlySyncFails(t *testing.T) {
	if !syncsEarly {
		t.Skip("no early syncs here")
	}
	p := getParties(t)
	data, _, _ := packSample(t, p.bob.Card)
	errDisk := errors.New("input/output error")
	earlySyncEvery = 1
	earlySyncTree = func(*os.Root) error { return errDisk }
	t.Cleanup(func() { earlySyncEvery, earlySyncTree = 64<<20, syncTree })
	parent := testtmp.Dir(t)
	_, err := Open(context.Background(), bytes.NewReader(data), filepath.Join(parent, "opened"), ReadOptions{Identity: p.bob, Sender: p.alice.Card})
	if !errors.Is(err, errDisk) {
		t.Fatalf("open whose early sync failed: %v", err)
	}
	if left, _ := os.ReadDir(parent); len(left) != 0 {
		t.Fatalf("left in %s: %v", parent, left)
	}
}
