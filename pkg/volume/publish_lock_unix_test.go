//go:build unix && !aix

package volume_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
	"github.com/dossier-evidence/dossier/pkg/seal"
	"github.com/dossier-evidence/dossier/pkg/volume"
)

// Publish puts the bundle and its seal in place under the folder's lock,
// so that two packs with --force writing the same name at once cannot
// leave one's bundle beside the other's seal (found by an audit, with the
// renames slowed down). Here the lock is held by another open of the
// folder, as another pack's Publish holds it: nothing appears until it is
// given back, and then the whole bundle does.
func TestPublishWaitsForTheFoldersLock(t *testing.T) {
	dir := testtmp.Dir(t)
	out := filepath.Join(dir, "OUT")
	mustWrite(t, out, []byte("old"))
	mustWrite(t, out+seal.Ext, []byte("old seal"))
	other, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := unix.Flock(int(other.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	w, err := volume.NewWriter(out, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	content := data(5000, 9)
	writeChunks(t, w, content)
	published := make(chan error, 1)
	go func() {
		_, err := w.Publish(sealer(t, "sender", bundleID, false))
		published <- err
	}()
	select {
	case err := <-published:
		t.Fatalf("Publish did not wait for the folder's lock (err %v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	if got := mustRead(t, out); string(got) != "old" {
		t.Fatal("the bundle was replaced while another held the folder's lock")
	}
	if err := unix.Flock(int(other.Fd()), unix.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	s, err := seal.ReadFile(out + seal.Ext)
	if err != nil {
		t.Fatal(err)
	}
	digest, err := seal.DigestFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(person(t, "sender").Card, digest); err != nil {
		t.Fatalf("the published seal does not match the published bundle: %v", err)
	}
}
