//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// pty is a pseudo-terminal: what is written to the terminal side (tty) is
// read from the controlling side and kept in out.
type pty struct {
	master, tty *os.File
	ttyName     string
	mu          sync.Mutex
	out         bytes.Buffer
	done        chan struct{}
}

func openPTY(t *testing.T) *pty {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Skipf("unlock pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Skipf("pseudo-terminal number: %v", err)
	}
	name := fmt.Sprintf("/dev/pts/%d", n)
	s, err := os.OpenFile(name, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("open %s: %v", name, err)
	}
	if !term.IsTerminal(int(s.Fd())) {
		t.Fatalf("%s is not a terminal", name)
	}
	p := &pty{master: m, tty: s, ttyName: name, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		buf := make([]byte, 4096)
		for {
			n, err := m.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { p.close() })
	return p
}

// close closes the terminal side and returns all that was written to it.
func (p *pty) close() string {
	if p.tty != nil {
		p.tty.Close()
		p.tty = nil
		<-p.done // the read fails with EIO once no terminal side is open
		p.master.Close()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// The progress bar is drawn on standard error when it is a terminal, and
// never when it is a pipe, nor with --no-progress, --quiet or --json.
func TestProgressBarOnlyOnATerminal(t *testing.T) {
	dir := sandbox(t, 3<<20)
	p := func(name string) string { return filepath.Join(dir, name) }
	n := 0
	pack := func(stderr *os.File, extra ...string) int {
		n++
		args := append(extra, "pack", "-i", p("alice.id"), "-r", p("bob.card"), "-o", p(fmt.Sprintf("out%d.dossier", n)),
			"--default-category", "other", p("case"))
		return run(args, nil, io.Discard, stderr)
	}

	term := openPTY(t)
	if code := pack(term.tty); code != 0 {
		t.Fatalf("pack on a terminal: exit %d", code)
	}
	if code := run([]string{"verify", p("out1.dossier"), "-i", p("bob.id"), "--from", p("alice.card")}, nil, io.Discard, term.tty); code != 0 {
		t.Fatalf("verify on a terminal: exit %d", code)
	}
	shown := term.close()
	t.Logf("the terminal showed %q", shown)
	for _, want := range []string{"packing", "MB", "verifying"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the terminal did not show %q; it showed %q", want, shown)
		}
	}

	for _, flag := range []string{"--no-progress", "--quiet", "--json"} {
		term := openPTY(t)
		if code := pack(term.tty, flag); code != 0 {
			t.Fatalf("pack %s: exit %d", flag, code)
		}
		if shown := term.close(); strings.Contains(shown, "packing") {
			t.Errorf("with %s the terminal showed a bar: %q", flag, shown)
		}
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	piped := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); piped <- b }()
	code := pack(w)
	w.Close()
	if code != 0 {
		t.Fatalf("pack into a pipe: exit %d", code)
	}
	if out := <-piped; len(out) != 0 {
		t.Errorf("a pipe got progress output: %q", out)
	}
}

// A warning while a bar is shown starts its own line: the bar's line is
// blanked first, not continued (found by review: the wait notice of a
// second open was printed after the bar).
func TestWarningOverProgressBar(t *testing.T) {
	term := openPTY(t)
	if err := unix.IoctlSetWinsize(int(term.tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 100}); err != nil {
		t.Fatal(err)
	}
	g := &globalOptions{stderr: term.tty}
	bar := g.newProgress("opening", 100<<20)
	bar.update(50<<20, 100<<20)
	g.warn("something to say\n")
	bar.update(60<<20, 100<<20)
	bar.finish()
	shown := term.close()
	at := strings.Index(shown, "dossier: warning: something to say")
	if at < 0 || !strings.Contains(shown[:at], "opening") {
		t.Fatalf("the terminal did not show the bar, then the warning: %q", shown)
	}
	line := shown[strings.LastIndex(shown[:at], "\n")+1 : at+len("dossier: warning: something to say")]
	if seen := visibleLine(line); !strings.HasPrefix(seen, "dossier: warning: something to say") {
		t.Fatalf("the warning's line reads %q on the terminal, not from its start (written: %q)", seen, line)
	}
}

// visibleLine is what a terminal shows of one line written with carriage
// returns: each part after a return overwrites the line from its start.
func visibleLine(written string) string {
	var line []rune
	for _, part := range strings.Split(written, "\r") {
		for i, r := range []rune(part) {
			if i < len(line) {
				line[i] = r
			} else {
				line = append(line, r)
			}
		}
	}
	return strings.TrimRight(string(line), " ")
}

// askHere makes openTerminal open this pseudo-terminal until t ends.
func (p *pty) askHere(t *testing.T) {
	saved := openTerminal
	t.Cleanup(func() { openTerminal = saved })
	openTerminal = func() (*terminal, error) {
		f, err := os.OpenFile(p.ttyName, os.O_RDWR|unix.O_NOCTTY, 0)
		if err != nil {
			return nil, err
		}
		return &terminal{in: f, out: f}, nil
	}
}

// contacts add asks on the terminal; only yes adds the card.
func TestContactsAddAsksOnTheTerminal(t *testing.T) {
	dir := sandbox(t, 1)
	term := openPTY(t)
	term.askHere(t)
	add := func(answer string) (int, string) {
		if _, err := term.master.WriteString(answer + "\n"); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		code := run([]string{"contacts", "add", filepath.Join(dir, "bob.card")}, nil, &stdout, &stderr)
		return code, stdout.String() + stderr.String()
	}

	code, out := add("no")
	if code != exitError || !strings.Contains(out, "nothing was added") {
		t.Fatalf("answer no: exit %d, %q", code, out)
	}
	book, err := openContacts()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := book.Get("bob"); err == nil {
		t.Fatal("the card was added without a yes")
	}

	code, out = add("y")
	if code != 0 || !strings.Contains(out, `added contact "bob"`) || !strings.Contains(out, "fingerprint: ") {
		t.Fatalf("answer y: exit %d, %q", code, out)
	}
	if _, err := book.Get("bob"); err != nil {
		t.Fatalf("the card was not added: %v", err)
	}
	shown := term.close()
	if !strings.Contains(shown, `Add this card as the contact "bob"? [y/N]`) || !strings.Contains(shown, "Compare the fingerprint") {
		t.Fatalf("the terminal showed %q", shown)
	}
}

// Without a terminal, the question is not asked: a usage error.
func TestContactsAddWithoutTerminal(t *testing.T) {
	dir := sandbox(t, 1)
	saved := openTerminal
	t.Cleanup(func() { openTerminal = saved })
	openTerminal = func() (*terminal, error) { return nil, errNoTerminal }
	var stderr bytes.Buffer
	if code := run([]string{"contacts", "add", filepath.Join(dir, "bob.card")}, nil, io.Discard, &stderr); code != exitUsage {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if _, err := confirm(context.Background(), "?"); !errors.Is(err, errNoTerminal) {
		t.Fatalf("confirm without a terminal: %v", err)
	}
}

// keygen asks for the passphrase twice on the terminal, not on standard
// input, and the key it writes opens with that passphrase only.
func TestKeygenAsksPassphraseOnTheTerminal(t *testing.T) {
	dir := sandbox(t, 1000)
	term := openPTY(t)
	term.askHere(t)
	t.Setenv("DOSSIER_PASSPHRASE", "")
	if _, err := term.master.WriteString("correct horse\ncorrect horse\n"); err != nil {
		t.Fatal(err)
	}
	id := filepath.Join(dir, "carol.id")
	var stderr bytes.Buffer
	code := run([]string{"keygen", "--name", "Carol", "--identity", id, "--card", filepath.Join(dir, "carol.card")},
		strings.NewReader("not the passphrase\n"), io.Discard, &stderr)
	if code != 0 {
		t.Fatalf("keygen: exit %d: %s", code, stderr.String())
	}
	open := func(passphrase string) int {
		t.Setenv("DOSSIER_PASSPHRASE", passphrase)
		return run([]string{"key", "fingerprint", id}, nil, io.Discard, io.Discard)
	}
	if code := open("wrong"); code == 0 {
		t.Fatal("the key opened with a wrong passphrase")
	}
	if code := open("correct horse"); code != 0 {
		t.Fatalf("the key did not open with the typed passphrase: exit %d", code)
	}
	if shown := term.close(); strings.Count(shown, "assphrase") < 2 {
		t.Fatalf("the terminal did not show two prompts: %q", shown)
	}
}

// Ctrl-C at a prompt (the command's context done) ends the passphrase
// question and the yes/no question at once, with the context's error,
// and leaves the terminal echoing (found by an audit: the prompt waited
// for the passphrase, then went on; a second Ctrl-C left echo off).
func TestPromptsEndOnInterrupt(t *testing.T) {
	t.Setenv("DOSSIER_PASSPHRASE", "")
	for _, ask := range []struct {
		name string
		call func(g *globalOptions) error
	}{
		{"passphrase", func(g *globalOptions) error { _, err := g.passphrase("Passphrase: ", false); return err }},
		{"confirm", func(g *globalOptions) error { _, err := confirm(g.context(), "Add? [y/N] "); return err }},
	} {
		term := openPTY(t) // one each: an abandoned read keeps reading its own
		term.askHere(t)
		echoing := func() bool {
			tio, err := unix.IoctlGetTermios(int(term.tty.Fd()), unix.TCGETS)
			if err != nil {
				t.Fatal(err)
			}
			return tio.Lflag&unix.ECHO != 0
		}
		if !echoing() {
			t.Fatal("the terminal does not echo to begin with")
		}
		// Interrupted before the question (found by review: echo was
		// left off when the interrupt came before the reader started).
		gone, cancelGone := context.WithCancel(context.Background())
		cancelGone()
		if err := ask.call(&globalOptions{ctx: gone}); !errors.Is(err, context.Canceled) {
			t.Errorf("%s, interrupted before: %v, want the context's error", ask.name, err)
		}
		if !echoing() {
			t.Errorf("%s, interrupted before: the terminal no longer echoes", ask.name)
		}
		ctx, cancel := context.WithCancel(context.Background())
		g := &globalOptions{ctx: ctx}
		done := make(chan error, 1)
		go func() { done <- ask.call(g) }()
		time.Sleep(100 * time.Millisecond)
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s: %v, want the context's error", ask.name, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: still waiting for an answer 5 s after the interrupt", ask.name)
		}
		if !echoing() {
			t.Errorf("%s: the terminal no longer echoes", ask.name)
		}
		// The abandoned read still holds the terminal (a process would
		// exit now): give it its line, so that it ends and close can.
		if _, err := term.master.WriteString("\n"); err != nil {
			t.Fatal(err)
		}
		term.close()
	}
}
