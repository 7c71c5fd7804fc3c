package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dossier-evidence/dossier/pkg/internal/canon"
)

// ErrNoEntry is returned by [ParseManifestEntry] when the manifest lists no
// file at the requested path.
var ErrNoEntry = errors.New("no such file in the manifest")

// ErrHeadTooLong is returned by [EntryScanner.Result] when the document's
// head (everything before its file list) passed the limit the scanner was
// given ([EntryScanner.LimitHead]). It does not make the document invalid.
var ErrHeadTooLong = errors.New("the manifest's head is longer than the scanner holds")

// splitList splits a canonical document whose last field is its file list
// into head, the document as it would be with a null list (a new buffer),
// and list, the list from "[" through "]", and returns where the list's key
// starts. at is -1 if there is no "files" key; list is nil if the document
// does not end with the list.
func splitList(data []byte) (head, list []byte, at int) {
	at = bytes.Index(data, filesKey)
	if at < 0 {
		return nil, nil, -1
	}
	list = data[at+len(filesKey)-1:] // from "["
	if !bytes.HasSuffix(list, []byte(listEnd)) {
		return nil, nil, at
	}
	list = list[:len(list)-len(listEnd)+1] // through "]"
	head = make([]byte, 0, at+len(nullFiles))
	head = append(append(head, data[:at]...), nullFiles...)
	return head, list, at
}

// ParseManifestEntry is the part of [ParseManifest] that extracting one
// file needs. It is meant for a signed manifest, and is safe on any input
// (it is fuzzed; extract runs it while the signature is being checked),
// but only the signature makes what it returns trustworthy. It parses and
// checks every field but the file list, strictly, and finds and checks the
// one entry for path, strictly (canonical encoding, path, mode, time,
// categories, hash, offset, size within the total). It does not decode or
// check the other entries, so its cost barely grows with the number of
// files; a manifest it accepts may still be one that ParseManifest
// refuses for another entry (a collision, a malformed field), which only a
// signer can cause. The returned manifest has no Files. If no entry has
// that path, it returns the manifest and an error wrapping ErrNoEntry; if
// more than one has, an error wrapping ErrInvalid.
//
// It is an [EntryScanner] given data in one piece.
func ParseManifestEntry(data []byte, path string) (*Manifest, File, error) {
	if len(data) > MaxDocumentSize {
		return nil, File{}, fmt.Errorf("%w: manifest larger than %d bytes", ErrInvalid, MaxDocumentSize)
	}
	s := NewEntryScanner(path)
	s.Write(data)
	return s.Result()
}

// maxEntryLen bounds the bytes an EntryScanner keeps of the entry it
// finds. No valid entry comes near it: a path has at most 4,096 bytes
// (24 KiB escaped), and there are a dozen categories.
const maxEntryLen = 64 << 10

// An EntryScanner does what [ParseManifestEntry] does, on a manifest
// written to it a piece at a time, holding only the document's head (the
// fields before its file list) and the one entry, never the list: a
// reader can so hash a manifest of many megabytes and find its entry in
// one pass, without a buffer for the whole. Write never fails; Result
// gives the outcome once every byte has been written. For any split of a
// document into writes, the outcome is ParseManifestEntry's on the whole
// (FuzzEntryScannerSplits holds it to that). The head is held whole,
// however long, unless [EntryScanner.LimitHead] bounds it: a valid head
// restates a signed preamble, whose handling restrictions have no count
// limit, and a document without a file list is all head.
type EntryScanner struct {
	path      string
	needle    []byte
	needleErr error
	n         int64  // bytes written
	head      []byte // the document so far, until the list's key is found; then before it
	headDone  bool   // the key was found: head is complete
	at        int64  // where the key starts
	listLen   int64  // bytes of the list seen, from its "["
	carry     []byte // the list's last len(needle) bytes (fewer at first)
	joint     []byte // scratch: carry and the start of the next write
	next      int64  // list offset where the next search starts
	found     [2]occurrence
	nfound    int
	entry     []byte // the list from the first match on, at most maxEntryLen+1 bytes
	last      []byte // the document's last len(listEnd) bytes
	headMax   int    // if > 0, the most of the head held (LimitHead)
	overflow  bool   // the head passed headMax: nothing more is looked at
}

// occurrence is where the needle was found in the list, and whether the
// byte before it starts a list element.
type occurrence struct {
	at     int64
	atElem bool
}

