package manifest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strconv"

	"github.com/dossier-evidence/dossier/pkg/internal/canon"
)

// The file list of a preamble or manifest can be tens of megabytes. Its
// canonical encoding is therefore written, and checked, one entry at a
// time: encoding/json would build the whole document in a buffer that
// grows by doubling (and then copy it), about three times the document's
// size at the moment memory peaks. The pieces are exactly what
// canon.Marshal gives for the whole document: the document with a nil
// list, whose encoding ends in "files":null, and then the entries;
// TestEncodingMatchesCanon holds them to it. (A preamble's entries are
// written without the SHA-256 and offset its files may carry.)

// Marshal returns the canonical encoding. A preamble's files have no
// SHA-256 or offset: they are left out even where p's files carry them
// (a sender fills them in as it packs, and a reader's result shares the
// list with the manifest), so the encoding is always the preamble's.
func (p *Preamble) Marshal() ([]byte, error) {
	return marshalWithFiles(p.head(), p.Files, false)
}

// Marshal returns the canonical encoding.
func (m *Manifest) Marshal() ([]byte, error) {
	return marshalWithFiles(m.head(), m.Files, true)
}

// Restatement returns the manifest that restates p, whose exact bytes
// hash to preambleSHA256 (hex), for files: p's list with each file's
// SHA-256 and offset set. It is what a sender signs, and the one manifest a
// reader that has read the archive may accept. It shares p's strings and
// slices.
func Restatement(p *Preamble, preambleSHA256 string, files []File) *Manifest {
	return &Manifest{
		Type:            ManifestType,
		Version:         p.Version,
		BundleID:        p.BundleID,
		Created:         p.Created,
		Sender:          PartyOf(p.Sender),
		Recipients:      p.Recipients,
		AgeHeaderSHA256: p.AgeHeaderSHA256,
		PreambleSHA256:  preambleSHA256,
		Case:            p.Case,
		TotalSize:       p.TotalSize,
		Files:           files,
	}
}

// EncodesTo reports whether data is exactly m's canonical encoding,
// comparing as m is encoded piece by piece: a reader that knows the one
// manifest it may accept ([Restatement]) checks the signed bytes this way
// without decoding them, and without a second copy of the file list.
func (m *Manifest) EncodesTo(data []byte) bool {
	return canon.Matches(data, func(w io.Writer) error { return writeWithFiles(w, m.head(), m.Files) })
}

// head is the preamble without its file list, which encodes as null.
func (p *Preamble) head() *Preamble {
	h := *p
	h.Files = nil
	return &h
}

// head is the manifest without its file list, which encodes as null.
func (m *Manifest) head() *Manifest {
	h := *m
	h.Files = nil
	return &h
}

