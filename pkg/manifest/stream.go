package manifest

import (
	"bytes"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/dossier-evidence/dossier/pkg/internal/safepath"
	"github.com/dossier-evidence/dossier/pkg/sign"
)

// Bundle format versions.
const (
	// Version1 is the first bundle format. Its signatures cover the
	// preamble's and the manifest's exact bytes, so a reader holds each
	// whole (some 150 and 240 bytes a file) to check it.
	Version1 = 1
	// Version2 differs from Version1 in the manifest: its signature
	// covers the SHA-512 of the manifest's bytes, which a reader computes
	// as it compares them with the manifest it expects, holding none of
	// them. It also spells an empty file list [] only, never null.
	Version2 = 2
	// Version3 ([FormatVersion]) differs from Version2 in the preamble:
	// its signature covers the SHA-512 of the preamble's bytes too, so a
	// reader checks the preamble as it reads it and need not hold its
	// file list.
	Version3 = 3
)

// Supported reports whether this package reads bundle format version v.
func Supported(v int) bool { return v >= Version1 && v <= Version3 }

// SignPreamble signs a preamble of the given format version and returns
// the signature file: over doc's bytes (versions 1 and 2) or their
// SHA-512 (version 3).
func SignPreamble(key *sign.PrivateKey, version int, doc []byte) ([]byte, error) {
	if version < Version3 {
		return Sign(key, sign.ContextPreamble, doc)
	}
	d := Digest(sha512.Sum512(doc))
	return SignPreambleDigest(key, &d)
}

// SignPreambleDigest signs a format-3 preamble by its SHA-512 and returns
// the signature file.
func SignPreambleDigest(key *sign.PrivateKey, d *Digest) ([]byte, error) {
	return Sign(key, sign.ContextPreambleDigest, d[:])
}

// VerifyPreamble checks the signature file of a preamble of the given
// format version over the preamble's exact bytes.
func VerifyPreamble(pub *sign.PublicKey, version int, doc, sigFile []byte) error {
	if version < Version3 {
		return Verify(pub, sign.ContextPreamble, doc, sigFile)
	}
	d := Digest(sha512.Sum512(doc))
	return VerifyPreambleDigest(pub, &d, sigFile)
}

// VerifyPreambleDigest checks a format-3 preamble's signature file
// against the SHA-512 of the preamble's bytes.
func VerifyPreambleDigest(pub *sign.PublicKey, d *Digest, sigFile []byte) error {
	return Verify(pub, sign.ContextPreambleDigest, d[:], sigFile)
}

// Digest is the SHA-512 of a document's exact bytes: what a manifest
// signature signs from format 2 on, and a preamble signature in format 3.
type Digest [sha512.Size]byte

// SignManifest signs a manifest of the given format version and returns
// the signature file: over doc's bytes (version 1) or their SHA-512.
func SignManifest(key *sign.PrivateKey, version int, doc []byte) ([]byte, error) {
	if version == Version1 {
		return Sign(key, sign.ContextManifest, doc)
	}
	d := Digest(sha512.Sum512(doc))
	return SignDigest(key, &d)
}

// SignDigest signs a format-2 manifest by its SHA-512 and returns the
// signature file.
func SignDigest(key *sign.PrivateKey, d *Digest) ([]byte, error) {
	return Sign(key, sign.ContextManifestDigest, d[:])
}

// VerifyManifest checks the signature file of a manifest of the given
// format version over the manifest's exact bytes.
func VerifyManifest(pub *sign.PublicKey, version int, doc, sigFile []byte) error {
	if version == Version1 {
		return Verify(pub, sign.ContextManifest, doc, sigFile)
	}
	d := Digest(sha512.Sum512(doc))
	return VerifyDigest(pub, &d, sigFile)
}

// VerifyDigest checks a format-2 manifest's signature file against the
// SHA-512 of the manifest's bytes.
func VerifyDigest(pub *sign.PublicKey, d *Digest, sigFile []byte) error {
	return Verify(pub, sign.ContextManifestDigest, d[:], sigFile)
}

// Size returns the length of m's canonical encoding, without encoding it.
func (m *Manifest) Size() (int64, error) {
	open, err := encodeHead(m.head())
	if err != nil {
		return 0, err
	}
	return int64(docLen(open, m.Files, true)), nil
}

// WriteTo writes m's canonical encoding to w a piece at a time, never
// holding the whole document.
func (m *Manifest) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	err := writeWithFiles(cw, m.head(), m.Files)
	return cw.n, err
}