// NewEntryScanner returns a scanner for the entry of path.
func NewEntryScanner(path string) *EntryScanner {
	s := &EntryScanner{path: path}
	name, err := canon.Marshal(path)
	if err != nil {
		s.needleErr = err
		return s
	}
	// Every canonical entry starts with its path, then its size.
	s.needle = append(append([]byte(`{"path":`), bytes.TrimSuffix(name, []byte("\n"))...), `,"size":`...)
	return s
}

// LimitHead makes s hold at most n bytes of the document's head. Once the
// head passes n, s lets it go and looks at nothing more, and Result
// returns an error wrapping ErrHeadTooLong: a reader that has not yet
// proven who signed a manifest can so scan it (and hash it) in memory that
// does not grow with what a stranger sends, and scan it again, unlimited,
// once the signature holds.
func (s *EntryScanner) LimitHead(n int) { s.headMax = n }

// Write takes the next bytes of the manifest. It keeps none of p but what
// it needs, and always returns len(p), nil.
func (s *EntryScanner) Write(p []byte) (int, error) {
	n := len(p)
	s.n += int64(n)
	if s.overflow {
		return n, nil
	}
	s.last = keepTail(s.last, p, len(listEnd))
	if !s.headDone {
		key, ok := s.findKey(p)
		if !ok {
			// A key yet to come starts in p's last len(filesKey)-1 bytes
			// or after them.
			if s.headMax > 0 && s.n-int64(len(filesKey)-1) > int64(s.headMax) {
				s.overflow, s.head = true, nil
				return n, nil
			}
			s.head = append(s.head, p...)
			return n, nil
		}
		if s.headMax > 0 && key > int64(s.headMax) {
			s.overflow, s.head = true, nil
			return n, nil
		}
		// The key ends in p, perhaps starting before it.
		s.headDone, s.at = true, key
		before := s.n - int64(n) // document offset of p[0]
		if key >= before {
			s.head = append(s.head, p[:key-before]...)
		} else {
			s.head = s.head[:key]
		}
		p = p[key+int64(len(filesKey))-1-before:] // the list, from its "["
	}
	s.scanList(p)
	return n, nil
}

// findKey looks for the first occurrence of the list's key that ends in
// p, and returns where it starts in the document.
func (s *EntryScanner) findKey(p []byte) (int64, bool) {
	before := s.n - int64(len(p))
	// One that starts in what came before: its first bytes are head's last.
	from := max(len(s.head)-len(filesKey)+1, 0)
	s.joint = append(append(s.joint[:0], s.head[from:]...), p[:min(len(p), len(filesKey)-1)]...)
	if i := bytes.Index(s.joint, filesKey); i >= 0 {
		return int64(from + i), true
	}
	if i := bytes.Index(p, filesKey); i >= 0 {
		return before + int64(i), true
	}
	return 0, false
}

// keepTail returns buf holding the last k bytes of buf and then p (all of
// them, if fewer).
func keepTail(buf, p []byte, k int) []byte {
	if len(p) >= k {
		return append(buf[:0], p[len(p)-k:]...)
	}
	buf = append(buf, p...)
	if d := len(buf) - k; d > 0 {
		buf = buf[:copy(buf, buf[d:])]
	}
	return buf
}

// scanList takes the next bytes of the list. It finds the needle where
// bytes.Index on the whole list would, searching on from the end of each
// match, and keeps the entry of the first.
func (s *EntryScanner) scanList(p []byte) {
	pOff := s.listLen // list offset of p[0]
	s.listLen += int64(len(p))
	if s.needle == nil {
		return
	}
	if s.entry != nil && len(s.entry) <= maxEntryLen {
		s.entry = append(s.entry, p[:min(len(p), maxEntryLen+1-len(s.entry))]...)
	}
	cOff := pOff - int64(len(s.carry)) // list offset of carry[0]
	// A match that starts in carry and ends in p is found in carry and
	// p's first bytes; any other in p. (One that lies wholly in carry was
	// found when those bytes were written, and next is past it; so there
	// is at most one such match, and it never starts at carry[0].)
	if s.nfound < len(s.found) && len(s.carry) > 0 {
		s.joint = append(append(s.joint[:0], s.carry...), p[:min(len(p), len(s.needle)-1)]...)
		from := max(s.next-cOff, 0)
		if from < int64(len(s.carry)) {
			if i := bytes.Index(s.joint[from:], s.needle); i >= 0 && from+int64(i) < int64(len(s.carry)) {
				at := from + int64(i)
				prev := byte(0) // carry[0] never starts a match; see scanList's end
				if at > 0 {
					prev = s.joint[at-1]
				}
				s.match(cOff+at, prev, s.carry[at:], p)
			}
		}
	}
	for s.nfound < len(s.found) {
		from := max(s.next-pOff, 0)
		if from >= int64(len(p)) {
			break
		}
		i := bytes.Index(p[from:], s.needle)
		if i < 0 {
			break
		}
		at := from + int64(i)
		// The list starts with "[" and the needle with "{", so a match
		// never starts the list: the byte before it is in p or carry.
		prev := byte(0)
		if at > 0 {
			prev = p[at-1]
		} else if len(s.carry) > 0 {
			prev = s.carry[len(s.carry)-1]
		}
		s.match(pOff+at, prev, nil, p[at:])
	}
	// Keep the list's last len(needle) bytes: a match that ends in the
	// next write starts at most len(needle)-1 bytes back, and the byte
	// before it is kept too. (While carry holds fewer, it holds the whole
	// list so far, whose first byte is "[".)
	s.carry = keepTail(s.carry, p, len(s.needle))
}

