// Package receipt makes and checks delivery receipts.
//
// When a recipient opens a bundle with --receipt, dossier writes a receipt
// signed with the recipient's hybrid key: which bundle (id and the
// BLAKE2b-512 of its encrypted bytes, as `b2sum` prints it), which
// manifest (SHA-256 of its exact bytes), from whom, to whom, when, and the
// result of verification. The sender checks it against the bundle it sent
// with `dossier receipt verify`.
package receipt

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sync"
	"time"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/internal/atomicfile"
	"github.com/dossier-evidence/dossier/pkg/internal/canon"
	"github.com/dossier-evidence/dossier/pkg/manifest"
	"github.com/dossier-evidence/dossier/pkg/sign"
)

// Type and Version are the receipt's "type" and "version" values.
const (
	Type    = "dossier-receipt"
	Version = 1
)

// Results a receipt can state.
const (
	// ResultOpened means every check passed and the documents were written.
	ResultOpened = "verified-and-opened"
)

// MaxSize is the largest receipt file accepted.
const MaxSize = 64 << 10

// ErrInvalid is wrapped by every error about a malformed receipt, one whose
// signature does not verify, or one that does not match the bundle.
var ErrInvalid = errors.New("receipt: invalid receipt")

// Receipt is a signed statement of delivery.
type Receipt struct {
	Type           string          `json:"type"`
	Version        int             `json:"version"`
	BundleID       string          `json:"bundle_id"`
	BundleBLAKE2b  string          `json:"bundle_blake2b"`
	ManifestSHA256 string          `json:"manifest_sha256"`
	Sender         manifest.Party  `json:"sender"`
	Recipient      manifest.Party  `json:"recipient"`
	Received       string          `json:"received"`
	Result         string          `json:"result"`
	FileCount      int             `json:"file_count"`
	TotalSize      int64           `json:"total_size"`
	Signature      *sign.Signature `json:"signature,omitempty"`
}

var (
	hexRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-f]+$`) })
	idRe  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-f]{32}$`) })
)

// New makes and signs a receipt for a bundle whose signed manifest is man
// (its file list need not be held) and lists files files.
func New(key *sign.PrivateKey, recipient *card.Card, man *manifest.Manifest, files int, manifestSHA256 []byte, bundleDigest []byte, result string, now time.Time) (*Receipt, error) {
	r := &Receipt{
		Type:           Type,
		Version:        Version,
		BundleID:       man.BundleID,
		BundleBLAKE2b:  hex.EncodeToString(bundleDigest),
		ManifestSHA256: hex.EncodeToString(manifestSHA256),
		Sender:         man.Sender,
		Recipient:      manifest.PartyOf(recipient),
		Received:       now.UTC().Truncate(time.Second).Format(time.RFC3339),
		Result:         result,
		FileCount:      files,
		TotalSize:      man.TotalSize,
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	msg, err := r.signedBytes()
	if err != nil {
		return nil, err
	}
	if r.Signature, err = key.Sign(sign.ContextReceipt, msg); err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}
	return r, nil
}

func (r *Receipt) signedBytes() ([]byte, error) {
	body := *r
	body.Signature = nil
	return canon.Marshal(&body)
}

// Marshal returns the receipt file: canonical indented JSON.
func (r *Receipt) Marshal() ([]byte, error) { return canon.MarshalIndent(r) }

