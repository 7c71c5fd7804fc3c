package sign

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// fixedSeeds returns deterministic seeds derived from b.
func fixedSeeds(b byte) (ed, ml []byte) {
	ed = bytes.Repeat([]byte{b}, Ed25519SeedSize)
	ml = bytes.Repeat([]byte{b ^ 0xff}, MLDSASeedSize)
	return ed, ml
}

func fixedKey(t testing.TB, b byte) *PrivateKey {
	t.Helper()
	ed, ml := fixedSeeds(b)
	k, err := NewKeyFromSeeds(ed, ml)
	if err != nil {
		t.Fatalf("NewKeyFromSeeds: %v", err)
	}
	return k
}

func cloneSig(s *Signature) *Signature {
	return &Signature{Ed25519: bytes.Clone(s.Ed25519), MLDSA65: bytes.Clone(s.MLDSA65)}
}

func TestRoundTrip(t *testing.T) {
	gen, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]*PrivateKey{"generated": gen, "fixed": fixedKey(t, 1)}
	contexts := []string{ContextCard, ContextPreamble, ContextManifest, ContextManifestDigest, ContextReceipt, ContextLog, ContextSeal}
	msgs := [][]byte{nil, {}, []byte("hello"), bytes.Repeat([]byte{0xAB}, 1<<16)}
	for name, k := range keys {
		for _, ctx := range contexts {
			for _, msg := range msgs {
				sig, err := k.Sign(ctx, msg)
				if err != nil {
					t.Fatalf("%s/%s: Sign: %v", name, ctx, err)
				}
				if len(sig.Ed25519) != Ed25519SignatureSize || len(sig.MLDSA65) != MLDSASignatureSize {
					t.Fatalf("%s/%s: signature sizes %d/%d", name, ctx, len(sig.Ed25519), len(sig.MLDSA65))
				}
				if err := k.Public().Verify(ctx, msg, sig); err != nil {
					t.Fatalf("%s/%s/len %d: Verify: %v", name, ctx, len(msg), err)
				}
			}
		}
	}
}

// TestVerifyFailures runs every case on a short message and on one long
// enough for the two halves to be checked at the same time.
func TestVerifyFailures(t *testing.T) {
	long := bytes.Repeat([]byte("the evidence "), concurrentVerifyMin/13+1)
	for _, msg := range [][]byte{[]byte("the evidence"), long} {
		t.Run(fmt.Sprintf("%d bytes", len(msg)), func(t *testing.T) { testVerifyFailures(t, msg) })
	}
}

