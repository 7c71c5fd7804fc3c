//go:build unix

package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Found by review: --passphrase-file <(…), which keeps a passphrase off
// the disk, failed with "/dev/fd/63 is not a regular file". A pipe is
// read, once.
func TestPassphraseFileMayBeAPipe(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DOSSIER_HOME", filepath.Join(dir, "home"))
	t.Setenv("DOSSIER_PASSPHRASE", "")
	p := func(n string) string { return filepath.Join(dir, n) }
	feed := func(name, pass string) string {
		t.Helper()
		path := p(name)
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		go func() {
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			f.WriteString(pass + "\n")
			f.Close()
		}()
		return path
	}
	var stderr bytes.Buffer
	if code := run([]string{"keygen", "--name", "P", "--identity", p("p.id"), "--card", p("p.card"), "--passphrase-file", feed("f1", "correct horse")}, nil, io.Discard, &stderr); code != 0 {
		t.Fatalf("keygen with a pipe: exit %d: %s", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"key", "fingerprint", p("p.id"), "--passphrase-file", feed("f2", "correct horse")}, nil, io.Discard, &stderr); code != 0 {
		t.Fatalf("unlocking with a pipe: exit %d: %s", code, stderr.String())
	}
}
