// Package contacts keeps the cards of trusted counterparts under a name, so
// that a command can say "-r Bob" instead of naming a card file.
//
// # Layout
//
// The contact list lives in a folder ([Dir]) under dossier's home folder:
//
//	contacts/index.json        the names, fingerprints and dates added
//	contacts/<HEX>.card        each contact's card, named by its fingerprint
//
// The index is a canonical JSON document (see [Index]); every card is
// checked (self-signature, and that its fingerprint is the one the index
// records) each time it is read, so an edited or swapped card file is an
// [ErrBroken] error, never a silent change of key.
//
// # Names
//
// A contact's name is by default the name on its card. Names are unique
// without regard to case or Unicode normalisation ("bob" and "Bob" are the
// same name), and a key is stored under one name only. Adding a card whose
// name is already held by a different key fails with [ErrConflict]: the
// caller should treat it as a possible impersonation and say so loudly.
//
// Changes replace the index atomically, so a crash leaves either the old
// list or the new one, and are serialised with an OS file lock, so two
// processes changing the list at once cannot lose an entry.
package contacts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/internal/atomicfile"
	"github.com/dossier-evidence/dossier/pkg/internal/canon"
	"github.com/dossier-evidence/dossier/pkg/internal/filelock"
)

// Dir is the contact list's folder under the home folder, and IndexName
// the index file in it.
const (
	Dir       = "contacts"
	IndexName = "index.json"
)

// IndexType and IndexVersion are the values of the index's "type" and
// "version" fields.
const (
	IndexType    = "dossier-contacts"
	IndexVersion = 1
)

// MaxNameLen is the longest contact name accepted, in bytes.
const MaxNameLen = 200

// maxIndexSize bounds the index file that is read.
const maxIndexSize = 16 << 20

var (
	// ErrNotFound is wrapped by the errors for a name that is not a contact.
	ErrNotFound = errors.New("contacts: no such contact")
	// ErrConflict is wrapped by the error [Book.Add] returns when the name
	// is already held by a different key.
	ErrConflict = errors.New("contacts: the name is already held by a different key")
	// ErrBroken is wrapped by the errors for a damaged contact list: an
	// index that does not parse, or a stored card that is missing,
	// altered or not the card the index names.
	ErrBroken = errors.New("contacts: the contact list is damaged")
	// ErrBadName is wrapped by the errors for a name that cannot be a
	// contact's name.
	ErrBadName = errors.New("contacts: invalid name")
)

// Index is the index file's document.
type Index struct {
	Type     string  `json:"type"`
	Version  int     `json:"version"`
	Contacts []Entry `json:"contacts"`
}

// Entry is one contact in the index.
type Entry struct {
	// Name is the contact's name as it was added.
	Name string `json:"name"`
	// Fingerprint is the card's fingerprint in full lowercase hex.
	Fingerprint string `json:"fingerprint"`
	// Added is when the contact was added (RFC 3339, UTC).
	Added string `json:"added"`
}

// Contact is a contact with its card.
type Contact struct {
	Entry
	Card *card.Card
}

// Status says what [Book.Add] did.
type Status int

// The outcomes of [Book.Add].
const (
	// Added: the contact is new.
	Added Status = iota + 1
	// Unchanged: the very same card is already stored under that name.
	Unchanged
	// Updated: the contact's key was already stored under that name, and
	// its card was replaced by a newer one (for example with other
	// accepted categories).
	Updated
)

