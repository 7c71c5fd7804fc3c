package identity_test

import (
	"bytes"
	"context"
	"errors"
	"github.com/dossier-evidence/dossier/pkg/internal/testtmp"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/identity"
	"github.com/dossier-evidence/dossier/pkg/internal/canon"
)

func init() { identity.ScryptWorkFactor = 10 }

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func generate(t testing.TB, name string) *identity.Identity {
	t.Helper()
	id, err := identity.Generate(name, "Org of "+name, []category.ID{category.Personal, category.LawEnforcement}, now)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return id
}

func mustMarshal(t testing.TB, id *identity.Identity) []byte {
	t.Helper()
	b, err := id.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pass(s string) func() (string, error) {
	return func() (string, error) { return s, nil }
}

// sameIdentity fails unless a and b hold the same keys and card.
func sameIdentity(t *testing.T, a, b *identity.Identity) {
	t.Helper()
	if a.Age.String() != b.Age.String() {
		t.Fatal("age identities differ")
	}
	ae, am := a.Key.Seeds()
	be, bm := b.Key.Seeds()
	if !bytes.Equal(ae, be) || !bytes.Equal(am, bm) {
		t.Fatal("signing seeds differ")
	}
	if !reflect.DeepEqual(a.Card, b.Card) {
		t.Fatalf("cards differ:\n%+v\n%+v", a.Card, b.Card)
	}
}

func TestGenerate(t *testing.T) {
	id := generate(t, "Ann")
	if err := id.Card.Check(); err != nil {
		t.Fatal(err)
	}
	if id.Card.Name != "Ann" || id.Card.Org != "Org of Ann" || id.Card.Created != "2025-06-01T12:00:00Z" {
		t.Fatalf("card fields %+v", id.Card)
	}
	pk, _ := id.Card.SigningKey()
	if !pk.Equal(id.Key.Public()) {
		t.Fatal("card signing key is not the identity's")
	}
	if id.Card.AgeRecipient != id.Age.Recipient().String() {
		t.Fatal("card age recipient is not the identity's")
	}
	if id.Fingerprint() != id.Card.Fingerprint() {
		t.Fatal("Fingerprint differs from the card's")
	}
	other := generate(t, "Ann")
	if other.Fingerprint() == id.Fingerprint() {
		t.Fatal("two generated identities share a fingerprint")
	}
	if _, err := identity.Generate("", "", nil, now); !errors.Is(err, card.ErrInvalid) {
		t.Fatalf("Generate with an empty name: err = %v", err)
	}
	if _, err := identity.Generate("A\x1b", "", nil, now); !errors.Is(err, card.ErrInvalid) {
		t.Fatalf("Generate with a control character: err = %v", err)
	}
}

func TestPlainRoundTrip(t *testing.T) {
	id := generate(t, "Ann")
	data := mustMarshal(t, id)
	if identity.IsEncrypted(data) {
		t.Fatal("plain file looks encrypted")
	}
	if !bytes.HasPrefix(data, []byte("{\n  \"type\": \"dossier-identity\",\n  \"version\": 1,\n")) {
		t.Fatalf("unexpected layout:\n%s", data)
	}
	called := false
	got, err := identity.Parse(data, func() (string, error) { called = true; return "x", nil })
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if called {
		t.Fatal("passphrase asked for a plain file")
	}
	sameIdentity(t, id, got)
	if again := mustMarshal(t, got); !bytes.Equal(again, data) {
		t.Fatal("re-marshal differs")
	}
	got2, err := identity.Parse(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameIdentity(t, id, got2)
	// The parsed keys work: decrypt what is encrypted to the card.
	r, err := got.Card.Recipient()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, _ := age.Encrypt(&buf, r)
	w.Write([]byte("secret"))
	w.Close()
	rd, err := age.Decrypt(&buf, got.Age)
	if err != nil {
		t.Fatalf("parsed age identity cannot decrypt: %v", err)
	}
	if plain, err := io.ReadAll(rd); err != nil || string(plain) != "secret" {
		t.Fatalf("decrypted %q, %v", plain, err)
	}
}

func TestEncryptedRoundTrip(t *testing.T) {
	id := generate(t, "Ann")
	enc, err := id.MarshalEncrypted("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(enc, []byte("-----BEGIN AGE ENCRYPTED FILE-----\n")) {
		t.Fatalf("not armored: %q", enc[:40])
	}
	if !identity.IsEncrypted(enc) || !identity.IsIdentityFile(enc) {
		t.Fatal("encrypted file not recognised")
	}
	// Quoted: a bare "Ann" turns up by chance in about one armored
	// ciphertext in twenty; quotes and hyphens are not in base64's
	// alphabet, so these can only be leaked plaintext.
	if bytes.Contains(enc, []byte("AGE-SECRET-KEY")) || bytes.Contains(enc, []byte(`"`+id.Card.Name+`"`)) {
		t.Fatal("encrypted file leaks plaintext")
	}
	calls := 0
	got, err := identity.Parse(enc, func() (string, error) { calls++; return "correct horse", nil })
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if calls != 1 {
		t.Fatalf("passphrase asked %d times", calls)
	}
	sameIdentity(t, id, got)

	// Leading whitespace (as from an editor) is tolerated.
	if _, err := identity.Parse(append([]byte("\n\n"), enc...), pass("correct horse")); err != nil {
		t.Fatalf("leading newlines: %v", err)
	}

	if _, err := identity.Parse(enc, pass("")); err == nil {
		t.Error("empty passphrase accepted")
	}
	for _, wrong := range []string{"correct horse ", "Correct horse", "x"} {
		_, err := identity.Parse(enc, pass(wrong))
		if !errors.Is(err, identity.ErrWrongPassphrase) {
			t.Errorf("passphrase %q: err = %v, want ErrWrongPassphrase", wrong, err)
		}
	}
	if _, err := identity.Parse(enc, nil); !errors.Is(err, identity.ErrWrongPassphrase) {
		t.Errorf("nil passphrase func: err = %v, want ErrWrongPassphrase", err)
	}
	sentinel := errors.New("no terminal")
	if _, err := identity.Parse(enc, func() (string, error) { return "", sentinel }); !errors.Is(err, sentinel) {
		t.Errorf("failing passphrase func: err = %v, want it wrapped", err)
	}

	// Two encryptions of the same identity differ (fresh salt and key).
	enc2, err := id.MarshalEncrypted("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(enc, enc2) {
		t.Fatal("encryption is deterministic")
	}
	if _, err := id.MarshalEncrypted(""); err == nil {
		t.Fatal("MarshalEncrypted with an empty passphrase succeeded")
	}
}

// A binary (unarmored) age file, as `age -p` writes it, is accepted too.
func TestEncryptedBinary(t *testing.T) {
	id := generate(t, "Ann")
	r, err := age.NewScryptRecipient("pw")
	if err != nil {
		t.Fatal(err)
	}
	r.SetWorkFactor(10)
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(mustMarshal(t, id))
	w.Close()
	if !identity.IsEncrypted(buf.Bytes()) {
		t.Fatal("binary age file not recognised")
	}
	got, err := identity.Parse(buf.Bytes(), pass("pw"))
	if err != nil {
		t.Fatal(err)
	}
	sameIdentity(t, id, got)
	if _, err := identity.Parse(buf.Bytes(), pass("wrong")); !errors.Is(err, identity.ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: err = %v", err)
	}
	// A corrupted ciphertext is invalid, not a wrong passphrase.
	bad := bytes.Clone(buf.Bytes())
	bad[len(bad)-1] ^= 1
	if _, err := identity.Parse(bad, pass("pw")); err == nil || errors.Is(err, identity.ErrWrongPassphrase) {
		t.Fatalf("corrupted file: err = %v", err)
	}
}

func TestParseCardGivesHelp(t *testing.T) {
	id := generate(t, "Ann")
	c, err := id.Card.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	called := false
	_, err = identity.Parse(c, func() (string, error) { called = true; return "", nil })
	if !errors.Is(err, identity.ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	if !strings.Contains(err.Error(), "public card") {
		t.Errorf("error %q does not explain the mix-up", err)
	}
	if called {
		t.Error("passphrase asked for a card")
	}
	if identity.IsIdentityFile(c) {
		t.Error("IsIdentityFile(card) = true")
	}
}

// rawFile mirrors the on-disk JSON shape, to build hostile files.
type rawFile struct {
	Type        string     `json:"type"`
	Version     int        `json:"version"`
	AgeIdentity string     `json:"age_identity"`
	Ed25519Seed []byte     `json:"ed25519_seed"`
	MLDSA65Seed []byte     `json:"ml_dsa_65_seed"`
	Card        *card.Card `json:"card"`
}

func rawOf(t *testing.T, id *identity.Identity) rawFile {
	var f rawFile
	if err := canon.Unmarshal(mustMarshal(t, id), &f, true); err != nil {
		t.Fatalf("the test's copy of the file shape is out of date: %v", err)
	}
	return f
}

func TestParseRejects(t *testing.T) {
	a := generate(t, "Ann")
	b := generate(t, "Bob")
	tests := []struct {
		name string
		edit func(f *rawFile)
		msg  string
	}{
		{"card of another identity", func(f *rawFile) { f.Card = b.Card }, "does not match"},
		{"age identity of another", func(f *rawFile) { f.AgeIdentity = b.Age.String() }, "does not match"},
		{"ed25519 seed of another", func(f *rawFile) { f.Ed25519Seed, _ = b.Key.Seeds() }, "does not match"},
		{"ml-dsa seed of another", func(f *rawFile) { _, f.MLDSA65Seed = b.Key.Seeds() }, "does not match"},
		{"altered card", func(f *rawFile) {
			c := *f.Card
			c.Name = "Mallory"
			f.Card = &c
		}, "self-signature"},
		{"no card", func(f *rawFile) { f.Card = nil }, "no card"},
		{"type", func(f *rawFile) { f.Type = card.Type }, ""},
		{"other type", func(f *rawFile) { f.Type = "x" }, "type"},
		{"version", func(f *rawFile) { f.Version = 2 }, "version"},
		{"age identity garbage", func(f *rawFile) { f.AgeIdentity = "AGE-SECRET-KEY-1XYZ" }, "age identity"},
		{"age identity classic", func(f *rawFile) {
			x, _ := age.GenerateX25519Identity()
			f.AgeIdentity = x.String()
		}, "age identity"},
		{"short ed25519 seed", func(f *rawFile) { f.Ed25519Seed = f.Ed25519Seed[:31] }, "seed"},
		{"long ml-dsa seed", func(f *rawFile) { f.MLDSA65Seed = append(f.MLDSA65Seed, 0) }, "seed"},
		{"no seeds", func(f *rawFile) { f.Ed25519Seed, f.MLDSA65Seed = nil, nil }, "seed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := rawOf(t, a)
			tt.edit(&f)
			data, err := canon.MarshalIndent(&f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = identity.Parse(data, nil)
			if !errors.Is(err, identity.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
			// An altered card inside is an altered card, which the
			// command line reports as such (exit 3, not 1).
			if tt.name == "altered card" && !errors.Is(err, card.ErrInvalid) {
				t.Errorf("altered card: %v does not wrap card.ErrInvalid", err)
			}
			// The same inside an encrypted file.
			enc := encryptRaw(t, data, "pw")
			if _, err := identity.Parse(enc, pass("pw")); !errors.Is(err, identity.ErrInvalid) {
				t.Errorf("encrypted: err = %v, want ErrInvalid", err)
			}
		})
	}

	good := mustMarshal(t, a)
	for name, data := range map[string][]byte{
		"compact":       mustCompact(t, a),
		"no newline":    bytes.TrimSuffix(good, []byte("\n")),
		"trailing data": append(bytes.Clone(good), "{}\n"...),
		"unknown field": bytes.Replace(good, []byte(`"type"`), []byte(`"x": 1,`+"\n"+`  "type"`), 1),
		"empty":         nil,
		"garbage":       []byte("hello\n"),
		"too large":     append(bytes.Repeat([]byte(" "), identity.MaxSize), good...),
	} {
		if _, err := identity.Parse(data, nil); !errors.Is(err, identity.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	// An encrypted card is not an identity.
	c, _ := a.Card.Marshal()
	if _, err := identity.Parse(encryptRaw(t, c, "pw"), pass("pw")); !errors.Is(err, identity.ErrInvalid) {
		t.Errorf("encrypted card: err = %v, want ErrInvalid", err)
	}
}

func mustCompact(t *testing.T, id *identity.Identity) []byte {
	f := rawOf(t, id)
	b, err := canon.Marshal(&f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func encryptRaw(t *testing.T, plain []byte, passphrase string) []byte {
	t.Helper()
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		t.Fatal(err)
	}
	r.SetWorkFactor(10)
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(plain)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestSave(t *testing.T) {
	id := generate(t, "Ann")
	for _, passphrase := range []string{"", "pw"} {
		dir := testtmp.Dir(t)
		idPath, cardPath := filepath.Join(dir, "ann.identity"), filepath.Join(dir, "ann.card")
		if err := id.Save(idPath, cardPath, passphrase); err != nil {
			t.Fatalf("Save: %v", err)
		}
		for p, mode := range map[string]fs.FileMode{idPath: 0o600, cardPath: 0o644} {
			st, err := os.Lstat(p)
			if err != nil {
				t.Fatal(err)
			}
			if !st.Mode().IsRegular() {
				t.Errorf("%s is not a regular file: %v", filepath.Base(p), st.Mode())
			}
			testtmp.WantPerm(t, p, mode)
		}
		secret, _ := os.ReadFile(idPath)
		if identity.IsEncrypted(secret) != (passphrase != "") {
			t.Errorf("passphrase %q: encrypted = %v", passphrase, identity.IsEncrypted(secret))
		}
		if !identity.IsIdentityFile(secret) {
			t.Error("saved identity not recognised")
		}
		got, err := identity.Parse(secret, pass(passphrase))
		if err != nil {
			t.Fatal(err)
		}
		sameIdentity(t, id, got)
		public, _ := os.ReadFile(cardPath)
		c, err := card.Parse(public)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c, id.Card) {
			t.Fatal("saved card differs")
		}
		if names := listDir(t, dir); len(names) != 2 {
			t.Fatalf("folder holds %q, want only the two files", names)
		}

		// A second Save refuses and leaves both files unchanged.
		other := generate(t, "Bob")
		err = other.Save(idPath, cardPath, passphrase)
		if !errors.Is(err, identity.ErrExists) {
			t.Fatalf("second Save: err = %v, want ErrExists", err)
		}
		if s2, _ := os.ReadFile(idPath); !bytes.Equal(s2, secret) {
			t.Fatal("identity overwritten")
		}
		if p2, _ := os.ReadFile(cardPath); !bytes.Equal(p2, public) {
			t.Fatal("card overwritten")
		}
	}
}

func TestSaveRefusesEitherExisting(t *testing.T) {
	id := generate(t, "Ann")
	for _, tt := range []struct {
		name     string
		existing string // "identity" or "card"
		symlink  bool
	}{
		{"identity exists", "identity", false},
		{"card exists", "card", false},
		{"identity is a dangling symlink", "identity", true},
		{"card is a dangling symlink", "card", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := testtmp.Dir(t)
			idPath, cardPath := filepath.Join(dir, "x.identity"), filepath.Join(dir, "x.card")
			existing, missing := idPath, cardPath
			if tt.existing == "card" {
				existing, missing = cardPath, idPath
			}
			if tt.symlink {
				testtmp.Symlink(t, filepath.Join(dir, "nowhere"), existing)
			} else if err := os.WriteFile(existing, []byte("keep me"), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, passphrase := range []string{"", "pw"} {
				err := id.Save(idPath, cardPath, passphrase)
				if !errors.Is(err, identity.ErrExists) {
					t.Fatalf("err = %v, want ErrExists", err)
				}
				if !strings.Contains(err.Error(), existing) {
					t.Errorf("error %q does not name %s", err, existing)
				}
				if _, err := os.Lstat(missing); !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("Save wrote %s although %s exists", missing, existing)
				}
				if !tt.symlink {
					if b, _ := os.ReadFile(existing); string(b) != "keep me" {
						t.Fatal("existing file changed")
					}
				}
				if names := listDir(t, dir); len(names) != 1 {
					t.Fatalf("folder holds %q", names)
				}
			}
		})
	}
}

// If the card cannot be written, the identity written just before is
// removed again: Save writes both or neither.
func TestSaveCardFailureRemovesIdentity(t *testing.T) {
	id := generate(t, "Ann")
	dir := testtmp.Dir(t)
	idPath := filepath.Join(dir, "x.identity")
	err := id.Save(idPath, filepath.Join(dir, "missing", "x.card"), "")
	if err == nil {
		t.Fatal("Save into a missing folder succeeded")
	}
	if names := listDir(t, dir); len(names) != 0 {
		t.Fatalf("folder holds %q after a failed Save", names)
	}
	if err := id.Save(filepath.Join(dir, "missing", "x.identity"), filepath.Join(dir, "x.card"), ""); err == nil {
		t.Fatal("Save into a missing folder succeeded")
	}
	if names := listDir(t, dir); len(names) != 0 {
		t.Fatalf("folder holds %q after a failed Save", names)
	}
}

func TestIsIdentityFile(t *testing.T) {
	id := generate(t, "Ann")
	plain := mustMarshal(t, id)
	enc, _ := id.MarshalEncrypted("pw")
	c, _ := id.Card.Marshal()
	for _, tt := range []struct {
		name string
		data []byte
		want bool
	}{
		{"plain", plain, true},
		{"compact plain", mustCompact(t, id), true},
		{"armored", enc, true},
		{"armored after whitespace", append([]byte(" \r\n\t"), enc...), true},
		{"binary age", []byte("age-encryption.org/v1\n-> scrypt x 10\n"), true},
		{"card", c, false},
		{"empty", nil, false},
		{"garbage", []byte("hello"), false},
		{"other json", []byte(`{"type":"something"}`), false},
		{"json array", []byte(`["dossier-identity"]`), false},
	} {
		if got := identity.IsIdentityFile(tt.data); got != tt.want {
			t.Errorf("%s: IsIdentityFile = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// fuzzSeeds returns unencrypted identity files and mutations of them.
func fuzzSeeds(t testing.TB) [][]byte {
	a := generate(t, "Ann")
	valid := mustMarshal(t, a)
	b, err := identity.Generate("B", "", nil, now)
	if err != nil {
		t.Fatal(err)
	}
	valid2 := mustMarshal(t, b)
	flipped := bytes.Clone(valid)
	flipped[len(flipped)/2] ^= 0x01
	return [][]byte{
		valid,
		valid2,
		flipped,
		bytes.TrimSuffix(valid, []byte("\n")),
		bytes.Replace(valid, []byte(`"version": 1`), []byte(`"version": 2`), 1),
		bytes.Replace(valid, []byte(`"Ann"`), []byte(`"Anne"`), 1),
		valid[:len(valid)/3],
		[]byte(`{"type":"dossier-card"}`),
		[]byte("{}\n"),
	}
}

// fuzzParseBody: Parse (without a passphrase) never panics, fails only
// with ErrInvalid or ErrWrongPassphrase, and what it accepts is exactly the
// canonical file of the parsed identity.
func fuzzParseBody(t *testing.T, data []byte) bool {
	id, err := identity.Parse(data, nil)
	if err != nil {
		if !errors.Is(err, identity.ErrInvalid) && !errors.Is(err, identity.ErrWrongPassphrase) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		return false
	}
	again, err := id.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Fatalf("Parse accepted %q but Marshal gives %q", data, again)
	}
	if !identity.IsIdentityFile(data) {
		t.Fatal("accepted file is not recognised by IsIdentityFile")
	}
	return true
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParseBody(t, data) })
}

func TestFuzzParseSeeds(t *testing.T) {
	seeds := fuzzSeeds(t)
	accepted := 0
	for _, s := range seeds {
		if fuzzParseBody(t, s) {
			accepted++
		}
	}
	if accepted != 2 {
		t.Fatalf("%d of %d seeds parse, want the 2 valid ones", accepted, len(seeds))
	}
}

// An interrupted keygen (its context done while the passphrase's key was
// derived) writes neither file.
func TestSaveContextCancelled(t *testing.T) {
	id := generate(t, "Ann")
	dir := testtmp.Dir(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := id.SaveContext(ctx, filepath.Join(dir, "ann.identity"), filepath.Join(dir, "ann.card"), "pw")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("SaveContext = %v, want context.Canceled", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("left %v", ents)
	}
}
