package contacts_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/dossier-evidence/dossier/pkg/internal/filelock"
)

// Add and Remove stop waiting for another process's change to the list
// once their context is done, and change nothing (found by an audit:
// remove interrupted while it waited removed the contact anyway, exit 0).
func TestAddAndRemoveStopWaiting(t *testing.T) {
	b, _ := openBook(t)
	add(t, b, "Alice", newIdentity(t, "Alice").Card)
	lockPath := filepath.Join(b.Path(), "contacts.lock")
	release, err := filelock.Lock(lockPath, true)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		release()
		// The waits abandoned take the lock and give it back before the
		// folder goes.
		if again, err := filelock.Lock(lockPath, true); err == nil {
			again()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := b.Remove(ctx, "Alice"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Remove while the list is locked: %v", err)
	}
	if _, err := b.Add(ctx, "", newIdentity(t, "Bob").Card, t0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Add while the list is locked: %v", err)
	}
	if names := b.Names(); len(names) != 1 || names[0] != "Alice" {
		t.Fatalf("the list holds %v, want Alice only", names)
	}
}
