// Package custody keeps dossier's local chain-of-custody log.
//
// Every pack, verify, open, extract and receipt appends an [Entry] to an
// append-only log, home/custody.log, one canonical compact JSON document a
// line. Each entry records the SHA-256 of the previous line's exact bytes
// and, when the actor had unlocked a key, a hybrid signature (context
// [sign.ContextLog]) by that key; the actor's public card is kept in
// home/cards so that the signature can be checked later. A small file,
// home/custody.head, holds the sequence number and hash of the last line.
//
// [Log.Verify] detects any edit of a line, any deletion, insertion or
// reordering of lines in the middle of the log, and deletion of the last
// lines (through custody.head).
//
// # Limits
//
// The log is tamper-evident, not tamper-proof, and it is local: it can only
// prove what the holder of the home folder could not have rewritten.
//
//   - Someone who can write the home folder can truncate the log to any
//     earlier entry and rewrite custody.head to match; Verify cannot see
//     that. Keep copies of custody.head (or its [Log.Verify] summary)
//     elsewhere to detect it.
//   - Unsigned entries (no key unlocked) are protected only by the hash
//     chain: someone who can write the folder can rewrite every unsigned
//     entry after a point, recompute the chain and custody.head. Signed
//     entries cannot be forged without the actor's key, but an attacker may
//     still delete signed entries from the end, as above.
//   - Cards in home/cards are trusted as stored: whoever can replace a card
//     file and its entries' signatures can rewrite that actor's history.
//     Compare the fingerprints Verify relies on with the ones you know.
//   - Locking uses flock(2) (LockFileEx on Windows) on home/custody.lock.
//     Network file systems may not honour it; keep the home folder local.
//   - An append interrupted after the log was synced but before
//     custody.head was replaced leaves the head one entry behind. Verify
//     accepts exactly that state (see [Report.HeadBehind]) and the next
//     Append repairs it. An append interrupted mid-write can leave an
//     incomplete last line; Verify reports it and Append refuses to write
//     after it until a person has looked at the log.
package custody

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dossier-evidence/dossier/pkg/card"
	"github.com/dossier-evidence/dossier/pkg/identity"
	"github.com/dossier-evidence/dossier/pkg/internal/atomicfile"
	"github.com/dossier-evidence/dossier/pkg/internal/canon"
	"github.com/dossier-evidence/dossier/pkg/sign"
)

// Names of the files in the home folder.
const (
	LogName   = "custody.log"
	HeadName  = "custody.head"
	LockName  = "custody.lock"
	CardsName = "cards"
	// BundleLocksName is the folder of the locks [Log.LockBundle] takes.
	BundleLocksName = "bundle.locks"
)

// Actions recorded by dossier's commands.
const (
	ActionPack          = "pack"
	ActionVerify        = "verify"
	ActionSealVerify    = "seal-verify"
	ActionOpen          = "open"
	ActionExtract       = "extract"
	ActionReceipt       = "receipt"
	ActionReceiptVerify = "receipt-verify"
	ActionInspect       = "inspect"
)

// OutcomeOK is the outcome of an action that succeeded.
const OutcomeOK = "ok"

// Limits on entries.
const (
	// MaxEntrySize is the largest line accepted in the log, newline
	// included.
	MaxEntrySize = 64 << 10
	// MaxDetail is the length in bytes to which an event's detail is cut.
	MaxDetail = 1000
	// MaxCounterparts is the most counterparts one entry can name.
	MaxCounterparts = 256
)

var (
	// ErrBroken is wrapped by every error that finds the log, its head
	// file or a stored card altered, damaged or inconsistent.
	ErrBroken = errors.New("custody: the custody log has been altered")
	// ErrDamagedCard is wrapped (together with ErrBroken) when the damaged
	// thing is a stored card, not the log or its head.
	ErrDamagedCard = errors.New("custody: a stored card is damaged")
	// ErrInvalidEvent is wrapped by [Log.Append] errors about an event or
	// actor it refuses to record.
	ErrInvalidEvent = errors.New("custody: invalid event")
)

// zeroHash is the prev of the first entry.
var zeroHash = strings.Repeat("0", 64)