// String returns "added", "unchanged" or "updated".
func (s Status) String() string {
	switch s {
	case Added:
		return "added"
	case Unchanged:
		return "unchanged"
	case Updated:
		return "updated"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Book is a contact list in a folder.
type Book struct {
	dir string
}

// Open returns the contact list kept under the home folder home (in
// home/contacts). Nothing is created until a contact is added.
func Open(home string) (*Book, error) {
	if home == "" {
		return nil, errors.New("contacts: no home folder given")
	}
	abs, err := filepath.Abs(home)
	if err != nil {
		return nil, fmt.Errorf("contacts: %w", err)
	}
	return &Book{dir: filepath.Join(abs, Dir)}, nil
}

// Path returns the contact list's folder.
func (b *Book) Path() string { return b.dir }

func (b *Book) indexPath() string { return filepath.Join(b.dir, IndexName) }

func (b *Book) cardPath(fp string) string { return filepath.Join(b.dir, fp+".card") }

// lock takes the list's exclusive lock (creating the folder if needed) for
// a read-modify-write of the index and card files, waiting until ctx is
// done (then returning ctx's error, having changed nothing).
func (b *Book) lock(ctx context.Context) (func(), error) {
	if err := os.MkdirAll(b.dir, 0o700); err != nil {
		return nil, fmt.Errorf("contacts: %w", err)
	}
	unlock, err := filelock.LockContext(ctx, filepath.Join(b.dir, "contacts.lock"), true)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("contacts: %w", err)
	}
	return unlock, nil
}

// key is the form in which names are compared: NFC, case-folded.
func key(name string) string {
	return strings.ToLower(norm.NFC.String(name))
}

// SameName reports whether a and b are the same contact name.
func SameName(a, b string) bool { return key(a) == key(b) }

// lookalike is the form in which names are compared for ones that read
// alike: key, after dropping what displays as nothing (zero-width spaces
// and joiners, soft hyphens, variation selectors and the other format
// characters), reading every blank (any Unicode space, the Braille blank,
// the Hangul fillers) as one space between words, and folding
// compatibility forms (NFKC: fullwidth letters, ligatures). "alice",
// "alice\u200b", "ａｌｉｃｅ" and " alice " share one, as do "Bob
// Camilleri" and "Bob\u2800Camilleri". Letters of other scripts that look
// alike (a Cyrillic а) are not folded.
func lookalike(name string) string {
	visible := strings.Map(func(r rune) rune {
		switch {
		case IsBlank(r):
			return ' '
		case unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) || unicode.Is(unicode.Variation_Selector, r):
			return -1
		}
		return r
	}, name)
	return strings.Join(strings.Fields(strings.ToLower(norm.NFKC.String(visible))), " ")
}

// IsBlank reports whether r shows as blank space between words: any
// Unicode space, the Braille blank U+2800 and the Hangul fillers. Names
// that differ only in their blanks read alike (see Book.Add).
func IsBlank(r rune) bool {
	return unicode.IsSpace(r) || r == 0x2800 || r == 0x115f || r == 0x1160 || r == 0x3164 || r == 0xffa0
}

// Impersonated returns the contact whose name reads like name (the same,
// or differing only in what displays as nothing or in compatibility
// forms) but who is another key than fp, or nil if there is none: a card
// naming itself so may be an impersonation of that contact. A key that is
// itself a contact (stored deliberately under another name) impersonates
// no one. A missing contact list has none.
func (b *Book) Impersonated(name string, fp card.Fingerprint) (*Entry, error) {
	idx, _, err := b.read()
	if err != nil {
		return nil, err
	}
	for _, e := range idx.Contacts {
		if e.Fingerprint == fp.Hex() {
			return nil, nil
		}
	}
	return idx.impersonated(name, fp), nil
}

func (idx *Index) impersonated(name string, fp card.Fingerprint) *Entry {
	want := lookalike(name)
	for i, e := range idx.Contacts {
		if e.Fingerprint != fp.Hex() && lookalike(e.Name) == want {
			return &idx.Contacts[i]
		}
	}
	return nil
}

// CheckName reports whether name can be a contact's name: not empty, at
// most MaxNameLen bytes of UTF-8 without control or bidi characters, and
// without leading or trailing spaces.
func CheckName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: the name is empty", ErrBadName)
	}
	if strings.TrimSpace(name) != name {
		return fmt.Errorf("%w: %s has leading or trailing spaces", ErrBadName, quoteName(name))
	}
	if err := card.CheckText("name", name, MaxNameLen); err != nil {
		return fmt.Errorf("%w: %s", ErrBadName, strings.TrimPrefix(err.Error(), card.ErrInvalid.Error()+": "))
	}
	return nil
}

