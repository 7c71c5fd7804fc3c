// Package identity handles dossier's secret identity files.
//
// An identity holds what its owner needs to receive and to send: an age
// post-quantum hybrid identity (ML-KEM-768 + X25519) that decrypts bundles,
// the seeds of a hybrid Ed25519 + ML-DSA-65 signing key, and the owner's own
// public [card.Card].
//
// On disk an identity is canonical JSON, normally encrypted under a
// passphrase with age's scrypt recipient and ASCII-armored, so that the file
// can be opened with stock age if dossier is ever unavailable. Files are
// created with mode 0600 and never overwritten.
package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/internal/atomicfile"
	"github.com/dossier-evidence/dossier/pkg/internal/canon"
	"github.com/dossier-evidence/dossier/pkg/internal/owneronly"
	"github.com/dossier-evidence/dossier/pkg/sign"
)

// Type and Version are the values of the identity file's "type" and
// "version" fields.
const (
	Type    = "dossier-identity"
	Version = 1
)

// MaxSize is the largest identity file accepted.
const MaxSize = 256 << 10

// ScryptWorkFactor is the log2 scrypt work factor used to protect new
// identity files. Tests lower it; production code should leave it alone.
var ScryptWorkFactor = 18

var (
	// ErrWrongPassphrase is returned when the passphrase does not open an
	// encrypted identity file.
	ErrWrongPassphrase = errors.New("identity: wrong passphrase")
	// ErrInvalid is wrapped by every error about a malformed identity file.
	ErrInvalid = errors.New("identity: invalid identity file")
)

// Identity is a decrypted identity.
type Identity struct {
	// Age decrypts bundles addressed to this identity.
	Age *age.HybridIdentity
	// Key signs bundles, receipts and log entries.
	Key *sign.PrivateKey
	// Card is the owner's public card.
	Card *card.Card
}

// file is the on-disk JSON shape.
type file struct {
	Type        string     `json:"type"`
	Version     int        `json:"version"`
	AgeIdentity string     `json:"age_identity"`
	Ed25519Seed []byte     `json:"ed25519_seed"`
	MLDSA65Seed []byte     `json:"ml_dsa_65_seed"`
	Card        *card.Card `json:"card"`
}

// Generate makes a new identity and its self-signed card.
func Generate(name, org string, accepts []category.ID, now time.Time) (*Identity, error) {
	ageID, err := age.GenerateHybridIdentity()
	if err != nil {
		return nil, fmt.Errorf("identity: generate age identity: %w", err)
	}
	key, err := sign.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	c, err := card.New(name, org, accepts, now, ageID.Recipient(), key)
	if err != nil {
		return nil, err
	}
	return &Identity{Age: ageID, Key: key, Card: c}, nil
}

// Fingerprint is the fingerprint of the identity's card.
func (id *Identity) Fingerprint() card.Fingerprint { return id.Card.Fingerprint() }

// Marshal returns the unencrypted identity file (canonical indented JSON).
// Keep it secret.
func (id *Identity) Marshal() ([]byte, error) {
	ed, ml := id.Key.Seeds()
	return canon.MarshalIndent(&file{
		Type:        Type,
		Version:     Version,
		AgeIdentity: id.Age.String(),
		Ed25519Seed: ed,
		MLDSA65Seed: ml,
		Card:        id.Card,
	})
}

// MarshalEncrypted returns the identity file encrypted under passphrase
// with age's scrypt recipient, ASCII-armored.
func (id *Identity) MarshalEncrypted(passphrase string) ([]byte, error) {
	if passphrase == "" {
		return nil, errors.New("identity: empty passphrase")
	}
	plain, err := id.Marshal()
	if err != nil {
		return nil, err
	}
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	r.SetWorkFactor(ScryptWorkFactor)
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, r)
	if err != nil {
		return nil, fmt.Errorf("identity: encrypt: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return nil, fmt.Errorf("identity: encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("identity: encrypt: %w", err)
	}
	if err := aw.Close(); err != nil {
		return nil, fmt.Errorf("identity: encrypt: %w", err)
	}
	return buf.Bytes(), nil
}

// IsEncrypted reports whether data is a passphrase-protected identity file.
func IsEncrypted(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n")
	return bytes.HasPrefix(t, []byte(armor.Header)) || bytes.HasPrefix(t, []byte("age-encryption.org/"))
}

