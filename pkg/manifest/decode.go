package manifest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	"github.com/dossier-evidence/dossier/pkg/category"
	"github.com/dossier-evidence/dossier/pkg/internal/canon"
	"github.com/dossier-evidence/dossier/pkg/internal/textarena"
)

// A preamble or manifest can list a million files. encoding/json decodes
// such a list at about 30 MB/s here (reflection, a slice that grows by a
// quarter at a time), which was a quarter of verify's time at 100,000
// files. unmarshalWithFiles decodes the list itself instead, for the one
// spelling a canonical document can have, and leaves everything else to
// canon.UnmarshalEncoded.
//
// It needs no proof of its own: the document is accepted only if the
// canonical encoding of what was decoded is exactly the input; the part
// before the list is decoded by encoding/json as before, and the list
// decoder, given the canonical spelling of a list, returns what
// encoding/json returns for it. So whenever the fast decoding is accepted,
// encoding/json would have decoded the same value and accepted it too;
// whenever it is not (an escape in a string, a field out of order, a
// malformed number, anything at all), the document is decoded again by
// encoding/json, which accepts or refuses it, with its reason, exactly as
// before.

// unmarshalWithFiles decodes data, a document whose last field is its file
// list, into doc (a *Preamble or *Manifest; files points to its list),
// strictly: the result is accepted only if writeWithFiles gives back data.
// A list of an expected number of entries (sized) is allocated once.
func unmarshalWithFiles(data []byte, doc any, files *[]File, head func() any, sized int) error {
	encode := func(w io.Writer) error { return writeWithFiles(w, head(), *files) }
	if decodeFast(data, doc, files) && canon.Matches(data, encode) {
		return nil
	}
	// Start again from an empty document, the list allocated once if its
	// size is known.
	if err := zeroDocument(doc); err != nil {
		return err
	}
	if sized > 0 {
		*files = make([]File, 0, min(sized, MaxFiles))
	}
	return canon.UnmarshalEncoded(data, doc, encode)
}

// zeroDocument resets doc, a *Preamble or *Manifest, to its zero value.
func zeroDocument(doc any) error {
	switch d := doc.(type) {
	case *Preamble:
		*d = Preamble{}
	case *Manifest:
		*d = Manifest{}
	default:
		return &json.InvalidUnmarshalError{}
	}
	return nil
}

// decodeFast decodes data into doc the quick way: the fields before the
// file list with encoding/json (a few kilobytes), the list with
// decodeFileList. It reports false if data is not shaped like a canonical
// document; what it decodes may still differ from data's meaning in any
// other way, which the comparison of its encoding with data then finds.
func decodeFast(data []byte, doc any, files *[]File) bool {
	head, list, _ := splitList(data)
	if list == nil {
		return false
	}
	if err := json.Unmarshal(head, doc); err != nil {
		return false
	}
	entries, ok := decodeFileList(list)
	if !ok {
		return false
	}
	*files = entries
	return true
}

// decodeFileList decodes a file list, from "[" through "]", spelled as
// canonical JSON spells it: entries in field order, strings without
// escapes, integers. It reports false for anything else.
func decodeFileList(b []byte) ([]File, bool) {
	d := listDecoder{b: b}
	if !d.literal("[") {
		return nil, false
	}
	// The list is allocated at its length, counted; no canonical entry is
	// shorter than minEntry, which bounds what a list of bare markers
	// can make it allocate.
	n := bytes.Count(b, []byte(`{"path":`))
	if n > MaxFiles || n > len(b)/len(minEntry) {
		return nil, false
	}
	files := make([]File, 0, n)
	if d.literal("]") {
		return files, d.end()
	}
	var prev *File
	for {
		f, ok := d.entry(prev)
		if !ok || len(files) == n {
			return nil, false
		}
		files = append(files, f)
		prev = &files[len(files)-1]
		if d.literal("]") {
			return files, d.end()
		}
		if !d.literal(",") {
			return nil, false
		}
	}
}

// minEntry is the shortest canonical entry.
const minEntry = `{"path":"","size":0,"mode":"0000","mtime":"1970-01-01T00:00:00Z","categories":[]}`

// listDecoder reads a canonical file list from b.
type listDecoder struct {
	b        []byte
	off      int
	lastTime [len(timeLayout)]byte // the previous entry's mtime, as written
	paths    textarena.Arena
}

func (d *listDecoder) end() bool { return d.off == len(d.b) }

// literal consumes s if the input continues with it.
func (d *listDecoder) literal(s string) bool {
	if len(d.b)-d.off < len(s) || string(d.b[d.off:d.off+len(s)]) != s {
		return false
	}
	d.off += len(s)
	return true
}

