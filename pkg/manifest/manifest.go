// Package manifest defines the two signed documents inside a dossier
// bundle: the [Preamble], which opens the archive and lets a receiver prove
// the sender before a single payload byte is decompressed, and the
// [Manifest], which closes it and carries every file's SHA-256.
//
// Both are canonical JSON (see the bundle format spec in pkg/bundle) and are
// parsed strictly: the bytes must equal the canonical re-encoding of what was
// parsed. Signatures are hybrid Ed25519 + ML-DSA-65 ([sign.Signature]): a
// preamble's over its exact bytes in formats 1 and 2
// ([sign.ContextPreamble]) and over their SHA-512 in format 3
// ([sign.ContextPreambleDigest]); a manifest's over its exact bytes in
// format 1 ([sign.ContextManifest]) and over their SHA-512 in formats 2
// and 3 ([sign.ContextManifestDigest]), so that a reader can check each
// while reading rather than hold it whole.
package manifest

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/internal/canon"
	"github.com/dossier-evidence/dossier/pkg/internal/safepath"
	"github.com/dossier-evidence/dossier/pkg/sign"
)

// Document types and the format version this package writes. It reads
// [Version1] and [Version2] too.
const (
	FormatVersion = Version3
	PreambleType  = "dossier-preamble"
	ManifestType  = "dossier-manifest"
)

// Limits applied when parsing.
const (
	MaxFiles = 1_000_000
	// MaxFolders bounds the folders a format-3 bundle's files may be in
	// (as case folding and normalisation count them), so that a reader
	// checking its paths before the signature holds keeps a bounded set
	// of them whatever a stranger sends.
	MaxFolders      = 1_000_000
	MaxDocumentSize = 256 << 20
	MaxSignatureLen = 16 << 10
	MaxRecipients   = 256
	MaxTextLen      = 4096
)

// ReservedPrefix is the folder inside the archive that holds dossier's own
// entries; no payload path may start with it.
const ReservedPrefix = ".dossier/"

// ErrInvalid is wrapped by every error about a malformed, non-canonical,
// inconsistent or badly signed document.
var ErrInvalid = errors.New("manifest: invalid")

// Party names a sender or recipient by card.
type Party struct {
	Fingerprint string `json:"fingerprint"`
	Name        string `json:"name"`
	Org         string `json:"org,omitempty"`
}

// PartyOf describes a card as a Party. The fingerprint covers the card's
// keys, its age recipient included.
func PartyOf(c *card.Card) Party {
	return Party{Fingerprint: c.Fingerprint().Hex(), Name: c.Name, Org: c.Org}
}

// Case is the case metadata shown on inspect and open.
type Case struct {
	Reference           string   `json:"reference,omitempty"`
	RequestingAuthority string   `json:"requesting_authority,omitempty"`
	RequestedAuthority  string   `json:"requested_authority,omitempty"`
	LegalBasis          string   `json:"legal_basis,omitempty"`
	Purpose             string   `json:"purpose,omitempty"`
	Restrictions        []string `json:"handling_restrictions,omitempty"`
	RetainUntil         string   `json:"retain_until,omitempty"`
	PolicyOverride      string   `json:"policy_override,omitempty"`
}

// File describes one payload file. SHA256 and Offset are set in the
// manifest only. It is 80 bytes and its path's: a bundle can list a
// million files, and every reader holds them all until the manifest is
// checked (and pack from its plan to its end), so the time, mode and
// categories are numbers, not text, and the fields are ordered to leave
// no padding. Its JSON (MarshalJSON) lists them in the manifest's order.
type File struct {
	Path       string       `json:"path"`
	Size       int64        `json:"size"`
	MTime      Time         `json:"mtime"`
	Offset     int64        `json:"offset,omitempty"`
	SHA256     SHA256Sum    `json:"sha256,omitzero"`
	Mode       Mode         `json:"mode"`
	Categories category.Set `json:"categories"`
}

// MarshalJSON writes f as a manifest lists it: path, size, mode, mtime,
// categories, and the SHA-256 and offset if set.
func (f File) MarshalJSON() ([]byte, error) {
	return appendFile(nil, &f, true), nil
}

// SHA256Sum is a file's SHA-256. It is written as 64 lower-case hex
// digits; the zero value means no hash (a preamble's entries have none),
// which no file's content can hash to in practice. It is held as bytes,
// not text: a list of a hundred thousand files saves some 5 MB.
type SHA256Sum [32]byte

