package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// passphrase returns the passphrase from --passphrase-file, then
// DOSSIER_PASSPHRASE, then a prompt on the terminal. With confirm, the
// prompt asks twice.
func (g *globalOptions) passphrase(prompt string, confirm bool) (string, error) {
	if g.PassphraseFile != "" {
		data, err := g.readPassphraseFile(g.PassphraseFile)
		if err != nil {
			// Without the path: a passphrase typed where its file's name
			// belongs would otherwise be kept for good in the custody log.
			var pe *fs.PathError
			if !errors.As(err, &pe) {
				return "", errors.New("the file given with --passphrase-file cannot be used: give a regular file or a pipe of at most 64 KiB whose first line is the passphrase")
			}
			return "", fmt.Errorf("read the file given with --passphrase-file: %w", pe.Err)
		}
		line, _, _ := bytes.Cut(data, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			return "", usagef("the passphrase file %s is empty", g.PassphraseFile)
		}
		return string(line), nil
	}
	if p := os.Getenv("DOSSIER_PASSPHRASE"); p != "" {
		return p, nil
	}
	tty, err := openTerminal()
	if err != nil {
		return "", usagef("a passphrase is needed and there is no terminal to ask on: set DOSSIER_PASSPHRASE or pass --passphrase-file FILE")
	}
	defer tty.Close()
	read := func(p string) (string, error) {
		fmt.Fprint(tty.out, p)
		b, err := tty.readPassword(g.context())
		fmt.Fprintln(tty.out)
		if err != nil {
			return "", fmt.Errorf("read passphrase: %w", err)
		}
		return string(b), nil
	}
	p, err := read(prompt)
	if err != nil {
		return "", err
	}
	if p == "" {
		return "", usagef("empty passphrase: choose one, or use --no-passphrase (keygen only) if the key is protected otherwise")
	}
	if confirm {
		again, err := read("Repeat passphrase: ")
		if err != nil {
			return "", err
		}
		if again != p {
			return "", errors.New("the passphrases do not match; nothing was written")
		}
	}
	return p, nil
}

// readPassphraseFile reads the passphrase file: a regular file, or a pipe
// such as bash's <(…) gives, which keeps the passphrase off the disk. A
// pipe can be read once, so what it gave is kept for a second question
// in the same run.
func (g *globalOptions) readPassphraseFile(path string) ([]byte, error) {
	if g.passFileRead {
		return g.passFileData, g.passFileErr
	}
	g.passFileRead = true
	g.passFileData, g.passFileErr = readBounded(path, 64<<10, true, "a passphrase file")
	if st, err := os.Stat(path); g.passFileErr == nil && err == nil && st.Mode().IsRegular() {
		g.warnIfShared("passphrase file", path)
	}
	return g.passFileData, g.passFileErr
}