// str consumes a string without escapes and returns its bytes, which
// alias the input.
func (d *listDecoder) str() ([]byte, bool) {
	if !d.literal(`"`) {
		return nil, false
	}
	start := d.off
	for d.off < len(d.b) && !strStop[d.b[d.off]] {
		d.off++
	}
	if d.off == len(d.b) || d.b[d.off] != '"' {
		return nil, false
	}
	s := d.b[start:d.off]
	d.off++
	return s, true
}

// strStop marks the bytes that end a string without escapes: its closing
// quote, and a backslash or control character, which the fast path
// leaves to encoding/json.
var strStop = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// integer consumes a decimal integer of at most 18 digits, which cannot
// overflow an int64.
func (d *listDecoder) integer() (int64, bool) {
	neg := d.literal("-")
	start := d.off
	var v int64
	for d.off < len(d.b) && d.b[d.off] >= '0' && d.b[d.off] <= '9' {
		v = v*10 + int64(d.b[d.off]-'0')
		d.off++
	}
	if n := d.off - start; n == 0 || n > 18 {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// entry consumes one entry; prev is the entry before it, or nil. A
// modification time written as the one before it is not parsed again:
// in a list of many files, most share it or have one of their own.
func (d *listDecoder) entry(prev *File) (File, bool) {
	var f File
	var ok bool
	var s []byte
	if !d.literal(`{"path":`) {
		return f, false
	}
	if s, ok = d.str(); !ok {
		return f, false
	}
	f.Path = d.paths.Bytes(s)
	if !d.literal(`,"size":`) {
		return f, false
	}
	if f.Size, ok = d.integer(); !ok {
		return f, false
	}
	if !d.literal(`,"mode":`) {
		return f, false
	}
	if s, ok = d.str(); !ok {
		return f, false
	}
	if f.Mode, ok = parseMode(s); !ok {
		return f, false
	}
	if !d.literal(`,"mtime":`) {
		return f, false
	}
	if s, ok = d.str(); !ok {
		return f, false
	}
	// Most files of a case were written in the same second as the one
	// listed before them, or in a second of their own: parse once.
	if prev != nil && string(d.lastTime[:]) == string(s) {
		f.MTime = prev.MTime
	} else if f.MTime, ok = parseTime(s); !ok {
		return f, false
	} else {
		copy(d.lastTime[:], s) // parseTime took only len(timeLayout) bytes
	}
	if !d.literal(`,"categories":`) {
		return f, false
	}
	if f.Categories, ok = d.categories(); !ok {
		return f, false
	}
	if d.literal(`,"sha256":`) {
		if s, ok = d.str(); !ok {
			return f, false
		}
		// Anything but lower-case hex is left to encoding/json, which
		// refuses it.
		if !isHex256(s) {
			return f, false
		}
		if hex.Decode(f.SHA256[:], s); f.SHA256.IsZero() {
			return f, false
		}
	}
	if d.literal(`,"offset":`) {
		if f.Offset, ok = d.integer(); !ok {
			return f, false
		}
	}
	return f, d.literal("}")
}

// categories consumes a list of known categories in vocabulary order,
// each once; anything else (null, an unknown or repeated id, another
// order) is left to encoding/json, which refuses it with its reason.
func (d *listDecoder) categories() (category.Set, bool) {
	if !d.literal("[") {
		return 0, false
	}
	var set category.Set
	if d.literal("]") {
		return set, true
	}
	last := -1
	for {
		s, ok := d.str()
		if !ok {
			return 0, false
		}
		bit, rank, ok := category.Bit(s)
		if !ok || rank <= last {
			return 0, false
		}
		set, last = set|bit, rank
		if d.literal("]") {
			return set, true
		}
		if !d.literal(",") {
			return 0, false
		}
	}
}

// locateEntry explains err, the refusal of a document whose file list an
// entry of which cannot be decoded (a mode, time or category list no File
// holds), by that entry's own error and path: a list can hold a million
// entries. If no entry fails to decode on its own, err is returned as it
// is. It runs only on the failure path.
func locateEntry(data []byte, err error) error {
	_, list, _ := splitList(data)
	if list == nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(list))
	if tok, terr := dec.Token(); terr != nil || tok != json.Delim('[') {
		return err
	}
	for dec.More() {
		var raw json.RawMessage
		if dec.Decode(&raw) != nil {
			return err
		}
		var f File
		if ferr := json.Unmarshal(raw, &f); ferr != nil {
			var named struct {
				Path string `json:"path"`
			}
			if json.Unmarshal(raw, &named) != nil {
				return err
			}
			return fmt.Errorf("file %q: %w", named.Path, ferr)
		}
	}
	return err
}
