// Package sign implements dossier's hybrid post-quantum signatures.
//
// Every dossier signature is a pair: an Ed25519ctx signature (RFC 8032) and
// an ML-DSA-65 signature (FIPS 204), both over the same message and both
// bound to a purpose by a context string. A [Signature] is valid only if both
// halves verify, so forging one needs breaking both schemes.
//
// # Contexts
//
// Each use has its own context string ([ContextCard], [ContextPreamble],
// [ContextManifest], …) so that a signature made for one purpose can never be
// replayed as another.
package sign

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
)

// Context strings, one per purpose. They are part of the format.
const (
	ContextCard     = "dossier/v1 card"
	ContextPreamble = "dossier/v1 preamble"
	ContextManifest = "dossier/v1 manifest"
	// ContextManifestDigest signs the SHA-512 of a format-2 manifest
	// rather than its bytes, so that it can be checked as the manifest is
	// read.
	ContextManifestDigest = "dossier/v2 manifest"
	// ContextPreambleDigest signs the SHA-512 of a format-3 preamble
	// rather than its bytes, so that neither its writer nor its reader
	// need hold it whole.
	ContextPreambleDigest = "dossier/v3 preamble"
	ContextReceipt        = "dossier/v1 receipt"
	ContextLog            = "dossier/v1 custody-log"
	ContextSeal           = "dossier/v1 seal"
)

// Sizes of the encoded keys, seeds and signature halves.
const (
	Ed25519PublicKeySize = ed25519.PublicKeySize
	Ed25519SeedSize      = ed25519.SeedSize
	MLDSAPublicKeySize   = mldsa65.PublicKeySize
	MLDSASeedSize        = mldsa65.SeedSize
	Ed25519SignatureSize = ed25519.SignatureSize
	MLDSASignatureSize   = mldsa65.SignatureSize
)

// ErrBadSignature is returned (wrapped) by [PublicKey.Verify] when either
// half of a signature does not verify.
var ErrBadSignature = errors.New("sign: signature does not verify")

// PublicKey is a hybrid verification key.
type PublicKey struct {
	ed ed25519.PublicKey
	ml *mldsa65.PublicKey
}

// PrivateKey is a hybrid signing key, kept as its two seeds.
type PrivateKey struct {
	edSeed []byte
	mlSeed [mldsa65.SeedSize]byte
	ed     ed25519.PrivateKey
	ml     *mldsa65.PrivateKey
	pub    *PublicKey
}

// Signature is a hybrid signature: both halves must verify.
type Signature struct {
	Ed25519 []byte `json:"ed25519"`
	MLDSA65 []byte `json:"ml_dsa_65"`
}

// GenerateKey returns a new random hybrid signing key.
func GenerateKey() (*PrivateKey, error) {
	edSeed := make([]byte, ed25519.SeedSize)
	var mlSeed [mldsa65.SeedSize]byte
	if _, err := rand.Read(edSeed); err != nil {
		return nil, fmt.Errorf("sign: generate key: %w", err)
	}
	if _, err := rand.Read(mlSeed[:]); err != nil {
		return nil, fmt.Errorf("sign: generate key: %w", err)
	}
	return NewKeyFromSeeds(edSeed, mlSeed[:])
}

// NewKeyFromSeeds derives a hybrid signing key from an Ed25519 seed
// (32 bytes) and an ML-DSA-65 seed (32 bytes).
func NewKeyFromSeeds(edSeed, mlSeed []byte) (*PrivateKey, error) {
	if len(edSeed) != ed25519.SeedSize {
		return nil, fmt.Errorf("sign: Ed25519 seed is %d bytes, want %d", len(edSeed), ed25519.SeedSize)
	}
	if len(mlSeed) != mldsa65.SeedSize {
		return nil, fmt.Errorf("sign: ML-DSA-65 seed is %d bytes, want %d", len(mlSeed), mldsa65.SeedSize)
	}
	k := &PrivateKey{edSeed: append([]byte(nil), edSeed...)}
	copy(k.mlSeed[:], mlSeed)
	k.ed = ed25519.NewKeyFromSeed(k.edSeed)
	mlPub, mlPriv := mldsa65.NewKeyFromSeed(&k.mlSeed)
	k.ml = mlPriv
	k.pub = &PublicKey{ed: k.ed.Public().(ed25519.PublicKey), ml: mlPub}
	return k, nil
}

// Seeds returns copies of the Ed25519 and ML-DSA-65 seeds.
func (k *PrivateKey) Seeds() (edSeed, mlSeed []byte) {
	return append([]byte(nil), k.edSeed...), append([]byte(nil), k.mlSeed[:]...)
}

// Public returns the verification key.
func (k *PrivateKey) Public() *PublicKey { return k.pub }

// Ed25519 returns the classic half of the key, for formats that can only
// carry an Ed25519 signature (such as a minisign seal).
func (k *PrivateKey) Ed25519() ed25519.PrivateKey { return k.ed }