// read reads the index and returns it with its bytes (nil if there is no
// index yet).
func (b *Book) read() (*Index, []byte, error) {
	data, err := readSmall(b.indexPath(), maxIndexSize)
	if errors.Is(err, fs.ErrNotExist) {
		return &Index{Type: IndexType, Version: IndexVersion, Contacts: []Entry{}}, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	idx := new(Index)
	if err := canon.Unmarshal(data, idx, true); err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrBroken, b.indexPath(), err)
	}
	if err := idx.check(); err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrBroken, b.indexPath(), err)
	}
	return idx, data, nil
}

// check validates a parsed index: known type and version, valid and
// unique names and fingerprints, sorted by name.
func (idx *Index) check() error {
	if idx.Type != IndexType {
		return fmt.Errorf("type is %q, want %q", idx.Type, IndexType)
	}
	if idx.Version != IndexVersion {
		return fmt.Errorf("version %d is not supported (this dossier reads version %d)", idx.Version, IndexVersion)
	}
	if idx.Contacts == nil {
		return errors.New("no contacts list")
	}
	names := map[string]bool{}
	fps := map[string]bool{}
	for i, e := range idx.Contacts {
		if err := CheckName(e.Name); err != nil {
			return err
		}
		if _, err := card.ParseFingerprintHex(e.Fingerprint); err != nil {
			return fmt.Errorf("contact %s: %v", quoteName(e.Name), err)
		}
		if _, err := time.Parse(time.RFC3339, e.Added); err != nil {
			return fmt.Errorf("contact %s: added %q is not an RFC 3339 time", quoteName(e.Name), e.Added)
		}
		if names[key(e.Name)] {
			return fmt.Errorf("the name %s appears twice", quoteName(e.Name))
		}
		if fps[e.Fingerprint] {
			return fmt.Errorf("the key %s appears twice", e.Fingerprint)
		}
		names[key(e.Name)], fps[e.Fingerprint] = true, true
		if i > 0 && compare(idx.Contacts[i-1], e) > 0 {
			return errors.New("contacts are not sorted by name")
		}
	}
	return nil
}

func compare(a, b Entry) int {
	if c := strings.Compare(key(a.Name), key(b.Name)); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// loadCard reads and checks the stored card of e.
func (b *Book) loadCard(e Entry) (*card.Card, error) {
	path := b.cardPath(e.Fingerprint)
	data, err := readSmall(path, card.MaxSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: the card of contact %s is missing (%s); remove the contact and add its card again", ErrBroken, quoteName(e.Name), path)
	}
	if err != nil {
		return nil, err
	}
	c, err := card.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w: the stored card of contact %s (%s): %v", ErrBroken, quoteName(e.Name), path, err)
	}
	if got := c.Fingerprint().Hex(); got != e.Fingerprint {
		return nil, fmt.Errorf("%w: the stored card of contact %s (%s) is another key (%s)", ErrBroken, quoteName(e.Name), path, c.Fingerprint())
	}
	return c, nil
}

// List returns every contact, sorted by name, with its card checked.
func (b *Book) List() ([]Contact, error) {
	idx, _, err := b.read()
	if err != nil {
		return nil, err
	}
	out := make([]Contact, 0, len(idx.Contacts))
	for _, e := range idx.Contacts {
		c, err := b.loadCard(e)
		if err != nil {
			return nil, err
		}
		out = append(out, Contact{Entry: e, Card: c})
	}
	return out, nil
}

// Names returns the contacts' names without reading their cards (for
// shell completion). A missing or damaged list gives no names.
func (b *Book) Names() []string {
	idx, _, err := b.read()
	if err != nil {
		return nil
	}
	names := make([]string, len(idx.Contacts))
	for i, e := range idx.Contacts {
		names[i] = e.Name
	}
	return names
}