// Parse parses a receipt file strictly. It does not verify the signature.
func Parse(data []byte) (*Receipt, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalid, MaxSize)
	}
	r := new(Receipt)
	if err := canon.Unmarshal(data, r, true); err != nil {
		if errors.Is(err, canon.ErrNotCanonical) {
			return nil, fmt.Errorf("%w: it is not byte for byte as it was written (%v): an editor or a transfer that changes spaces or line endings spoils a receipt; use the original file, or ask the recipient for it again", ErrInvalid, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	if r.Signature == nil {
		return nil, fmt.Errorf("%w: it is not signed", ErrInvalid)
	}
	return r, nil
}

func (r *Receipt) check() error {
	bad := func(what string) error { return fmt.Errorf("%w: %s", ErrInvalid, what) }
	switch {
	case r.Type != Type || r.Version != Version:
		return bad(fmt.Sprintf("type %q version %d is not a receipt this version reads", r.Type, r.Version))
	case !idRe().MatchString(r.BundleID):
		return bad("malformed bundle id")
	case len(r.BundleBLAKE2b) != 128 || !hexRe().MatchString(r.BundleBLAKE2b):
		return bad("malformed bundle hash")
	case len(r.ManifestSHA256) != 64 || !hexRe().MatchString(r.ManifestSHA256):
		return bad("malformed manifest hash")
	case r.Result != ResultOpened:
		return bad(fmt.Sprintf("unknown result %q", r.Result))
	case r.FileCount < 0 || r.TotalSize < 0:
		return bad("negative counts")
	}
	if _, err := time.Parse(time.RFC3339, r.Received); err != nil {
		return bad("malformed time")
	}
	for _, p := range []manifest.Party{r.Sender, r.Recipient} {
		if _, err := card.ParseFingerprintHex(p.Fingerprint); err != nil {
			return bad("malformed fingerprint")
		}
		if card.CheckText("name", p.Name, 200) != nil || card.CheckText("org", p.Org, 200) != nil {
			return bad("malformed party")
		}
	}
	return nil
}

// Verify checks that the receipt was signed by the recipient's card (both
// halves) and names it as the recipient.
func (r *Receipt) Verify(recipient *card.Card) error {
	if r.Recipient.Fingerprint != recipient.Fingerprint().Hex() {
		fp, _ := card.ParseFingerprintHex(r.Recipient.Fingerprint)
		return fmt.Errorf("%w: it was issued by '%s' (%s), not by %s: check whose receipt it is", ErrInvalid, r.Recipient.Name, fp, recipient.Label())
	}
	key, err := recipient.SigningKey()
	if err != nil {
		return err
	}
	msg, err := r.signedBytes()
	if err != nil {
		return err
	}
	if err := key.Verify(sign.ContextReceipt, msg, r.Signature); err != nil {
		return fmt.Errorf("%w: the signature does not verify (the receipt was altered): %v", ErrInvalid, err)
	}
	return nil
}

// Matches checks that the receipt is for the bundle with the given
// BLAKE2b-512 digest.
func (r *Receipt) Matches(bundleDigest []byte) error {
	if r.BundleBLAKE2b != hex.EncodeToString(bundleDigest) {
		return fmt.Errorf("%w: it is for other bytes than this bundle (bundle %s); the recipient received something else", ErrInvalid, r.BundleID)
	}
	return nil
}

// WriteFile writes the receipt to path: to a temporary beside it, synced,
// then published without replacing an existing file.
func (r *Receipt) WriteFile(path string) error {
	data, err := r.Marshal()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, data, 0o644, false); err != nil {
		return fmt.Errorf("receipt: write %s: %w", path, err)
	}
	return nil
}

// reservedSize is how much room Reserve takes: more than a receipt needs
// (some 5.5 KB with its ML-DSA-65 signature and the longest names).
const reservedSize = 16 << 10

// Pending is a receipt file made before the bundle is opened, so that a
// receipt that cannot be written there (a folder without write
// permission, a full disk) fails before the documents are published: a
// second open of the bundle, to get the receipt, is refused as a replay.
// Its Write puts the receipt (Marshal's bytes) in place, never replacing
// a file that appeared meanwhile; its Abort removes it unwritten (safe
// after Write).
type Pending = atomicfile.Pending

// Reserve creates the temporary for a receipt file at path, beside it,
// and takes the room the receipt will need. It fails if path exists; that
// is checked again when the receipt is written.
func Reserve(path string) (*Pending, error) {
	return atomicfile.Reserve(path, 0o644, reservedSize, func(err error) error { return writeError(path, err) })
}

// writeError says why the receipt file path was not written.
func writeError(path string, err error) error {
	if errors.Is(err, atomicfile.ErrExists) {
		return fmt.Errorf("receipt: %s exists (choose another name; nothing was replaced): %w", path, fs.ErrExist)
	}
	return fmt.Errorf("receipt: write %s: %w", path, err)
}
