// Package card handles dossier's public cards.
//
// A card is a small self-signed JSON document that names a person and
// organisation and carries their public keys: an age post-quantum hybrid
// recipient (age1pq1…) to encrypt to, and a hybrid Ed25519 + ML-DSA-65 key
// that checks their signatures. The self-signature binds the name to the
// keys, so a name cannot be moved onto someone else's keys.
//
// A card is identified by its [Fingerprint], a SHA-256 over its keys, shown
// in a short form that can be read aloud over a phone.
package card

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"filippo.io/age"

	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/internal/canon"
	"github.com/dossier-evidence/dossier/pkg/sign"
)

// Type and Version are the values of the card's "type" and "version" fields.
const (
	Type    = "dossier-card"
	Version = 1
)

// MaxSize is the largest card file accepted.
const MaxSize = 64 << 10

// ErrInvalid is wrapped by every error about a card that is malformed or
// whose self-signature does not verify.
var ErrInvalid = errors.New("card: invalid card")

// ErrSecretGiven is returned by [Parse] when it is given a secret identity
// file instead of a card.
var ErrSecretGiven = errors.New("card: this is a secret identity file, not a public card (use the .card file that keygen wrote beside it)")

// Card is a public card.
type Card struct {
	Type         string          `json:"type"`
	Version      int             `json:"version"`
	Name         string          `json:"name"`
	Org          string          `json:"org,omitempty"`
	Created      string          `json:"created"`
	Accepts      []category.ID   `json:"accepts,omitempty"`
	AgeRecipient string          `json:"age_recipient"`
	Ed25519      []byte          `json:"ed25519"`
	MLDSA65      []byte          `json:"ml_dsa_65"`
	Signature    *sign.Signature `json:"signature,omitempty"`
}

// Fingerprint identifies a card by its keys.
type Fingerprint [sha256.Size]byte

// crockford is Crockford's base32 alphabet: no I, L, O or U, so a
// fingerprint read aloud is hard to mishear.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// String returns the short form: 100 bits as five groups of four
// characters, e.g. "7K2M-QX4P-9D3R-WT6H-0B5N".
func (f Fingerprint) String() string {
	var out strings.Builder
	var acc uint64
	var bits uint
	n := 0
	for _, b := range f[:13] {
		acc = acc<<8 | uint64(b)
		bits += 8
		for bits >= 5 && n < 20 {
			bits -= 5
			if n > 0 && n%4 == 0 {
				out.WriteByte('-')
			}
			out.WriteByte(crockford[(acc>>bits)&31])
			n++
		}
	}
	return out.String()
}

// Hex returns the full fingerprint in lowercase hex, as manifests record it.
func (f Fingerprint) Hex() string { return hex.EncodeToString(f[:]) }

// ParseFingerprintHex parses the full hex form.
func ParseFingerprintHex(s string) (Fingerprint, error) {
	var f Fingerprint
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(f) || hex.EncodeToString(b) != s {
		return f, fmt.Errorf("%w: fingerprint %q is not 64 lowercase hex digits", ErrInvalid, s)
	}
	copy(f[:], b)
	return f, nil
}

// Fingerprint returns the card's fingerprint: SHA-256 over a domain string
// and the three public keys. Name and organisation are bound by the
// self-signature, not by the fingerprint.
func (c *Card) Fingerprint() Fingerprint {
	h := sha256.New()
	h.Write([]byte("dossier/v1 fingerprint\n"))
	h.Write([]byte(c.AgeRecipient + "\n"))
	h.Write(c.Ed25519)
	h.Write(c.MLDSA65)
	var f Fingerprint
	h.Sum(f[:0])
	return f
}

// Label is a short human description: "Name (Org) [FINGERPRINT]".
func (c *Card) Label() string {
	s := c.Name
	if c.Org != "" {
		s += " (" + c.Org + ")"
	}
	return s + " [" + c.Fingerprint().String() + "]"
}

// SigningKey returns the card's hybrid verification key.
func (c *Card) SigningKey() (*sign.PublicKey, error) {
	pk, err := sign.ParsePublicKey(c.Ed25519, c.MLDSA65)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return pk, nil
}

// Recipient returns the card's age recipient.
func (c *Card) Recipient() (*age.HybridRecipient, error) {
	r, err := age.ParseHybridRecipient(c.AgeRecipient)
	if err != nil {
		return nil, fmt.Errorf("%w: age recipient: %v", ErrInvalid, err)
	}
	return r, nil
}

// Accepting reports whether the card's holder accepts data of category id
// (a card that declares nothing accepts everything).
func (c *Card) Accepting(id category.ID) bool {
	if len(c.Accepts) == 0 {
		return true
	}
	for _, a := range c.Accepts {
		if a == id {
			return true
		}
	}
	return false
}

// signedBytes is what the self-signature covers: the canonical compact
// encoding of the card without its signature.
func (c *Card) signedBytes() ([]byte, error) {
	body := *c
	body.Signature = nil
	return canon.Marshal(&body)
}

