//go:build linux

package main

// Fault tests: the real dossier binary (the test binary, which
// testscript.Main installs in $PATH as "dossier") is interrupted, killed,
// run out of space, out of file size, onto a read-only file system, with
// failing fsync, and twice at once onto one target. Each must exit with
// its documented code, publish nothing under a final name, remove its
// temporaries and leave existing files byte-identical; after SIGKILL only a
// recognisably named temporary remains, and the next run reports it.
//
// Nothing here needs root: the tmpfs is mounted in an unprivileged
// user+mount namespace (unshare -Urm), the file-size limit is ulimit -f,
// and fsync fails through a seccomp filter the child installs on itself.
// A mechanism the machine forbids is skipped with the reason.

import (
	"bytes"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// faultEnv is a work folder with keys for Alice and Bob, a DOSSIER_HOME,
// and the dossier binary.
type faultEnv struct {
	dir string
	bin string
}

func newFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	bin, err := exec.LookPath("dossier")
	if err != nil {
		t.Fatalf("the dossier command is not in $PATH (testscript.Main installs it): %v", err)
	}
	dir := sandbox(t, 0)
	if err := os.RemoveAll(filepath.Join(dir, "case")); err != nil {
		t.Fatal(err)
	}
	return &faultEnv{dir: dir, bin: bin}
}

