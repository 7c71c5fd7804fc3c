// Package seal writes and checks dossier's detached seals: signatures over
// a bundle's encrypted bytes that anyone holding the sender's public card
// can check without any decryption key.
//
// A seal is a minisign signature file (prehashed Ed25519 over the BLAKE2b-512
// digest of the file), so stock `minisign -Vm BUNDLE -p KEY` accepts it with
// the key `dossier key minisign CARD` prints. Its trusted comment names the
// bundle id, the volume and the signer's fingerprint, and carries an
// ML-DSA-65 signature over the same digest and those facts; dossier requires
// both halves, as for every dossier signature.
package seal

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/blake2b"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/internal/atomicfile"
	"github.com/dossier-evidence/dossier/pkg/sign"
)

// Ext is the seal file's extension, added to the bundle's name.
const Ext = ".minisig"

// MaxSize is the largest seal file accepted.
const MaxSize = 16 << 10

// ErrInvalid is wrapped by every error about a malformed seal or one that
// does not verify.
var ErrInvalid = errors.New("seal: invalid seal")

// NewHasher returns the hash a seal signs: BLAKE2b-512 (as `b2sum`).
func NewHasher() hash.Hash {
	h, _ := blake2b.New512(nil)
	return h
}

// Info is what a seal's trusted comment states.
type Info struct {
	// BundleID is the sealed bundle's id.
	BundleID string
	// Volume and Volumes number a volume of a split bundle (1-based);
	// both are 0 for a whole bundle.
	Volume, Volumes int
}

// Seal is a parsed seal file.
type Seal struct {
	Info
	// Fingerprint is the signer's card fingerprint (full hex) as stated.
	Fingerprint string
	keyID       [8]byte
	edSig       []byte
	mlSig       []byte
	trusted     string
	global      []byte
	raw         []byte
}

// KeyID is the minisign key id dossier uses for a card: the first 8 bytes
// of its fingerprint.
func KeyID(c *card.Card) [8]byte {
	var id [8]byte
	fp := c.Fingerprint()
	copy(id[:], fp[:8])
	return id
}

// PublicKey returns the card's signing key as a minisign public key file.
func PublicKey(c *card.Card) string {
	id := KeyID(c)
	blob := append(append([]byte("Ed"), id[:]...), c.Ed25519...)
	return fmt.Sprintf("untrusted comment: minisign public key %X\n%s\n",
		binary.LittleEndian.Uint64(id[:]), base64.StdEncoding.EncodeToString(blob))
}

// statement is the part of the trusted comment the ML-DSA-65 half signs
// (together with the digest).
func statement(info Info, fp string) string {
	s := "dossier-seal v1 bundle=" + info.BundleID
	if info.Volumes > 0 {
		s += fmt.Sprintf(" volume=%d/%d", info.Volume, info.Volumes)
	}
	return s + " signer=" + fp
}

func mlMessage(digest []byte, stmt string) []byte {
	return append(append([]byte(nil), digest...), stmt...)
}

// Sign makes a seal over digest (from [NewHasher]) with the signer's key.
func Sign(key *sign.PrivateKey, signer *card.Card, digest []byte, info Info) ([]byte, error) {
	if len(digest) != blake2b.Size {
		return nil, fmt.Errorf("seal: digest is %d bytes, want %d", len(digest), blake2b.Size)
	}
	if !key.Public().Equal(mustKey(signer)) {
		return nil, errors.New("seal: the signing key is not the signer card's")
	}
	fp := signer.Fingerprint()
	stmt := statement(info, fp.Hex())
	ml, err := key.SignMLDSA(sign.ContextSeal, mlMessage(digest, stmt))
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	trusted := stmt + " ml-dsa-65=" + base64.StdEncoding.EncodeToString(ml)
	edSig := ed25519.Sign(key.Ed25519(), digest)
	global := ed25519.Sign(key.Ed25519(), append(append([]byte(nil), edSig...), trusted...))
	id := KeyID(signer)
	var b bytes.Buffer
	fmt.Fprintf(&b, "untrusted comment: dossier seal by %s [%s]\n", safeComment(signer.Name), fp)
	b.WriteString(base64.StdEncoding.EncodeToString(append(append([]byte("ED"), id[:]...), edSig...)) + "\n")
	b.WriteString("trusted comment: " + trusted + "\n")
	b.WriteString(base64.StdEncoding.EncodeToString(global) + "\n")
	return b.Bytes(), nil
}

func mustKey(c *card.Card) *sign.PublicKey {
	k, err := c.SigningKey()
	if err != nil {
		return nil
	}
	return k
}

