package manifest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/dossier-evidence/dossier/pkg/internal/safepath"
)

// A Scanner reads a manifest from a reader one file entry at a time,
// holding the document's head (the fields before its file list) and one
// entry, never the list: a folder open wrote keeps a manifest of some 240
// bytes a file (36 MB at 150,000 files), which verify checks against the
// folder entry by entry.
//
// It applies ParseManifest's rules to what it reads, strictly (the
// document must be the canonical encoding of what it decodes), with one
// exception: it does not look for paths that collide (the same path
// twice, in another case or normalisation, or a file named as another's
// folder), which takes every path. A caller that needs that check runs
// [CheckPaths] on the paths it keeps. A document the Scanner accepts, and
// whose paths CheckPaths accepts, is one ParseManifest accepts, with the
// same files (FuzzScanner holds it to that).
//
// Only a signature makes what a Scanner returns trustworthy; a reader
// hashes the bytes as the Scanner reads them (a format-2 signature covers
// their SHA-512) and trusts nothing before the signature holds.
type Scanner struct {
	br    *bufio.Reader
	head  *Manifest
	pre   *PreambleScanner // set when scanning a preamble
	total int64            // the head's total_size
	named string           // the document's name in errors
	dec   listDecoder      // keeps the previous entry's time, written
	prev  File
	n     int   // entries returned
	sum   int64 // their sizes
	read  int64 // bytes consumed
	done  bool  // the list has ended: Next returns io.EOF
	err   error // the first error, returned again by every call
	entry []byte
}

// maxScanEntry bounds one entry's encoding in a Scanner. A valid entry
// is far shorter: a path has at most 4,096 bytes, without escapes, and
// the other fields some 250.
const maxScanEntry = 16 << 10

// NewScanner returns a Scanner reading a manifest from r.
func NewScanner(r io.Reader) *Scanner {
	return &Scanner{br: bufio.NewReaderSize(r, 64<<10), named: "manifest"}
}

// Head reads the document up to its file list and returns it, parsed and
// checked, with no Files: an empty list, or nil if the document's list is
// null (which only format 1 allows). It is called before Next (which calls it if
// not).
func (s *Scanner) Head() (*Manifest, error) {
	if err := s.readHeadOnce(); err != nil {
		return nil, err
	}
	return s.head, nil
}

// readHeadOnce reads the head if it has not been read.
func (s *Scanner) readHeadOnce() error {
	if s.head != nil || (s.pre != nil && s.pre.head != nil) {
		return nil
	}
	if s.err != nil {
		return s.err
	}
	if err := s.readHead(); err != nil {
		s.err = err
		return err
	}
	return nil
}

// readHead reads and parses the head. The list's key cannot occur in the
// head outside a string, and inside one every quote is escaped; so the
// head ends at its first occurrence.
func (s *Scanner) readHead() error {
	var head []byte
	for !bytes.HasSuffix(head, filesKey) {
		chunk, err := s.br.ReadSlice('[')
		head = append(head, chunk...)
		if len(head) > MaxDocumentSize {
			return fmt.Errorf("%w: %s larger than %d bytes", ErrInvalid, s.named, MaxDocumentSize)
		}
		if err == io.EOF {
			// No list: the whole document is its head, with a null
			// list or malformed. ParseManifest (or ParsePreamble) says
			// which.
			s.read, s.done = int64(len(head)), true
			if s.pre != nil {
				p, err := ParsePreamble(head)
				if err != nil {
					return err
				}
				s.pre.head = p
				return nil
			}
			m, err := ParseManifest(head)
			if err != nil {
				return err
			}
			s.head = m
			return nil
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("read %s: %w", s.named, err)
		}
	}
	s.read = int64(len(head))
	doc := append(head[:len(head)-len(filesKey)], nullFiles...)
	if s.pre != nil {
		p := new(Preamble)
		if err := unmarshalWithFiles(doc, p, &p.Files, func() any { return p.head() }, 0); err != nil {
			return fmt.Errorf("%w: preamble: %v", ErrInvalid, err)
		}
		p.Files = []File{} // a list, unlike null
		if err := p.checkHeader(); err != nil {
			return err
		}
		s.pre.head, s.total = p, p.TotalSize
		return nil
	}
	m := new(Manifest)
	if err := unmarshalWithFiles(doc, m, &m.Files, func() any { return m.head() }, 0); err != nil {
		return fmt.Errorf("%w: manifest: %v", ErrInvalid, err)
	}
	if err := m.checkHeader(); err != nil {
		return err
	}
	m.Files = []File{} // a list, unlike null
	s.head, s.total = m, m.TotalSize
	return nil
}

// Next returns the next file entry, checked as ParseManifest checks it,
// or io.EOF once the list and the document have ended as they must (the
// sizes add up to total_size, nothing follows). The File is valid until
// the next call. After an error every call returns it again.
func (s *Scanner) Next() (*File, error) {
	if err := s.readHeadOnce(); err != nil {
		return nil, err
	}
	if s.done {
		return nil, io.EOF
	}
	f, err := s.next()
	if err != nil {
		s.err = err
		if err != io.EOF {
			return nil, err
		}
		s.done = true
	}
	return f, err
}