// The forms of an entry's fields. They are plain byte loops rather than
// regular expressions: compiling the five counted repetitions cost 3 ms
// and 3,000 allocations at the start of every command, which records one
// entry.
var (
	actionForm   = byteForm{first: lower, rest: lower + digits + "-", max: 32}      // [a-z][a-z0-9-]{0,31}
	outcomeForm  = byteForm{first: lower, rest: lower + digits + "_-", max: 64}     // [a-z][a-z0-9_-]{0,63}
	bundleIDForm = byteForm{rest: digits + upper + lower + "._-", min: 1, max: 128} // [0-9A-Za-z._-]{1,128}
	hex256Form   = byteForm{rest: digits + "abcdef", min: 64, max: 64}              // [0-9a-f]{64}
	hex512Form   = byteForm{rest: digits + "abcdef", min: 128, max: 128}            // [0-9a-f]{128}
)

const (
	lower  = "abcdefghijklmnopqrstuvwxyz"
	upper  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digits = "0123456789"
)

// byteForm is a string of min to max bytes, each in rest, except the first,
// which, if first is set, must be in first.
type byteForm struct {
	first, rest string
	min, max    int
}

// MatchString reports whether s has the form.
func (f byteForm) MatchString(s string) bool {
	shortest := f.min
	if f.first != "" {
		shortest = max(shortest, 1)
	}
	if len(s) < shortest || len(s) > f.max {
		return false
	}
	for i := 0; i < len(s); i++ {
		set := f.rest
		if i == 0 && f.first != "" {
			set = f.first
		}
		if strings.IndexByte(set, s[i]) < 0 {
			return false
		}
	}
	return true
}

// Event is what a command asks to record.
type Event struct {
	// Action is what was done: one of the Action constants, or any
	// lowercase word of letters, digits and hyphens (at most 32 bytes).
	Action string
	// BundleID is the bundle's id; "" when unknown (for example when the
	// bundle could not be read).
	BundleID string
	// BundleHash is the lowercase hex BLAKE2b-512 of the encrypted bundle,
	// or "".
	BundleHash string
	// Counterparts are the full lowercase hex card fingerprints of the
	// other parties.
	Counterparts []string
	// Outcome is "ok" or a short failure kind such as "integrity",
	// "no_identity" or "error" (lowercase letters, digits, "_" and "-").
	Outcome string
	// Detail is an optional one-line message. Append sanitises it: invalid
	// UTF-8, control, bidi and line-separator characters become spaces or
	// U+FFFD, and it is cut to MaxDetail bytes.
	Detail string
	// Time is when it happened; the zero time means now.
	Time time.Time
}

// Entry is one line of the log, in canonical compact JSON.
type Entry struct {
	// Seq is the entry's number: 1, 2, 3, …
	Seq int64 `json:"seq"`
	// Time is an RFC 3339 UTC time, to the second.
	Time string `json:"time"`
	// Action is the event's action.
	Action string `json:"action"`
	// BundleID is the event's bundle id, if known.
	BundleID string `json:"bundle_id,omitempty"`
	// BundleHash is the hex BLAKE2b-512 of the encrypted bundle, if known.
	BundleHash string `json:"bundle_blake2b,omitempty"`
	// Actor is the hex fingerprint of the card of the key that signed the
	// entry, or "" if no key was unlocked.
	Actor string `json:"actor,omitempty"`
	// Counterparts are the hex fingerprints of the other parties.
	Counterparts []string `json:"counterparts,omitempty"`
	// Outcome is "ok" or a short failure kind.
	Outcome string `json:"outcome"`
	// Detail is an optional sanitised one-line message.
	Detail string `json:"detail,omitempty"`
	// Prev is the hex SHA-256 of the previous line's exact bytes, without
	// its newline; 64 zeros for the first entry.
	Prev string `json:"prev"`
	// Signature is the actor's hybrid signature (context sign.ContextLog)
	// over canon.Marshal of the entry with Signature nil (that is, the
	// compact canonical JSON followed by "\n").
	Signature *sign.Signature `json:"signature,omitempty"`
}

// signedBytes is what an entry's signature covers.
func (e *Entry) signedBytes() ([]byte, error) {
	body := *e
	body.Signature = nil
	return canon.Marshal(&body)
}

// head is the content of custody.head: canonical compact JSON.
type head struct {
	Seq    int64  `json:"seq"`
	SHA256 string `json:"sha256"`
}

// Log is a custody log in a home folder.
type Log struct {
	home string
}