func testVerifyFailures(t *testing.T, msg []byte) {
	k := fixedKey(t, 2)
	other := fixedKey(t, 3)
	sig, err := k.Sign(ContextPreamble, msg)
	if err != nil {
		t.Fatal(err)
	}
	altered := bytes.Clone(msg)
	altered[len(altered)-1] ^= 1
	// A key that shares one half with k: the other half must still be
	// checked.
	edK, _ := fixedSeeds(2)
	_, mlO := fixedSeeds(3)
	mixed, err := NewKeyFromSeeds(edK, mlO)
	if err != nil {
		t.Fatal(err)
	}
	edO, _ := fixedSeeds(3)
	_, mlK := fixedSeeds(2)
	mixed2, err := NewKeyFromSeeds(edO, mlK)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		pub     *PublicKey
		ctx     string
		msg     []byte
		sig     func() *Signature
		wantBad bool   // error wraps ErrBadSignature
		wantSub string // error message contains
	}{
		{"ok", k.Public(), ContextPreamble, msg, func() *Signature { return sig }, false, ""},
		{"ed25519 byte flipped", k.Public(), ContextPreamble, msg, func() *Signature {
			s := cloneSig(sig)
			s.Ed25519[10] ^= 0x01
			return s
		}, true, "Ed25519 half"},
		{"ed25519 last byte flipped", k.Public(), ContextPreamble, msg, func() *Signature {
			s := cloneSig(sig)
			s.Ed25519[len(s.Ed25519)-1] ^= 0x80
			return s
		}, true, "Ed25519 half"},
		{"ml-dsa byte flipped", k.Public(), ContextPreamble, msg, func() *Signature {
			s := cloneSig(sig)
			s.MLDSA65[100] ^= 0x01
			return s
		}, true, "ML-DSA-65 half"},
		{"ml-dsa last byte flipped", k.Public(), ContextPreamble, msg, func() *Signature {
			s := cloneSig(sig)
			s.MLDSA65[len(s.MLDSA65)-1] ^= 0x01
			return s
		}, true, "ML-DSA-65 half"},
		{"wrong context", k.Public(), ContextManifest, msg, func() *Signature { return sig }, true, "invalid"},
		{"wrong context card", k.Public(), ContextCard, msg, func() *Signature { return sig }, true, "invalid"},
		{"wrong message", k.Public(), ContextPreamble, altered, func() *Signature { return sig }, true, "invalid"},
		{"empty message", k.Public(), ContextPreamble, nil, func() *Signature { return sig }, true, "invalid"},
		{"wrong key", other.Public(), ContextPreamble, msg, func() *Signature { return sig }, true, "Ed25519 half"},
		{"same ed25519, other ml-dsa", mixed.Public(), ContextPreamble, msg, func() *Signature { return sig }, true, "ML-DSA-65 half"},
		{"other ed25519, same ml-dsa", mixed2.Public(), ContextPreamble, msg, func() *Signature { return sig }, true, "Ed25519 half"},
		{"nil signature", k.Public(), ContextPreamble, msg, func() *Signature { return nil }, true, "malformed"},
		{"empty signature", k.Public(), ContextPreamble, msg, func() *Signature { return &Signature{} }, true, "malformed"},
		{"ed25519 too short", k.Public(), ContextPreamble, msg, func() *Signature {
			s := cloneSig(sig)
			s.Ed25519 = s.Ed25519[:len(s.Ed25519)-1]
			return s
		}, true, "malformed"},
		{"ed25519 too long", k.Public(), ContextPreamble, msg, func() *Signature {
			s := cloneSig(sig)
			s.Ed25519 = append(s.Ed25519, 0)
			return s
		}, true, "malformed"},
		{"ml-dsa too short", k.Public(), ContextPreamble, msg, func() *Signature {
			s := cloneSig(sig)
			s.MLDSA65 = s.MLDSA65[:len(s.MLDSA65)-1]
			return s
		}, true, "malformed"},
		{"ml-dsa too long", k.Public(), ContextPreamble, msg, func() *Signature {
			s := cloneSig(sig)
			s.MLDSA65 = append(s.MLDSA65, 0)
			return s
		}, true, "malformed"},
		{"halves swapped", k.Public(), ContextPreamble, msg, func() *Signature {
			return &Signature{Ed25519: sig.MLDSA65, MLDSA65: sig.Ed25519}
		}, true, "malformed"},
		{"empty context", k.Public(), "", msg, func() *Signature { return sig }, false, "context"},
		{"context too long", k.Public(), strings.Repeat("c", 256), msg, func() *Signature { return sig }, false, "context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.pub.Verify(tt.ctx, tt.msg, tt.sig())
			if tt.name == "ok" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Verify succeeded, want an error")
			}
			if got := errors.Is(err, ErrBadSignature); got != tt.wantBad {
				t.Errorf("errors.Is(%v, ErrBadSignature) = %v, want %v", err, got, tt.wantBad)
			}
			if !strings.Contains(err.Error(), tt.wantSub) {
				t.Errorf("error %q does not mention %q", err, tt.wantSub)
			}
		})
	}
	// The original signature must not have been changed by the cases.
	if err := k.Public().Verify(ContextPreamble, msg, sig); err != nil {
		t.Fatalf("original signature no longer verifies: %v", err)
	}
}

// Each context must reject signatures made for every other context.
func TestContextSeparation(t *testing.T) {
	k := fixedKey(t, 4)
	contexts := []string{ContextCard, ContextPreamble, ContextManifest, ContextManifestDigest, ContextReceipt, ContextLog, ContextSeal}
	msg := []byte("same bytes")
	for _, signCtx := range contexts {
		sig, err := k.Sign(signCtx, msg)
		if err != nil {
			t.Fatal(err)
		}
		for _, verCtx := range contexts {
			err := k.Public().Verify(verCtx, msg, sig)
			if signCtx == verCtx && err != nil {
				t.Errorf("%q: %v", signCtx, err)
			}
			if signCtx != verCtx && !errors.Is(err, ErrBadSignature) {
				t.Errorf("signature for %q verified as %q: err = %v", signCtx, verCtx, err)
			}
		}
	}
	seen := map[string]bool{}
	for _, c := range contexts {
		if seen[c] {
			t.Errorf("context %q is used twice", c)
		}
		seen[c] = true
	}
}

