package custody_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/dossier-evidence/dossier/pkg/custody"
	"github.com/dossier-evidence/dossier/pkg/internal/filelock"
)

// countdown is a context that is done once its Err has been asked for
// after n times.
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

// Checking the log ends with the context's error once it is done, at any
// line: the signatures of a long log take seconds, and Ctrl-C was not
// heard until the end.
func TestVerifyEndsWithContext(t *testing.T) {
	l := openLog(t)
	actor := newIdentity(t, "Alice")
	for i := 1; i <= 5; i++ {
		mustAppend(t, l, event(i), actor)
	}
	none := func(*custody.Entry) bool { return false }
	for _, after := range []int{0, 1, 4} {
		for name, check := range map[string]func(context.Context) error{
			"Verify":       func(ctx context.Context) error { _, err := l.Verify(ctx); return err },
			"FindVerified": func(ctx context.Context) error { _, err := l.FindVerified(ctx, none); return err },
			"FindChained":  func(ctx context.Context) error { _, err := l.FindChained(ctx, none); return err },
		} {
			if err := check(&countdown{Context: context.Background(), n: after}); !errors.Is(err, context.Canceled) {
				t.Errorf("%s done after %d lines: %v", name, after, err)
			}
			if err := check(&countdown{Context: context.Background(), n: 1000}); err != nil {
				t.Errorf("%s of 5 lines, done long after: %v", name, err)
			}
		}
	}
}

// Reading the log stops waiting for another process's append once the
// context is done (found by an audit: a lock held elsewhere kept log,
// log verify and receipt verify waiting for ever, deaf to Ctrl-C).
func TestReadsStopWaitingForTheLock(t *testing.T) {
	l := openLog(t)
	mustAppend(t, l, event(1), nil)
	lockPath := filepath.Join(filepath.Dir(l.Path()), custody.LockName)
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
	if err := l.Each(ctx, func(*custody.Entry) error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Each: %v", err)
	}
	if _, err := l.Verify(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Verify: %v", err)
	}
}