// WriteTo writes p's canonical encoding, the bytes Marshal returns, to w a
// piece at a time, never holding the whole document. A sender that must
// hold the encoding once, to sign it, need not hold it again while it
// writes it out.
func (p *Preamble) WriteTo(w io.Writer) (int64, error) {
	open, err := encodeHead(p.head())
	if err != nil {
		return 0, err
	}
	cw := &countWriter{w: w}
	err = writeList(cw, open, p.Files, false)
	return cw.n, err
}

// A FileSource gives a file list one entry at a time, in order: it calls
// yield with each, stopping at yield's first error, which it returns, and
// returns its own error if the list cannot be had. The File is valid only
// during the call. A sender whose list is too long to hold (it is kept on
// disk) writes and checks its documents from one.
type FileSource func(yield func(*File) error) error

// WriteList writes the canonical encoding of p with the file list files
// gives (p.Files is not used; the list is never null), a piece at a time.
func (p *Preamble) WriteList(w io.Writer, files FileSource) (int64, error) {
	open, err := encodeHead(p.head())
	if err != nil {
		return 0, err
	}
	cw := &countWriter{w: w}
	err = writeFrom(cw, open, files, false)
	return cw.n, err
}

// WriteList writes the canonical encoding of m with the file list files
// gives (m.Files is not used; the list is never null), a piece at a time.
func (m *Manifest) WriteList(w io.Writer, files FileSource) (int64, error) {
	open, err := encodeHead(m.head())
	if err != nil {
		return 0, err
	}
	cw := &countWriter{w: w}
	err = writeFrom(cw, open, files, true)
	return cw.n, err
}