func (s *Scanner) next() (*File, error) {
	// After the head or an entry: "]" ends the list; a "," comes before
	// every entry but the first.
	b, err := s.br.Peek(1)
	if err != nil {
		return nil, s.truncated(err)
	}
	if b[0] == ']' {
		return nil, s.end()
	}
	if s.n > 0 {
		if b[0] != ',' {
			return nil, fmt.Errorf("%w: %s: file entry %d is not followed by a comma or the list's end", ErrInvalid, s.named, s.n-1)
		}
		s.discard(1)
	}
	if s.n == MaxFiles {
		return nil, fmt.Errorf("%w: more than the limit of %d files", ErrInvalid, MaxFiles)
	}
	b, err = s.br.Peek(maxScanEntry)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read %s: %w", s.named, err)
	}
	s.dec.b, s.dec.off = b, 0
	var prev *File
	if s.n > 0 {
		prev = &s.prev
	}
	f, ok := s.dec.entry(prev)
	if ok {
		// Canonical only if it encodes back to exactly what was read.
		s.entry = appendFile(s.entry[:0], &f, s.pre == nil)
		ok = bytes.Equal(s.entry, b[:s.dec.off])
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s: file entry %d is malformed, not in canonical form, or cut short", ErrInvalid, s.named, s.n)
	}
	s.discard(s.dec.off)
	if s.read > MaxDocumentSize {
		return nil, fmt.Errorf("%w: %s larger than %d bytes", ErrInvalid, s.named, MaxDocumentSize)
	}
	if err := f.check(s.pre == nil); err != nil {
		return nil, err
	}
	if s.sum+f.Size < s.sum {
		return nil, fmt.Errorf("%w: total size overflows", ErrInvalid)
	}
	s.sum += f.Size
	s.n++
	s.prev = f
	return &s.prev, nil
}

// end reads the document's end after its list and checks what the list
// added up to.
func (s *Scanner) end() error {
	tail := make([]byte, len(listEnd)+1)
	n, err := io.ReadFull(s.br, tail)
	s.read += int64(n)
	if err != io.ErrUnexpectedEOF && err != nil && err != io.EOF {
		return fmt.Errorf("read %s: %w", s.named, err)
	}
	if string(tail[:n]) != listEnd {
		return fmt.Errorf("%w: %s: the document does not end with its file list", ErrInvalid, s.named)
	}
	if s.read > MaxDocumentSize {
		return fmt.Errorf("%w: %s larger than %d bytes", ErrInvalid, s.named, MaxDocumentSize)
	}
	if s.sum != s.total {
		return fmt.Errorf("%w: total_size %d does not equal the sum of file sizes %d", ErrInvalid, s.total, s.sum)
	}
	return io.EOF
}

func (s *Scanner) discard(n int) {
	s.br.Discard(n)
	s.read += int64(n)
}

// truncated reports a document that ends inside its list, or a read
// error.
func (s *Scanner) truncated(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: %s: the document ends inside its file list", ErrInvalid, s.named)
	}
	return fmt.Errorf("read %s: %w", s.named, err)
}

// Count returns the number of entries Next has returned.
func (s *Scanner) Count() int { return s.n }

// CheckPaths applies to the paths of a file list the check a Scanner
// leaves out, which ParseManifest makes: no two collide (the same path
// twice, in another case or normalisation, or a file named as another's
// folder).
func CheckPaths(paths []string) error {
	if err := safepath.Collisions(paths); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}

// A PreambleScanner is a [Scanner] for a preamble: it reads one file
// entry at a time and holds the head and one entry, never the list. A
// format-3 reader checks a preamble of any size this way (its signature
// covers the SHA-512 of its bytes), keeping of each file only what it
// needs to match the payload against it.
//
// It applies ParsePreamble's rules, strictly, but for the check for
// colliding paths, as a Scanner does; a caller applies that check to the
// paths as they come (see safepath).
type PreambleScanner struct {
	s    Scanner
	head *Preamble
}

// NewPreambleScanner returns a PreambleScanner reading a preamble from r.
func NewPreambleScanner(r io.Reader) *PreambleScanner {
	ps := &PreambleScanner{}
	ps.s = Scanner{br: bufio.NewReaderSize(r, 64<<10), named: "preamble", pre: ps}
	return ps
}

// Head reads the document up to its file list and returns it, parsed and
// checked (its sender's card included), with no Files: an empty list, or
// nil if the document's list is null (which only format 1 allows).
func (ps *PreambleScanner) Head() (*Preamble, error) {
	if err := ps.s.readHeadOnce(); err != nil {
		return nil, err
	}
	return ps.head, nil
}

// Next returns the next file entry, checked as ParsePreamble checks it,
// or io.EOF once the list and the document have ended as they must. The
// File is valid until the next call. After an error every call returns
// it again.
func (ps *PreambleScanner) Next() (*File, error) { return ps.s.Next() }

// Count returns the number of entries Next has returned.
func (ps *PreambleScanner) Count() int { return ps.s.n }