func TestSignBadContext(t *testing.T) {
	k := fixedKey(t, 5)
	for _, ctx := range []string{"", strings.Repeat("x", 256), strings.Repeat("x", 1000)} {
		if _, err := k.Sign(ctx, []byte("m")); err == nil {
			t.Errorf("Sign with a %d-byte context succeeded", len(ctx))
		}
	}
	if _, err := k.Sign(strings.Repeat("x", 255), []byte("m")); err != nil {
		t.Errorf("Sign with a 255-byte context: %v", err)
	}
}

func TestNewKeyFromSeedsDeterministic(t *testing.T) {
	ed, ml := fixedSeeds(7)
	a, err := NewKeyFromSeeds(ed, ml)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewKeyFromSeeds(ed, ml)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Public().Equal(b.Public()) {
		t.Fatal("same seeds gave different public keys")
	}
	if !bytes.Equal(a.Public().Ed25519Bytes(), b.Public().Ed25519Bytes()) || !bytes.Equal(a.Public().MLDSABytes(), b.Public().MLDSABytes()) {
		t.Fatal("same seeds gave different encoded public keys")
	}
	if !bytes.Equal(a.Ed25519(), b.Ed25519()) {
		t.Fatal("same seeds gave different Ed25519 private keys")
	}
	// Signature from one verifies under the other.
	sig, err := a.Sign(ContextLog, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Public().Verify(ContextLog, []byte("x"), sig); err != nil {
		t.Fatal(err)
	}

	gotEd, gotML := a.Seeds()
	if !bytes.Equal(gotEd, ed) || !bytes.Equal(gotML, ml) {
		t.Fatal("Seeds does not return the seeds given")
	}
	// Seeds returns copies.
	gotEd[0] ^= 1
	gotML[0] ^= 1
	if e2, m2 := a.Seeds(); !bytes.Equal(e2, ed) || !bytes.Equal(m2, ml) {
		t.Fatal("modifying Seeds' result changed the key")
	}
	// The key does not alias the caller's seed slices.
	ed[0] ^= 1
	ml[0] ^= 1
	if e2, m2 := a.Seeds(); bytes.Equal(e2, ed) || bytes.Equal(m2, ml) {
		t.Fatal("key aliases the caller's seeds")
	}

	// A fresh key's seeds rebuild the same key.
	g, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ge, gm := g.Seeds()
	g2, err := NewKeyFromSeeds(ge, gm)
	if err != nil {
		t.Fatal(err)
	}
	if !g.Public().Equal(g2.Public()) {
		t.Fatal("Seeds of a generated key do not rebuild it")
	}

	// Different seeds, different keys; each half changes independently.
	edX, mlX := fixedSeeds(8)
	c, _ := NewKeyFromSeeds(edX, ml)
	d, _ := NewKeyFromSeeds(ed, mlX)
	if a.Public().Equal(c.Public()) || a.Public().Equal(d.Public()) {
		t.Fatal("different seeds gave equal keys")
	}
	g3, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if g.Public().Equal(g3.Public()) {
		t.Fatal("GenerateKey returned the same key twice")
	}
}

func TestNewKeyFromSeedsBadLengths(t *testing.T) {
	good := make([]byte, 32)
	for _, tt := range []struct {
		name   string
		ed, ml []byte
	}{
		{"nil ed", nil, good},
		{"nil ml", good, nil},
		{"short ed", make([]byte, 31), good},
		{"long ed", make([]byte, 33), good},
		{"ed as private key", make([]byte, 64), good},
		{"short ml", good, make([]byte, 31)},
		{"long ml", good, make([]byte, 33)},
	} {
		if _, err := NewKeyFromSeeds(tt.ed, tt.ml); err == nil {
			t.Errorf("%s: NewKeyFromSeeds succeeded", tt.name)
		}
	}
}

func TestParsePublicKey(t *testing.T) {
	k := fixedKey(t, 9)
	ed, ml := k.Public().Ed25519Bytes(), k.Public().MLDSABytes()
	if len(ed) != Ed25519PublicKeySize || len(ml) != MLDSAPublicKeySize {
		t.Fatalf("encoded key sizes %d/%d", len(ed), len(ml))
	}
	pk, err := ParsePublicKey(ed, ml)
	if err != nil {
		t.Fatal(err)
	}
	if !pk.Equal(k.Public()) || !k.Public().Equal(pk) {
		t.Fatal("parsed key differs")
	}
	if pk.Equal(nil) {
		t.Fatal("Equal(nil) is true")
	}
	sig, _ := k.Sign(ContextReceipt, []byte("r"))
	if err := pk.Verify(ContextReceipt, []byte("r"), sig); err != nil {
		t.Fatal(err)
	}
	// The parsed key does not alias its input.
	ed[0] ^= 1
	if !pk.Equal(k.Public()) {
		t.Fatal("parsed key aliases its input")
	}
	ed[0] ^= 1
	// Ed25519Bytes returns a copy.
	e := pk.Ed25519Bytes()
	e[0] ^= 1
	if !pk.Equal(k.Public()) {
		t.Fatal("Ed25519Bytes aliases the key")
	}

	for _, tt := range []struct {
		name   string
		ed, ml []byte
	}{
		{"nil both", nil, nil},
		{"short ed", ed[:31], ml},
		{"long ed", append(bytes.Clone(ed), 0), ml},
		{"short ml", ed, ml[:len(ml)-1]},
		{"long ml", ed, append(bytes.Clone(ml), 0)},
		{"swapped", ml, ed},
	} {
		if _, err := ParsePublicKey(tt.ed, tt.ml); err == nil {
			t.Errorf("%s: ParsePublicKey succeeded", tt.name)
		}
	}
}

func TestBase64(t *testing.T) {
	for _, b := range [][]byte{{}, {0}, {0xff, 0xfe}, []byte("abc"), bytes.Repeat([]byte{7}, 100)} {
		s := EncodeBase64(b)
		got, err := DecodeBase64(s)
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("round trip of %x: %x, %v", b, got, err)
		}
	}
	if EncodeBase64([]byte{0xfb, 0xff}) != "+/8=" {
		t.Errorf("not standard padded base64: %q", EncodeBase64([]byte{0xfb, 0xff}))
	}
	for _, s := range []string{"-_8=", "+/8", "+/9=", "AA", "A===", "AA==\n", "A\nA==", "AA\r\n==", " AA=="} {
		if _, err := DecodeBase64(s); err == nil {
			t.Errorf("DecodeBase64(%q) succeeded", s)
		}
	}
}

