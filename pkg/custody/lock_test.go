package custody_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/dossier-evidence/dossier/pkg/custody"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
)

// lockBundleAsync takes the bundle lock in a goroutine; the channel gives
// its outcome.
func lockBundleAsync(ctx context.Context, l *custody.Log, id string) <-chan error {
	done := make(chan error, 1)
	go func() {
		release, err := l.LockBundle(ctx, id)
		if err == nil {
			release()
		}
		done <- err
	}()
	return done
}

func TestLockBundleExcludes(t *testing.T) {
	l, err := custody.Open(testtmp.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	release, err := l.LockBundle(ctx, "0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}

	// Another bundle is not held up (these two ids use different slots).
	select {
	case err := <-lockBundleAsync(ctx, l, "fedcba9876543210fedcba9876543210"):
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the lock of another bundle waited for this one")
	}

	// The same bundle waits until the lock is released.
	same := lockBundleAsync(ctx, l, "0123456789abcdef0123456789abcdef")
	select {
	case err := <-same:
		t.Fatalf("a second lock of the same bundle was taken while the first was held (err %v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	release()
	select {
	case err := <-same:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second lock was not taken once the first was released")
	}

	// The locks are files named by three hex digits in bundle.locks.
	entries, err := os.ReadDir(filepath.Join(l.Home(), custody.BundleLocksName))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Errorf("%d lock files, want 2", len(entries))
	}
	for _, e := range entries {
		if !regexp.MustCompile(`^[0-9a-f]{3}\.lock$`).MatchString(e.Name()) {
			t.Errorf("lock file %q", e.Name())
		}
	}
}

func TestLockBundleGivesUpWithTheContext(t *testing.T) {
	l, err := custody.Open(testtmp.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	const id = "0123456789abcdef0123456789abcdef"
	release, err := l.LockBundle(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := l.LockBundle(ctx, id); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("LockBundle with an ending context: %v, want the context's error", err)
	}
	release()
	// The abandoned wait gives the lock back once it gets it.
	select {
	case err := <-lockBundleAsync(context.Background(), l, id):
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the lock stayed taken by the wait that gave up")
	}
}