// input writes a folder name/ holding one file of size random
// (incompressible) bytes and returns the folder's path.
func (e *faultEnv) input(t *testing.T, name string, size int) string {
	t.Helper()
	dir := filepath.Join(e.dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, size)
	mrand.NewChaCha8([32]byte{byte(size), byte(size >> 8), byte(size >> 16)}).Read(data)
	if err := os.WriteFile(filepath.Join(dir, "evidence.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func packArgs(out, input string) []string {
	return []string{"pack", "-i", "alice.id", "-r", "bob.card", "-o", out, "--default-category", "other", "--no-progress", input}
}

func openArgs(bundle, target string) []string {
	return []string{"open", bundle, "-i", "bob.id", "--from", "alice.card", "-o", target, "--no-progress"}
}

// bundle packs a random input of size bytes into e.dir/name.dossier.
func (e *faultEnv) bundle(t *testing.T, name string, size int) string {
	t.Helper()
	out := filepath.Join(e.dir, name+".dossier")
	e.mustRun(t, nil, packArgs(out, e.input(t, name, size))...)
	return out
}

type outcome struct {
	code           int // -1 when killed by a signal
	stdout, stderr string
}

// lockedBuffer is a bytes.Buffer that a test may read while a child
// process writes to it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (e *faultEnv) command(env []string, args ...string) (*exec.Cmd, *lockedBuffer, *lockedBuffer) {
	cmd := exec.Command(e.bin, args...)
	cmd.Dir = e.dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

func result(err error, stdout, stderr fmt.Stringer) (outcome, error) {
	o := outcome{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		o.code = ee.ExitCode()
	default:
		return o, err
	}
	return o, nil
}

func (e *faultEnv) run(t *testing.T, env []string, args ...string) outcome {
	t.Helper()
	cmd, stdout, stderr := e.command(env, args...)
	o, err := result(cmd.Run(), stdout, stderr)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (e *faultEnv) mustRun(t *testing.T, env []string, args ...string) outcome {
	t.Helper()
	o := e.run(t, env, args...)
	if o.code != 0 {
		t.Fatalf("dossier %s: exit %d\n%s", strings.Join(args, " "), o.code, o.stderr)
	}
	return o
}

// sh runs a shell script in e.dir with BIN set to the dossier binary.
func (e *faultEnv) sh(t *testing.T, script string, env ...string) outcome {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = e.dir
	cmd.Env = append(append(os.Environ(), "BIN="+e.bin), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	o, err := result(cmd.Run(), &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// proc is a dossier child running in the background.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr *lockedBuffer
	done           chan struct{}
	err            error
}

// start runs dossier in the background, pausing it half-way through its
// work (see pauseEnv): it returns once the child has reached that point.
func (e *faultEnv) start(t *testing.T, release string, args ...string) *proc {
	t.Helper()
	return e.startWith(t, nil, release, args...)
}

// startWith is start with env added to the child's environment.
func (e *faultEnv) startWith(t *testing.T, env []string, release string, args ...string) *proc {
	t.Helper()
	marker := filepath.Join(t.TempDir(), "halfway")
	spec := marker
	if release != "" {
		spec += string(os.PathListSeparator) + release
	}
	p := e.background(t, append([]string{pauseEnv + "=" + spec}, env...), args...)
	if !p.reaches(marker, 30*time.Second) {
		select {
		case <-p.done:
			t.Fatalf("dossier %s ended before it was half-way through: %v\n%s", strings.Join(args, " "), p.err, p.stderr)
		default:
			t.Fatalf("dossier %s did not get half-way in 30 s", strings.Join(args, " "))
		}
	}
	return p
}

// background runs dossier with env added to its environment, without
// waiting for it; the test's end kills it if it still runs.
func (e *faultEnv) background(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd, stdout, stderr := e.command(env, args...)
	p := &proc{cmd: cmd, stdout: stdout, stderr: stderr, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	return p
}

// reaches reports whether the file marker appears within d while the child
// runs.
func (p *proc) reaches(marker string, d time.Duration) bool {
	deadline := time.After(d)
	for {
		if _, err := os.Stat(marker); err == nil {
			return true
		}
		select {
		case <-p.done:
			_, err := os.Stat(marker)
			return err == nil
		case <-deadline:
			return false
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func (p *proc) wait(t *testing.T) outcome {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("dossier did not end within 30 s")
	}
	o, err := result(p.err, p.stdout, p.stderr)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// names lists a folder's entries, sorted; a missing folder has none.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return out
}

func requireNames(t *testing.T, dir string, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := names(t, dir); !slices.Equal(got, want) {
		t.Fatalf("%s holds %q, want %q", dir, got, want)
	}
}

// requireNoTemps fails if a temporary is left anywhere under root.
func requireNoTemps(t *testing.T, root string) {
	t.Helper()
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".dossier-tmp-") {
			t.Errorf("temporary left behind: %s", p)
		}
		return err
	})
}

func requireContent(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s changed: %q, want %q", path, got, want)
	}
}

// SIGINT, SIGTERM and SIGHUP mid-pack, mid-pack --force over an existing bundle,
// and mid-open: exit 130, nothing published, no temporary left, existing
// files byte-identical.
func TestFaultInterrupt(t *testing.T) {
	e := newFaultEnv(t)
	const size = 8 << 20
	input := e.input(t, "case", size)
	bundle := e.bundle(t, "sealed", size)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		for _, tt := range []struct {
			name string
			args func(out string) []string
		}{
			{"pack", func(out string) []string { return packArgs(filepath.Join(out, "case.dossier"), input) }},
			{"pack-force", func(out string) []string {
				return append(packArgs(filepath.Join(out, "keep.dossier"), input), "--force")
			}},
			{"open", func(out string) []string { return openArgs(bundle, filepath.Join(out, "opened")) }},
		} {
			t.Run(tt.name+"/"+sig.String(), func(t *testing.T) {
				out := t.TempDir()
				keep := filepath.Join(out, "keep.dossier")
				if err := os.WriteFile(keep, []byte("an earlier bundle"), 0o644); err != nil {
					t.Fatal(err)
				}
				p := e.start(t, "", tt.args(out)...)
				if err := p.cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				o := p.wait(t)
				if o.code != exitInterrupted {
					t.Fatalf("exit %d, want %d\n%s", o.code, exitInterrupted, o.stderr)
				}
				if !strings.Contains(o.stderr, "interrupted; temporary files were removed and nothing was published") {
					t.Errorf("stderr: %s", o.stderr)
				}
				requireNames(t, out, "keep.dossier")
				requireContent(t, keep, "an earlier bundle")
			})
		}
	}
}

// verify of an opened folder stops on a signal too, with exit 130: it
// hashed every document to the end, minutes on a large folder, and then
// said OK (found when its memory was measured).
func TestFaultInterruptVerifyOpened(t *testing.T) {
	e := newFaultEnv(t)
	const size = 8 << 20
	opened := filepath.Join(e.dir, "opened")
	e.mustRun(t, nil, openArgs(e.bundle(t, "sealed", size), opened)...)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			p := e.start(t, "", "verify", opened, "--from", "alice.card", "--no-progress")
			if err := p.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			o := p.wait(t)
			if o.code != exitInterrupted || !strings.Contains(o.stderr, "dossier: interrupted") || strings.Contains(o.stdout, "OK") {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", o.code, exitInterrupted, o.stdout, o.stderr)
			}
		})
	}
	e.mustRun(t, nil, "verify", opened, "--from", "alice.card")
}