// Parse reads an identity file. If it is encrypted, passphrase is called
// once to obtain the passphrase; an error from it is returned unchanged.
func Parse(data []byte, passphrase func() (string, error)) (*Identity, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalid, MaxSize)
	}
	if IsEncrypted(data) {
		if passphrase == nil {
			return nil, fmt.Errorf("%w: the identity is passphrase-protected and no passphrase was given", ErrWrongPassphrase)
		}
		pass, err := passphrase()
		if err != nil {
			return nil, err // the caller's own error, which says what failed
		}
		plain, err := decrypt(data, pass)
		if err != nil {
			return nil, err
		}
		data = plain
	} else if topLevelType(data) == card.Type {
		return nil, fmt.Errorf("%w: this is a public card, not a secret identity (use the identity file made by keygen)", ErrInvalid)
	}
	var f file
	if err := canon.Unmarshal(data, &f, true); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if f.Type != Type || f.Version != Version {
		return nil, fmt.Errorf("%w: type %q version %d is not a dossier identity this version reads", ErrInvalid, f.Type, f.Version)
	}
	ageID, err := age.ParseHybridIdentity(f.AgeIdentity)
	if err != nil {
		return nil, fmt.Errorf("%w: age identity: %v", ErrInvalid, err)
	}
	key, err := sign.NewKeyFromSeeds(f.Ed25519Seed, f.MLDSA65Seed)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if f.Card == nil {
		return nil, fmt.Errorf("%w: no card", ErrInvalid)
	}
	if err := f.Card.Check(); err != nil {
		// Both: an invalid identity, whose card was altered (exit 3).
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	pub, _ := f.Card.SigningKey()
	if !pub.Equal(key.Public()) || f.Card.AgeRecipient != ageID.Recipient().String() {
		return nil, fmt.Errorf("%w: the card inside does not match the secret keys", ErrInvalid)
	}
	return &Identity{Age: ageID, Key: key, Card: f.Card}, nil
}

func decrypt(data []byte, pass string) ([]byte, error) {
	sid, err := age.NewScryptIdentity(pass)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	var src io.Reader = bytes.NewReader(data)
	if bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte(armor.Header)) {
		src = armor.NewReader(src)
	}
	r, err := age.Decrypt(src, sid)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) || errors.Is(err, age.ErrIncorrectIdentity) {
			return nil, fmt.Errorf("%w (check the passphrase, DOSSIER_PASSPHRASE or --passphrase-file)", ErrWrongPassphrase)
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if len(plain) > MaxSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalid, MaxSize)
	}
	return plain, nil
}

// ErrExists is returned by [Save] when a file it would write (the
// identity or the card) exists.
var ErrExists = errors.New("key file already exists")

// Save writes the identity (encrypted under passphrase, or unencrypted if
// passphrase is empty) to identityPath with mode 0600 and its card to
// cardPath with mode 0644. Each file is written to a temporary, synced and
// published without replacing anything; if either exists, neither is
// written.
func (id *Identity) Save(identityPath, cardPath, passphrase string) error {
	return id.SaveContext(context.Background(), identityPath, cardPath, passphrase)
}

// SaveContext is Save that writes nothing if ctx is done once the identity
// is encrypted (the passphrase's key derivation takes a second or more):
// an interrupted keygen leaves no key files.
func (id *Identity) SaveContext(ctx context.Context, identityPath, cardPath, passphrase string) error {
	for _, p := range []string{identityPath, cardPath} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%w: %s (keygen never overwrites a key file; choose another name)", ErrExists, p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("identity: %w", err)
		}
	}
	var secret []byte
	var err error
	if passphrase == "" {
		secret, err = id.Marshal()
	} else {
		secret, err = id.MarshalEncrypted(passphrase)
	}
	if err != nil {
		return err
	}
	public, err := id.Card.Marshal()
	if err != nil {
		return err
	}
	// Both files are made (with their room) before either is published,
	// so that one that cannot be written fails with nothing left; the card
	// is published first, so that a process killed in between leaves a
	// card (public, harmless, removed by hand) rather than a secret key
	// whose card no command writes again.
	idFile, err := atomicfile.Reserve(identityPath, 0o600, len(secret), nil)
	if err != nil {
		return writeError("identity", identityPath, err)
	}
	defer idFile.Abort()
	cardFile, err := atomicfile.Reserve(cardPath, 0o644, len(public), nil)
	if err != nil {
		return writeError("card", cardPath, err)
	}
	defer cardFile.Abort()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := cardFile.Write(public); err != nil {
		return writeError("card", cardPath, err)
	}
	if err := idFile.Write(secret); err != nil {
		if _, serr := os.Lstat(identityPath); serr != nil || errors.Is(err, atomicfile.ErrExists) {
			os.Remove(cardPath) // the identity was not published
		}
		return writeError("identity", identityPath, err)
	}
	return nil
}

// writeError says why the key file path (what: "identity" or "card") was
// not written.
func writeError(what, path string, err error) error {
	if errors.Is(err, atomicfile.ErrExists) {
		return fmt.Errorf("%w: %s (nothing was overwritten)", ErrExists, path)
	}
	return fmt.Errorf("%s: write %s: %w", what, path, err)
}

// ErrNotPrivate is wrapped by CheckPrivate's error when an identity file
// can be read by others than its owner.
var ErrNotPrivate = owneronly.ErrNotRestricted

// CheckPrivate reports, wrapping ErrNotPrivate, whether the identity file
// at path gives anyone but its owner access: a group or other permission
// bit on Unix, an access entry for another user on Windows (SYSTEM and the
// administrators excepted).
func CheckPrivate(path string) error {
	return owneronly.Check(path)
}

// topLevelType returns the "type" field of a JSON document, or "".
func topLevelType(data []byte) string {
	var t struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(data, &t) != nil {
		return ""
	}
	return t.Type
}

// IsIdentityFile reports whether data looks like an identity file
// (encrypted, or unencrypted JSON of type "dossier-identity") rather than a
// card.
func IsIdentityFile(data []byte) bool {
	return IsEncrypted(data) || topLevelType(data) == Type
}