// CheckList checks p as Check does, with the file list files gives
// instead of p.Files, holding none of it: the head, each entry, their
// number and total size, and, as a format-3 reader checks them, that no
// two paths collide and that they are in at most MaxFolders folders.
// Paths are compared by a 64-bit hash of each (and of each folder); if
// two hashes are equal, files is read again, the paths held, to tell a
// collision from chance.
func (p *Preamble) CheckList(files FileSource) error {
	if err := p.checkHeader(); err != nil {
		return err
	}
	paths := safepath.NewCollisionChecker(MaxFolders)
	mayCollide := false
	n := 0
	var sum int64
	err := files(func(f *File) error {
		if n++; n > MaxFiles {
			return fmt.Errorf("%w: more than the limit of %d files", ErrInvalid, MaxFiles)
		}
		if err := f.check(false); err != nil {
			return err
		}
		if sum+f.Size < sum {
			return fmt.Errorf("%w: total size overflows", ErrInvalid)
		}
		sum += f.Size
		if mayCollide {
			return nil
		}
		if err := paths.Add(f.Path); errors.Is(err, safepath.ErrTooManyFolders) {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		} else if err != nil {
			mayCollide = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	if sum != p.TotalSize {
		return fmt.Errorf("%w: total_size %d does not equal the sum of file sizes %d", ErrInvalid, p.TotalSize, sum)
	}
	if mayCollide {
		var all []string
		if err := files(func(f *File) error { all = append(all, f.Path); return nil }); err != nil {
			return err
		}
		if err := safepath.Collisions(all); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// MismatchError says where a manifest that was read first differs from the
// one expected.
type MismatchError struct {
	// Offset is the position of the first byte that differs (or of the
	// end of the shorter of the two).
	Offset int64
	// File is the index of the file entry that byte is in, -1 if it is
	// outside the file list.
	File int
	// Field is the key of the entry's field that byte is in ("path",
	// "sha256", "offset", …), or "" outside one.
	Field string
}

func (e *MismatchError) Error() string {
	if e.File < 0 {
		return fmt.Sprintf("%v: the manifest differs from the one expected at byte %d", ErrInvalid, e.Offset)
	}
	if e.Field == "" {
		return fmt.Sprintf("%v: the manifest differs from the one expected at byte %d, in file entry %d", ErrInvalid, e.Offset, e.File)
	}
	return fmt.Sprintf("%v: the manifest differs from the one expected at byte %d, in file entry %d (%s)", ErrInvalid, e.Offset, e.File, e.Field)
}

func (e *MismatchError) Unwrap() error { return ErrInvalid }

// Match reads r to its end and checks that it holds exactly m's canonical
// encoding, comparing as m is encoded a piece at a time: neither document
// is held whole. The first difference is returned as a *MismatchError,
// but only once r has been read to its end (a hash fed from r then covers
// every byte); an error of r's own is returned as it is.
func (m *Manifest) Match(r io.Reader) error {
	open, err := encodeHead(m.head())
	if err != nil {
		return err
	}
	mt := &matcher{r: r}
	if err := mt.expect(open); err != nil {
		return err
	}
	if m.Files == nil {
		if err := mt.expect(nullFiles); err != nil {
			return err
		}
		return mt.finish()
	}
	if err := mt.expect(filesKey); err != nil {
		return err
	}
	if mt.mismatch != nil { // in the head
		return mt.finish()
	}
	// Entries are compared in batches of about 64 KiB; starts records
	// where each entry of the batch begins, to name the one that differs.
	var buf []byte
	var starts []int
	first := 0
	for i := range m.Files {
		if i > 0 {
			buf = append(buf, ',')
		}
		starts = append(starts, len(buf))
		buf = appendFile(buf, &m.Files[i], true)
		if len(buf) < 64<<10 && i < len(m.Files)-1 {
			continue
		}
		base := mt.off
		if err := mt.expect(buf); err != nil {
			return err
		}
		if mt.mismatch != nil {
			mt.locate(m.Files, first, starts, base)
			return mt.finish()
		}
		buf, starts, first = buf[:0], starts[:0], i+1
	}
	if err := mt.expect([]byte(listEnd)); err != nil {
		return err
	}
	return mt.finish()
}

// matcher compares what r holds with the bytes it is told to expect.
type matcher struct {
	r        io.Reader
	off      int64          // bytes of r compared so far
	mismatch *MismatchError // the first difference, once found
	scratch  [32 << 10]byte
}

// expect compares the next len(want) bytes of r with want. It stops
// comparing at the first difference, which it records; the rest of r is
// read by finish.
func (mt *matcher) expect(want []byte) error {
	for len(want) > 0 && mt.mismatch == nil {
		n, err := io.ReadFull(mt.r, mt.scratch[:min(len(want), len(mt.scratch))])
		if i := firstDiff(mt.scratch[:n], want[:n]); i >= 0 {
			mt.mismatch = &MismatchError{Offset: mt.off + int64(i), File: -1}
		}
		mt.off += int64(n)
		want = want[n:]
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			if mt.mismatch == nil {
				mt.mismatch = &MismatchError{Offset: mt.off, File: -1} // r is shorter
			}
		case err != nil:
			return err
		}
	}
	return nil
}

// locate names the file entry and field of a difference found in a batch
// of entries that started at base, the batch's first entry being
// files[first]. The comma before an entry counts as the entry's.
func (mt *matcher) locate(files []File, first int, starts []int, base int64) {
	rel := int(mt.mismatch.Offset - base)
	i := len(starts) - 1
	for i > 0 && starts[i]-1 > rel {
		i--
	}
	mt.mismatch.File = first + i
	mt.mismatch.Field = fieldAt(&files[first+i], rel-starts[i])
}

// finish reads r to its end and returns the result: the mismatch found,
// or one at the first byte r holds beyond what was expected.
func (mt *matcher) finish() error {
	extra, err := io.Copy(io.Discard, mt.r)
	if err != nil {
		return err
	}
	if mt.mismatch != nil {
		return mt.mismatch
	}
	if extra > 0 { // r is longer
		return &MismatchError{Offset: mt.off, File: -1}
	}
	return nil
}

// firstDiff returns the first index where a and b differ (same length),
// or -1.
func firstDiff(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// fieldAt names the field of f's canonical entry that byte k of the entry
// is in ("" before the first or after the last).
func fieldAt(f *File, k int) string {
	if k < 0 {
		return ""
	}
	n := 0
	for _, field := range []struct {
		key string
		len int
	}{
		{"path", len(`{"path":`) + stringLen(f.Path)},
		{"size", len(`,"size":`) + intLen(f.Size)},
		{"mode", len(`,"mode":""`) + f.Mode.textLen()},
		{"mtime", len(`,"mtime":""`) + f.MTime.textLen()},
		{"categories", f.Categories.JSONLen() + len(`,"categories":`)},
		{"sha256", sha256FieldLen * bool2int(!f.SHA256.IsZero())},
		{"offset", (len(`,"offset":`) + len(strconv.FormatInt(f.Offset, 10))) * bool2int(f.Offset != 0)},
	} {
		n += field.len
		if k < n {
			return field.key
		}
	}
	return ""
}

// bool2int is 1 for true and 0 for false: a field the encoding leaves
// out takes no bytes.
func bool2int(b bool) int {
	if b {
		return 1
	}
	return 0
}