// SIGKILL mid-pack and mid-open leaves only a recognisably named
// temporary, which the next run to the same target reports (and keeps).
func TestFaultKill(t *testing.T) {
	e := newFaultEnv(t)
	const size = 8 << 20
	input := e.input(t, "case", size)
	bundle := e.bundle(t, "sealed", size)
	for _, tt := range []struct {
		name   string
		args   func(target string) []string
		target string
		temp   *regexp.Regexp
	}{
		{"pack", func(target string) []string { return packArgs(target, input) }, "case.dossier", regexp.MustCompile(`^\.case\.dossier\.dossier-tmp-[0-9]+$`)},
		{"open", func(target string) []string { return openArgs(bundle, target) }, "opened", regexp.MustCompile(`^\.opened\.dossier-tmp-[0-9]+$`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			target := filepath.Join(out, tt.target)
			p := e.start(t, "", tt.args(target)...)
			if err := p.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			if o := p.wait(t); o.code != -1 {
				t.Fatalf("exit %d, want killed", o.code)
			}
			left := names(t, out)
			if len(left) != 1 || !tt.temp.MatchString(left[0]) {
				t.Fatalf("after SIGKILL %s holds %q, want one temporary matching %s", out, left, tt.temp)
			}
			o := e.mustRun(t, nil, tt.args(target)...)
			want := "dossier: warning: found 1 temporary file left by an interrupted run: " + filepath.Join(out, left[0]) + "; they are not complete, remove them"
			if tt.name == "open" {
				want = "dossier: warning: found 1 unfinished folder left by an interrupted open: " + filepath.Join(out, left[0]) + "; they hold decrypted documents"
			}
			if !strings.Contains(o.stderr, want) {
				t.Fatalf("the next %s did not report the leftover:\n%s", tt.name, o.stderr)
			}
			if _, err := os.Lstat(filepath.Join(out, left[0])); err != nil {
				t.Fatalf("the leftover was removed: %v", err)
			}
			if _, err := os.Lstat(target); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Two packs, or two opens, to one target at the same moment: exactly one
// succeeds, the other says the target already exists, and the winner's
// result is intact.
func TestFaultConcurrent(t *testing.T) {
	e := newFaultEnv(t)
	const size = 2 << 20
	input := e.input(t, "case", size)
	bundle := e.bundle(t, "sealed", size)
	race := func(t *testing.T, args []string, otherArgs []string) (winner outcome) {
		t.Helper()
		release := filepath.Join(t.TempDir(), "go")
		// Both get past their checks that the target is free and are
		// half-way through before either may finish. The second has a
		// home of its own: two opens that need the same bundle lock
		// (TestFaultConcurrentOpensOfOneBundle) do not race.
		procs := []*proc{
			e.start(t, release, args...),
			e.startWith(t, []string{"DOSSIER_HOME=" + filepath.Join(t.TempDir(), "home")}, release, otherArgs...),
		}
		if err := os.WriteFile(release, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		var results [2]outcome
		for i, p := range procs {
			results[i] = p.wait(t)
		}
		slices.SortFunc(results[:], func(a, b outcome) int { return a.code - b.code })
		if results[0].code != 0 || results[1].code != exitError {
			t.Fatalf("exit codes %d and %d, want 0 and 1\n%s\n%s", results[0].code, results[1].code, results[0].stderr, results[1].stderr)
		}
		if !strings.Contains(results[1].stderr, "already exists") {
			t.Fatalf("the loser's error does not say the target exists: %s", results[1].stderr)
		}
		return results[0]
	}
	t.Run("pack", func(t *testing.T) {
		out := t.TempDir()
		target := filepath.Join(out, "case.dossier")
		race(t, packArgs(target, input), packArgs(target, input))
		requireNames(t, out, "case.dossier", "case.dossier.minisig")
		e.mustRun(t, nil, "verify", target, "--from", "alice.card")
		e.mustRun(t, nil, "verify", target, "--from", "alice.card", "-i", "bob.id")
	})
	t.Run("open", func(t *testing.T) {
		out := t.TempDir()
		target := filepath.Join(out, "opened")
		race(t, openArgs(bundle, target), openArgs(bundle, target))
		requireNames(t, out, "opened")
		e.mustRun(t, nil, "verify", target, "--from", "alice.card")
	})
}

// Two opens of one bundle at the same time: the second waits until the
// first has ended and logged its open, then is refused as a replay (exit
// 3), as it would be after it; it makes nothing on disk while it waits.
// Before, both passed the replay check and both opened the bundle. A third
// open, interrupted while it waits, ends at once with exit 130.
func TestFaultConcurrentOpensOfOneBundle(t *testing.T) {
	e := newFaultEnv(t)
	bundle := e.bundle(t, "sealed", 2<<20)
	release := filepath.Join(t.TempDir(), "go")
	first := e.start(t, release, openArgs(bundle, filepath.Join(e.dir, "first"))...)
	// The first has passed its replay check and is half-way through. The
	// others, paused half-way too if they ever get there, must not: they
	// wait, and say so.
	waiting := func(name string) *proc {
		t.Helper()
		marker := filepath.Join(t.TempDir(), "halfway")
		p := e.background(t, []string{pauseEnv + "=" + marker + string(os.PathListSeparator) + release},
			openArgs(bundle, filepath.Join(e.dir, name))...)
		for deadline := time.Now().Add(30 * time.Second); !strings.Contains(p.stderr.String(), "waiting for another open"); time.Sleep(5 * time.Millisecond) {
			if _, err := os.Stat(marker); err == nil {
				t.Fatalf("open -o %s got half-way through while another open of the bundle was running", name)
			}
			select {
			case <-p.done:
				t.Fatalf("open -o %s ended while another open of the bundle was running: %v\n%s", name, p.err, p.stderr)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("open -o %s did not say within 30 s that it waits\n%s", name, p.stderr)
			}
		}
		if leftover, _ := filepath.Glob(filepath.Join(e.dir, "."+name+".dossier-tmp-*")); len(leftover) > 0 {
			t.Errorf("open -o %s made %q while it waits", name, leftover)
		}
		return p
	}
	second := waiting("second")
	third := waiting("third")
	if err := third.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	requireFailure(t, "the interrupted open", third.wait(t), exitInterrupted, "interrupted")

	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if o := first.wait(t); o.code != 0 {
		t.Fatalf("the first open: exit %d\n%s", o.code, o.stderr)
	}
	requireFailure(t, "the second open", second.wait(t), exitIntegrity, "was already opened on this machine")
	requireNames(t, e.dir, "alice.card", "alice.id", "bob.card", "bob.id", "first", "home", "sealed", "sealed.dossier", "sealed.dossier.minisig")
	e.mustRun(t, nil, "log", "verify")
}

// takenWhileRunning runs dossier with args, pauses it half-way, checks
// that it has already made its temporary for the file name (what is
// reserved before the work), puts someone else's file under that name,
// lets it finish, and returns its outcome, after checking that the other
// file is untouched and no temporary is left.
func (e *faultEnv) takenWhileRunning(t *testing.T, name string, args ...string) outcome {
	t.Helper()
	release := filepath.Join(t.TempDir(), "go")
	p := e.start(t, release, args...)
	temps := filepath.Join(filepath.Dir(name), "."+filepath.Base(name)+".dossier-tmp-*")
	if found, _ := filepath.Glob(temps); len(found) != 1 {
		t.Fatalf("half-way through, the temporary of %s is %q, want one made before the work", name, found)
	}
	if err := os.WriteFile(name, []byte("someone else's"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	o := p.wait(t)
	if got, _ := os.ReadFile(name); string(got) != "someone else's" {
		t.Fatalf("the file that took the name %s was replaced: %q", name, got)
	}
	if found, _ := filepath.Glob(temps); len(found) != 0 {
		t.Fatalf("left behind: %q", found)
	}
	return o
}

// pack -o - --seal FILE makes the seal's file before the bundle goes
// out; a seal that still cannot be written afterwards (its name taken
// meanwhile) is said as that: the bundle on standard output is complete,
// and the custody log keeps its id (found by an audit: the message did
// not say whether the bytes were usable, and the log had no bundle id).
func TestFaultPackToStdoutSealNotWritten(t *testing.T) {
	e := newFaultEnv(t)
	input := e.input(t, "case", 4<<20)
	sealPath := filepath.Join(e.dir, "out.minisig")
	o := e.takenWhileRunning(t, sealPath, "pack", "-i", "alice.id", "-r", "bob.card", "-o", "-", "--seal", sealPath, "--default-category", "other", "--no-progress", input)
	requireFailure(t, "pack -o - --seal", o, exitError, "the bundle on standard output is complete", "its seal was not written", "out.minisig")
	bundle := filepath.Join(e.dir, "out.dossier")
	if err := os.WriteFile(bundle, []byte(o.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustRun(t, nil, "verify", bundle, "-i", "bob.id", "--from", "alice.card")
	id := regexp.MustCompile(`bundle ([0-9a-f]{32})`).FindStringSubmatch(o.stderr)
	if id == nil {
		t.Fatalf("the message names no bundle id: %s", o.stderr)
	}
	if log := e.mustRun(t, nil, "--json", "log"); !strings.Contains(log.stdout, id[1]) {
		t.Fatalf("the custody log does not name bundle %s:\n%s", id[1], log.stdout)
	}
	// So a receipt for it is matched to this pack (found by review: only
	// packs that ended well were looked for).
	receiptPath := filepath.Join(e.dir, "r.json")
	e.mustRun(t, nil, "open", bundle, "-i", "bob.id", "--from", "alice.card", "-o", filepath.Join(e.dir, "opened"), "--receipt", receiptPath)
	if o := e.mustRun(t, nil, "receipt", "verify", receiptPath, "--from", "bob.card", "--bundle", bundle); !strings.Contains(o.stdout, "a recipient of bundle "+id[1]+" (custody log entry") {
		t.Fatalf("receipt verify did not find the pack in the log:\n%s", o.stdout)
	}
}

// open --receipt makes the receipt's file before the documents are
// published, so that one that cannot be written fails before them; one
// that still fails afterwards (its name taken meanwhile) says how to get
// a receipt (found by an audit: a second open was refused as a replay,
// and nothing said that --allow-reopen was the way).
func TestFaultOpenReceiptNotWritten(t *testing.T) {
	e := newFaultEnv(t)
	bundle := e.bundle(t, "b", 4<<20)
	receiptPath := filepath.Join(e.dir, "b.receipt")
	o := e.takenWhileRunning(t, receiptPath, append(openArgs(bundle, filepath.Join(e.dir, "opened")), "--receipt", receiptPath)...)
	requireFailure(t, "open --receipt", o, exitError, "the bundle was opened into", "the receipt could not be written", "--allow-reopen")
	// The documents were published, so the bundle counts as opened: the
	// way the message gives is --allow-reopen.
	requireFailure(t, "a second open", e.run(t, nil, openArgs(bundle, filepath.Join(e.dir, "again"))...), exitIntegrity, "already opened on this machine")
	e.mustRun(t, nil, append(openArgs(bundle, filepath.Join(e.dir, "again")), "--allow-reopen", "--receipt", filepath.Join(e.dir, "b2.receipt"))...)
	e.mustRun(t, nil, "receipt", "verify", filepath.Join(e.dir, "b2.receipt"), "--from", "bob.card", "--bundle", bundle)
}

// requireNamespaces skips the test unless a tmpfs can be mounted in an
// unprivileged user+mount namespace.
func requireNamespaces(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("skipped: unshare (util-linux) is not installed, so no tmpfs can be mounted without root")
	}
	out, err := exec.Command("unshare", "-Urm", "sh", "-c", `mount -t tmpfs -o size=64k tmpfs "$1"`, "sh", t.TempDir()).CombinedOutput()
	if err != nil {
		t.Skipf("skipped: this machine does not allow a tmpfs in an unprivileged user+mount namespace (unshare -Urm): %v: %s", err, bytes.TrimSpace(out))
	}
}

// inTmpfs runs script in a new user+mount namespace where a tmpfs of size
// is mounted at $D (a fresh folder). Before the namespace ends, the tmpfs's
// contents are copied to $W/snap, whose path it returns with the script's
// outcome. Dossier's outputs are meant to go to files in $W.
func (e *faultEnv) inTmpfs(t *testing.T, size, script string) (string, outcome) {
	t.Helper()
	d, w := t.TempDir(), t.TempDir()
	full := `set -u
mount -t tmpfs -o size=` + size + ` tmpfs "$D" || exit 97
` + script + `
mkdir "$W/snap" && cp -a "$D/." "$W/snap/"`
	o := e.sh(t, `exec unshare -Urm sh -c "$SCRIPT"`, "SCRIPT="+full, "D="+d, "W="+w)
	if o.code == 98 {
		t.Skipf("skipped: this machine does not allow remounting a tmpfs read-only in an unprivileged user+mount namespace: %s", o.stderr)
	}
	if o.code != 0 {
		t.Fatalf("the namespace script failed (exit %d): %s", o.code, o.stderr)
	}
	return w, o
}

// readRun reads the exit code and stderr a script saved as $W/NAME.rc and
// $W/NAME.err.
func readRun(t *testing.T, w, name string) outcome {
	t.Helper()
	rc, err := os.ReadFile(filepath.Join(w, name+".rc"))
	if err != nil {
		t.Fatal(err)
	}
	stderr, _ := os.ReadFile(filepath.Join(w, name+".err"))
	o := outcome{stderr: string(stderr), code: -2}
	if n, err := strconv.Atoi(strings.TrimSpace(string(rc))); err == nil {
		o.code = n
	}
	return o
}

func requireFailure(t *testing.T, what string, o outcome, code int, msgs ...string) {
	t.Helper()
	if o.code != code {
		t.Errorf("%s: exit %d, want %d\n%s", what, o.code, code, o.stderr)
		return
	}
	for _, m := range msgs {
		if !strings.Contains(o.stderr, m) {
			t.Errorf("%s: stderr does not say %q:\n%s", what, m, o.stderr)
		}
	}
}

// A full disk (a 2 MiB tmpfs): pack, pack --force over an existing file, and
// open fail with exit 1 and a message about space; nothing is published,
// no temporary is left, and the existing files are byte-identical.
func TestFaultDiskFull(t *testing.T) {
	requireNamespaces(t)
	e := newFaultEnv(t)
	input := e.input(t, "case", 3<<20)
	bundle := e.bundle(t, "sealed", 3<<20)
	w, _ := e.inTmpfs(t, "2m", `
printf precious > "$D/keep.txt"
printf 'an earlier bundle' > "$D/existing.dossier"
"$BIN" pack -i alice.id -r bob.card -o "$D/case.dossier" --default-category other `+input+` 2>"$W/pack.err"; echo $? >"$W/pack.rc"
"$BIN" pack --force -i alice.id -r bob.card -o "$D/existing.dossier" --default-category other `+input+` 2>"$W/force.err"; echo $? >"$W/force.rc"
"$BIN" open `+bundle+` -i bob.id --from alice.card -o "$D/opened" 2>"$W/open.err"; echo $? >"$W/open.rc"
`)
	for _, name := range []string{"pack", "force", "open"} {
		requireFailure(t, name, readRun(t, w, name), exitError, "no space left on device", "the disk is full")
	}
	snap := filepath.Join(w, "snap")
	requireNames(t, snap, "existing.dossier", "keep.txt")
	requireContent(t, filepath.Join(snap, "keep.txt"), "precious")
	requireContent(t, filepath.Join(snap, "existing.dossier"), "an earlier bundle")
}

// A read-only file system: pack, open, extract and keygen fail with exit 1
// and say so; nothing changes.
func TestFaultReadOnly(t *testing.T) {
	requireNamespaces(t)
	e := newFaultEnv(t)
	input := e.input(t, "case", 64<<10)
	bundle := e.bundle(t, "sealed", 64<<10)
	w, _ := e.inTmpfs(t, "2m", `
printf precious > "$D/keep.txt"
mount -o remount,ro "$D" 2>/dev/null || mount -o remount,bind,ro "$D" || exit 98
"$BIN" pack -i alice.id -r bob.card -o "$D/case.dossier" --default-category other `+input+` 2>"$W/pack.err"; echo $? >"$W/pack.rc"
"$BIN" open `+bundle+` -i bob.id --from alice.card -o "$D/opened" 2>"$W/open.err"; echo $? >"$W/open.rc"
"$BIN" extract `+bundle+` -i bob.id --from alice.card sealed/evidence.bin -o "$D/evidence.bin" 2>"$W/extract.err"; echo $? >"$W/extract.rc"
"$BIN" keygen --name Carol --identity "$D/carol.id" --card "$D/carol.card" --no-passphrase 2>"$W/keygen.err"; echo $? >"$W/keygen.rc"
`)
	for _, name := range []string{"pack", "open", "extract", "keygen"} {
		requireFailure(t, name, readRun(t, w, name), exitError, "read-only file system", "write somewhere else")
	}
	snap := filepath.Join(w, "snap")
	requireNames(t, snap, "keep.txt")
	requireContent(t, filepath.Join(snap, "keep.txt"), "precious")
}

// A file-size limit (ulimit -f, as on FAT32 at 4 GiB): the write fails
// with EFBIG (Go ignores SIGXFSZ, so the process is not killed), and pack
// and open exit 1 saying the file is too large, leaving nothing.
func TestFaultFileTooLarge(t *testing.T) {
	e := newFaultEnv(t)
	input := e.input(t, "case", 3<<20)
	bundle := e.bundle(t, "sealed", 3<<20)
	out := t.TempDir()
	// sh counts ulimit -f in 512-byte blocks (dash) or 1 KiB (bash): 1 or
	// 2 MiB, both smaller than what is written.
	for _, tt := range []struct{ name, cmd string }{
		{"pack", `"$BIN" pack -i alice.id -r bob.card -o "$OUT/case.dossier" --default-category other ` + input},
		{"open", `"$BIN" open ` + bundle + ` -i bob.id --from alice.card -o "$OUT/opened"`},
	} {
		o := e.sh(t, `ulimit -f 2048 && exec `+tt.cmd, "OUT="+out)
		requireFailure(t, tt.name, o, exitError, "file too large", "ulimit -f")
		requireNames(t, out)
	}
}

// fsync failing with EIO (as a disk reporting a write error does) while
// pack, open or keygen make their output durable: exit 1, nothing
// published, no temporary left.
func TestFaultSyncFails(t *testing.T) {
	e := newFaultEnv(t)
	input := e.input(t, "case", 64<<10)
	bundle := e.bundle(t, "sealed", 64<<10)
	out := t.TempDir()
	failSync := []string{failSyncEnv + "=1"}
	if o := e.run(t, failSync, "version"); o.code == hookFailedExit {
		t.Skipf("skipped: this machine does not let a process make its own fsync fail (seccomp): %s", strings.TrimSpace(o.stderr))
	}
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"pack", packArgs(filepath.Join(out, "case.dossier"), input)},
		{"open", openArgs(bundle, filepath.Join(out, "opened"))},
		{"keygen", []string{"keygen", "--name", "Carol", "--identity", filepath.Join(out, "carol.id"), "--card", filepath.Join(out, "carol.card"), "--no-passphrase"}},
	} {
		o := e.run(t, failSync, tt.args...)
		requireFailure(t, tt.name, o, exitError, "input/output error", "the storage reported an error")
		requireNames(t, out)
	}
	requireNoTemps(t, e.dir)
}

// Files the user may not read are found by plan, all of them, before pack
// starts; before, plan said "ready" and pack failed on the first of them
// part-way through. The permission bits are what the OS enforces only for
// others than root, so dossier runs as nobody (setpriv), from a copy of
// itself in a folder nobody may enter.
func TestFaultUnreadableFilesArePlanned(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: running dossier as another user (setpriv) needs root")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("skipped: setpriv (util-linux) is not installed")
	}
	e := newFaultEnv(t)
	dir, err := os.MkdirTemp("", "dossier-unreadable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data, err := os.ReadFile(e.bin)
	if err != nil {
		t.Fatal(err)
	}
	card, err := os.ReadFile(filepath.Join(e.dir, "bob.card"))
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{
		"dossier": data, "bob.card": card, "case/a.txt": []byte("a"),
		"case/secret.txt": []byte("s"), "case/sub/also.txt": []byte("s"), "case/sub/fine.txt": []byte("f"),
	} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "dossier"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"case/secret.txt", "case/sub/also.txt"} {
		if err := os.Chmod(filepath.Join(dir, name), 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{dir, filepath.Join(dir, "case"), filepath.Join(dir, "case", "sub")} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	asNobody := func(args ...string) outcome {
		cmd := exec.Command(setpriv, append([]string{"--reuid=65534", "--regid=65534", "--clear-groups",
			"env", "DOSSIER_HOME=" + filepath.Join(dir, "home-nobody"), filepath.Join(dir, "dossier")}, args...)...)
		cmd.Dir = dir
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		o, err := result(cmd.Run(), &stdout, &stderr)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	if o := asNobody("version"); o.code != 0 {
		t.Skipf("skipped: this machine does not let root run a program as nobody: exit %d: %s", o.code, o.stderr)
	}
	o := asNobody("plan", "-r", "bob.card", "--default-category", "other", "case")
	requireFailure(t, "plan", o, exitError,
		"2 files cannot be read (permission denied): case/secret.txt; case/sub/also.txt (make them readable to you, or leave them out with --exclude)")
	o = asNobody("plan", "-r", "bob.card", "--default-category", "other", "--exclude", "case/secret.txt", "--exclude", "case/sub/also.txt", "case")
	if o.code != 0 || !strings.Contains(o.stdout, "ready") {
		t.Fatalf("plan with the unreadable files excluded: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
}

// A pack to standard output that fails part-way (a later file changed)
// says that what it already wrote there is an incomplete bundle: a file
// the shell made of it is not pack's to remove, and looks like a bundle.
func TestFaultPackToStdoutFailsPartWay(t *testing.T) {
	e := newFaultEnv(t)
	input := e.input(t, "case", 4<<20)
	later := filepath.Join(input, "z-later.txt")
	if err := os.WriteFile(later, []byte("planned"), 0o644); err != nil {
		t.Fatal(err)
	}
	release := filepath.Join(t.TempDir(), "go")
	p := e.start(t, release, "pack", "-i", "alice.id", "-r", "bob.card", "-o", "-", "--default-category", "other", "--no-progress", input)
	if err := os.WriteFile(later, []byte("changed after planning"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	o := p.wait(t)
	requireFailure(t, "pack -o -", o, exitError, "z-later.txt", "while packing",
		"already written to standard output are an incomplete bundle: discard them")
	if len(o.stdout) == 0 {
		t.Fatal("nothing was written to standard output before the failure; the test shows nothing")
	}

	// Interrupted, it says so too, besides that nothing was published.
	p = e.start(t, "", "pack", "-i", "alice.id", "-r", "bob.card", "-o", "-", "--default-category", "other", "--no-progress", filepath.Join(e.dir, "case"))
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	requireFailure(t, "pack -o - interrupted", p.wait(t), exitInterrupted,
		"interrupted; temporary files were removed and nothing was published; the ", "already written to standard output are an incomplete bundle: discard them")
}