// Open opens the custody log in home, creating the folder (mode 0700) if
// needed. The log itself, home/custody.log (mode 0600), is created by the
// first [Log.Append].
func Open(home string) (*Log, error) {
	if home == "" {
		return nil, errors.New("custody: no home folder given")
	}
	abs, err := filepath.Abs(home)
	if err != nil {
		return nil, fmt.Errorf("custody: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("custody: create home folder: %w", err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("custody: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("custody: home %s is not a folder", abs)
	}
	return &Log{home: abs}, nil
}

// Path returns the path of the log file, home/custody.log.
func (l *Log) Path() string { return filepath.Join(l.home, LogName) }

// Home returns the (absolute) home folder.
func (l *Log) Home() string { return l.home }

func (l *Log) headPath() string  { return filepath.Join(l.home, HeadName) }
func (l *Log) lockPath() string  { return filepath.Join(l.home, LockName) }
func (l *Log) cardsPath() string { return filepath.Join(l.home, CardsName) }
func (l *Log) cardPath(fp string) string {
	return filepath.Join(l.cardsPath(), fp+".card")
}

// Append records ev, signed by actor if actor is not nil.
//
// It takes an exclusive lock on home/custody.lock (flock on Unix,
// LockFileEx on Windows) and, holding it: stores actor's card as
// home/cards/<fingerprint hex>.card if absent; reads the last entry (from
// near the end of the file, never the whole log) for its sequence number
// and hash; checks that custody.head agrees with it (so that entries
// deleted from the end are not papered over by new ones); builds and signs
// the entry; appends it with one write; fsyncs; and replaces
// custody.head through a temporary file and a rename.
//
// Append refuses (with an error wrapping [ErrBroken]) to write after a last
// line that is incomplete, over 64 KiB or not a valid entry, when
// custody.head disagrees with the log, or when a damaged card is stored
// under the actor's fingerprint. Errors about ev or actor wrap
// [ErrInvalidEvent]. If the entry was written but custody.head could not be
// replaced, Append returns the entry and an error; the log then still
// verifies (see [Report.HeadBehind]).
func (l *Log) Append(ev Event, actor *identity.Identity) (*Entry, error) {
	return l.AppendContext(context.Background(), ev, actor)
}

// AppendContext is Append that stops waiting for the log's lock (another
// process appending, or holding it) once ctx is done, and then returns
// ctx's error, having written nothing.
func (l *Log) AppendContext(ctx context.Context, ev Event, actor *identity.Identity) (*Entry, error) {
	e, err := newEntry(ev)
	if err != nil {
		return nil, err
	}
	var pub *sign.PublicKey
	if actor != nil {
		if actor.Key == nil || actor.Card == nil {
			return nil, fmt.Errorf("%w: the actor has no key or no card", ErrInvalidEvent)
		}
		pub, err = actor.Card.SigningKey()
		if err != nil || !pub.Equal(actor.Key.Public()) {
			return nil, fmt.Errorf("%w: the actor's card does not match its key", ErrInvalidEvent)
		}
		e.Actor = actor.Fingerprint().Hex()
	}

	unlock, err := l.lockContext(ctx, true)
	if err != nil {
		return nil, err
	}
	defer unlock()

	if actor != nil {
		if err := l.storeCard(actor.Card); err != nil {
			return nil, err
		}
	}

	f, err := os.OpenFile(l.Path(), os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("custody: open log: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("custody: %w", err)
	}
	size := st.Size()
	last, err := readLast(f, size)
	if err != nil {
		return nil, err
	}
	h, err := l.readHead()
	if err != nil {
		return nil, err
	}
	if _, err := checkHead(h, last); err != nil {
		return nil, err
	}

	e.Seq = last.seq + 1
	e.Prev = last.hash
	if actor != nil {
		msg, err := e.signedBytes()
		if err != nil {
			return nil, fmt.Errorf("custody: %w", err)
		}
		if e.Signature, err = actor.Key.Sign(sign.ContextLog, msg); err != nil {
			return nil, fmt.Errorf("custody: sign entry: %w", err)
		}
	}
	line, err := canon.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("custody: %w", err)
	}
	if len(line) > MaxEntrySize {
		return nil, fmt.Errorf("%w: the entry would be %d bytes, more than %d", ErrInvalidEvent, len(line), MaxEntrySize)
	}

	if _, err := f.Write(line); err != nil {
		f.Truncate(size) // best effort: leave no partial line behind
		return nil, fmt.Errorf("custody: write log: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Truncate(size)
		return nil, fmt.Errorf("custody: sync log: %w", err)
	}
	sum := sha256.Sum256(line[:len(line)-1])
	if err := l.writeHead(head{Seq: e.Seq, SHA256: hex.EncodeToString(sum[:])}); err != nil {
		return e, fmt.Errorf("custody: entry %d was logged but %s was not updated: %w", e.Seq, HeadName, err)
	}
	return e, nil
}

// newEntry checks ev and builds an entry from it, without seq, prev, actor
// and signature.
func newEntry(ev Event) (*Entry, error) {
	if !actionForm.MatchString(ev.Action) {
		return nil, fmt.Errorf("%w: action %q is not a lowercase word of at most 32 bytes", ErrInvalidEvent, ev.Action)
	}
	if !outcomeForm.MatchString(ev.Outcome) {
		return nil, fmt.Errorf("%w: outcome %q is not a lowercase word of at most 64 bytes", ErrInvalidEvent, ev.Outcome)
	}
	if ev.BundleID != "" && !bundleIDForm.MatchString(ev.BundleID) {
		return nil, fmt.Errorf("%w: bundle id %q is malformed", ErrInvalidEvent, ev.BundleID)
	}
	if ev.BundleHash != "" && !hex512Form.MatchString(ev.BundleHash) {
		return nil, fmt.Errorf("%w: bundle hash %q is not 128 lowercase hex digits", ErrInvalidEvent, ev.BundleHash)
	}
	if len(ev.Counterparts) > MaxCounterparts {
		return nil, fmt.Errorf("%w: %d counterparts, more than %d", ErrInvalidEvent, len(ev.Counterparts), MaxCounterparts)
	}
	for _, c := range ev.Counterparts {
		if !hex256Form.MatchString(c) {
			return nil, fmt.Errorf("%w: counterpart %q is not a full card fingerprint (64 lowercase hex digits)", ErrInvalidEvent, c)
		}
	}
	t := ev.Time
	if t.IsZero() {
		t = time.Now()
	}
	e := &Entry{
		Time:       t.UTC().Format(time.RFC3339),
		Action:     ev.Action,
		BundleID:   ev.BundleID,
		BundleHash: ev.BundleHash,
		Outcome:    ev.Outcome,
		Detail:     SanitizeDetail(ev.Detail),
	}
	if len(ev.Counterparts) > 0 {
		e.Counterparts = append([]string(nil), ev.Counterparts...)
	}
	return e, nil
}

// SanitizeDetail returns s as Append records it: invalid UTF-8 replaced by
// U+FFFD, control, bidi and line-separator characters replaced by spaces,
// and cut (on a character boundary) to at most MaxDetail bytes.
func SanitizeDetail(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:]) // U+FFFD for invalid UTF-8
		i += n
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029' {
			r = ' '
		}
		if b.Len()+utf8.RuneLen(r) > MaxDetail {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// checkEntry checks the fields of a parsed entry as Append would have made
// them.
func checkEntry(e *Entry) error {
	t, err := time.Parse(time.RFC3339, e.Time)
	if err != nil || t.UTC().Format(time.RFC3339) != e.Time {
		return fmt.Errorf("time %q is not an RFC 3339 UTC time", e.Time)
	}
	if !actionForm.MatchString(e.Action) {
		return fmt.Errorf("action %q is malformed", e.Action)
	}
	if !outcomeForm.MatchString(e.Outcome) {
		return fmt.Errorf("outcome %q is malformed", e.Outcome)
	}
	if e.BundleID != "" && !bundleIDForm.MatchString(e.BundleID) {
		return fmt.Errorf("bundle id %q is malformed", e.BundleID)
	}
	if e.BundleHash != "" && !hex512Form.MatchString(e.BundleHash) {
		return fmt.Errorf("bundle hash %q is malformed", e.BundleHash)
	}
	if e.Actor != "" && !hex256Form.MatchString(e.Actor) {
		return fmt.Errorf("actor %q is not a card fingerprint", e.Actor)
	}
	if len(e.Counterparts) > MaxCounterparts {
		return fmt.Errorf("%d counterparts, more than %d", len(e.Counterparts), MaxCounterparts)
	}
	for _, c := range e.Counterparts {
		if !hex256Form.MatchString(c) {
			return fmt.Errorf("counterpart %q is not a card fingerprint", c)
		}
	}
	if SanitizeDetail(e.Detail) != e.Detail {
		return errors.New("detail holds control characters or is too long")
	}
	if !hex256Form.MatchString(e.Prev) {
		return fmt.Errorf("prev %q is not a SHA-256 in hex", e.Prev)
	}
	switch {
	case e.Actor != "" && e.Signature == nil:
		return errors.New("it names an actor but has no signature")
	case e.Actor == "" && e.Signature != nil:
		return errors.New("it has a signature but names no actor")
	}
	return nil
}

// tail is what a writer needs of the log's last line.
type tail struct {
	seq  int64  // 0 for an empty log
	hash string // SHA-256 of the last line; zeroHash for an empty log
	prev string // the last entry's prev; "" for an empty log
}

// readLast reads the last line of the log from its last MaxEntrySize+1
// bytes and parses it.
func readLast(f *os.File, size int64) (tail, error) {
	if size == 0 {
		return tail{hash: zeroHash}, nil
	}
	n := min(size, MaxEntrySize+1)
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, size-n); err != nil {
		return tail{}, fmt.Errorf("custody: read log: %w", err)
	}
	if buf[n-1] != '\n' {
		return tail{}, fmt.Errorf("%w: the last line of %s is incomplete (no final newline: truncated, or an interrupted write); run log verify", ErrBroken, LogName)
	}
	body := buf[:n-1]
	var line []byte
	if i := bytes.LastIndexByte(body, '\n'); i >= 0 {
		line = body[i+1:]
	} else if n == size {
		line = body
	} else {
		return tail{}, fmt.Errorf("%w: the last line of %s is longer than %d bytes", ErrBroken, LogName, MaxEntrySize)
	}
	if len(line)+1 > MaxEntrySize {
		return tail{}, fmt.Errorf("%w: the last line of %s is longer than %d bytes", ErrBroken, LogName, MaxEntrySize)
	}
	var e Entry
	if err := canon.Unmarshal(append(line[:len(line):len(line)], '\n'), &e, false); err != nil {
		return tail{}, fmt.Errorf("%w: the last line of %s is not a valid entry: %v", ErrBroken, LogName, err)
	}
	if e.Seq < 1 || !hex256Form.MatchString(e.Prev) {
		return tail{}, fmt.Errorf("%w: the last line of %s is not a valid entry (seq %d, prev %q)", ErrBroken, LogName, e.Seq, e.Prev)
	}
	sum := sha256.Sum256(line)
	return tail{seq: e.Seq, hash: hex.EncodeToString(sum[:]), prev: e.Prev}, nil
}

