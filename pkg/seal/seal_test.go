package seal

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dossier-evidence/dossier/pkg/identity"
)

func newID(t *testing.T, name string) *identity.Identity {
	t.Helper()
	id, err := identity.Generate(name, "Org", nil, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func digest(b []byte) []byte {
	h := NewHasher()
	h.Write(b)
	return h.Sum(nil)
}

func TestSignParseVerify(t *testing.T) {
	alice, mallory := newID(t, "Alice"), newID(t, "Mallory")
	data := []byte("the encrypted bytes of a bundle")
	for _, info := range []Info{{BundleID: strings.Repeat("ab", 16)}, {BundleID: strings.Repeat("cd", 16), Volume: 2, Volumes: 3}} {
		raw, err := Sign(alice.Key, alice.Card, digest(data), info)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if s.Info != info || s.Fingerprint != alice.Card.Fingerprint().Hex() {
			t.Fatalf("parsed %+v, want %+v", s.Info, info)
		}
		if err := s.Verify(alice.Card, digest(data)); err != nil {
			t.Fatalf("verify: %v", err)
		}
		if err := s.Verify(alice.Card, digest(append(data, 'x'))); !errors.Is(err, ErrInvalid) {
			t.Fatalf("changed bytes: %v", err)
		}
		var ws *WrongSignerError
		if err := s.Verify(mallory.Card, digest(data)); !errors.As(err, &ws) || !errors.Is(err, ErrInvalid) {
			t.Fatalf("wrong signer: %v", err)
		}
	}
}

// TestTamperedSeal changes each part of a seal; every change is refused by
// Parse or Verify.
func TestTamperedSeal(t *testing.T) {
	alice := newID(t, "Alice")
	data := []byte("bundle bytes")
	raw, err := Sign(alice.Key, alice.Card, digest(data), Info{BundleID: strings.Repeat("01", 16), Volume: 1, Volumes: 2})
	if err != nil {
		t.Fatal(err)
	}
	edits := map[string]func(string) string{
		"bundle id":      func(s string) string { return strings.Replace(s, "bundle=0101", "bundle=0202", 1) },
		"volume":         func(s string) string { return strings.Replace(s, "volume=1/2", "volume=2/2", 1) },
		"drop volume":    func(s string) string { return strings.Replace(s, " volume=1/2", "", 1) },
		"extra line":     func(s string) string { return s + "\n" },
		"no newline":     func(s string) string { return strings.TrimSuffix(s, "\n") },
		"ml-dsa flipped": func(s string) string { i := strings.Index(s, "ml-dsa-65=") + 20; return s[:i] + flip(s[i]) + s[i+1:] },
	}
	for name, edit := range edits {
		mod := edit(string(raw))
		s, err := Parse([]byte(mod))
		if err == nil {
			err = s.Verify(alice.Card, digest(data))
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	// Every byte of the signature lines matters.
	lines := strings.SplitAfter(string(raw), "\n")
	for _, li := range []int{1, 3} {
		for i := 0; i < len(lines[li])-3; i += 7 {
			mod := append([]string(nil), lines...)
			mod[li] = mod[li][:i] + flip(mod[li][i]) + mod[li][i+1:]
			s, err := Parse([]byte(strings.Join(mod, "")))
			if err == nil {
				err = s.Verify(alice.Card, digest(data))
			}
			if err == nil {
				t.Fatalf("line %d byte %d changed but the seal verifies", li, i)
			}
		}
	}
}

// A seal whose line endings were converted, or whose key id alone was
// changed, is refused with a message that says so.
func TestSealMessages(t *testing.T) {
	alice := newID(t, "Alice")
	data := []byte("bundle bytes")
	raw, err := Sign(alice.Key, alice.Card, digest(data), Info{BundleID: strings.Repeat("01", 16)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse(bytes.ReplaceAll(raw, []byte("\n"), []byte("\r\n")))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "Windows line endings (CRLF)") {
		t.Errorf("CRLF seal: %v", err)
	}
	lines := strings.SplitAfter(string(raw), "\n")
	blob, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(lines[1], "\n"))
	if err != nil {
		t.Fatal(err)
	}
	blob[5] ^= 1 // inside the key id (bytes 2-9)
	lines[1] = base64.StdEncoding.EncodeToString(blob) + "\n"
	s, err := Parse([]byte(strings.Join(lines, "")))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Verify(alice.Card, digest(data))
	var ws *WrongSignerError
	if !errors.Is(err, ErrInvalid) || errors.As(err, &ws) || !strings.Contains(err.Error(), "another minisign key id: the seal was altered") {
		t.Errorf("changed key id: %v", err)
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// TestStockMinisign checks the seal with Debian's minisign, as a courier would.
func TestStockMinisign(t *testing.T) {
	bin, err := exec.LookPath("minisign")
	if err != nil {
		if os.Getenv("DOSSIER_REQUIRE_TOOLS") != "" {
			t.Fatal("minisign is required (scripts/test.sh installs it)")
		}
		t.Skip("minisign not installed")
	}
	alice, mallory := newID(t, "Alice"), newID(t, "Mallory")
	dir := testtmp.Dir(t)
	data := make([]byte, 300<<10)
	rand.Read(data)
	bundle := filepath.Join(dir, "case.dossier")
	os.WriteFile(bundle, data, 0o644)
	raw, err := Sign(alice.Key, alice.Card, digest(data), Info{BundleID: strings.Repeat("9f", 16)})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(bundle+Ext, raw, 0o644)
	os.WriteFile(filepath.Join(dir, "alice.pub"), []byte(PublicKey(alice.Card)), 0o644)
	os.WriteFile(filepath.Join(dir, "mallory.pub"), []byte(PublicKey(mallory.Card)), 0o644)

	out, err := exec.Command(bin, "-Vm", bundle, "-p", filepath.Join(dir, "alice.pub")).CombinedOutput()
	if err != nil {
		t.Fatalf("minisign rejects the seal: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("bundle="+strings.Repeat("9f", 16))) {
		t.Errorf("minisign output lacks the trusted comment:\n%s", out)
	}
	if out, err := exec.Command(bin, "-Vm", bundle, "-p", filepath.Join(dir, "mallory.pub")).CombinedOutput(); err == nil {
		t.Fatalf("minisign accepts the seal with the wrong key:\n%s", out)
	}
	data[1000] ^= 1
	os.WriteFile(bundle, data, 0o644)
	if out, err := exec.Command(bin, "-Vm", bundle, "-p", filepath.Join(dir, "alice.pub")).CombinedOutput(); err == nil {
		t.Fatalf("minisign accepts a changed bundle:\n%s", out)
	}
}

// Reserve makes the seal's temporary and its room at once; Write puts the
// seal in place, and Abort leaves nothing.
func TestReserveWriteAbort(t *testing.T) {
	alice := newID(t, "Alice")
	dir := testtmp.Dir(t)
	path := filepath.Join(dir, "b.minisig")
	raw, err := Sign(alice.Key, alice.Card, digest([]byte("bundle")), Info{BundleID: strings.Repeat("ab", 16)})
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) > reservedSize {
		t.Fatalf("a seal of %d bytes does not fit the %d Reserve takes", len(raw), reservedSize)
	}
	p, err := Reserve(path)
	if err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 || !strings.Contains(entries[0].Name(), ".b.minisig.dossier-tmp-") {
		t.Fatalf("after Reserve the folder holds %v", entries)
	}
	if err := p.Write(raw); err != nil {
		t.Fatal(err)
	}
	p.Abort() // after Write: nothing to do
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, raw) {
		t.Fatalf("the seal file holds %d bytes (%v), want the %d of the seal", len(got), err, len(raw))
	}
	if _, err := Reserve(path); !errors.Is(err, ErrExists) {
		t.Fatalf("Reserve of an existing seal: %v", err)
	}
	other := filepath.Join(dir, "c.minisig")
	p, err = Reserve(other)
	if err != nil {
		t.Fatal(err)
	}
	p.Abort()
	if err := p.Write(raw); err == nil {
		t.Fatal("Write after Abort succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("after Abort the folder holds %v", entries)
	}
}