// ParseSHA256Sum parses a SHA-256 written as 64 lower-case hex digits,
// the only spelling a manifest has. All zeros, the value that stands
// for no hash, is refused.
func ParseSHA256Sum(s string) (SHA256Sum, error) {
	var sum SHA256Sum
	if !isHex256(s) {
		return sum, fmt.Errorf("sha256 %q is not 64 lower-case hex digits", s)
	}
	hex.Decode(sum[:], []byte(s))
	if sum.IsZero() {
		return sum, errors.New("sha256 of all zeros is not a file's hash")
	}
	return sum, nil
}

// String returns the hex form.
func (s SHA256Sum) String() string { return hex.EncodeToString(s[:]) }

// IsZero reports whether s is the zero value: no hash.
func (s SHA256Sum) IsZero() bool { return s == SHA256Sum{} }

// MarshalText returns the hex form.
func (s SHA256Sum) MarshalText() ([]byte, error) { return hex.AppendEncode(nil, s[:]), nil }

// UnmarshalText accepts exactly 64 lower-case hex digits.
func (s *SHA256Sum) UnmarshalText(b []byte) error {
	sum, err := ParseSHA256Sum(string(b))
	if err != nil {
		return err
	}
	*s = sum
	return nil
}

// Preamble is the first entry of a bundle.
type Preamble struct {
	Type            string     `json:"type"`
	Version         int        `json:"version"`
	BundleID        string     `json:"bundle_id"`
	Created         string     `json:"created"`
	Sender          *card.Card `json:"sender"`
	Recipients      []Party    `json:"recipients"`
	AgeHeaderSHA256 string     `json:"age_header_sha256"`
	Case            Case       `json:"case"`
	TotalSize       int64      `json:"total_size"`
	Files           []File     `json:"files"`
}

// Manifest is the last entry of a bundle: the preamble's facts plus every
// file's SHA-256 and position.
type Manifest struct {
	Type            string  `json:"type"`
	Version         int     `json:"version"`
	BundleID        string  `json:"bundle_id"`
	Created         string  `json:"created"`
	Sender          Party   `json:"sender"`
	Recipients      []Party `json:"recipients"`
	AgeHeaderSHA256 string  `json:"age_header_sha256"`
	PreambleSHA256  string  `json:"preamble_sha256"`
	Case            Case    `json:"case"`
	TotalSize       int64   `json:"total_size"`
	Files           []File  `json:"files"`
}

// ParsePreamble parses and validates a preamble strictly. It does not use
// data once it is decoded, so a caller that holds no other reference to it
// lets the collector free it while the list is checked.
func ParsePreamble(data []byte) (*Preamble, error) {
	if len(data) > MaxDocumentSize {
		return nil, fmt.Errorf("%w: preamble larger than %d bytes", ErrInvalid, MaxDocumentSize)
	}
	p := new(Preamble)
	if err := unmarshalWithFiles(data, p, &p.Files, func() any { return p.head() }, 0); err != nil {
		return nil, fmt.Errorf("%w: preamble: %v", ErrInvalid, locateEntry(data, err))
	}
	if err := p.Check(); err != nil {
		return nil, err
	}
	return p, nil
}

// Check applies to p the rules ParsePreamble applies to what it decodes,
// but for the document size limit (a sender applies its own, tighter
// one). A sender checks the preamble it is about to sign with it, instead
// of parsing the encoding back (a second copy of the file list): Marshal
// writes the canonical form. A preamble whose files carry a SHA-256 or
// offset, as a read's Result.Preamble does, fails it: a preamble entry
// has neither.
func (p *Preamble) Check() error {
	if err := p.checkHeader(); err != nil {
		return err
	}
	if err := checkListSpelling(p.Version, p.Files); err != nil {
		return err
	}
	return checkFiles(p.Files, p.TotalSize, false)
}

// checkHeader validates everything in a preamble but its file list.
func (p *Preamble) checkHeader() error {
	if p.Type != PreambleType {
		return fmt.Errorf("%w: preamble type is %q", ErrInvalid, p.Type)
	}
	if p.Sender == nil {
		return fmt.Errorf("%w: preamble names no sender", ErrInvalid)
	}
	if err := p.Sender.Check(); err != nil {
		return fmt.Errorf("%w: preamble sender card: %v", ErrInvalid, err)
	}
	return checkHeader(p.Version, p.BundleID, p.Created, p.Recipients, p.AgeHeaderSHA256, &p.Case)
}