// headState is custody.head as read.
type headState struct {
	exists bool
	head
}

// readHead reads custody.head; a missing head reads as exists = false.
func (l *Log) readHead() (headState, error) {
	data, err := readSmall(l.headPath(), 1024)
	if errors.Is(err, fs.ErrNotExist) {
		return headState{}, nil
	}
	if errors.Is(err, errTooLarge) {
		return headState{}, fmt.Errorf("%w: %s is larger than 1024 bytes", ErrBroken, HeadName)
	}
	if err != nil {
		return headState{}, fmt.Errorf("custody: read %s: %w", HeadName, err)
	}
	var h head
	if err := canon.Unmarshal(data, &h, false); err != nil {
		return headState{}, fmt.Errorf("%w: %s is malformed: %v", ErrBroken, HeadName, err)
	}
	if h.Seq < 1 || !hex256Form.MatchString(h.SHA256) {
		return headState{}, fmt.Errorf("%w: %s is malformed (seq %d, sha256 %q)", ErrBroken, HeadName, h.Seq, h.SHA256)
	}
	return headState{exists: true, head: h}, nil
}

// checkHead compares custody.head with the log's last line. It accepts the
// head matching the last line, and the head exactly one entry behind (an
// append interrupted between syncing the log and replacing the head; a
// missing head counts as entry 0), reported as behind = true.
func checkHead(h headState, t tail) (behind bool, err error) {
	if t.seq == 0 {
		if h.exists {
			return false, fmt.Errorf("%w: %s records %d entries but %s is empty or missing (entries were deleted)", ErrBroken, HeadName, h.Seq, LogName)
		}
		return false, nil
	}
	if h.exists && h.Seq == t.seq && h.SHA256 == t.hash {
		return false, nil
	}
	if (h.exists && h.Seq == t.seq-1 && h.SHA256 == t.prev) || (!h.exists && t.seq == 1) {
		return true, nil
	}
	switch {
	case !h.exists:
		return false, fmt.Errorf("%w: %s is missing but the log has %d entries", ErrBroken, HeadName, t.seq)
	case h.Seq > t.seq:
		return false, fmt.Errorf("%w: %s records %d entries but the log ends at entry %d (the last entries were deleted)", ErrBroken, HeadName, h.Seq, t.seq)
	default:
		return false, fmt.Errorf("%w: %s (entry %d) does not match the last line of the log (entry %d): the end of the log was changed", ErrBroken, HeadName, h.Seq, t.seq)
	}
}

