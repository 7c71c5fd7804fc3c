package main

import (
	"bufio"
	"context"
	"errors"
	"os"

	"golang.org/x/term"
)

// errNoTerminal is returned by openTerminal when there is no terminal.
var errNoTerminal = errors.New("no terminal")

// terminal is where questions are asked and passphrases typed: the
// controlling terminal (/dev/tty) on Unix, the console (CONIN$ and
// CONOUT$) on Windows. Standard input and output stay free for data.
type terminal struct {
	in, out *os.File
}

// Close closes the terminal's files.
func (t *terminal) Close() error {
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
// Ctrl-C would kill the process with echo still off.
func (t *terminal) readPassword(ctx context.Context) ([]byte, error) {
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
	go func() {
		b, err := term.ReadPassword(fd)
		got <- answer{b, err}
	}()
	select {
	case a := <-got:
		return a.b, a.err
	case <-ctx.Done():
		term.Restore(fd, state)
		return nil, ctx.Err()
	}
}

// readLine reads one answer line, giving up when ctx is done.
func (t *terminal) readLine(ctx context.Context) (string, error) {
	type answer struct {
		line string
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		line, err := bufio.NewReader(t.in).ReadString('\n')
		got <- answer{line, err}
	}()
	select {
	case a := <-got:
		return a.line, a.err
	case <-ctx.Done():
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