// match records a match at list offset at, after the byte prev; the list
// from there on is a then b.
func (s *EntryScanner) match(at int64, prev byte, a, b []byte) {
	s.found[s.nfound] = occurrence{at: at, atElem: prev == '[' || prev == ','}
	if s.nfound == 0 {
		s.entry = make([]byte, 0, min(len(a)+len(b), maxEntryLen+1))
		s.entry = append(s.entry, a[:min(len(a), maxEntryLen+1)]...)
		s.entry = append(s.entry, b[:min(len(b), maxEntryLen+1-len(s.entry))]...)
	}
	s.nfound++
	s.next = at + int64(len(s.needle))
}

// Result is ParseManifestEntry's outcome for the bytes written.
func (s *EntryScanner) Result() (*Manifest, File, error) {
	var f File
	if s.n > MaxDocumentSize {
		return nil, f, fmt.Errorf("%w: manifest larger than %d bytes", ErrInvalid, MaxDocumentSize)
	}
	if s.overflow {
		return nil, f, fmt.Errorf("%w (%d bytes)", ErrHeadTooLong, s.headMax)
	}
	if !s.headDone {
		return nil, f, fmt.Errorf("%w: manifest: no file list", ErrInvalid)
	}
	// The list, from its "[", must end the document.
	if s.listLen < int64(len(listEnd)) || string(s.last) != listEnd {
		return nil, f, fmt.Errorf("%w: manifest: %v (the file list is not its last field)", ErrInvalid, canon.ErrNotCanonical)
	}
	listLen := s.listLen - int64(len(listEnd)) + 1 // through "]"

	// The header is checked as the manifest it would be with a null list.
	m := new(Manifest)
	head := append(s.head, nullFiles...)
	if err := canon.Unmarshal(head, m, false); err != nil {
		return nil, f, fmt.Errorf("%w: manifest: %v", ErrInvalid, err)
	}
	if err := m.checkHeader(); err != nil {
		return nil, f, err
	}
	if s.needleErr != nil {
		return nil, f, s.needleErr
	}
	for i, o := range s.found[:s.nfound] {
		if !o.atElem {
			return nil, f, fmt.Errorf("%w: manifest: malformed file list at byte %d", ErrInvalid, s.at+o.at)
		}
		if i > 0 {
			return nil, f, fmt.Errorf("%w: %q is listed twice", ErrInvalid, s.path)
		}
	}
	if s.nfound == 0 {
		return m, f, fmt.Errorf("%w: %q", ErrNoEntry, s.path)
	}
	start := s.found[0].at
	entry := s.entry[:min(int64(len(s.entry)), listLen-start)]
	dec := json.NewDecoder(bytes.NewReader(entry))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, f, fmt.Errorf("%w: manifest entry %q: %v", ErrInvalid, s.path, err)
	}
	stop := int(dec.InputOffset())
	if stop >= len(entry) || (entry[stop] != ',' && entry[stop] != ']') {
		return nil, f, fmt.Errorf("%w: manifest: malformed file list after %q", ErrInvalid, s.path)
	}
	enc, err := canon.Marshal(&f)
	if err != nil {
		return nil, f, err
	}
	if !bytes.Equal(bytes.TrimSuffix(enc, []byte("\n")), entry[:stop]) {
		return nil, f, fmt.Errorf("%w: manifest entry %q: %v", ErrInvalid, s.path, canon.ErrNotCanonical)
	}
	if err := f.check(true); err != nil {
		return nil, f, err
	}
	if f.Size > m.TotalSize {
		return nil, f, fmt.Errorf("%w: %q is larger than the bundle's total size", ErrInvalid, s.path)
	}
	return m, f, nil
}