// New builds and self-signs a card.
func New(name, org string, accepts []category.ID, created time.Time, recipient *age.HybridRecipient, key *sign.PrivateKey) (*Card, error) {
	c := &Card{
		Type:         Type,
		Version:      Version,
		Name:         name,
		Org:          org,
		Created:      created.UTC().Format(time.RFC3339),
		Accepts:      accepts,
		AgeRecipient: recipient.String(),
		Ed25519:      key.Public().Ed25519Bytes(),
		MLDSA65:      key.Public().MLDSABytes(),
	}
	if err := c.checkFields(); err != nil {
		return nil, err
	}
	msg, err := c.signedBytes()
	if err != nil {
		return nil, err
	}
	sig, err := key.Sign(sign.ContextCard, msg)
	if err != nil {
		return nil, fmt.Errorf("card: self-sign: %w", err)
	}
	c.Signature = sig
	return c, nil
}

// Marshal returns the card file: canonical indented JSON.
func (c *Card) Marshal() ([]byte, error) { return canon.MarshalIndent(c) }

// Parse parses a card file strictly and checks its self-signature.
func Parse(data []byte) (*Card, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes is larger than the %d-byte limit", ErrInvalid, len(data), MaxSize)
	}
	if looksSecret(data) {
		return nil, ErrSecretGiven
	}
	c := new(Card)
	if err := canon.Unmarshal(data, c, true); err != nil {
		if errors.Is(err, canon.ErrNotCanonical) {
			return nil, fmt.Errorf("%w: it is not byte for byte as it was written (%v): an editor or a transfer that changes spaces or line endings spoils a card; use the original file, or ask its holder for it again", ErrInvalid, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := c.Check(); err != nil {
		return nil, err
	}
	return c, nil
}

// Check validates the card's fields and its self-signature.
func (c *Card) Check() error {
	if err := c.checkFields(); err != nil {
		return err
	}
	if _, err := c.Recipient(); err != nil {
		return err
	}
	pk, err := c.SigningKey()
	if err != nil {
		return err
	}
	msg, err := c.signedBytes()
	if err != nil {
		return err
	}
	if err := pk.Verify(sign.ContextCard, msg, c.Signature); err != nil {
		return fmt.Errorf("%w: self-signature of %q does not verify (the card was altered): %v", ErrInvalid, c.Name, err)
	}
	return nil
}

func (c *Card) checkFields() error {
	if c.Type != Type {
		return fmt.Errorf("%w: type is %q, want %q", ErrInvalid, c.Type, Type)
	}
	if c.Version != Version {
		return fmt.Errorf("%w: version %d is not supported (this dossier reads version %d)", ErrInvalid, c.Version, Version)
	}
	if err := CheckText("name", c.Name, MaxNameLen); err != nil {
		return err
	}
	if c.Name == "" {
		return fmt.Errorf("%w: name is empty", ErrInvalid)
	}
	if err := CheckText("org", c.Org, MaxNameLen); err != nil {
		return err
	}
	if _, err := time.Parse(time.RFC3339, c.Created); err != nil {
		return fmt.Errorf("%w: created %q is not an RFC 3339 time", ErrInvalid, c.Created)
	}
	for i, a := range c.Accepts {
		if _, err := category.Parse(string(a)); err != nil {
			return fmt.Errorf("%w: accepts: %v", ErrInvalid, err)
		}
		if i > 0 && !(indexOf(c.Accepts[i-1]) < indexOf(a)) {
			return fmt.Errorf("%w: accepts must be sorted and without duplicates", ErrInvalid)
		}
	}
	return nil
}

func indexOf(id category.ID) int {
	for i, a := range category.All() {
		if a == id {
			return i
		}
	}
	return -1
}

// MaxNameLen is the longest name or organisation a card holds, in bytes.
const MaxNameLen = 200

// CheckText refuses text fields that are too long, not UTF-8, or hold
// control or bidi characters (which could spoof a terminal), as an
// invalid card (ErrInvalid).
func CheckText(field, s string, maxLen int) error {
	if err := TextProblem(field, s, maxLen); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}

// TextProblem says what is wrong with the text field s, as CheckText
// checks it, without calling it a card's: for text given on the command
// line, or kept in a manifest. It returns nil if s is fine.
func TextProblem(field, s string, maxLen int) error {
	if len(s) > maxLen {
		return fmt.Errorf("%s is longer than %d bytes", field, maxLen)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8", field)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029' {
			return fmt.Errorf("%s contains control character %U", field, r)
		}
	}
	return nil
}

// looksSecret reports whether data is an identity file given by mistake.
func looksSecret(data []byte) bool {
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----BEGIN AGE ENCRYPTED FILE")) {
		return true
	}
	var t struct {
		Type string `json:"type"`
	}
	return json.Unmarshal(data, &t) == nil && t.Type == "dossier-identity"
}