// writeHead replaces custody.head through a synced temporary and a rename.
func (l *Log) writeHead(h head) error {
	data, err := canon.Marshal(&h)
	if err != nil {
		return err
	}
	for _, old := range atomicfile.Leftovers(l.headPath()) {
		os.Remove(old) // from an append that was killed; we hold the lock
	}
	return atomicfile.WriteFile(l.headPath(), data, 0o600, true)
}

// damagedCardError is a stored card found damaged: it matches ErrBroken
// and ErrDamagedCard.
type damagedCardError struct{ problem string }

func (e *damagedCardError) Error() string { return ErrBroken.Error() + ": " + e.problem }

func (e *damagedCardError) Is(target error) bool {
	return target == ErrBroken || target == ErrDamagedCard
}

// storeCard keeps c as home/cards/<fingerprint>.card unless a valid card
// with that fingerprint is already there. A damaged card stored under that
// name is an ErrBroken error.
func (l *Log) storeCard(c *card.Card) error {
	fp := c.Fingerprint().Hex()
	path := l.cardPath(fp)
	_, problem, err := l.loadCard(fp)
	switch {
	case problem != "":
		return &damagedCardError{problem}
	case err == nil:
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("custody: read card: %w", err)
	}
	data, err := c.Marshal()
	if err != nil {
		return fmt.Errorf("custody: %w", err)
	}
	if err := os.MkdirAll(l.cardsPath(), 0o700); err != nil {
		return fmt.Errorf("custody: create cards folder: %w", err)
	}
	if err := atomicfile.WriteFile(path, data, 0o600, false); err != nil {
		if errors.Is(err, atomicfile.ErrExists) {
			return nil
		}
		return fmt.Errorf("custody: store card: %w", err)
	}
	return nil
}