// Get returns the contact called name, with its card checked. An unknown
// name gives an error wrapping [ErrNotFound].
func (b *Book) Get(name string) (*Contact, error) {
	idx, _, err := b.read()
	if err != nil {
		return nil, err
	}
	i := idx.find(name)
	if i < 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, quoteName(name))
	}
	c, err := b.loadCard(idx.Contacts[i])
	if err != nil {
		return nil, err
	}
	return &Contact{Entry: idx.Contacts[i], Card: c}, nil
}

func (idx *Index) find(name string) int {
	k := key(name)
	for i, e := range idx.Contacts {
		if key(e.Name) == k {
			return i
		}
	}
	return -1
}

// Check says what [Book.Add] would do with the same arguments, and fails
// as it would, without changing anything: so that a caller can ask for
// confirmation only when there is something to confirm.
func (b *Book) Check(name string, c *card.Card) (Status, error) {
	s, _, _, err := b.prepare(name, c)
	return s, err
}

// Add stores c as the contact called name (c.Name if name is empty) and
// says what it did. It fails with an error wrapping [ErrConflict] if the
// name is held by a different key, and with a plain error if c's key is
// already stored under another name or a newer card of it is stored. It
// ends with ctx's error, changing nothing, if ctx is done while it waits
// for another process's change to the list.
func (b *Book) Add(ctx context.Context, name string, c *card.Card, now time.Time) (Status, error) {
	if name == "" {
		name = c.Name
	}
	unlock, err := b.lock(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	status, idx, old, err := b.prepare(name, c)
	if err != nil || status == Unchanged {
		return status, err
	}
	fp := c.Fingerprint().Hex()
	data, err := c.Marshal()
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(b.dir, 0o700); err != nil {
		return 0, fmt.Errorf("contacts: create %s: %w", b.dir, err)
	}
	if err := b.writeCard(fp, data); err != nil {
		return 0, err
	}
	if status == Updated {
		return Updated, nil
	}
	idx.Contacts = append(idx.Contacts, Entry{Name: name, Fingerprint: fp, Added: now.UTC().Truncate(time.Second).Format(time.RFC3339)})
	slices.SortFunc(idx.Contacts, compare)
	if err := b.writeIndex(idx, old); err != nil {
		return 0, err
	}
	return Added, nil
}

// prepare checks an Add and returns its outcome with the index it read.
func (b *Book) prepare(name string, c *card.Card) (Status, *Index, []byte, error) {
	if name == "" {
		name = c.Name
	}
	if err := CheckName(name); err != nil {
		return 0, nil, nil, err
	}
	if err := c.Check(); err != nil {
		return 0, nil, nil, err
	}
	idx, old, err := b.read()
	if err != nil {
		return 0, nil, nil, err
	}
	fp := c.Fingerprint()
	if i := idx.find(name); i >= 0 {
		e := idx.Contacts[i]
		if e.Fingerprint != fp.Hex() {
			held, _ := card.ParseFingerprintHex(e.Fingerprint)
			return 0, nil, nil, fmt.Errorf("%w: the contact %s is the key %s, but this card is the key %s", ErrConflict, quoteName(e.Name), held, fp)
		}
		stored, err := b.loadCard(e)
		if err != nil {
			return 0, nil, nil, err
		}
		storedData, err := stored.Marshal()
		if err != nil {
			return 0, nil, nil, err
		}
		data, err := c.Marshal()
		if err != nil {
			return 0, nil, nil, err
		}
		if bytes.Equal(storedData, data) {
			return Unchanged, idx, old, nil
		}
		if newer(stored.Created, c.Created) {
			return 0, nil, nil, fmt.Errorf("contacts: a newer card of %s (created %s) is already stored; this one was created %s", quoteName(e.Name), stored.Created, c.Created)
		}
		return Updated, idx, old, nil
	}
	for _, e := range idx.Contacts {
		if e.Fingerprint == fp.Hex() {
			return 0, nil, nil, fmt.Errorf("contacts: this key (%s) is already the contact %s; remove it first to store it under another name", fp, quoteName(e.Name))
		}
	}
	if e := idx.impersonated(name, fp); e != nil {
		held, _ := card.ParseFingerprintHex(e.Fingerprint)
		return 0, nil, nil, fmt.Errorf("%w: the name %s reads the same as the contact %s, who is the key %s, but this card is the key %s", ErrConflict, quoteName(name), quoteName(e.Name), held, fp)
	}
	return Added, idx, old, nil
}

// newer reports whether the RFC 3339 time a is after b (both were checked
// when their cards were parsed).
func newer(a, b string) bool {
	ta, _ := time.Parse(time.RFC3339, a)
	tb, _ := time.Parse(time.RFC3339, b)
	return ta.After(tb)
}

// Remove deletes the contact called name and returns it. An unknown name
// gives an error wrapping [ErrNotFound]. A damaged card does not prevent
// its removal. It ends with ctx's error, changing nothing, if ctx is done
// while it waits for another process's change to the list.
func (b *Book) Remove(ctx context.Context, name string) (*Entry, error) {
	// An unknown name needs no lock (and creates nothing).
	if idx, _, err := b.read(); err != nil {
		return nil, err
	} else if idx.find(name) < 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, quoteName(name))
	}
	unlock, err := b.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	idx, old, err := b.read()
	if err != nil {
		return nil, err
	}
	i := idx.find(name)
	if i < 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, quoteName(name))
	}
	e := idx.Contacts[i]
	idx.Contacts = slices.Delete(idx.Contacts, i, i+1)
	if err := b.writeIndex(idx, old); err != nil {
		return nil, err
	}
	if err := os.Remove(b.cardPath(e.Fingerprint)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return &e, fmt.Errorf("contacts: %s was removed from the list, but its card file could not be deleted: %w", quoteName(e.Name), err)
	}
	return &e, nil
}

