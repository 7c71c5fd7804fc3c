package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// sandbox makes a home folder and keys for Alice and Bob, and a file of
// size bytes to pack (case/big.bin), and returns the folder.
func sandbox(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("DOSSIER_HOME", filepath.Join(dir, "home"))
	for _, name := range []string{"alice", "bob"} {
		if code := run([]string{"keygen", "--name", name, "--identity", filepath.Join(dir, name+".id"),
			"--card", filepath.Join(dir, name+".card"), "--no-passphrase"}, nil, io.Discard, io.Discard); code != 0 {
			t.Fatalf("keygen %s: exit %d", name, code)
		}
	}
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7919 >> 3)
	}
	if err := os.MkdirAll(filepath.Join(dir, "case"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "case", "big.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