// loadCard reads and checks the stored card with fingerprint fp. It returns
// err for a card that cannot be read (wrapping fs.ErrNotExist if it is
// missing) and problem for one that is damaged or not that card.
func (l *Log) loadCard(fp string) (c *card.Card, problem string, err error) {
	path := l.cardPath(fp)
	data, err := readSmall(path, card.MaxSize)
	if errors.Is(err, errTooLarge) {
		return nil, fmt.Sprintf("stored card %s is larger than %d bytes", path, card.MaxSize), nil
	}
	if err != nil {
		return nil, "", err
	}
	c, err = card.Parse(data)
	if err != nil {
		return nil, fmt.Sprintf("stored card %s: %v", path, err), nil
	}
	if got := c.Fingerprint().Hex(); got != fp {
		return nil, fmt.Sprintf("stored card %s is another card (fingerprint %s)", path, got), nil
	}
	return c, "", nil
}

// errTooLarge is returned by readSmall.
var errTooLarge = errors.New("file too large")

// readSmall reads a file that must be at most max bytes.
func readSmall(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, errTooLarge
	}
	return data, nil
}

// snapshot reads, under a shared lock, custody.head and the log's size, so
// that readers see a state between two appends; the log's first size
// bytes never change afterwards (appends only add to the end).
func (l *Log) snapshot(ctx context.Context) (h headState, size int64, exists bool, err error) {
	unlock, err := l.lockContext(ctx, false)
	if err != nil {
		return h, 0, false, err
	}
	defer unlock()
	h, err = l.readHead()
	if err != nil {
		return h, 0, false, err
	}
	st, err := os.Stat(l.Path())
	if errors.Is(err, fs.ErrNotExist) {
		return h, 0, false, nil
	}
	if err != nil {
		return h, 0, false, fmt.Errorf("custody: %w", err)
	}
	return h, st.Size(), true, nil
}