// writeCard writes a card file, replacing any earlier one of that key.
func (b *Book) writeCard(fp string, data []byte) error {
	return replaceFile(b.cardPath(fp), data)
}

// writeIndex replaces the index with idx, provided that the index still
// holds old (nil: that there is none).
func (b *Book) writeIndex(idx *Index, old []byte) error {
	data, err := canon.MarshalIndent(idx)
	if err != nil {
		return err
	}
	now, err := readSmall(b.indexPath(), maxIndexSize)
	if errors.Is(err, fs.ErrNotExist) {
		now, err = nil, nil
	}
	if err != nil {
		return err
	}
	if !bytes.Equal(now, old) {
		return errors.New("contacts: the contact list was changed by another process meanwhile; nothing was changed, try again")
	}
	return replaceFile(b.indexPath(), data)
}

// replaceFile writes data to path through a temporary and an atomic
// rename, mode 0600.
func replaceFile(path string, data []byte) error {
	if err := atomicfile.WriteFile(path, data, 0o600, true); err != nil {
		return fmt.Errorf("contacts: write %s: %w", path, err)
	}
	return nil
}

// readSmall reads a regular file of at most max bytes.
func readSmall(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrBroken, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrBroken, path, max)
	}
	return data, nil
}

// quoteName puts a contact name in double quotes for a message, with every
// character that does not show (a zero-width space, a soft hyphen, a
// variation selector, a control) written as <U+200B>: two names that differ only by such a character must read
// differently. Unlike %q it adds no backslashes, which a terminal-safe
// printer (package printable) would escape a second time.
func quoteName(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		shows := r == ' ' || unicode.IsPrint(r) && !unicode.Is(unicode.Cf, r) &&
			!unicode.Is(unicode.Variation_Selector, r) && r != unicode.ReplacementChar
		if !shows {
			fmt.Fprintf(&b, "<U+%04X>", r)
			continue
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}