// Sign signs msg for the given purpose. The ML-DSA-65 half is hedged
// (randomised), as FIPS 204 recommends.
func (k *PrivateKey) Sign(context string, msg []byte) (*Signature, error) {
	if err := checkContext(context); err != nil {
		return nil, err
	}
	edSig, err := k.ed.Sign(nil, msg, &ed25519.Options{Context: context})
	if err != nil {
		return nil, fmt.Errorf("sign: Ed25519: %w", err)
	}
	mlSig := make([]byte, mldsa65.SignatureSize)
	if err := mldsa65.SignTo(k.ml, msg, []byte(context), true, mlSig); err != nil {
		return nil, fmt.Errorf("sign: ML-DSA-65: %w", err)
	}
	return &Signature{Ed25519: edSig, MLDSA65: mlSig}, nil
}

// SignMLDSA makes only the ML-DSA-65 half, for formats whose Ed25519 half
// is defined elsewhere (a minisign seal signs with plain Ed25519 over a
// BLAKE2b-512 digest and carries the ML-DSA-65 half in its trusted comment).
func (k *PrivateKey) SignMLDSA(context string, msg []byte) ([]byte, error) {
	if err := checkContext(context); err != nil {
		return nil, err
	}
	sig := make([]byte, mldsa65.SignatureSize)
	if err := mldsa65.SignTo(k.ml, msg, []byte(context), true, sig); err != nil {
		return nil, fmt.Errorf("sign: ML-DSA-65: %w", err)
	}
	return sig, nil
}

// VerifyMLDSA checks only an ML-DSA-65 half made by [PrivateKey.SignMLDSA].
func (p *PublicKey) VerifyMLDSA(context string, msg, sig []byte) bool {
	return checkContext(context) == nil && len(sig) == mldsa65.SignatureSize && mldsa65.Verify(p.ml, msg, []byte(context), sig)
}

// ParsePublicKey builds a verification key from its two encoded halves.
func ParsePublicKey(ed, ml []byte) (*PublicKey, error) {
	if len(ed) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("sign: Ed25519 public key is %d bytes, want %d", len(ed), ed25519.PublicKeySize)
	}
	if len(ml) != mldsa65.PublicKeySize {
		return nil, fmt.Errorf("sign: ML-DSA-65 public key is %d bytes, want %d", len(ml), mldsa65.PublicKeySize)
	}
	pk := new(mldsa65.PublicKey)
	if err := pk.UnmarshalBinary(ml); err != nil {
		return nil, fmt.Errorf("sign: ML-DSA-65 public key: %w", err)
	}
	return &PublicKey{ed: append(ed25519.PublicKey(nil), ed...), ml: pk}, nil
}

// Ed25519Bytes returns the encoded Ed25519 half.
func (p *PublicKey) Ed25519Bytes() []byte { return append([]byte(nil), p.ed...) }

// MLDSABytes returns the encoded ML-DSA-65 half.
func (p *PublicKey) MLDSABytes() []byte { return p.ml.Bytes() }

// Ed25519 returns the classic half of the key.
func (p *PublicKey) Ed25519() ed25519.PublicKey { return p.ed }

// Equal reports whether both halves of p and q are equal.
func (p *PublicKey) Equal(q *PublicKey) bool {
	return q != nil && p.ed.Equal(q.ed) && p.ml.Equal(q.ml)
}

// Verify checks sig over msg for the given purpose. Both halves must verify;
// the error says which did not.
func (p *PublicKey) Verify(context string, msg []byte, sig *Signature) error {
	if err := checkContext(context); err != nil {
		return err
	}
	if sig == nil || len(sig.Ed25519) != ed25519.SignatureSize || len(sig.MLDSA65) != mldsa65.SignatureSize {
		return fmt.Errorf("%w: malformed signature", ErrBadSignature)
	}
	// Each half hashes the whole message; a large one (a manifest of many
	// files) is hashed by both at the same time.
	mlValid := func() bool { return mldsa65.Verify(p.ml, msg, []byte(context), sig.MLDSA65) }
	if len(msg) >= concurrentVerifyMin {
		done := make(chan bool, 1)
		check := mlValid
		go func() { done <- check() }()
		mlValid = func() bool { return <-done }
	}
	if err := ed25519.VerifyWithOptions(p.ed, msg, sig.Ed25519, &ed25519.Options{Context: context}); err != nil {
		return fmt.Errorf("%w: Ed25519 half is invalid", ErrBadSignature) // a started check ends on its own
	}
	if !mlValid() {
		return fmt.Errorf("%w: ML-DSA-65 half is invalid", ErrBadSignature)
	}
	return nil
}

// concurrentVerifyMin is the message size from which [PublicKey.Verify]
// checks the two halves at the same time: about where hashing the message
// (some 2 ms per MB for both halves) outweighs starting a goroutine.
const concurrentVerifyMin = 256 << 10

func checkContext(context string) error {
	if len(context) == 0 || len(context) > 255 {
		return fmt.Errorf("sign: context must be 1 to 255 bytes, got %d", len(context))
	}
	return nil
}

// b64 is the encoding used for keys and signatures in dossier's JSON files.
var b64 = base64.StdEncoding.Strict()

// EncodeBase64 encodes b in standard padded base64, as dossier files do.
func EncodeBase64(b []byte) string { return b64.EncodeToString(b) }

// DecodeBase64 decodes strict standard padded base64. Only the encoding
// [EncodeBase64] gives is accepted: the base64 package's strict mode still
// skips line breaks, so they are refused here.
func DecodeBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("sign: line break in base64")
	}
	return b64.DecodeString(s)
}
