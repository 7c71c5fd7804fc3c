package main

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// Environment variables that make the dossier child process of a fault
// test (faults_test.go) misbehave on purpose. They take effect only in the
// test binary.
const (
	// pauseEnv is MARKER or MARKER:RELEASE. Once half of the work is done
	// (by the progress count) the child creates the file MARKER; then,
	// without RELEASE, it slows down (100 ms per progress step) so that a
	// signal surely arrives mid-work; with RELEASE, it waits until the file
	// RELEASE exists, so that two children can be made to finish together.
	pauseEnv = "DOSSIER_TEST_PAUSE"
	// failSyncEnv, if set, makes every fsync, fdatasync and syncfs of the
	// child fail with EIO (a seccomp filter; Linux only).
	failSyncEnv = "DOSSIER_TEST_FAIL_SYNC"
	// hookFailedExit is the exit code of a child that could not install a
	// hook it was asked for: the test skips.
	hookFailedExit = 99
)

// installFaultHooks installs the hooks the environment asks for, in the
// dossier child process.
func installFaultHooks() {
	if spec := os.Getenv(pauseEnv); spec != "" {
		marker, release, _ := strings.Cut(spec, string(os.PathListSeparator))
		var once sync.Once
		released := false
		progressHook = func(done, total int64) {
			if total <= 0 || 2*done < total || released {
				return
			}
			once.Do(func() {
				if err := os.WriteFile(marker, nil, 0o644); err != nil {
					panic(err)
				}
			})
			if release == "" {
				time.Sleep(100 * time.Millisecond)
				return
			}
			for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				if _, err := os.Stat(release); err == nil {
					break
				}
			}
			released = true
		}
	}
	if os.Getenv(failSyncEnv) != "" {
		if err := failSyncCalls(); err != nil {
			fmt.Fprintf(os.Stderr, "dossier-test: cannot make sync calls fail: %v\n", err)
			os.Exit(hookFailedExit)
		}
	}
}