// marshalWithFiles encodes a document into one buffer of exactly its size:
// a sender holds the manifest while it signs it, and a buffer that
// guessed high held megabytes for nothing.
func marshalWithFiles(head any, files []File, withHashes bool) ([]byte, error) {
	open, err := encodeHead(head)
	if err != nil {
		return nil, err
	}
	buf := bytes.NewBuffer(make([]byte, 0, docLen(open, files, withHashes)))
	if err := writeList(buf, open, files, withHashes); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// docLen is the length of writeList's encoding.
func docLen(open []byte, files []File, withHashes bool) int {
	if files == nil {
		return len(open) + len(nullFiles)
	}
	size := len(open) + len(filesKey) + len(listEnd)
	for i := range files {
		size += fileLen(&files[i], withHashes) + 1 // and a comma
	}
	if len(files) > 0 {
		size-- // one comma fewer
	}
	return size
}

// filesKey is where the file list starts in a canonical preamble or
// manifest. It is the document's last field, and the key cannot occur
// earlier outside a string: no other object in either has a "files"
// field, and inside a JSON string every quote is escaped.
var filesKey = []byte(`,"files":[`)

// listEnd ends a canonical document after its non-null file list.
const listEnd = "]}\n"

// nullFiles ends the encoding of a document whose file list is nil.
var nullFiles = []byte(`,"files":null}` + "\n")

// writeWithFiles writes the canonical encoding of a document whose last
// field is "files": head is the document with a nil list, files the list,
// every field of every entry written (as encoding/json would).
func writeWithFiles(w io.Writer, head any, files []File) error {
	open, err := encodeHead(head)
	if err != nil {
		return err
	}
	return writeList(w, open, files, true)
}

// encodeHead returns the encoding of head (a document with a nil list) up
// to its file list.
func encodeHead(head any) ([]byte, error) {
	hb, err := canon.Marshal(head)
	if err != nil {
		return nil, err
	}
	open, ok := bytes.CutSuffix(hb, nullFiles)
	if !ok {
		return nil, errors.New("manifest: internal error: the file list is not the document's last field")
	}
	return open, nil
}

// writeList writes open, the document's encoding up to its list, and the
// list.
func writeList(w io.Writer, open []byte, files []File, withHashes bool) error {
	if files == nil {
		if _, err := w.Write(open); err != nil {
			return err
		}
		_, err := w.Write(nullFiles)
		return err
	}
	return writeFrom(w, open, sliceSource(files), withHashes)
}

// sliceSource is a FileSource of a held list.
func sliceSource(files []File) FileSource {
	return func(yield func(*File) error) error {
		for i := range files {
			if err := yield(&files[i]); err != nil {
				return err
			}
		}
		return nil
	}
}

// writeFrom writes open, the document's encoding up to its list, and the
// (non-null) list that files gives.
func writeFrom(w io.Writer, open []byte, files FileSource, withHashes bool) error {
	if _, err := w.Write(open); err != nil {
		return err
	}
	if _, err := w.Write(filesKey); err != nil {
		return err
	}
	// Entries are written in batches of about 64 KiB.
	var buf []byte
	first := true
	err := files(func(f *File) error {
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = appendFile(buf, f, withHashes)
		if len(buf) >= 64<<10 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
		return nil
	})
	if err != nil {
		return err
	}
	buf = append(buf, listEnd...)
	_, err = w.Write(buf)
	return err
}

// appendFile appends f's canonical encoding, exactly what encoding/json
// writes for it (TestAppendFileMatchesJSON and FuzzAppendFile hold it to
// that), without reflection: a list can hold a million entries. Without
// withHashes, it is the encoding of f with no SHA-256 and offset.
func appendFile(b []byte, f *File, withHashes bool) []byte {
	b = append(b, `{"path":`...)
	b = appendString(b, f.Path)
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, f.Size, 10)
	b = append(b, `,"mode":`...)
	b = append(b, '"')
	b = f.Mode.appendText(b)
	b = append(b, `","mtime":"`...)
	b = f.MTime.appendText(b)
	b = append(b, '"')
	b = append(b, `,"categories":`...)
	b = f.Categories.AppendJSON(b)
	if !withHashes {
		return append(b, '}')
	}
	if !f.SHA256.IsZero() {
		b = append(b, `,"sha256":"`...)
		b = hex.AppendEncode(b, f.SHA256[:])
		b = append(b, '"')
	}
	if f.Offset != 0 {
		b = append(b, `,"offset":`...)
		b = strconv.AppendInt(b, f.Offset, 10)
	}
	return append(b, '}')
}

// PreambleLen is the length of f's entry in a preamble's file list (its
// canonical encoding without SHA-256 and offset), computed without
// writing it.
func (f *File) PreambleLen() int { return fileLen(f, false) }

// fileLen is the length of appendFile's encoding of f, computed without
// writing it.
func fileLen(f *File, withHashes bool) int {
	n := len(`{"path":`) + stringLen(f.Path) +
		len(`,"size":`) + intLen(f.Size) +
		len(`,"mode":""`) + f.Mode.textLen() +
		len(`,"mtime":""`) + f.MTime.textLen() +
		len(`,"categories":`) + len("}")
	n += f.Categories.JSONLen()
	if withHashes && !f.SHA256.IsZero() {
		n += sha256FieldLen
	}
	if withHashes && f.Offset != 0 {
		n += len(`,"offset":`) + intLen(f.Offset)
	}
	return n
}

// sha256FieldLen is the length of a file's encoded SHA-256 field.
const sha256FieldLen = len(`,"sha256":""`) + 2*len(SHA256Sum{})

// stringLen is the length of appendString's encoding of s.
func stringLen(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return len(appendString(nil, s))
		}
	}
	return len(s) + 2
}

// intLen is the number of bytes strconv.AppendInt writes for v.
func intLen(v int64) int {
	n := 1
	if v < 0 {
		n++ // the sign; -v may overflow, so count on v itself
	}
	for v <= -10 || v >= 10 {
		v /= 10
		n++
	}
	return n
}

// appendString appends s as encoding/json writes a string with HTML
// escaping off. Printable ASCII other than a quote or backslash stands for
// itself; anything else is left to encoding/json.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			var e bytes.Buffer
			enc := json.NewEncoder(&e)
			enc.SetEscapeHTML(false)
			enc.Encode(s) // a string always encodes
			return append(b, bytes.TrimSuffix(e.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