// scan calls fn for each line of the log's first size bytes, numbered from
// 1, with its newline. It fails with ErrBroken on a line longer than
// MaxEntrySize or an incomplete last line.
func (l *Log) scan(size int64, fn func(n int64, line []byte) error) error {
	f, err := os.Open(l.Path())
	if err != nil {
		return fmt.Errorf("custody: open log: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(io.LimitReader(f, size), MaxEntrySize)
	for n := int64(1); ; n++ {
		line, err := r.ReadSlice('\n')
		switch {
		case err == io.EOF && len(line) == 0:
			return nil
		case err == io.EOF:
			return fmt.Errorf("%w: line %d is incomplete (no final newline: truncated, or an interrupted write)", ErrBroken, n)
		case errors.Is(err, bufio.ErrBufferFull):
			return fmt.Errorf("%w: line %d is longer than %d bytes", ErrBroken, n, MaxEntrySize)
		case err != nil:
			return fmt.Errorf("custody: read log: %w", err)
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
}

// parseLine parses line n (with its newline) strictly.
func parseLine(n int64, line []byte) (*Entry, error) {
	e := new(Entry)
	if err := canon.Unmarshal(line, e, false); err != nil {
		return nil, fmt.Errorf("%w: line %d is not a canonical custody entry: %v", ErrBroken, n, err)
	}
	return e, nil
}

// Entries reads the whole log, parsing every line strictly. A missing log
// has no entries. A line that does not parse gives an error wrapping
// [ErrBroken] that names it; Entries does not check the chain or the
// signatures (use [Log.Verify]). It holds every entry (about 5 KB each);
// [Log.Each] holds one at a time.
func (l *Log) Entries() ([]Entry, error) {
	var out []Entry
	if err := l.Each(context.Background(), func(e *Entry) error { out = append(out, *e); return nil }); err != nil {
		return nil, err
	}
	return out, nil
}

// Each parses every line of the log strictly, in order, and hands each
// entry to fn, stopping at the first error fn returns (which Each then
// returns). A missing log has none. Like Entries, it reports a line that
// does not parse with an error wrapping [ErrBroken], and does not check
// the chain or the signatures; fn may keep the entry it is given.
//
// It ends with ctx's error if ctx is done while it waits for the log's
// lock (another process's append).
func (l *Log) Each(ctx context.Context, fn func(*Entry) error) error {
	_, size, exists, err := l.snapshot(ctx)
	if err != nil || !exists {
		return err
	}
	return l.scan(size, func(n int64, line []byte) error {
		e, err := parseLine(n, line)
		if err != nil {
			return err
		}
		return fn(e)
	})
}

// Find returns a copy of the first entry for which match reports true,
// or nil if there is none. Like Entries, it parses every line strictly
// (a line that does not parse is an error wrapping [ErrBroken], even
// after the match) and does not check the chain or the signatures; unlike
// Entries, it keeps only the entry found, so its memory does not grow
// with the log (an entry is about 5 KB, and a log only grows).
func (l *Log) Find(match func(*Entry) bool) (*Entry, error) {
	var found *Entry
	err := l.Each(context.Background(), func(e *Entry) error {
		if found == nil && match(e) {
			found = e
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return found, nil
}

// Report summarises a log that verified.
type Report struct {
	// Entries is the number of entries.
	Entries int
	// Signed and Unsigned count the entries with and without a signature.
	Signed   int
	Unsigned int
	// HeadBehind is set when custody.head records the entry before the
	// last one: the last append was interrupted before it replaced the
	// head (the next append repairs it). It is not a sign of tampering:
	// whoever could add that entry could also have rewritten the head.
	HeadBehind bool
	// LastSHA256 is the hex SHA-256 of the last entry's line (without its
	// newline), which every later entry's chain builds on; "" for an empty
	// log. Kept elsewhere with Entries, it shows a log cut back to an
	// earlier entry and written on from there, which Verify alone cannot:
	// the count may come back, this hash does not.
	LastSHA256 string
	// Signers counts the signed entries of each actor (hex fingerprint).
	Signers map[string]int
}

// Verify checks the whole log: every line is a canonical entry with
// well-formed fields; the sequence numbers are 1, 2, 3, …; each prev is the
// SHA-256 of the previous line; each signature verifies with the stored
// card of its actor (a missing card is a failure); and custody.head matches
// the last line (or is exactly one entry behind, see [Report.HeadBehind]).
// A missing or empty log verifies with 0 entries, unless custody.head
// exists.
//
// On failure the error wraps [ErrBroken] and names the line and what is
// wrong, and the report counts the entries checked before it; errors
// reading the files do not wrap ErrBroken.
//
// Verify detects edited, deleted, inserted and reordered entries, and
// entries deleted from the end while custody.head was left alone. It cannot
// detect the log truncated to an earlier entry with custody.head rewritten
// to match, nor unsigned entries rewritten with a recomputed chain and
// head (see the package documentation).
//
// It ends with ctx's error once ctx is done (checked at every line): a
// signature costs some 0.25 ms, seconds for a log of many thousand
// entries.
func (l *Log) Verify(ctx context.Context) (*Report, error) {
	rep, _, err := l.verify(ctx, true, nil)
	return rep, err
}

// FindVerified is Verify and Find in one reading of the log: it returns a
// copy of the first entry match accepts (nil if none), once the whole log
// has verified as Verify checks it, signatures included; else Verify's
// error (ctx's once it is done).
func (l *Log) FindVerified(ctx context.Context, match func(*Entry) bool) (*Entry, error) {
	_, found, err := l.verify(ctx, true, match)
	if err != nil {
		return nil, err
	}
	return found, nil
}

// FindChained is FindVerified without the signatures: every line parses,
// the sequence numbers run 1, 2, 3, …, each prev is the SHA-256 of the
// line before and custody.head matches the end, so an entry deleted,
// inserted or edited by hand is found (an error wrapping ErrBroken), at
// the cost of a hash a line. Whoever rewrites the chain from the edit on
// is found only by the signatures, which cost some 0.25 ms an entry:
// Verify or FindVerified.
func (l *Log) FindChained(ctx context.Context, match func(*Entry) bool) (*Entry, error) {
	_, found, err := l.verify(ctx, false, match)
	if err != nil {
		return nil, err
	}
	return found, nil
}

// verify checks the log (with each entry's signature if signatures is
// set) and returns its report and the first entry match accepts. Without
// signatures the report's Signed and Signers count nothing (and Unsigned
// only the unsigned entries): only Verify's report is given out.
func (l *Log) verify(ctx context.Context, signatures bool, match func(*Entry) bool) (*Report, *Entry, error) {
	var found *Entry
	h, size, exists, err := l.snapshot(ctx)
	if err != nil {
		return nil, nil, err
	}
	rep := &Report{Signers: map[string]int{}}
	if !exists {
		if h.exists {
			return rep, nil, fmt.Errorf("%w: %s is missing but %s records %d entries", ErrBroken, LogName, HeadName, h.Seq)
		}
		return rep, nil, nil
	}
	keys := map[string]*sign.PublicKey{}
	last := tail{hash: zeroHash}
	err = l.scan(size, func(n int64, line []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		e, err := parseLine(n, line)
		if err != nil {
			return err
		}
		if err := checkEntry(e); err != nil {
			return fmt.Errorf("%w: line %d: %v", ErrBroken, n, err)
		}
		if e.Seq != n {
			return fmt.Errorf("%w: line %d holds entry %d (entries were deleted, inserted or reordered)", ErrBroken, n, e.Seq)
		}
		if e.Prev != last.hash {
			what := "the first entry's prev is not zero"
			if n > 1 {
				what = fmt.Sprintf("its prev is not the SHA-256 of line %d (line %d was edited, or entries were deleted, inserted or reordered)", n-1, n-1)
			}
			return fmt.Errorf("%w: line %d: %s", ErrBroken, n, what)
		}
		if found == nil && match != nil && match(e) {
			found = e
		}
		if e.Actor != "" && signatures {
			pk, ok := keys[e.Actor]
			if !ok {
				c, problem, err := l.loadCard(e.Actor)
				switch {
				case problem != "":
					return fmt.Errorf("%w: line %d: %s", ErrBroken, n, problem)
				case errors.Is(err, fs.ErrNotExist):
					return fmt.Errorf("%w: line %d: the signature cannot be checked: the card of actor %s is missing from %s", ErrBroken, n, e.Actor, l.cardsPath())
				case err != nil:
					return fmt.Errorf("custody: line %d: read card: %w", n, err)
				}
				if pk, err = c.SigningKey(); err != nil {
					return fmt.Errorf("%w: line %d: %v", ErrBroken, n, err)
				}
				keys[e.Actor] = pk
			}
			msg, err := e.signedBytes()
			if err != nil {
				return fmt.Errorf("custody: %w", err)
			}
			if err := pk.Verify(sign.ContextLog, msg, e.Signature); err != nil {
				return fmt.Errorf("%w: line %d: the signature of actor %s does not verify (the entry was edited): %v", ErrBroken, n, e.Actor, err)
			}
			rep.Signed++
			rep.Signers[e.Actor]++
		} else if e.Actor == "" {
			rep.Unsigned++
		}
		rep.Entries++
		sum := sha256.Sum256(line[:len(line)-1])
		last = tail{seq: e.Seq, hash: hex.EncodeToString(sum[:]), prev: e.Prev}
		rep.LastSHA256 = last.hash
		return nil
	})
	if err != nil {
		return rep, nil, err
	}
	behind, err := checkHead(h, last)
	if err != nil {
		return rep, nil, err
	}
	rep.HeadBehind = behind
	return rep, found, nil
}