// ParseManifest parses and validates a manifest strictly.
func ParseManifest(data []byte) (*Manifest, error) {
	return ParseManifestSized(data, 0)
}

// ParseManifestSized is ParseManifest for a manifest expected to list
// files files (the signed preamble's count): the list is allocated once at
// that size instead of growing, which matters at many thousand files. A
// different count is not an error here; Consistent compares the lists.
func ParseManifestSized(data []byte, files int) (*Manifest, error) {
	if len(data) > MaxDocumentSize {
		return nil, fmt.Errorf("%w: manifest larger than %d bytes", ErrInvalid, MaxDocumentSize)
	}
	m := new(Manifest)
	if err := unmarshalWithFiles(data, m, &m.Files, func() any { return m.head() }, files); err != nil {
		return nil, fmt.Errorf("%w: manifest: %v", ErrInvalid, locateEntry(data, err))
	}
	if err := m.checkHeader(); err != nil {
		return nil, err
	}
	if err := checkListSpelling(m.Version, m.Files); err != nil {
		return nil, err
	}
	if err := checkFiles(m.Files, m.TotalSize, true); err != nil {
		return nil, err
	}
	return m, nil
}

// checkHeader validates everything in a manifest but its file list.
func (m *Manifest) checkHeader() error {
	if m.Type != ManifestType {
		return fmt.Errorf("%w: manifest type is %q", ErrInvalid, m.Type)
	}
	if _, err := card.ParseFingerprintHex(m.Sender.Fingerprint); err != nil {
		return fmt.Errorf("%w: sender: %v", ErrInvalid, err)
	}
	// The sender's name is shown (for example when the fingerprint does not
	// match the expected sender) before the signature is checked, so it
	// gets the same text checks as the recipients'.
	if err := card.CheckText("sender name", m.Sender.Name, 200); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := card.CheckText("sender org", m.Sender.Org, 200); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if !isHex256(m.PreambleSHA256) {
		return fmt.Errorf("%w: preamble_sha256 is not a SHA-256", ErrInvalid)
	}
	return checkHeader(m.Version, m.BundleID, m.Created, m.Recipients, m.AgeHeaderSHA256, &m.Case)
}

var (
	bundleIDRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-f]{32}$`) })
	dateRe     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`) })
)

// isHex256 reports whether s, a string or bytes, is a SHA-256 in
// lower-case hex. It is checked for every file of a manifest: a table
// and no branch per character, which a comparison of ranges mispredicts
// (hex digits and letters come in no order), made it several times
// faster.
func isHex256[T string | []byte](s T) bool {
	if len(s) != 64 {
		return false
	}
	var bad byte
	for i := 0; i < 64; i++ {
		bad |= notLowerHex[s[i]]
	}
	return bad == 0
}

// notLowerHex is 1 for every byte but the lower-case hex digits.
var notLowerHex = func() (t [256]byte) {
	for i := range t {
		t[i] = 1
	}
	for _, c := range "0123456789abcdef" {
		t[c] = 0
	}
	return t
}()

// isWholeSecondUTC reports whether s is an RFC 3339 UTC time in whole
// seconds, such as 2025-06-01T12:00:00Z: the one spelling of a Time.
func isWholeSecondUTC(s string) bool {
	_, ok := parseTime([]byte(s))
	return ok
}

// checkListSpelling refuses a format-2 document whose file list is null:
// format 2 spells an empty list [] (as pack always has), so that each
// document has one encoding; format 1 readers accepted both.
func checkListSpelling(version int, files []File) error {
	if version != Version1 && files == nil {
		return fmt.Errorf("%w: the file list is null; format %d writes an empty list as []", ErrInvalid, version)
	}
	return nil
}