func TestSignMLDSAOnly(t *testing.T) {
	k := fixedKey(t, 10)
	msg := []byte("sealed bytes")
	sig, err := k.SignMLDSA(ContextSeal, msg)
	if err != nil {
		t.Fatal(err)
	}
	if len(sig) != MLDSASignatureSize {
		t.Fatalf("signature is %d bytes", len(sig))
	}
	pub := k.Public()
	if !pub.VerifyMLDSA(ContextSeal, msg, sig) {
		t.Fatal("VerifyMLDSA refuses a good signature")
	}
	flipped := bytes.Clone(sig)
	flipped[0] ^= 1
	for name, ok := range map[string]bool{
		"wrong context": pub.VerifyMLDSA(ContextManifest, msg, sig),
		"empty context": pub.VerifyMLDSA("", msg, sig),
		"wrong message": pub.VerifyMLDSA(ContextSeal, []byte("sealed bytez"), sig),
		"wrong key":     fixedKey(t, 11).Public().VerifyMLDSA(ContextSeal, msg, sig),
		"flipped":       pub.VerifyMLDSA(ContextSeal, msg, flipped),
		"short":         pub.VerifyMLDSA(ContextSeal, msg, sig[:len(sig)-1]),
		"long":          pub.VerifyMLDSA(ContextSeal, msg, append(bytes.Clone(sig), 0)),
		"nil":           pub.VerifyMLDSA(ContextSeal, msg, nil),
	} {
		if ok {
			t.Errorf("%s: VerifyMLDSA accepted", name)
		}
	}
	// The half alone is not a hybrid signature.
	if err := pub.Verify(ContextSeal, msg, &Signature{MLDSA65: sig}); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("Verify of a lone ML-DSA half: %v", err)
	}
	if _, err := k.SignMLDSA("", msg); err == nil {
		t.Fatal("SignMLDSA with an empty context succeeded")
	}
	// A hybrid signature's ML-DSA half verifies alone under the same context.
	h, err := k.Sign(ContextSeal, msg)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.VerifyMLDSA(ContextSeal, msg, h.MLDSA65) {
		t.Fatal("hybrid ML-DSA half does not verify alone")
	}
}