// safeComment keeps the untrusted comment on one printable line.
func safeComment(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

var trustedRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^dossier-seal v1 bundle=([0-9a-f]{32})(?: volume=([1-9][0-9]{0,5})/([1-9][0-9]{0,5}))? signer=([0-9a-f]{64}) ml-dsa-65=([A-Za-z0-9+/]+={0,2})$`)
})

// Parse parses a seal file strictly. It does not verify it.
func Parse(data []byte) (*Seal, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalid, MaxSize)
	}
	if bytes.Contains(data, []byte("\r\n")) {
		return nil, fmt.Errorf("%w: it has Windows line endings (CRLF), and a seal must be the very bytes it was written as: use the original file, or convert it back (dos2unix)", ErrInvalid)
	}
	lines := strings.SplitAfter(string(data), "\n")
	if len(lines) != 5 || lines[4] != "" {
		return nil, fmt.Errorf("%w: a seal has exactly four lines", ErrInvalid)
	}
	for i := range 4 {
		lines[i] = strings.TrimSuffix(lines[i], "\n")
	}
	if !strings.HasPrefix(lines[0], "untrusted comment: ") {
		return nil, fmt.Errorf("%w: the first line is not an untrusted comment", ErrInvalid)
	}
	s := &Seal{raw: data}
	sigBlob, err := base64.StdEncoding.Strict().DecodeString(lines[1])
	if err != nil || len(sigBlob) != 2+8+ed25519.SignatureSize || string(sigBlob[:2]) != "ED" {
		return nil, fmt.Errorf("%w: the signature line is not a prehashed (ED) minisign signature", ErrInvalid)
	}
	copy(s.keyID[:], sigBlob[2:10])
	s.edSig = sigBlob[10:]
	tc, ok := strings.CutPrefix(lines[2], "trusted comment: ")
	if !ok {
		return nil, fmt.Errorf("%w: the third line is not a trusted comment", ErrInvalid)
	}
	s.trusted = tc
	m := trustedRe().FindStringSubmatch(tc)
	if m == nil {
		return nil, fmt.Errorf("%w: the trusted comment is not a dossier seal statement", ErrInvalid)
	}
	s.BundleID, s.Fingerprint = m[1], m[4]
	if m[2] != "" {
		s.Volume, _ = strconv.Atoi(m[2])
		s.Volumes, _ = strconv.Atoi(m[3])
		if s.Volume > s.Volumes {
			return nil, fmt.Errorf("%w: volume %d of %d", ErrInvalid, s.Volume, s.Volumes)
		}
	}
	if s.mlSig, err = base64.StdEncoding.Strict().DecodeString(m[5]); err != nil || len(s.mlSig) != mldsa65.SignatureSize {
		return nil, fmt.Errorf("%w: the ML-DSA-65 signature is malformed", ErrInvalid)
	}
	if s.global, err = base64.StdEncoding.Strict().DecodeString(lines[3]); err != nil || len(s.global) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: the global signature line is malformed", ErrInvalid)
	}
	return s, nil
}

// Verify checks the seal against the expected signer's card and the
// digest of the sealed bytes: the key id, the prehashed Ed25519 signature,
// the global signature over the trusted comment, and the ML-DSA-65
// signature. Any failure wraps ErrInvalid.
func (s *Seal) Verify(signer *card.Card, digest []byte) error {
	fp := signer.Fingerprint()
	if s.Fingerprint != fp.Hex() {
		return &WrongSignerError{Stated: s.Fingerprint, Expected: signer}
	}
	if s.keyID != KeyID(signer) {
		return fmt.Errorf("%w: it states the fingerprint of %s but another minisign key id: the seal was altered", ErrInvalid, signer.Label())
	}
	pub, err := signer.SigningKey()
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub.Ed25519(), digest, s.edSig) {
		return fmt.Errorf("%w: the sealed bytes were changed (Ed25519 signature over their BLAKE2b-512 does not verify)", ErrInvalid)
	}
	if !ed25519.Verify(pub.Ed25519(), append(append([]byte(nil), s.edSig...), s.trusted...), s.global) {
		return fmt.Errorf("%w: the trusted comment was changed", ErrInvalid)
	}
	stmt := statement(s.Info, s.Fingerprint)
	if !pub.VerifyMLDSA(sign.ContextSeal, mlMessage(digest, stmt), s.mlSig) {
		return fmt.Errorf("%w: the ML-DSA-65 half does not verify", ErrInvalid)
	}
	return nil
}

// WrongSignerError reports a seal made by someone other than the expected
// signer.
type WrongSignerError struct {
	Stated   string
	Expected *card.Card
}

func (e *WrongSignerError) Error() string {
	return fmt.Sprintf("the seal was made by the key %s, not by %s: check who sent it", e.StatedShort(), e.Expected.Label())
}

// StatedShort is the short form of the fingerprint the seal states.
func (e *WrongSignerError) StatedShort() string {
	if fp, err := card.ParseFingerprintHex(e.Stated); err == nil {
		return fp.String()
	}
	return e.Stated
}

// Is makes a WrongSignerError match ErrInvalid.
func (e *WrongSignerError) Is(target error) bool { return target == ErrInvalid }

// ReadFile reads and parses a seal file.
func ReadFile(path string) (*Seal, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(bufio.NewReader(f), MaxSize+1))
	if err != nil {
		return nil, err
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// DigestFile returns the BLAKE2b-512 digest of a file's bytes.
func DigestFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := NewHasher()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// ErrExists is returned by [Reserve] and the [Pending] seal's Write when
// the seal file exists.
var ErrExists = errors.New("seal: the seal file already exists")

// reservedSize is how much room Reserve takes for a seal: more than any
// seal needs (some 4.7 KB with its ML-DSA-65 signature).
const reservedSize = 8 << 10

// Pending is a seal file made before the bundle it seals is written: for
// a bundle that cannot be taken back once written (standard output), a
// seal that cannot be written (a folder without write permission, a full
// disk) must fail first. Its Write puts the seal in place, never
// replacing a file that appeared meanwhile; its Abort removes it unwritten
// (safe after Write).
type Pending = atomicfile.Pending

// Reserve creates the temporary for a seal file at path, beside it, and
// takes the room the seal will need. It fails with ErrExists if path
// exists; that is checked again when the seal is written.
func Reserve(path string) (*Pending, error) {
	return atomicfile.Reserve(path, 0o644, reservedSize, func(err error) error { return writeError(path, err) })
}

// writeError says why the seal file path was not written.
func writeError(path string, err error) error {
	if errors.Is(err, atomicfile.ErrExists) {
		return fmt.Errorf("%w: %s (choose another name; nothing was replaced)", ErrExists, path)
	}
	return fmt.Errorf("seal: write %s: %w", path, err)
}