// checkHeader validates the fields a preamble and a manifest share, but for
// the file list.
func checkHeader(version int, id, created string, recipients []Party, headerHash string, c *Case) error {
	if !Supported(version) {
		return fmt.Errorf("%w: format version %d is not supported (this dossier reads versions %d to %d)", ErrInvalid, version, Version1, FormatVersion)
	}
	if !bundleIDRe().MatchString(id) {
		return fmt.Errorf("%w: bundle id %q is malformed", ErrInvalid, id)
	}
	if !isWholeSecondUTC(created) {
		return fmt.Errorf("%w: created %q is not an RFC 3339 UTC time in whole seconds", ErrInvalid, created)
	}
	if len(recipients) == 0 || len(recipients) > MaxRecipients {
		return fmt.Errorf("%w: %d recipients (want 1 to %d)", ErrInvalid, len(recipients), MaxRecipients)
	}
	seen := map[string]bool{}
	for _, r := range recipients {
		if _, err := card.ParseFingerprintHex(r.Fingerprint); err != nil {
			return fmt.Errorf("%w: recipient: %v", ErrInvalid, err)
		}
		if seen[r.Fingerprint] {
			return fmt.Errorf("%w: recipient %s listed twice", ErrInvalid, r.Fingerprint)
		}
		seen[r.Fingerprint] = true
		if err := card.CheckText("recipient name", r.Name, 200); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		if err := card.CheckText("recipient org", r.Org, 200); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	if !isHex256(headerHash) {
		return fmt.Errorf("%w: age_header_sha256 is not a SHA-256", ErrInvalid)
	}
	return c.Check()
}

// checkFiles validates a document's file list against its total size.
func checkFiles(files []File, total int64, withHashes bool) error {
	if len(files) > MaxFiles {
		return fmt.Errorf("%w: %d files is more than the limit of %d", ErrInvalid, len(files), MaxFiles)
	}
	paths := make([]string, len(files))
	var sum int64
	for i := range files {
		f := &files[i]
		if err := f.check(withHashes); err != nil {
			return err
		}
		paths[i] = f.Path
		if sum+f.Size < sum {
			return fmt.Errorf("%w: total size overflows", ErrInvalid)
		}
		sum += f.Size
	}
	if sum != total {
		return fmt.Errorf("%w: total_size %d does not equal the sum of file sizes %d", ErrInvalid, total, sum)
	}
	if err := safepath.Collisions(paths); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}

func (f *File) check(withHashes bool) error {
	if err := safepath.Check(f.Path); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if strings.HasPrefix(f.Path, ReservedPrefix) || f.Path == strings.TrimSuffix(ReservedPrefix, "/") {
		return fmt.Errorf("%w: path %q is inside the reserved folder %s", ErrInvalid, f.Path, ReservedPrefix)
	}
	if f.Size < 0 {
		return fmt.Errorf("%w: %q has negative size", ErrInvalid, f.Path)
	}
	if !f.Mode.Valid() {
		return fmt.Errorf("%w: %q has malformed mode %q", ErrInvalid, f.Path, f.Mode)
	}
	if !f.MTime.Valid() {
		return fmt.Errorf("%w: %q has an mtime outside the years 0000 to 9999 (%s)", ErrInvalid, f.Path, f.MTime)
	}
	if f.Categories.Len() == 0 {
		return fmt.Errorf("%w: %q has no category", ErrInvalid, f.Path)
	}
	if !f.Categories.Valid() {
		return fmt.Errorf("%w: %q has a category outside the vocabulary", ErrInvalid, f.Path)
	}
	if withHashes {
		if f.SHA256.IsZero() {
			return fmt.Errorf("%w: %q has no valid sha256", ErrInvalid, f.Path)
		}
		if f.Offset <= 0 {
			return fmt.Errorf("%w: %q has no valid offset", ErrInvalid, f.Path)
		}
	} else if !f.SHA256.IsZero() || f.Offset != 0 {
		return fmt.Errorf("%w: preamble entry %q carries a hash or offset", ErrInvalid, f.Path)
	}
	return nil
}

// Check validates the case metadata's text fields.
func (c *Case) Check() error {
	fields := []struct{ name, value string }{
		{"case reference", c.Reference},
		{"requesting authority", c.RequestingAuthority},
		{"requested authority", c.RequestedAuthority},
		{"legal basis", c.LegalBasis},
		{"purpose", c.Purpose},
		{"policy override", c.PolicyOverride},
	}
	for _, r := range c.Restrictions {
		fields = append(fields, struct{ name, value string }{"handling restriction", r})
	}
	for _, f := range fields {
		if err := card.TextProblem(f.name, f.value, MaxTextLen); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	if c.RetainUntil != "" {
		if _, err := time.Parse("2006-01-02", c.RetainUntil); err != nil || !dateRe().MatchString(c.RetainUntil) {
			return fmt.Errorf("%w: retain-until %q is not a date like 2031-12-31", ErrInvalid, c.RetainUntil)
		}
	}
	return nil
}

// Sign signs a document's exact bytes and returns the signature file.
func Sign(key *sign.PrivateKey, context string, doc []byte) ([]byte, error) {
	sig, err := key.Sign(context, doc)
	if err != nil {
		return nil, err
	}
	return canon.Marshal(sig)
}

// Verify checks a signature file over a document's exact bytes.
func Verify(pub *sign.PublicKey, context string, doc, sigFile []byte) error {
	if len(sigFile) > MaxSignatureLen {
		return fmt.Errorf("%w: signature file too large", ErrInvalid)
	}
	var sig sign.Signature
	if err := canon.Unmarshal(sigFile, &sig, false); err != nil {
		return fmt.Errorf("%w: signature file: %v", ErrInvalid, err)
	}
	if err := pub.Verify(context, doc, &sig); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}

// Consistent checks that a manifest restates its preamble exactly: same
// bundle, sender, recipients, header hash, case and file list.
func (m *Manifest) Consistent(p *Preamble, preambleSHA256 string) error {
	bad := func(what string) error {
		return fmt.Errorf("%w: manifest and preamble disagree on %s", ErrInvalid, what)
	}
	switch {
	case m.Version != p.Version:
		return bad("the format version")
	case m.PreambleSHA256 != preambleSHA256:
		return bad("the preamble hash")
	case m.BundleID != p.BundleID:
		return bad("the bundle id")
	case m.Created != p.Created:
		return bad("the creation time")
	case m.Sender != PartyOf(p.Sender):
		return bad("the sender")
	case !slices.Equal(m.Recipients, p.Recipients):
		return bad("the recipients")
	case m.AgeHeaderSHA256 != p.AgeHeaderSHA256:
		return bad("the age header hash")
	case !caseEqual(&m.Case, &p.Case):
		return bad("the case metadata")
	case m.TotalSize != p.TotalSize || len(m.Files) != len(p.Files):
		return bad("the file list")
	}
	for i := range m.Files {
		a, b := m.Files[i], p.Files[i]
		a.SHA256, a.Offset = SHA256Sum{}, 0
		if a.Path != b.Path || a.Size != b.Size || a.Mode != b.Mode || a.MTime != b.MTime || a.Categories != b.Categories {
			return bad(fmt.Sprintf("file %q", b.Path))
		}
	}
	return nil
}

func caseEqual(a, b *Case) bool {
	x, _ := canon.Marshal(a)
	y, _ := canon.Marshal(b)
	return bytes.Equal(x, y)
}

// CategoryTotal is the number of files and bytes carrying one category.
type CategoryTotal struct {
	Category category.ID `json:"category"`
	Files    int         `json:"files"`
	Bytes    int64       `json:"bytes"`
}

// Summary totals files and bytes per category, in vocabulary order,
// listing only categories that occur. A file with two categories counts in
// both.
func Summary(files []File) []CategoryTotal {
	var t Tally
	for i := range files {
		t.Add(&files[i])
	}
	return t.Summary()
}

// A Tally adds up files and bytes per category one file at a time, for a
// reader that does not hold the list: its Summary is Summary's of the
// files added. The zero value is an empty tally.
type Tally struct {
	totals map[category.ID]*CategoryTotal
}

// Add counts f.
func (t *Tally) Add(f *File) {
	if t.totals == nil {
		t.totals = map[category.ID]*CategoryTotal{}
	}
	for c := range f.Categories.All() {
		ct := t.totals[c]
		if ct == nil {
			ct = &CategoryTotal{Category: c}
			t.totals[c] = ct
		}
		ct.Files++
		ct.Bytes += f.Size
	}
}

// Summary returns the totals, in vocabulary order, of the categories
// that occur.
func (t *Tally) Summary() []CategoryTotal {
	var out []CategoryTotal
	for _, id := range category.All() {
		if ct := t.totals[id]; ct != nil {
			out = append(out, *ct)
		}
	}
	return out
}
