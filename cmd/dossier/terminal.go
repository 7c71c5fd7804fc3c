package main

import (
	"bufio"
	"context"
	"errors"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// errNoTerminal is returned by openTerminal when there is no terminal.
var errNoTerminal = errors.New("no terminal")

// terminal is where questions are asked and passphrases typed: the
// controlling terminal (/dev/tty) on Unix, the console (CONIN$ and
// CONOUT$) on Windows. Standard input and output stay free for data.
type terminal struct {
	in, out *os.File

	mu        sync.Mutex
	reading   bool // a read goroutine runs
	abandoned bool // and was given up on (see abandon)
}

// Close closes the terminal's files, unless a read given up on still
// uses them: that read closes them when it ends.
func (t *terminal) Close() error {
	t.mu.Lock()
	abandoned := t.abandoned
	t.mu.Unlock()
	if abandoned {
		return nil
	}
	return t.closeFiles()
}

// startRead and endRead bracket a read goroutine; endRead closes the
// files if the read was given up on.
func (t *terminal) startRead() {
	t.mu.Lock()
	t.reading = true
	t.mu.Unlock()
}

func (t *terminal) endRead() {
	t.mu.Lock()
	t.reading = false
	closeNow := t.abandoned
	t.mu.Unlock()
	if closeNow {
		t.closeFiles()
	}
}

func (t *terminal) closeFiles() error {
	err := t.in.Close()
	if t.out != t.in {
		if cerr := t.out.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// readPassword reads a line without echo, as term.ReadPassword does, but
// gives up when ctx is done (Ctrl-C at the prompt), putting the terminal
// back as it was: the signal does not end a blocked read, and a second
// Ctrl-C would kill the process with echo still off. The read it gives up
// keeps the terminal open (see abandon).
func (t *terminal) readPassword(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err // interrupted before the question
	}
	fd := int(t.in.Fd())
	state, err := term.GetState(fd)
	if err != nil {
		return nil, err
	}
	type answer struct {
		b   []byte
		err error
	}
	got := make(chan answer, 1)
	t.startRead()
	go func() {
		defer t.endRead()
		b, err := term.ReadPassword(fd)
		got <- answer{b, err}
	}()
	select {
	case a := <-got:
		if ctx.Err() != nil {
			return nil, ctx.Err() // a read the interrupt ended (Windows)
		}
		return a.b, a.err
	case <-ctx.Done():
		t.abandon()
		term.Restore(fd, state)
		// The reader may not have turned echo off yet when the interrupt
		// came: let it, then put the terminal back once more.
		time.Sleep(abandonSettle)
		term.Restore(fd, state)
		return nil, ctx.Err()
	}
}

// abandonSettle is how long readPassword lets a reader it gives up on
// reach its read before restoring the terminal a second time.
const abandonSettle = 20 * time.Millisecond

// abandon marks the terminal as still read by a goroutine that was given
// up on: Close leaves its files open, so that their descriptors are not
// reused (by the custody log written next) while that read goes on; the
// read closes them if it ever ends. The process ends soon after anyway.
func (t *terminal) abandon() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.reading {
		t.abandoned = true
	}
}

// readLine reads one answer line, giving up when ctx is done.
func (t *terminal) readLine(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	type answer struct {
		line string
		err  error
	}
	got := make(chan answer, 1)
	t.startRead()
	go func() {
		defer t.endRead()
		line, err := bufio.NewReader(t.in).ReadString('\n')
		got <- answer{line, err}
	}()
	select {
	case a := <-got:
		return a.line, a.err
	case <-ctx.Done():
		t.abandon()
		return "", ctx.Err()
	}
}

// openTerminal opens the terminal to ask a question. Tests replace it.
var openTerminal = func() (*terminal, error) {
	in, out, err := openConsole()
	if err != nil {
		return nil, errNoTerminal
	}
	t := &terminal{in: in, out: out}
	if !term.IsTerminal(int(in.Fd())) || !term.IsTerminal(int(out.Fd())) {
		t.Close()
		return nil, errNoTerminal
	}
	return t, nil
}
