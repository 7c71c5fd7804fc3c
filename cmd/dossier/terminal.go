package main

import (
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
