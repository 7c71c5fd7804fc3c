package spool

import (
	"bytes"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
)

const secret = "case/witness-statements/Jane Doe.pdf"

func filled(t *testing.T, dir string) (*Spool, []byte) {
	t.Helper()
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var want bytes.Buffer
	for i := 0; i < 5000; i++ { // past one age chunk (64 KiB)
		want.WriteString(secret)
	}
	if _, err := s.Write(want.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(); err != nil {
		t.Fatal(err)
	}
	return s, want.Bytes()
}

func TestReadBackTwice(t *testing.T) {
	s, want := filled(t, testtmp.Dir(t))
	for range 2 {
		r, err := s.Reader()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("read back %d bytes (%v), want %d", len(got), err, len(want))
		}
	}
	if _, err := s.Write([]byte("x")); err == nil {
		t.Fatal("a write after Finish was taken")
	}
}

func TestEncryptedOnDisk(t *testing.T) {
	s, want := filled(t, testtmp.Dir(t))
	raw, err := io.ReadAll(io.NewSectionReader(s.f, 0, s.size))
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(raw)) < int64(len(want)) || bytes.Contains(raw, []byte("witness")) {
		t.Fatalf("the spool's file (%d bytes) holds the names in the clear", len(raw))
	}
}

func TestChangedOnDiskIsAnError(t *testing.T) {
	s, _ := filled(t, testtmp.Dir(t))
	b := make([]byte, 1)
	if _, err := s.f.ReadAt(b, s.size/2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.f.WriteAt([]byte{b[0] ^ 1}, s.size/2); err != nil {
		t.Fatal(err)
	}
	r, err := s.Reader()
	if err == nil {
		_, err = io.ReadAll(r)
	}
	if err == nil || !strings.Contains(err.Error(), "spool") {
		t.Fatalf("a changed spool read as %v", err)
	}
}

func TestNothingLeftBehind(t *testing.T) {
	dir := testtmp.Dir(t)
	s, _ := filled(t, dir)
	entries, _ := os.ReadDir(dir)
	if runtime.GOOS != "windows" && len(entries) != 0 {
		t.Errorf("the spool has a name while in use: %v", entries)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
	if _, err := s.Reader(); err == nil {
		t.Error("a closed spool gave a reader")
	}
}

func TestReadBeforeFinish(t *testing.T) {
	s, err := New(testtmp.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Reader(); err == nil {
		t.Fatal("a reader before Finish")
	}
}

func TestNoFolder(t *testing.T) {
	if _, err := New(testtmp.Dir(t) + "/missing"); err == nil || !strings.HasPrefix(err.Error(), "spool: ") {
		t.Fatalf("New in a missing folder: %v", err)
	}
}
